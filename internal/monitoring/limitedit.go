package monitoring

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// LimitInput is a limit as an administrator enters or imports it.
type LimitInput struct {
	Substance string  `json:"substance" validate:"required" doc:"a substance code"`
	Food      string  `json:"food" validate:"required" doc:"a catalogue product code or product category code"`
	Value     float64 `json:"value"`
	Unit      string  `json:"unit" validate:"required" doc:"mg/kg | μg/kg | ng/g | g/kg | g/100g | %"`
	Judgement string  `json:"judgement" validate:"required" doc:"max | not_detected | min"`
	Standard  string  `json:"standard" validate:"required" doc:"e.g. GB 2763"`
	Edition   string  `json:"edition" validate:"required" doc:"e.g. 2026"`
	ValidFrom string  `json:"valid_from" validate:"required" doc:"YYYY-MM-DD"`
	ValidTo   string  `json:"valid_to,omitempty" doc:"YYYY-MM-DD, last day in force"`
	Source    string  `json:"source" validate:"required" doc:"where the value was read (document, table, URL)"`
	Reason    string  `json:"reason,omitempty" doc:"why it changed (kept in the history)"`
}

// checkLimit validates one limit; prefix names the fields (a CSV row's "row 3 ").
func checkLimit(ctx context.Context, q platform.Querier, v *platform.Validator, prefix string, in *LimitInput) error {
	in.Substance, in.Food, in.Standard, in.Edition = strings.TrimSpace(in.Substance), strings.TrimSpace(in.Food), strings.TrimSpace(in.Standard), strings.TrimSpace(in.Edition)
	in.Source, in.ValidFrom, in.ValidTo = strings.TrimSpace(in.Source), strings.TrimSpace(in.ValidFrom), strings.TrimSpace(in.ValidTo)
	var n int
	if v.Require(prefix+"substance", in.Substance) {
		if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM substances WHERE code = $1`, in.Substance).Scan(&n); err != nil {
			return err
		}
		v.Check(n == 1, prefix+"substance", "unknown", "没有这个检测项目代码："+in.Substance, "no substance "+in.Substance)
	}
	if v.Require(prefix+"food", in.Food) {
		if err := q.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM products WHERE code = $1) + (SELECT COUNT(*) FROM product_categories WHERE code = $1)`, in.Food).Scan(&n); err != nil {
			return err
		}
		v.Check(n > 0, prefix+"food", "unknown", "没有这个产品或产品类别："+in.Food, "no product or category "+in.Food)
	}
	if unit := NormalizeUnit(in.Unit); unit == "" {
		v.Add(prefix+"unit", "unknown", "单位应为 mg/kg、μg/kg、ng/g、g/kg、g/100g 或 %", "unit must be mg/kg, μg/kg, ng/g, g/kg, g/100g or %")
	} else {
		in.Unit = unit
	}
	v.OneOf(prefix+"judgement", in.Judgement, JudgeMax, JudgeNotDetected, JudgeMin)
	v.Check(!math.IsNaN(in.Value) && !math.IsInf(in.Value, 0) && in.Value >= 0 && (in.Value > 0 || in.Judgement == JudgeNotDetected),
		prefix+"value", "range", "限量值应大于 0（“不得检出”可为 0）", "the value must be above 0 (0 only for not_detected)")
	v.Require(prefix+"standard", in.Standard)
	v.Require(prefix+"edition", in.Edition)
	v.Require(prefix+"source", in.Source)
	v.MaxLen(prefix+"source", in.Source, 1000)
	from, errF := time.Parse(time.DateOnly, in.ValidFrom)
	v.Check(errF == nil, prefix+"valid_from", "format", "日期格式应为 YYYY-MM-DD", "must be a date YYYY-MM-DD")
	if in.ValidTo != "" {
		to, err := time.Parse(time.DateOnly, in.ValidTo)
		v.Check(err == nil && (errF != nil || !to.Before(from)), prefix+"valid_to", "range", "截止日期应为不早于起始日期的 YYYY-MM-DD", "must be a date YYYY-MM-DD not before valid_from")
	}
	return nil
}

// SaveLimit adds a limit or changes the one with the same substance, food,
// standard and edition; a change keeps the previous version in the history.
// Administrators only.
func (s *Service) SaveLimit(ctx context.Context, actor *auth.Actor, in LimitInput) (Limit, error) {
	if err := auth.Authorize(actor, auth.ActLimitManage, auth.Resource{}); err != nil {
		return Limit{}, err
	}
	var v platform.Validator
	if err := checkLimit(ctx, s.db, &v, "", &in); err != nil {
		return Limit{}, err
	}
	if err := v.Err(); err != nil {
		return Limit{}, err
	}
	var id int64
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		var err error
		id, err = saveLimitTx(ctx, tx, actor, in)
		return err
	})
	if err != nil {
		return Limit{}, err
	}
	return scanLimit(s.db.QueryRow(ctx, `SELECT `+limitColumns+` FROM residue_limits l JOIN substances s ON s.code = l.substance_code WHERE l.id = $1`, id))
}

// saveLimitTx inserts or updates one limit inside tx (history first).
func saveLimitTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, in LimitInput) (int64, error) {
	var id int64
	var version int
	err := tx.QueryRow(ctx, `SELECT id, version FROM residue_limits WHERE substance_code = $1 AND food_code = $2 AND standard = $3 AND edition = $4`,
		in.Substance, in.Food, in.Standard, in.Edition).Scan(&id, &version)
	now := tx.Now()
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = tx.QueryRow(ctx, `INSERT INTO residue_limits (substance_code, food_code, value, unit, judgement, standard, edition, valid_from, valid_to,
			source, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`, in.Substance, in.Food, in.Value,
			in.Unit, in.Judgement, in.Standard, in.Edition, in.ValidFrom, platform.NullString(in.ValidTo), in.Source, actor.Username, now).Scan(&id)
		if err != nil {
			return 0, err
		}
	case err != nil:
		return 0, err
	default:
		if _, err := tx.Exec(ctx, `INSERT INTO residue_limit_history (limit_id, version, value, unit, judgement, valid_from, valid_to, source, changed_by, changed_at, reason)
			SELECT id, version, value, unit, judgement, valid_from, valid_to, source, $2, $3, $4 FROM residue_limits WHERE id = $1`,
			id, actor.Username, now, strings.TrimSpace(in.Reason)); err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, `UPDATE residue_limits SET value = $1, unit = $2, judgement = $3, valid_from = $4, valid_to = $5, source = $6,
			version = version + 1, updated_by = $7, updated_at = $8 WHERE id = $9`, in.Value, in.Unit, in.Judgement, in.ValidFrom,
			platform.NullString(in.ValidTo), in.Source, actor.Username, now, id); err != nil {
			return 0, err
		}
	}
	return id, tx.Emit(ctx, platform.Event{Action: "limit.save", ResourceType: "residue_limit", ResourceID: fmt.Sprint(id),
		Data: map[string]any{"substance": in.Substance, "food": in.Food, "value": in.Value, "unit": in.Unit, "judgement": in.Judgement,
			"standard": in.Standard + "-" + in.Edition, "version": version + 1}})
}

// NationalLimitTx saves, inside tx, a limit the national node published to
// this province node (docs/exchange.md "Reference data from the national
// node"): checked as an administrator's entry, written as the national
// node's (the history keeps the version it replaces).
func NationalLimitTx(ctx context.Context, tx *platform.Tx, in LimitInput, via string) error {
	var v platform.Validator
	if err := checkLimit(ctx, tx, &v, "records.limit.", &in); err != nil {
		return err
	}
	if err := v.Err(); err != nil {
		return err
	}
	if in.Reason == "" {
		in.Reason = "national node " + via
	}
	_, err := saveLimitTx(ctx, tx, &auth.Actor{Username: "national:" + via, Role: auth.RoleSystem}, in)
	return err
}

// LimitOf reads a limit as a LimitInput (what the national node publishes of it).
func LimitOf(ctx context.Context, q platform.Querier, id int64) (LimitInput, error) {
	var in LimitInput
	var to sql.NullString
	err := q.QueryRow(ctx, `SELECT substance_code, food_code, value, unit, judgement, standard, edition, valid_from, valid_to, source
		FROM residue_limits WHERE id = $1`, id).Scan(&in.Substance, &in.Food, &in.Value, &in.Unit, &in.Judgement, &in.Standard, &in.Edition,
		&in.ValidFrom, &to, &in.Source)
	in.ValidTo = to.String
	return in, err
}

// LimitHistory is an earlier version of a limit.
type LimitHistory struct {
	Version   int       `json:"version"`
	Value     float64   `json:"value"`
	Unit      string    `json:"unit"`
	Judgement string    `json:"judgement"`
	ValidFrom string    `json:"valid_from"`
	ValidTo   string    `json:"valid_to,omitempty"`
	Source    string    `json:"source"`
	ChangedBy string    `json:"changed_by"`
	ChangedAt time.Time `json:"changed_at"`
	Reason    string    `json:"reason,omitempty"`
}

// History lists a limit's earlier versions, newest first.
func (s *Service) History(ctx context.Context, actor *auth.Actor, id int64) ([]LimitHistory, error) {
	rows, err := s.db.Query(ctx, `SELECT version, value, unit, judgement, valid_from, COALESCE(valid_to, ''), source, changed_by, changed_at, reason
		FROM residue_limit_history WHERE limit_id = $1 ORDER BY version DESC`, id)
	out, err := platform.Collect(rows, err, func(r *sql.Rows) (LimitHistory, error) {
		var h LimitHistory
		return h, r.Scan(&h.Version, &h.Value, &h.Unit, &h.Judgement, &h.ValidFrom, &h.ValidTo, &h.Source, &h.ChangedBy, &h.ChangedAt, &h.Reason)
	})
	if out == nil {
		out = []LimitHistory{}
	}
	return out, err
}

// ImportColumns are the CSV header an import expects (UTF-8, optional BOM).
var ImportColumns = []string{"substance", "food", "value", "unit", "judgement", "standard", "edition", "valid_from", "valid_to", "source"}

// ImportReport says what an import did.
type ImportReport struct {
	Rows  int `json:"rows"`
	Saved int `json:"saved"`
}

// ImportLimits reads limits from CSV: every row is checked first and a
// file with any bad row is refused whole, each error naming its row
// ("row 3 value"); a clean file is saved in one transaction.
func (s *Service) ImportLimits(ctx context.Context, actor *auth.Actor, r io.Reader) (ImportReport, error) {
	if err := auth.Authorize(actor, auth.ActLimitManage, auth.Resource{}); err != nil {
		return ImportReport{}, err
	}
	cr := csv.NewReader(io.LimitReader(r, 5<<20))
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return ImportReport{}, platform.Invalid(platform.FieldError{Field: "file", Code: "empty", ZH: "CSV 文件为空或无法读取", EN: "the CSV file is empty or unreadable"})
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	if strings.Join(head, ",") != strings.Join(ImportColumns, ",") {
		return ImportReport{}, platform.Invalid(platform.FieldError{Field: "file", Code: "header",
			ZH: "表头应为：" + strings.Join(ImportColumns, ","), EN: "the header must be: " + strings.Join(ImportColumns, ",")})
	}
	var v platform.Validator
	var ins []LimitInput
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		prefix := fmt.Sprintf("row %d ", line)
		if err != nil || len(rec) != len(ImportColumns) {
			v.Add(prefix+"file", "columns", fmt.Sprintf("第 %d 行应有 %d 列", line, len(ImportColumns)), fmt.Sprintf("row %d must have %d columns", line, len(ImportColumns)))
			continue
		}
		in := LimitInput{Substance: rec[0], Food: rec[1], Unit: rec[3], Judgement: strings.TrimSpace(rec[4]), Standard: rec[5], Edition: rec[6],
			ValidFrom: rec[7], ValidTo: rec[8], Source: rec[9], Reason: "CSV import"}
		val, perr := strconv.ParseFloat(strings.TrimSpace(rec[2]), 64)
		if perr != nil {
			val = math.NaN()
		}
		in.Value = val
		if err := checkLimit(ctx, s.db, &v, prefix, &in); err != nil {
			return ImportReport{}, err
		}
		ins = append(ins, in)
		if line > 20001 {
			v.Add("file", "too_many", "一次最多导入 20000 行", "at most 20,000 rows per import")
			break
		}
	}
	if err := v.Err(); err != nil {
		return ImportReport{}, err
	}
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		for _, in := range ins {
			if _, err := saveLimitTx(ctx, tx, actor, in); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return ImportReport{}, err
	}
	return ImportReport{Rows: len(ins), Saved: len(ins)}, nil
}
