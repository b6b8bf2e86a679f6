package assess

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// Sheet is the scoring sheet of one level.
type Sheet struct {
	ID         int64       `json:"id"`
	Level      Level       `json:"level" doc:"province | prefecture | county: the level of the regions it ranks"`
	Name       string      `json:"name"`
	Version    int         `json:"version" doc:"raised by every edit; an edit names the version it read (409 when stale)"`
	UpdatedBy  string      `json:"updated_by"`
	UpdatedAt  time.Time   `json:"updated_at"`
	Indicators []SheetItem `json:"indicators" doc:"the weights sum to 100"`
}

// SheetItem is one indicator of a sheet with its registry facts.
type SheetItem struct {
	Indicator string    `json:"indicator" doc:"a key of GET /api/v1/assessment-indicators"`
	Label     string    `json:"label"`
	LabelEN   string    `json:"label_en"`
	Weight    float64   `json:"weight" doc:"percent of the total"`
	Target    float64   `json:"target" doc:"in the indicator's unit"`
	Unit      Unit      `json:"unit" doc:"percent | per100 | per_operator | days"`
	Direction Direction `json:"direction" doc:"higher | lower: which way is better"`
	Source    string    `json:"source" doc:"where the numbers come from"`
	Figure    string    `json:"figure,omitempty" doc:"the dashboard figure it reads (empty: raw records)"`
}

// SheetInput is an edit of a sheet: the whole list of indicators.
type SheetInput struct {
	Name       string      `json:"name,omitempty" doc:"default: unchanged (≤ 100 characters)"`
	Version    int         `json:"version" validate:"required" doc:"the version the edit starts from"`
	Indicators []ItemInput `json:"indicators" validate:"required" doc:"in display order; weights sum to 100; an indicator with weight 0 is left out"`
}

// ItemInput is one indicator of an edit.
type ItemInput struct {
	Indicator string  `json:"indicator" validate:"required"`
	Weight    float64 `json:"weight" doc:"percent, 0–100 (0: leave the indicator out)"`
	Target    float64 `json:"target" validate:"required" doc:"> 0, at most 100 for percentages and 365 for days"`
	Direction string  `json:"direction,omitempty" doc:"if given, must be the indicator's own (higher | lower)"`
}

// IndicatorInfo is a registry entry as the API lists it.
type IndicatorInfo struct {
	Key       string    `json:"key"`
	Label     string    `json:"label"`
	LabelEN   string    `json:"label_en"`
	Unit      Unit      `json:"unit"`
	Direction Direction `json:"direction"`
	Target    float64   `json:"default_target"`
	Figure    string    `json:"figure,omitempty"`
	Source    string    `json:"source"`
	SourceEN  string    `json:"source_en"`
	Seed      string    `json:"seed" doc:"the sentence of the seed notice it answers"`
	SeedRef   string    `json:"seed_ref"`
	List      string    `json:"list" doc:"the page listing the records behind it"`
}

// IndicatorList is the registry for clients.
func IndicatorList() []IndicatorInfo {
	out := make([]IndicatorInfo, len(Indicators))
	for i, in := range Indicators {
		out[i] = IndicatorInfo{Key: in.Key, Label: in.ZH, LabelEN: in.EN, Unit: in.Unit, Direction: in.Direction, Target: in.Target,
			Figure: in.Figure, Source: in.SourceZH, SourceEN: in.SourceEN, Seed: in.Seed, SeedRef: in.SeedRef, List: in.List}
	}
	return out
}

const maxName = 100

var errNoSheet = platform.NotFound("考核表不存在", "no such scoring sheet")

func item(key string, weight, target float64) SheetItem {
	in, _ := Lookup(key)
	return SheetItem{Indicator: key, Label: in.ZH, LabelEN: in.EN, Weight: weight, Target: target, Unit: in.Unit, Direction: in.Direction,
		Source: in.SourceZH, Figure: in.Figure}
}

// Sheets lists the three sheets (public: the criteria are published).
func (s *Service) Sheets(ctx context.Context) ([]Sheet, error) {
	return s.sheets(ctx, s.db, "")
}

// Sheet is one sheet by id.
func (s *Service) Sheet(ctx context.Context, id int64) (Sheet, error) {
	list, err := s.sheets(ctx, s.db, "id = $1", id)
	if err != nil {
		return Sheet{}, err
	}
	if len(list) == 0 {
		return Sheet{}, errNoSheet
	}
	return list[0], nil
}

// SheetFor is the sheet of a level.
func (s *Service) SheetFor(ctx context.Context, l Level) (Sheet, error) {
	list, err := s.sheets(ctx, s.db, "level = $1", string(l))
	if err != nil {
		return Sheet{}, err
	}
	if len(list) == 0 {
		return Sheet{}, errNoSheet
	}
	return list[0], nil
}

type querier interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func (s *Service) sheets(ctx context.Context, q querier, cond string, args ...any) ([]Sheet, error) {
	where := ""
	if cond != "" {
		where = " WHERE " + cond
	}
	rows, err := q.Query(ctx, `SELECT id, level, name, version, updated_by, updated_at FROM assessment_sheets`+where+` ORDER BY id`, args...)
	list, err := platform.Collect(rows, err, func(r *sql.Rows) (Sheet, error) {
		var sh Sheet
		return sh, r.Scan(&sh.ID, &sh.Level, &sh.Name, &sh.Version, &sh.UpdatedBy, &sh.UpdatedAt)
	})
	if err != nil {
		return nil, err
	}
	for i := range list {
		rows, err := q.Query(ctx, `SELECT indicator, weight, target FROM assessment_sheet_items WHERE sheet_id = $1 ORDER BY position`, list[i].ID)
		list[i].Indicators, err = platform.Collect(rows, err, func(r *sql.Rows) (SheetItem, error) {
			var key string
			var w, t float64
			if err := r.Scan(&key, &w, &t); err != nil {
				return SheetItem{}, err
			}
			return item(key, w, t), nil
		})
		if err != nil {
			return nil, err
		}
	}
	return list, nil
}

// validateSheet checks an edit field by field: known indicators, each
// once, weights 0–100 summing to 100, targets in range, directions the
// registry's. It returns the items kept (weight > 0), in order.
func validateSheet(in *SheetInput) ([]SheetItem, error) {
	in.Name = strings.TrimSpace(in.Name)
	var v platform.Validator
	v.MaxLen("name", in.Name, maxName)
	v.Check(len(in.Indicators) <= len(Indicators), "indicators", "too_many", fmt.Sprintf("指标不能超过 %d 项", len(Indicators)),
		fmt.Sprintf("at most %d indicators", len(Indicators)))
	seen := map[string]bool{}
	var kept []SheetItem
	sum := 0.0
	for i, it := range in.Indicators {
		f := "indicators[" + strconv.Itoa(i) + "]."
		key := strings.TrimSpace(it.Indicator)
		ind, ok := Lookup(key)
		if !v.Check(ok, f+"indicator", "unknown", "没有这个考核指标："+key, "unknown indicator: "+key) {
			continue
		}
		if !v.Check(!seen[key], f+"indicator", "duplicate", "指标重复："+ind.ZH, "indicator listed twice: "+key) {
			continue
		}
		seen[key] = true
		v.Check(it.Direction == "" || Direction(it.Direction) == ind.Direction, f+"direction", "not_allowed",
			"该指标的方向是固定的："+string(ind.Direction), "this indicator's direction is "+string(ind.Direction))
		wOK := v.Check(!math.IsNaN(it.Weight) && it.Weight >= 0 && it.Weight <= 100, f+"weight", "range", "权重应在 0 到 100 之间", "weight must be 0–100")
		tOK := v.Check(!math.IsNaN(it.Target) && !math.IsInf(it.Target, 0) && it.Target > 0 && it.Target <= maxTarget(ind.Unit), f+"target", "range",
			fmt.Sprintf("目标值应大于 0 且不超过 %g", maxTarget(ind.Unit)), fmt.Sprintf("target must be > 0 and at most %g", maxTarget(ind.Unit)))
		if wOK && it.Weight > 0 {
			sum += it.Weight
			if tOK {
				kept = append(kept, item(key, it.Weight, it.Target))
			}
		}
	}
	if len(v.Fields()) == 0 {
		v.Check(len(kept) > 0, "indicators", "required", "至少需要一项权重大于 0 的指标", "at least one indicator with a weight above 0")
		v.Check(math.Abs(sum-100) < 1e-6, "indicators", "weight_sum", fmt.Sprintf("权重合计应为 100，现为 %g", sum), fmt.Sprintf("weights must sum to 100, not %g", sum))
	}
	return kept, v.Err()
}

// PutSheet replaces a sheet's indicators (administrators): a malformed
// edit is 422 naming the field and saves nothing; an edit of a version
// that changed meanwhile is 409.
func (s *Service) PutSheet(ctx context.Context, actor *auth.Actor, id int64, in SheetInput) (Sheet, error) {
	if err := auth.Authorize(actor, auth.ActAssessSheet, auth.Resource{}); err != nil {
		return Sheet{}, err
	}
	cur, err := s.Sheet(ctx, id)
	if err != nil {
		return Sheet{}, err
	}
	items, err := validateSheet(&in)
	if err != nil {
		return Sheet{}, err
	}
	if in.Name == "" {
		in.Name = cur.Name
	}
	err = s.db.InTx(ctx, func(tx *platform.Tx) error { return s.sheetTx(ctx, tx, actor, cur, in, items) })
	if err != nil {
		return Sheet{}, err
	}
	return s.Sheet(ctx, id)
}

// sheetTx writes an edit: the guarded version bump, the items, the event.
func (s *Service) sheetTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, cur Sheet, in SheetInput, items []SheetItem) error {
	res, err := tx.Exec(ctx, `UPDATE assessment_sheets SET name = $1, version = version + 1, updated_by = $2, updated_at = $3 WHERE id = $4 AND version = $5`,
		in.Name, actor.Name, tx.Now(), cur.ID, in.Version)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return platform.Conflict("考核表已被他人修改，请刷新后再改", "the sheet was changed meanwhile; reload it").With("version", cur.Version)
	}
	if err := writeItems(ctx, tx, cur.ID, items); err != nil {
		return err
	}
	weights := map[string]float64{}
	for _, it := range items {
		weights[it.Indicator] = it.Weight
	}
	return tx.Emit(ctx, platform.Event{Action: "assessment.sheet", ResourceType: "assessment_sheet", ResourceID: strconv.FormatInt(cur.ID, 10),
		Data: map[string]any{"level": string(cur.Level), "version": in.Version + 1, "weights": weights}})
}

func writeItems(ctx context.Context, tx *platform.Tx, id int64, items []SheetItem) error {
	if _, err := tx.Exec(ctx, `DELETE FROM assessment_sheet_items WHERE sheet_id = $1`, id); err != nil {
		return err
	}
	for i, it := range items {
		if _, err := tx.Exec(ctx, `INSERT INTO assessment_sheet_items (sheet_id, position, indicator, weight, target) VALUES ($1, $2, $3, $4, $5)`,
			id, i, it.Indicator, it.Weight, it.Target); err != nil {
			return err
		}
	}
	return nil
}

// DefaultSheet is the sheet a level starts with (docs/insight.md says
// which sentence of the notice each indicator answers).
func DefaultSheet(l Level) (string, []SheetItem) {
	names := map[Level]string{LevelProvince: "试运行省级绩效考核表", LevelPrefecture: "试运行市级绩效考核表", LevelCounty: "试运行县级绩效考核表"}
	var items []SheetItem
	for _, d := range defaultWeights {
		in, _ := Lookup(d.key)
		items = append(items, item(d.key, d.weight, in.Target))
	}
	return names[l], items
}

// SeedSheets writes the default sheet of every level that has none
// (startup; an edited sheet is never touched).
func SeedSheets(ctx context.Context, db *platform.DB) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM assessment_sheets`).Scan(&n); err != nil || n >= len(Levels) {
		return 0, err
	}
	added := 0
	err := db.InTx(ctx, func(tx *platform.Tx) error {
		added = 0
		for _, l := range Levels {
			name, items := DefaultSheet(l)
			var id int64
			err := tx.QueryRow(ctx, `INSERT INTO assessment_sheets (level, name, version, updated_by, updated_at) VALUES ($1, $2, 1, $3, $4)
				ON CONFLICT (level) DO NOTHING RETURNING id`, string(l), name, auth.SystemName, tx.Now()).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if err := writeItems(ctx, tx, id, items); err != nil {
				return err
			}
			added++
		}
		if added == 0 {
			return nil
		}
		return tx.Emit(ctx, platform.Event{Action: "assessment.sheet_seed", ResourceType: "assessment_sheet", Data: map[string]any{"added": added}})
	})
	return added, err
}
