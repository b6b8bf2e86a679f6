package assess

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// Request asks for an assessment.
type Request struct {
	Level  string `json:"level" validate:"required" doc:"province | prefecture | county: the level of the regions ranked (below the region's own)"`
	Period string `json:"period" validate:"required" doc:"the month, YYYY-MM (not after the current one)"`
	Region string `json:"region,omitempty" doc:"the jurisdiction whose regions are ranked (default: yours; 000000 the nation)"`
}

// Evidence is what lies behind a score.
type Evidence struct {
	Figure string `json:"figure,omitempty" doc:"the dashboard figure read (empty: raw records)"`
	Query  string `json:"query,omitempty" doc:"the API request that answers the figure for the region and month"`
	List   string `json:"list" doc:"the page listing the records behind the score"`
}

// Score is one region's result on one indicator.
type Score struct {
	Indicator   string   `json:"indicator"`
	Value       *float64 `json:"value,omitempty" doc:"in the indicator's unit; absent when there was nothing to measure"`
	Numerator   float64  `json:"numerator"`
	Denominator float64  `json:"denominator"`
	Score       float64  `json:"score" doc:"points out of the indicator's weight"`
	Applicable  bool     `json:"applicable" doc:"false: nothing to measure and left out of the total, its weight with it"`
	Evidence    Evidence `json:"evidence"`
}

// RegionResult is one ranked region.
type RegionResult struct {
	Rank   int     `json:"rank" doc:"1 = best; equal totals share a place"`
	Region string  `json:"region_code"`
	Name   string  `json:"name"`
	Total  float64 `json:"total" doc:"0–100: the points scored ÷ the weights of the applicable indicators × 100"`
	Scores []Score `json:"scores" doc:"in the sheet's order"`
}

// Assessment is one month's ranking of the regions of a level inside a
// jurisdiction.
type Assessment struct {
	ID           int64          `json:"id"`
	Level        Level          `json:"level"`
	Period       string         `json:"period"`
	Region       string         `json:"region_code" doc:"the jurisdiction whose regions are ranked"`
	RegionName   string         `json:"region_name"`
	SheetID      int64          `json:"sheet_id"`
	SheetVersion int            `json:"sheet_version"`
	Indicators   []SheetItem    `json:"indicators" doc:"the sheet as applied"`
	Origin       Origin         `json:"origin" doc:"job (monthly) | demand"`
	ComputedBy   string         `json:"computed_by"`
	ComputedAt   time.Time      `json:"computed_at"`
	FiguresAsOf  *time.Time     `json:"figures_as_of,omitempty" doc:"when the aggregates read were last brought up to date"`
	Regions      int            `json:"regions"`
	Ranking      []RegionResult `json:"ranking"`
}

// prepared is a computed assessment, ready to be stored.
type prepared struct {
	sc      *scope
	sheet   Sheet
	origin  Origin
	by      string
	asOf    *time.Time
	results []RegionResult
}

var regionRe = regexp.MustCompile(`^[0-9]{6}$`)

// Compute computes (or computes again, replacing it) an assessment for
// the actor: 422 naming the field for a bad level or period, 404 for a
// region outside the jurisdiction, 403 without the right to run it.
func (s *Service) Compute(ctx context.Context, actor *auth.Actor, req Request) (Assessment, error) {
	p, err := s.prepare(ctx, actor, req, OriginDemand, true)
	if err != nil {
		return Assessment{}, err
	}
	var id int64
	if err := s.db.InTx(ctx, func(tx *platform.Tx) (err error) { id, err = s.storeTx(ctx, tx, p); return err }); err != nil {
		return Assessment{}, err
	}
	return s.Get(ctx, actor, id)
}

// check validates a request and the actor's reach; it returns the scope.
func (s *Service) check(ctx context.Context, actor *auth.Actor, req Request) (*scope, error) {
	if actor == nil {
		return nil, platform.Unauthorized("请先登录", "authentication required")
	}
	root := strings.TrimSpace(req.Region)
	if root == "" {
		root = actor.Region
	}
	if root == "" {
		root = "000000"
	}
	var v platform.Validator
	lvl := Level(strings.TrimSpace(req.Level))
	if v.Require("level", string(lvl)) {
		v.OneOf("level", string(lvl), string(LevelProvince), string(LevelPrefecture), string(LevelCounty))
	}
	v.Check(regionRe.MatchString(root), "region", "format", "地区代码应为 6 位数字", "region must be a 6-digit code")
	now := s.clock.Now()
	per, perr := ParsePeriod(strings.TrimSpace(req.Period), now)
	fields := v.Fields()
	var pe *platform.Error
	if errors.As(perr, &pe) {
		fields = append(fields, pe.Fields...)
	} else if perr != nil {
		return nil, perr
	}
	if len(fields) > 0 {
		return nil, platform.Invalid(fields...)
	}
	if err := auth.Authorize(actor, auth.ActAssessRead, auth.Resource{Region: root}); err != nil {
		return nil, err
	}
	if err := auth.Authorize(actor, auth.ActAssessRun, auth.Resource{Region: root}); err != nil {
		return nil, err
	}
	if root != "000000" {
		if _, err := s.regions.Get(ctx, root); err != nil {
			return nil, platform.NotFound("没有这个地区", "no such region")
		}
	}
	rl, prefix := lvl.depth()
	if rootLevel(root) >= rl {
		return nil, platform.Invalid(platform.FieldError{Field: "level", Code: "not_below", ZH: "考核层级应低于所选地区的层级", EN: "the level must be below the region's own"})
	}
	return &scope{root: root, level: lvl, prefix: prefix, p: per, today: platform.Today(now), now: now, figs: map[string]map[string]map[string]int64{}}, nil
}

// prepare checks the request, brings the aggregates up to date (update)
// and scores every region (reads only; storeTx writes).
func (s *Service) prepare(ctx context.Context, actor *auth.Actor, req Request, origin Origin, update bool) (*prepared, error) {
	sc, err := s.check(ctx, actor, req)
	if err != nil {
		return nil, err
	}
	sheet, err := s.SheetFor(ctx, sc.level)
	if err != nil {
		return nil, err
	}
	if update {
		// the figures' own transactions must not take the request's
		// Idempotency-Key: it commits with the assessment (storeTx)
		if _, err := s.insight.Update(platform.WithIdempotency(ctx, nil)); err != nil {
			return nil, err
		}
	}
	p := &prepared{sc: sc, sheet: sheet, origin: origin, by: actor.Name}
	if t, err := s.insight.AsOf(ctx); err == nil && !t.IsZero() {
		p.asOf = &t
	}
	regions, err := s.levelRegions(ctx, sc)
	if err != nil {
		return nil, err
	}
	if p.results, err = s.score(ctx, sc, sheet, regions); err != nil {
		return nil, err
	}
	return p, nil
}

type namedRegion struct{ Code, Name string }

// levelRegions lists the regions of the scope's level inside its root.
func (s *Service) levelRegions(ctx context.Context, sc *scope) ([]namedRegion, error) {
	rl, _ := sc.level.depth()
	w := auth.NewWhere()
	w.Add("level = " + w.Arg(rl))
	w.Region("code", sc.root)
	rows, err := s.db.Query(ctx, `SELECT code, name FROM regions`+w.SQL()+` ORDER BY code`, w.Args()...)
	list, err := platform.Collect(rows, err, func(r interface{ Scan(...any) error }) (namedRegion, error) {
		var n namedRegion
		return n, r.Scan(&n.Code, &n.Name)
	})
	for i, r := range list {
		if strings.Contains(r.Name, "直辖") || r.Name == "市辖区" {
			if full, err := s.regions.FullName(ctx, r.Code); err == nil {
				list[i].Name = full
			}
		}
	}
	return list, err
}

// score measures every indicator of the sheet in every region, scores
// them and ranks the regions.
func (s *Service) score(ctx context.Context, sc *scope, sheet Sheet, regions []namedRegion) ([]RegionResult, error) {
	measured := make([]map[string]measure, len(sheet.Indicators))
	for i, it := range sheet.Indicators {
		in, ok := Lookup(it.Indicator)
		if !ok {
			continue // an indicator retired from the registry scores nothing
		}
		m, err := s.measureAll(ctx, sc, in)
		if err != nil {
			return nil, err
		}
		measured[i] = m
	}
	out := make([]RegionResult, 0, len(regions))
	for _, r := range regions {
		rr := RegionResult{Region: r.Code, Name: r.Name, Scores: make([]Score, 0, len(sheet.Indicators))}
		var points, weights float64
		for i, it := range sheet.Indicators {
			in, _ := Lookup(it.Indicator)
			m := measured[i][r.Code]
			res := scoreOf(in, it.Weight, it.Target, m)
			res.Evidence = evidenceFor(in, r.Code, sc.p)
			rr.Scores = append(rr.Scores, res)
			if res.Applicable {
				points += res.Score
				weights += it.Weight
			}
		}
		if weights > 0 {
			rr.Total = round2(100 * points / weights)
		}
		out = append(out, rr)
	}
	rank(out)
	return out, nil
}

// scoreOf scores one measure against the sheet's weight and target.
func scoreOf(in Indicator, weight, target float64, m measure) Score {
	sc := Score{Indicator: in.Key, Numerator: round2(m.Num), Denominator: round2(m.Den)}
	if m.Den == 0 {
		sc.Applicable = in.Empty == EmptyZero
		return sc
	}
	scale := 1.0
	if in.Unit == UnitPercent || in.Unit == UnitPer100 {
		scale = 100
	}
	v := round2(scale * m.Num / m.Den)
	sc.Value, sc.Applicable = &v, true
	ratio := 1.0
	switch {
	case in.Direction == Higher && v < target:
		ratio = v / target
	case in.Direction == Lower && v > target:
		ratio = target / v
	}
	sc.Score = round2(weight * math.Max(0, math.Min(1, ratio)))
	return sc
}

// evidenceFor links a score to the figure query and the list behind it.
func evidenceFor(in Indicator, region string, p Period) Evidence {
	e := Evidence{Figure: in.Figure, List: in.List + "?region=" + region}
	if in.Figure != "" {
		q := url.Values{"region": {region}, "to": {p.To}, "by": {"total"}}
		if !in.State {
			q.Set("from", p.From)
		}
		e.Query = "/api/v1/stats/" + in.Figure + "?" + q.Encode()
	}
	return e
}

// rank orders the results by total (then code) and numbers them; equal
// totals share a place (1, 1, 3).
func rank(rs []RegionResult) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].Total != rs[j].Total {
			return rs[i].Total > rs[j].Total
		}
		return rs[i].Region < rs[j].Region
	})
	for i := range rs {
		if i > 0 && rs[i].Total == rs[i-1].Total {
			rs[i].Rank = rs[i-1].Rank
		} else {
			rs[i].Rank = i + 1
		}
	}
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// storeTx writes a prepared assessment, replacing the one of the same
// level, month and root: one row, its results and scores, the event.
func (s *Service) storeTx(ctx context.Context, tx *platform.Tx, p *prepared) (int64, error) {
	type applied struct {
		Indicator string  `json:"indicator"`
		Weight    float64 `json:"weight"`
		Target    float64 `json:"target"`
	}
	var sheet []applied
	for _, it := range p.sheet.Indicators {
		sheet = append(sheet, applied{it.Indicator, it.Weight, it.Target})
	}
	raw, _ := json.Marshal(sheet)
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO assessments (level, period, region_code, sheet_id, sheet_version, sheet, origin, computed_by, computed_at, figures_as_of, regions)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (level, period, region_code) DO UPDATE SET sheet_id = excluded.sheet_id, sheet_version = excluded.sheet_version, sheet = excluded.sheet,
			origin = excluded.origin, computed_by = excluded.computed_by, computed_at = excluded.computed_at, figures_as_of = excluded.figures_as_of, regions = excluded.regions
		RETURNING id`, string(p.sc.level), p.sc.p.Month, p.sc.root, p.sheet.ID, p.sheet.Version, string(raw), string(p.origin), p.by, tx.Now(), p.asOf, len(p.results)).Scan(&id)
	if err != nil {
		return 0, err
	}
	for _, t := range []string{"assessment_scores", "assessment_results"} {
		if _, err := tx.Exec(ctx, `DELETE FROM `+t+` WHERE assessment_id = $1`, id); err != nil {
			return 0, err
		}
	}
	if err := insertResults(ctx, tx, id, p.results); err != nil {
		return 0, err
	}
	data := map[string]any{"level": string(p.sc.level), "period": p.sc.p.Month, "region": p.sc.root, "origin": string(p.origin), "regions": len(p.results)}
	if len(p.results) > 0 {
		data["first"] = p.results[0].Region
	}
	return id, tx.Emit(ctx, platform.Event{Action: "assessment.compute", ResourceType: "assessment", ResourceID: strconv.FormatInt(id, 10), Data: data})
}

// insertResults writes the results and scores in batches of rows (a
// national county ranking is some 3,000 regions × 8 scores).
func insertResults(ctx context.Context, tx *platform.Tx, id int64, rs []RegionResult) error {
	var results, scores [][]any
	for _, r := range rs {
		results = append(results, []any{id, r.Region, r.Name, r.Rank, r.Total})
		for _, sc := range r.Scores {
			ev, _ := json.Marshal(sc.Evidence)
			var v any
			if sc.Value != nil {
				v = *sc.Value
			}
			scores = append(scores, []any{id, r.Region, sc.Indicator, sc.Numerator, sc.Denominator, v, sc.Score, sc.Applicable, string(ev)})
		}
	}
	if err := insertRows(ctx, tx, "assessment_results (assessment_id, region_code, name, rank_no, total)", results); err != nil {
		return err
	}
	return insertRows(ctx, tx, "assessment_scores (assessment_id, region_code, indicator, numerator, denominator, value, score, applicable, evidence)", scores)
}

// batchRows is how many rows one INSERT writes (a fixed size, so the
// statement texts stay few in the statement cache).
const batchRows = 50

func insertRows(ctx context.Context, tx *platform.Tx, into string, rows [][]any) error {
	for len(rows) > 0 {
		n := min(batchRows, len(rows))
		if n < batchRows && n > 8 {
			n = 8 // the tail goes 8 rows, then one at a time
		}
		var b strings.Builder
		args := make([]any, 0, n*len(rows[0]))
		b.WriteString("INSERT INTO " + into + " VALUES ")
		for i, r := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for j, v := range r {
				if j > 0 {
					b.WriteString(", ")
				}
				args = append(args, v)
				b.WriteString("$" + strconv.Itoa(len(args)))
			}
			b.WriteString(")")
		}
		if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
