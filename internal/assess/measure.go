package assess

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/insight"
	"agtrace/internal/platform"
)

// measure is what an indicator counted in one region: value = scale ×
// Num ÷ Den (no value when Den is 0).
type measure struct{ Num, Den float64 }

// scope is what one computation measures: the regions of a level inside a
// root, over a month.
type scope struct {
	root   string
	level  Level
	prefix int // the code prefix length of the level's regions
	p      Period
	today  string // China date of the computation
	now    time.Time
	figs   map[string]map[string]map[string]int64 // cache: figure|state → region → key → count
}

// regionOf turns a code prefix of the level into its 6-digit region code.
func (sc *scope) regionOf(code string) string {
	if len(code) > sc.prefix {
		code = code[:sc.prefix]
	}
	return (code + "000000")[:6]
}

// rangeArgs adds the root's region range on col to w.
func (sc *scope) rangeCond(w *auth.Where, col string) {
	w.Region(col, sc.root)
}

// measureAll measures one indicator in every region of the scope.
func (s *Service) measureAll(ctx context.Context, sc *scope, in Indicator) (map[string]measure, error) {
	switch in.Raw {
	case rawReviews:
		return s.reviews(ctx, sc)
	case rawCases:
		return s.caseDeadlines(ctx, sc)
	case rawComplaints:
		return s.complaintDays(ctx, sc)
	}
	counts, err := s.figure(ctx, sc, in.Figure, in.State)
	if err != nil {
		return nil, err
	}
	out := map[string]measure{}
	for reg, keys := range counts {
		var m measure
		for k, n := range keys {
			if len(in.Num) == 0 || slices.Contains(in.Num, k) {
				m.Num += float64(n)
			}
			if !in.PerOperator && (len(in.Den) == 0 || slices.Contains(in.Den, k)) {
				m.Den += float64(n)
			}
		}
		out[reg] = m
	}
	if in.PerOperator {
		ops, err := s.figure(ctx, sc, "registrations", true)
		if err != nil {
			return nil, err
		}
		for reg, keys := range ops {
			m := out[reg]
			m.Den = float64(keys["approved"] + keys["suspended"])
			out[reg] = m
		}
	}
	return out, nil
}

// figure reads a figure's aggregate counts by region of the level and key:
// the month's row, or (state figures) every month up to the period's.
func (s *Service) figure(ctx context.Context, sc *scope, name string, state bool) (map[string]map[string]int64, error) {
	ck := name + "|" + strconv.FormatBool(state)
	if c, ok := sc.figs[ck]; ok {
		return c, nil
	}
	// a period is a whole month: the monthly roll-up has it in one row per
	// county, product, key and sub (stat_monthly, docs/insight.md)
	w := auth.NewWhere()
	w.Add("figure = " + w.Arg(name))
	w.Add("product_code = " + w.Arg(insight.AllRows)) // summed over products and subs
	if state {
		w.Add("month <= " + w.Arg(sc.p.Month))
	} else {
		w.Add("month = " + w.Arg(sc.p.Month))
	}
	sc.rangeCond(w, "region_code")
	n := strconv.Itoa(sc.prefix)
	rows, err := s.db.Query(ctx, `SELECT SUBSTR(region_code, 1, `+n+`), key, SUM(value) FROM stat_monthly`+w.SQL()+` GROUP BY SUBSTR(region_code, 1, `+n+`), key`, w.Args()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]int64{}
	for rows.Next() {
		var code, key string
		var v int64
		if err := rows.Scan(&code, &key, &v); err != nil {
			return nil, err
		}
		reg := sc.regionOf(code)
		if out[reg] == nil {
			out[reg] = map[string]int64{}
		}
		out[reg][key] += v
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sc.figs[ck] = out
	return out, nil
}

// reviews: registration and change reviews whose deadline (5 working days
// after submission, annex art. 8) fell in the month — decided by it (Num)
// out of all (Den); undecided past the deadline counts as late, undecided
// before it is not counted yet.
func (s *Service) reviews(ctx context.Context, sc *scope) (map[string]measure, error) {
	out := map[string]measure{}
	judge := func(reg, due string, decided *time.Time) {
		if due < sc.p.From || due > sc.p.To {
			return
		}
		m := out[reg]
		switch {
		case decided != nil:
			m.Den++
			if platform.Today(*decided) <= due {
				m.Num++
			}
		case due < sc.today:
			m.Den++
		default:
			return
		}
		out[reg] = m
	}
	// registrations: each submission and the decision that answered it; a
	// submission up to a month before the period can fall due in it
	w := auth.NewWhere()
	w.Add("d.kind IN ('submit', 'approve', 'reject') AND COALESCE(d.change_id, 0) = 0")
	w.Add("d.at >= " + w.Arg(sc.p.Start.AddDate(0, -1, 0)))
	sc.rangeCond(w, "o.county_code")
	rows, err := s.db.Query(ctx, `SELECT o.county_code, d.operator_id, d.kind, d.at FROM operator_decisions d JOIN operators o ON o.id = d.operator_id`+
		w.SQL()+` ORDER BY d.operator_id, d.id`, w.Args()...)
	if err != nil {
		return nil, err
	}
	type submission struct {
		reg, due string
		decided  *time.Time
	}
	var subs []*submission
	open := map[int64]*submission{}
	for rows.Next() {
		var county, kind string
		var op int64
		var at time.Time
		if err := rows.Scan(&county, &op, &kind, &at); err != nil {
			rows.Close()
			return nil, err
		}
		if kind == "submit" {
			sub := &submission{reg: sc.regionOf(county), due: s.reviewDue(ctx, at)}
			subs, open[op] = append(subs, sub), sub
		} else if sub := open[op]; sub != nil {
			t := at
			sub.decided, open[op] = &t, nil
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, sub := range subs {
		if sub.due != "" {
			judge(sub.reg, sub.due, sub.decided)
		}
	}
	// change requests keep their own deadline and decision time
	w = auth.NewWhere()
	w.Add("c.review_due >= " + w.Arg(sc.p.From))
	w.Add("c.review_due <= " + w.Arg(sc.p.To))
	sc.rangeCond(w, "o.county_code")
	rows, err = s.db.Query(ctx, `SELECT o.county_code, c.review_due, c.decided_at FROM operator_changes c JOIN operators o ON o.id = c.operator_id`+w.SQL(), w.Args()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var county, due string
		var at sql.NullTime
		if err := rows.Scan(&county, &due, &at); err != nil {
			return nil, err
		}
		var decided *time.Time
		if at.Valid {
			decided = &at.Time
		}
		judge(sc.regionOf(county), due, decided)
	}
	return out, rows.Err()
}

// reviewDue is the review deadline of a submission at t: the China date
// 5 working days later, as the operator service sets it ("" when the
// calendar cannot say).
func (s *Service) reviewDue(ctx context.Context, t time.Time) string {
	day, _ := time.Parse(time.DateOnly, platform.Today(t))
	due, _, err := s.cal.AddWorkdays(ctx, day, reviewWorkdays)
	if err != nil {
		return ""
	}
	return due.Format(time.DateOnly)
}

// reviewWorkdays is the statutory review period (annex art. 8; the
// operator service's ReviewWorkdays).
const reviewWorkdays = 5

// caseDeadlines: enforcement case steps whose deadline fell in the month —
// the next step taken on or before it (Num) out of all (Den); no next
// step past the deadline is late, before it not counted yet.
func (s *Service) caseDeadlines(ctx context.Context, sc *scope) (map[string]measure, error) {
	w := auth.NewWhere()
	w.Add("s.due_on >= " + w.Arg(sc.p.From))
	w.Add("s.due_on <= " + w.Arg(sc.p.To))
	sc.rangeCond(w, "c.region_code")
	rows, err := s.db.Query(ctx, `SELECT c.region_code, s.due_on, n.on_date FROM case_steps s JOIN cases c ON c.id = s.case_id
		LEFT JOIN case_steps n ON n.id = (SELECT MIN(x.id) FROM case_steps x WHERE x.case_id = s.case_id AND x.id > s.id)`+w.SQL(), w.Args()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]measure{}
	for rows.Next() {
		var reg, due string
		var next sql.NullString
		if err := rows.Scan(&reg, &due, &next); err != nil {
			return nil, err
		}
		if !next.Valid && due >= sc.today {
			continue
		}
		m := out[sc.regionOf(reg)]
		m.Den++
		if next.Valid && next.String <= due {
			m.Num++
		}
		out[sc.regionOf(reg)] = m
	}
	return out, rows.Err()
}

// complaintDays: complaints filed in the month — the days from filing to
// the first reply or closing, summed (Num), and their number (Den); one
// not answered yet counts the days until the computation.
func (s *Service) complaintDays(ctx context.Context, sc *scope) (map[string]measure, error) {
	w := auth.NewWhere()
	w.Add("p.created_at >= " + w.Arg(sc.p.Start))
	w.Add("p.created_at < " + w.Arg(sc.p.End))
	sc.rangeCond(w, "p.region_code")
	// one row per answer (none: NULL); the first answer is taken here, as an
	// aggregate would lose the column's type on SQLite
	rows, err := s.db.Query(ctx, `SELECT p.id, p.region_code, p.created_at, a.at FROM complaints p
		LEFT JOIN audit_log a ON a.resource_type = 'complaint' AND a.resource_id = CAST(p.id AS TEXT) AND a.action IN ('complaint.reply', 'complaint.close')`+
		w.SQL(), w.Args()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type complaint struct {
		reg          string
		filed, ended time.Time
	}
	byID := map[int64]*complaint{}
	for rows.Next() {
		var id int64
		var reg string
		var filed time.Time
		var answered sql.NullTime
		if err := rows.Scan(&id, &reg, &filed, &answered); err != nil {
			return nil, err
		}
		c := byID[id]
		if c == nil {
			c = &complaint{reg: sc.regionOf(reg), filed: filed, ended: sc.now}
			byID[id] = c
		}
		if answered.Valid && answered.Time.Before(c.ended) {
			c.ended = answered.Time
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := map[string]measure{}
	for _, c := range byID {
		m := out[c.reg]
		m.Num += max(0, c.ended.Sub(c.filed).Hours()/24)
		m.Den++
		out[c.reg] = m
	}
	return out, nil
}
