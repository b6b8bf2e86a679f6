package supervision

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// The monitoring job.
const (
	MonitorJob      = "monitor"
	MonitorPeriod   = time.Hour // one run per period across all replicas
	maxRaisedPerRun = 500       // per rule; the next run continues
)

// MonitorReport says what a run did.
type MonitorReport struct {
	Ran      bool           `json:"ran" doc:"false when another instance holds the lease"`
	Holder   string         `json:"holder"`
	Raised   map[string]int `json:"raised"`
	Duration time.Duration  `json:"duration"`
}

// RunMonitor runs the monitoring rules once if this instance wins the
// period's lease (one runner across replicas), recording the run. every
// is the period the replicas tick at (0: MonitorPeriod).
func (s *Service) RunMonitor(ctx context.Context, holder string, every time.Duration) (MonitorReport, error) {
	if every <= 0 {
		every = MonitorPeriod
	}
	rep := MonitorReport{Holder: holder}
	// the lease runs for 90 % of the period, so the holder's next tick (which
	// may wake a little early or late) finds it expired and runs again
	won, err := s.db.AcquireLease(ctx, MonitorJob, holder, s.clock.Now(), every-every/10, platform.LeasePeriodic)
	if err != nil || !won {
		return rep, err
	}
	rep.Ran = true
	start := s.clock.Now()
	var runID int64
	if err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO job_runs (name, holder, started) VALUES ($1, $2, $3) RETURNING id`, MonitorJob, holder, start).Scan(&runID)
	}); err != nil {
		return rep, err
	}
	rep.Raised, err = s.Evaluate(ctx)
	rep.Duration = s.clock.Now().Sub(start)
	total := 0
	for _, n := range rep.Raised {
		total += n
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if ferr := s.db.InTx(ctx, func(tx *platform.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE job_runs SET finished = $1, findings = $2, error = $3 WHERE id = $4`, s.clock.Now(), total, msg, runID)
		return err
	}); ferr != nil && err == nil {
		err = ferr
	}
	return rep, err
}

// Evaluate runs every rule now (the job, the demo and the CLI) and
// returns how many findings each raised.
func (s *Service) Evaluate(ctx context.Context) (map[string]int, error) {
	t, err := s.loadThresholds(ctx, s.db)
	if err != nil {
		return nil, err
	}
	today := s.Today()
	rules := []struct {
		key  string
		find func(context.Context, string) ([]candidateFinding, error)
		// over: whether a candidate's value passes the threshold
		over func(value, threshold float64) bool
	}{
		{RuleNoRecentBatch, s.findNoRecentBatch, atLeast},
		{RuleRepeatedOverShip, s.findRepeatedOverShip, atLeast},
		{RuleRectifyOverdue, s.findRectifyOverdue, above},
		{RuleReviewOverdue, s.findReviewOverdue, above},
		{RuleReviewEscalated, s.findReviewOverdue, above},
		{RuleNeverInspected, s.findNeverInspected, atLeast},
		{RuleKeyNoAgreement, s.findKeyNoAgreement, atLeast},
		{RuleScanOverUnits, s.findScans(RuleScanOverUnits), atLeast},
		{RuleScanFarApart, s.findScans(RuleScanFarApart), atLeast},
	}
	out := map[string]int{}
	for _, r := range rules {
		cands, err := r.find(ctx, today)
		if err != nil {
			return out, fmt.Errorf("rule %s: %w", r.key, err)
		}
		var fire []trace.RuleFinding
		for _, c := range cands {
			st := t.For(r.key, c.Region)
			if st.Enabled && r.over(c.value, st.Threshold) {
				f := c.RuleFinding
				f.Kind = r.key
				f.Detail["threshold"] = st.Threshold
				switch r.key {
				case RuleReviewEscalated:
					f.Region2 = parentRegion(f.Region)
					f.Detail["escalated_to"] = f.Region2
				case RuleScanOverUnits:
					f.Key = trace.OverUnitsKey(f.Code, c.value, st.Threshold)
				}
				fire = append(fire, f)
			}
		}
		n, err := s.raise(ctx, today, fire)
		if err != nil {
			return out, fmt.Errorf("rule %s: %w", r.key, err)
		}
		out[r.key] = n
	}
	return out, nil
}

func atLeast(v, t float64) bool { return v >= t }
func above(v, t float64) bool   { return v > t }

// raise records a rule's findings in one transaction, at most
// maxRaisedPerRun new ones (those already recorded do not count, so the
// next run goes on where this one stopped).
func (s *Service) raise(ctx context.Context, today string, fs []trace.RuleFinding) (int, error) {
	if len(fs) == 0 {
		return 0, nil
	}
	n := 0
	err := s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		n = 0
		for _, f := range fs {
			if n >= maxRaisedPerRun {
				return nil
			}
			ok, err := trace.RaiseTx(ctx, tx, today, f)
			if err != nil {
				return err
			}
			if ok {
				n++
			}
		}
		return nil
	})
	return n, err
}

// operatorRow is what the operator rules read.
type operatorRow struct {
	id         int64
	code, name string
	region     string
	approvedOn string
	last       string // the last event the rule looks at ("" none)
}

func (s *Service) operatorRows(ctx context.Context, query string, args ...any) ([]operatorRow, error) {
	rows, err := s.db.Query(ctx, query, args...)
	return platform.Collect(rows, err, func(r *sql.Rows) (operatorRow, error) {
		var o operatorRow
		var approved sql.NullTime
		err := r.Scan(&o.id, &o.code, &o.name, &o.region, &approved, &o.last)
		if approved.Valid {
			o.approvedOn = dateOf(approved.Time)
		}
		return o, err
	})
}

func (o operatorRow) finding(key string, value float64, detail map[string]any) candidateFinding {
	detail["operator"] = o.name
	return candidateFinding{RuleFinding: trace.RuleFinding{Key: key, Code: o.code, OperatorID: o.id, Region: o.region, Detail: detail}, value: value}
}

// findNoRecentBatch: approved producers by days since their last
// production batch (or their approval, when they have none).
func (s *Service) findNoRecentBatch(ctx context.Context, today string) ([]candidateFinding, error) {
	ops, err := s.operatorRows(ctx, `SELECT o.id, o.code, o.name, o.region_code, o.approved_at,
		COALESCE((SELECT MAX(tc.produced_on) FROM trace_codes tc WHERE tc.operator_id = o.id AND tc.type = 1), '')
		FROM operators o WHERE o.status = 'approved' AND o.category IN ('producer', 'producer_trader') AND o.approved_at IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	var out []candidateFinding
	for _, o := range ops {
		since := o.last
		if since == "" {
			since = o.approvedOn
		}
		out = append(out, o.finding(fmt.Sprintf("%d:%s", o.id, since), daysBetween(since, today),
			map[string]any{"last_batch": o.last, "days": daysBetween(since, today)}))
	}
	return out, nil
}

// findNeverInspected: approved operators by days since their last
// inspection (or their approval).
func (s *Service) findNeverInspected(ctx context.Context, today string) ([]candidateFinding, error) {
	ops, err := s.operatorRows(ctx, `SELECT o.id, o.code, o.name, o.region_code, o.approved_at,
		COALESCE((SELECT MAX(i.on_date) FROM inspections i WHERE i.operator_id = o.id), '')
		FROM operators o WHERE o.status = 'approved' AND o.category <> 'temporary' AND o.approved_at IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	var out []candidateFinding
	for _, o := range ops {
		since := o.last
		if since == "" {
			since = o.approvedOn
		}
		out = append(out, o.finding(fmt.Sprintf("%d:%s", o.id, since), daysBetween(since, today),
			map[string]any{"last_inspection": o.last, "days": daysBetween(since, today)}))
	}
	return out, nil
}

// findKeyNoAgreement: key operators by days since approval, without a signed agreement.
func (s *Service) findKeyNoAgreement(ctx context.Context, today string) ([]candidateFinding, error) {
	ops, err := s.operatorRows(ctx, `SELECT o.id, o.code, o.name, o.region_code, o.approved_at, ''
		FROM operators o WHERE o.status = 'approved' AND o.approved_at IS NOT NULL
		AND (o.leading_enterprise IS NOT NULL OR o.demo_cooperative OR o.certifications <> '[]')
		AND NOT EXISTS (SELECT 1 FROM agreements a WHERE a.operator_id = o.id AND a.status = 'signed')`)
	if err != nil {
		return nil, err
	}
	var out []candidateFinding
	for _, o := range ops {
		d := daysBetween(o.approvedOn, today)
		out = append(out, o.finding(fmt.Sprint(o.id), d, map[string]any{"approved_on": o.approvedOn, "days": d}))
	}
	return out, nil
}

// findRepeatedOverShip: operators by refused over-shipments in the last 30 days.
func (s *Service) findRepeatedOverShip(ctx context.Context, today string) ([]candidateFinding, error) {
	t, _ := time.Parse(time.DateOnly, today)
	since := t.AddDate(0, 0, -30).Format(time.DateOnly)
	rows, err := s.db.Query(ctx, `SELECT o.id, o.code, o.name, o.region_code, COUNT(*), MAX(f.id) FROM findings f JOIN operators o ON o.id = f.operator_id
		WHERE f.kind = $2 AND f.on_date >= $1 GROUP BY o.id, o.code, o.name, o.region_code`, since, trace.FindingOverShipment)
	return platform.Collect(rows, err, func(r *sql.Rows) (candidateFinding, error) {
		var o operatorRow
		var n, last int64
		if err := r.Scan(&o.id, &o.code, &o.name, &o.region, &n, &last); err != nil {
			return candidateFinding{}, err
		}
		return o.finding(fmt.Sprintf("%d:%d", o.id, last), float64(n), map[string]any{"count": n, "since": since}), nil
	})
}

// findRectifyOverdue: inspections ordering rectification with no passing
// inspection since, and cases whose rectification is not followed up, by
// days past the deadline.
func (s *Service) findRectifyOverdue(ctx context.Context, today string) ([]candidateFinding, error) {
	rows, err := s.db.Query(ctx, `SELECT 'inspection', i.id, i.number, o.id, o.code, o.name, o.region_code, i.rectify_due
		FROM inspections i JOIN operators o ON o.id = i.operator_id
		WHERE i.result = 'rectify' AND i.rectify_due < $1
		AND NOT EXISTS (SELECT 1 FROM inspections j WHERE j.operator_id = i.operator_id AND j.id > i.id AND j.result = 'pass')
		UNION ALL
		SELECT 'case', c.id, c.number, o.id, o.code, o.name, o.region_code, c.due_on
		FROM cases c JOIN case_operators co ON co.case_id = c.id JOIN operators o ON o.id = co.operator_id
		WHERE c.status = 'decided' AND c.decision IN ('rectify', 'rectify_and_penalty') AND c.due_on < $1`, today)
	return platform.Collect(rows, err, func(r *sql.Rows) (candidateFinding, error) {
		var kind, number, due string
		var id int64
		var o operatorRow
		if err := r.Scan(&kind, &id, &number, &o.id, &o.code, &o.name, &o.region, &due); err != nil {
			return candidateFinding{}, err
		}
		d := daysBetween(due, today)
		c := o.finding(fmt.Sprintf("%s:%d:%d", kind, id, o.id), d, map[string]any{"record": kind, "number": number, "due": due, "days": d})
		c.Code = number
		return c, nil
	})
}

// findReviewOverdue: registrations waiting past their review deadline, by
// working days overdue (the escalation rule reads the same list).
func (s *Service) findReviewOverdue(ctx context.Context, today string) ([]candidateFinding, error) {
	rows, err := s.db.Query(ctx, `SELECT o.id, o.name, o.county_code, o.review_due FROM operators o
		WHERE o.status = 'pending' AND o.review_due IS NOT NULL AND o.review_due < $1`, today)
	type pending struct {
		id                int64
		name, county, due string
	}
	list, err := platform.Collect(rows, err, func(r *sql.Rows) (pending, error) {
		var p pending
		return p, r.Scan(&p.id, &p.name, &p.county, &p.due)
	})
	if err != nil {
		return nil, err
	}
	t, _ := time.Parse(time.DateOnly, today)
	var out []candidateFinding
	for _, p := range list {
		d, _ := time.Parse(time.DateOnly, p.due)
		n, err := s.cal.WorkdaysBetween(ctx, d, t)
		if err != nil {
			return nil, err
		}
		out = append(out, candidateFinding{RuleFinding: trace.RuleFinding{Key: fmt.Sprintf("%d:%s", p.id, p.due), Code: fmt.Sprint(p.id),
			OperatorID: p.id, Region: p.county, Detail: map[string]any{"operator": p.name, "review_due": p.due, "workdays": n}}, value: float64(n)})
	}
	return out, nil
}

// findScans: codes viewed since yesterday, measured by the trace core's
// scan statistics (ScanSuspects), for one of the two clone-detection rules.
func (s *Service) findScans(kind string) func(context.Context, string) ([]candidateFinding, error) {
	return func(ctx context.Context, today string) ([]candidateFinding, error) {
		t, _ := time.Parse(time.DateOnly, today)
		list, err := s.tr.ScanSuspects(ctx, kind, t.AddDate(0, 0, -1).Format(time.DateOnly))
		if err != nil {
			return nil, err
		}
		out := make([]candidateFinding, len(list))
		for i, f := range list {
			out[i] = candidateFinding{RuleFinding: f.RuleFinding, value: f.Value}
		}
		return out, nil
	}
}
