package insight

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// Evaluating the rules: the periodic job (one replica per period, by
// lease), `agtrace warnings evaluate` and POST /api/v1/warnings/evaluate.

// The warnings job.
const (
	WarnJob    = "warnings"
	WarnEvery  = time.Hour // how often serve tries it; the lease lets one replica run each period
	maxRaised  = 500       // new warnings per run; the next run goes on
	warnOrigin = "warnings"
)

// WarnReport says what an evaluation did.
type WarnReport struct {
	Ran      bool            `json:"ran" doc:"false when another instance holds the period's lease"`
	Region   string          `json:"region" doc:"the jurisdiction evaluated (000000: the nation)"`
	Today    string          `json:"today"`
	Series   int             `json:"series" doc:"county (and product) series assessed"`
	Fired    map[RuleKey]int `json:"fired" doc:"series whose rule fired, per rule"`
	Raised   map[RuleKey]int `json:"raised" doc:"new warnings, per rule (a rule that fired on a series with a warning still active, or handled for an overlapping window, raises none)"`
	Warnings []int64         `json:"warnings" doc:"the new warnings' ids"`
	Duration time.Duration   `json:"duration"`
	Stats    Report          `json:"stats" doc:"the aggregates' update that ran first"`
}

// candidate is a series on which a rule fired.
type candidate struct {
	rule            WarnRule
	county, product string
	ev              Evidence
}

// EvaluateWarnings brings the figures up to date and runs every rule over
// the counties of the actor's jurisdiction (officials who may read
// figures: the stats permission), raising what fires.
func (s *Service) EvaluateWarnings(ctx context.Context, actor *auth.Actor) (WarnReport, error) {
	if err := auth.Authorize(actor, auth.ActStatsRead, auth.Resource{}); err != nil {
		return WarnReport{}, err
	}
	root := actor.Region
	if auth.ListScope(actor, auth.ActStatsRead).Kind == auth.ScopeAll {
		root = "000000"
	}
	return s.evaluate(ctx, root)
}

// RunWarnings is the periodic job: when this instance wins the period's
// lease it evaluates the whole country and records the run.
func (s *Service) RunWarnings(ctx context.Context, holder string, every time.Duration) (WarnReport, error) {
	if every <= 0 {
		every = WarnEvery
	}
	won, err := s.db.AcquireLease(ctx, WarnJob, holder, s.clock.Now(), every-every/10, platform.LeasePeriodic)
	if err != nil || !won {
		return WarnReport{}, err
	}
	ctx = platform.WithOrigin(ctx, auth.SystemOrigin(warnOrigin))
	var runID int64
	if err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO job_runs (name, holder, started) VALUES ($1, $2, $3) RETURNING id`, WarnJob, holder, s.clock.Now()).Scan(&runID)
	}); err != nil {
		return WarnReport{}, err
	}
	rep, err := s.evaluate(ctx, "000000")
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if ferr := s.db.InTx(ctx, func(tx *platform.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE job_runs SET finished = $1, findings = $2, error = $3 WHERE id = $4`, s.clock.Now(), len(rep.Warnings), msg, runID)
		return err
	}); ferr != nil && err == nil {
		err = ferr
	}
	return rep, err
}

// evaluate updates the aggregates, assesses every series of the region's
// counties and raises the warnings that fire, in one transaction.
func (s *Service) evaluate(ctx context.Context, root string) (WarnReport, error) {
	start := time.Now()
	rep := WarnReport{Ran: true, Region: root, Fired: map[RuleKey]int{}, Raised: map[RuleKey]int{}, Warnings: []int64{}}
	var err error
	if rep.Stats, err = s.Update(ctx); err != nil {
		return rep, err
	}
	ws, err := s.loadWarnSettings(ctx)
	if err != nil {
		return rep, err
	}
	rep.Today = platform.Today(s.clock.Now())
	var cands []candidate
	for _, r := range WarnRules {
		series, err := s.series(ctx, r, root, rep.Today, ws.span(r))
		if err != nil {
			return rep, fmt.Errorf("warning rule %s: %w", r.Key, err)
		}
		for _, k := range sortedKeys(series) {
			county, product, _ := strings.Cut(k, "|")
			p, _ := ws.For(r, county)
			if !p.Enabled {
				continue
			}
			rep.Series++
			if ev, fire := assess(r, p, rep.Today, series[k]); fire {
				rep.Fired[r.Key]++
				cands = append(cands, candidate{rule: r, county: county, product: product, ev: ev})
			}
		}
	}
	ids, err := s.raise(ctx, cands)
	for i, id := range ids {
		if id != 0 {
			rep.Raised[cands[i].rule.Key]++
			rep.Warnings = append(rep.Warnings, id)
		}
	}
	rep.Duration = time.Since(start)
	return rep, err
}

func sortedKeys(m map[string]daySeries) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// series reads rule r's figure from stat_daily for the counties under root
// over the last span days (a state figure: all of it), as one series per
// county (and product): "county|product" → day → hits, trials.
func (s *Service) series(ctx context.Context, r WarnRule, root, today string, span int) (map[string]daySeries, error) {
	w := auth.NewWhere()
	w.Add("figure = " + w.Arg(r.Figure))
	w.Region("region_code", root)
	if r.Method != MethodLevel {
		w.Add("day >= " + w.Arg(addDays(today, 1-span)))
		w.Add("day <= " + w.Arg(today))
	}
	if len(r.Subs) > 0 {
		ps := make([]string, len(r.Subs))
		for i, sub := range r.Subs {
			ps[i] = w.Arg(sub)
		}
		w.Add("sub IN (" + strings.Join(ps, ", ") + ")")
	}
	product, group := "''", ""
	if r.ByProduct {
		product, group = "product_code", ", product_code"
	}
	rows, err := s.db.Query(ctx, `SELECT region_code, `+product+`, day, key, SUM(value) FROM stat_daily`+w.SQL()+
		` GROUP BY region_code`+group+`, day, key`, w.Args()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	hits, trials := keySet(r.Hits), keySet(r.Trials)
	out := map[string]daySeries{}
	for rows.Next() {
		var county, prod, day, key string
		var n int64
		if err := rows.Scan(&county, &prod, &day, &key, &n); err != nil {
			return nil, err
		}
		k := county + "|" + prod
		if out[k] == nil {
			out[k] = daySeries{}
		}
		p := out[k][day]
		if hits == nil || hits[key] {
			p.Hits += n
		}
		if trials[key] {
			p.Trials += n
		}
		out[k][day] = p
	}
	return out, rows.Err()
}

func keySet(keys []string) map[string]bool {
	if keys == nil {
		return nil
	}
	out := map[string]bool{}
	for _, k := range keys {
		out[k] = true
	}
	return out
}

// raise records the candidates that are new, in one transaction: a
// candidate is skipped while its rule, county and product have a warning
// open or acknowledged, or one handled for a window reaching into the
// candidate's (the partial unique index warnings_active backs the first
// under concurrent runs). ids[i] is the new warning of cands[i] (0: none).
func (s *Service) raise(ctx context.Context, cands []candidate) ([]int64, error) {
	ids := make([]int64, len(cands))
	if len(cands) == 0 {
		return ids, nil
	}
	err := s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		n := 0
		for i, c := range cands {
			ids[i] = 0
			if n >= maxRaised {
				continue
			}
			id, err := raiseTx(ctx, tx, c)
			if err != nil {
				return err
			}
			if id != 0 {
				ids[i] = id
				n++
			}
		}
		return nil
	})
	return ids, err
}

// raiseTx records one candidate unless a warning covers it (0: skipped).
func raiseTx(ctx context.Context, tx *platform.Tx, c candidate) (int64, error) {
	var covered int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM warnings WHERE rule = $1 AND region_code = $2 AND product_code = $3
		AND (status IN ($4, $5) OR window_to >= $6)`, string(c.rule.Key), c.county, c.product, string(WarningOpen), string(WarningAcknowledged),
		c.ev.WindowFrom).Scan(&covered); err != nil {
		return 0, err
	}
	if covered > 0 {
		return 0, nil
	}
	b, err := json.Marshal(c.ev)
	if err != nil {
		return 0, err
	}
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO warnings (rule, region_code, product_code, window_from, window_to, statistic, threshold, evidence, status, raised_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT DO NOTHING RETURNING id`,
		string(c.rule.Key), c.county, c.product, c.ev.WindowFrom, c.ev.WindowTo, c.ev.Statistic, c.ev.Threshold, string(b), string(WarningOpen), tx.Now()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // raised meanwhile by a concurrent run
	}
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO warning_steps (warning_id, status, note, user_id, user_name, at) VALUES ($1, $2, '', NULL, '', $3)`,
		id, string(WarningOpen), tx.Now()); err != nil {
		return 0, err
	}
	return id, tx.Emit(ctx, platform.Event{Action: "warning.raise", ResourceType: "warning", ResourceID: fmt.Sprint(id),
		Data: map[string]any{"rule": string(c.rule.Key), "region_code": c.county, "window_from": c.ev.WindowFrom, "window_to": c.ev.WindowTo,
			"hits": c.ev.Hits, "expected": c.ev.Expected}})
}
