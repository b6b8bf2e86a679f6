package assess

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// Summary is an assessment as a list shows it.
type Summary struct {
	ID         int64     `json:"id"`
	Level      Level     `json:"level"`
	Period     string    `json:"period"`
	Region     string    `json:"region_code" doc:"the jurisdiction whose regions are ranked"`
	RegionName string    `json:"region_name"`
	Origin     Origin    `json:"origin" doc:"job | demand"`
	ComputedAt time.Time `json:"computed_at"`
	Regions    int       `json:"regions"`
}

// Filter narrows the list of assessments.
type Filter struct {
	Level  string // "" = every level
	Period string // YYYY-MM, "" = every month
	Region string // a region in the jurisdiction: assessments rooted in its subtree (default: the jurisdiction)
	Limit  int
	Offset int
}

var errNotFound = platform.NotFound("考核结果不存在，或不在您的管辖范围内", "assessment not found or outside your jurisdiction")

// List is the assessments rooted in the actor's jurisdiction (and the
// chosen region's subtree), newest month first.
func (s *Service) List(ctx context.Context, actor *auth.Actor, f Filter) ([]Summary, error) {
	scope := auth.ListScope(actor, auth.ActAssessRead)
	if err := scope.Err(actor, auth.ActAssessRead); err != nil {
		return nil, err
	}
	var v platform.Validator
	w := auth.NewWhere()
	w.Scope(scope, auth.Columns{Region: []string{"region_code"}})
	if f.Level != "" && v.OneOf("level", f.Level, string(LevelProvince), string(LevelPrefecture), string(LevelCounty)) {
		w.Add("level = " + w.Arg(f.Level))
	}
	if f.Period != "" && v.Check(periodRe.MatchString(f.Period), "period", "format", "考核期应为 YYYY-MM 格式的月份", "period must be a month, YYYY-MM") {
		w.Add("period = " + w.Arg(f.Period))
	}
	if reg := strings.TrimSpace(f.Region); reg != "" && v.Check(regionRe.MatchString(reg), "region", "format", "地区代码应为 6 位数字", "region must be a 6-digit code") {
		if err := auth.Authorize(actor, auth.ActAssessRead, auth.Resource{Region: reg}); err != nil {
			return nil, err
		}
		w.Region("region_code", reg)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	rows, err := s.db.Query(ctx, `SELECT id, level, period, region_code, origin, computed_at, regions FROM assessments`+w.SQL()+
		` ORDER BY period DESC, region_code, CASE level WHEN 'province' THEN 1 WHEN 'prefecture' THEN 2 ELSE 3 END LIMIT `+w.Arg(f.Limit)+` OFFSET `+w.Arg(max(f.Offset, 0)), w.Args()...)
	list, err := platform.Collect(rows, err, func(r *sql.Rows) (Summary, error) {
		var x Summary
		return x, r.Scan(&x.ID, &x.Level, &x.Period, &x.Region, &x.Origin, &x.ComputedAt, &x.Regions)
	})
	for i := range list {
		list[i].RegionName = s.regionName(ctx, list[i].Region)
	}
	return list, err
}

// Get is one assessment with its ranking and every score (404 when its
// jurisdiction is outside the actor's).
func (s *Service) Get(ctx context.Context, actor *auth.Actor, id int64) (Assessment, error) {
	if err := auth.Authorize(actor, auth.ActAssessRead, auth.Resource{}); err != nil {
		return Assessment{}, err
	}
	var a Assessment
	var sheet string
	var asOf sql.NullTime
	err := s.db.QueryRow(ctx, `SELECT id, level, period, region_code, sheet_id, sheet_version, sheet, origin, computed_by, computed_at, figures_as_of, regions
		FROM assessments WHERE id = $1`, id).Scan(&a.ID, &a.Level, &a.Period, &a.Region, &a.SheetID, &a.SheetVersion, &sheet, &a.Origin, &a.ComputedBy,
		&a.ComputedAt, &asOf, &a.Regions)
	if errors.Is(err, sql.ErrNoRows) {
		return Assessment{}, errNotFound
	}
	if err != nil {
		return Assessment{}, err
	}
	if auth.Authorize(actor, auth.ActAssessRead, auth.Resource{Region: a.Region}) != nil {
		return Assessment{}, errNotFound
	}
	if asOf.Valid {
		a.FiguresAsOf = &asOf.Time
	}
	a.RegionName = s.regionName(ctx, a.Region)
	var applied []struct {
		Indicator      string
		Weight, Target float64
	}
	if err := json.Unmarshal([]byte(sheet), &applied); err != nil {
		return Assessment{}, err
	}
	for _, it := range applied {
		a.Indicators = append(a.Indicators, item(it.Indicator, it.Weight, it.Target))
	}
	a.Ranking, err = s.ranking(ctx, a)
	return a, err
}

// ranking reads the results and their scores in rank order.
func (s *Service) ranking(ctx context.Context, a Assessment) ([]RegionResult, error) {
	rows, err := s.db.Query(ctx, `SELECT region_code, name, rank_no, total FROM assessment_results WHERE assessment_id = $1 ORDER BY rank_no, region_code`, a.ID)
	list, err := platform.Collect(rows, err, func(r *sql.Rows) (RegionResult, error) {
		var x RegionResult
		return x, r.Scan(&x.Region, &x.Name, &x.Rank, &x.Total)
	})
	if err != nil {
		return nil, err
	}
	scores := map[string]map[string]Score{}
	rows, err = s.db.Query(ctx, `SELECT region_code, indicator, numerator, denominator, value, score, applicable, evidence FROM assessment_scores WHERE assessment_id = $1`, a.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var reg, ev string
		var sc Score
		var v sql.NullFloat64
		if err := rows.Scan(&reg, &sc.Indicator, &sc.Numerator, &sc.Denominator, &v, &sc.Score, &sc.Applicable, &ev); err != nil {
			return nil, err
		}
		if v.Valid {
			sc.Value = &v.Float64
		}
		_ = json.Unmarshal([]byte(ev), &sc.Evidence)
		if scores[reg] == nil {
			scores[reg] = map[string]Score{}
		}
		scores[reg][sc.Indicator] = sc
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Scores = make([]Score, 0, len(a.Indicators))
		for _, it := range a.Indicators {
			list[i].Scores = append(list[i].Scores, scores[list[i].Region][it.Indicator])
		}
	}
	return list, nil
}
