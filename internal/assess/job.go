package assess

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// The monthly job.
const (
	JobName = "assessment"
	// Every is how often serve tries the job: it runs once per month, for
	// the month just ended, on the first try that wins the lease after the
	// month's end (and again on later tries until a run has finished
	// without error).
	Every = time.Hour
)

// JobReport says what a run did.
type JobReport struct {
	Ran         bool          `json:"ran" doc:"false when another instance holds the lease or the month is done"`
	Period      string        `json:"period"`
	Assessments int           `json:"assessments"`
	Duration    time.Duration `json:"duration"`
}

// RunMonthly assesses the month before now, once: the lease makes one
// replica of many run it, and a finished run of the month (job_runs
// "assessment:YYYY-MM") makes later tries skip it. Every level is
// assessed inside the nation and inside each province and prefecture
// that has figures; computing a month again replaces its results.
func (s *Service) RunMonthly(ctx context.Context, holder string, every time.Duration) (JobReport, error) {
	if every <= 0 {
		every = Every
	}
	now := s.clock.Now()
	rep := JobReport{Period: PreviousMonth(now)}
	name := JobName + ":" + rep.Period
	var done int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM job_runs WHERE name = $1 AND finished IS NOT NULL AND error = ''`, name).Scan(&done); err != nil || done > 0 {
		return rep, err
	}
	won, err := s.db.AcquireLease(ctx, JobName, holder, now, every-every/10, platform.LeasePeriodic)
	if err != nil || !won {
		return rep, err
	}
	rep.Ran = true
	var runID int64
	if err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO job_runs (name, holder, started) VALUES ($1, $2, $3) RETURNING id`, name, holder, now).Scan(&runID)
	}); err != nil {
		return rep, err
	}
	rep.Assessments, err = s.AssessAll(ctx, rep.Period, OriginJob)
	rep.Duration = s.clock.Now().Sub(now)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if ferr := s.db.InTx(ctx, func(tx *platform.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE job_runs SET finished = $1, findings = $2, error = $3 WHERE id = $4`, s.clock.Now(), rep.Assessments, msg, runID)
		return err
	}); ferr != nil && err == nil {
		err = ferr
	}
	return rep, err
}

// AssessAll computes (again) every assessment of a month as the platform:
// each level inside the nation and inside each province and prefecture
// that has figures. It returns how many it stored.
func (s *Service) AssessAll(ctx context.Context, period string, origin Origin) (int, error) {
	if _, err := s.insight.Update(ctx); err != nil {
		return 0, err
	}
	roots, err := s.roots(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	sys := auth.System()
	for _, root := range roots {
		for _, l := range Levels {
			if rl, _ := l.depth(); rootLevel(root) >= rl {
				continue
			}
			p, err := s.prepare(ctx, sys, Request{Level: string(l), Period: period, Region: root}, origin, false)
			if err != nil {
				return n, err
			}
			if err := s.db.InTx(ctx, func(tx *platform.Tx) error { _, err := s.storeTx(ctx, tx, p); return err }); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// roots are the nation and the provinces and prefectures with figures.
func (s *Service) roots(ctx context.Context) ([]string, error) {
	out := []string{"000000"}
	for _, n := range []string{"2", "4"} {
		rows, err := s.db.Query(ctx, `SELECT DISTINCT SUBSTR(region_code, 1, `+n+`) FROM stat_monthly ORDER BY 1`)
		codes, err := platform.Collect(rows, err, func(r *sql.Rows) (string, error) {
			var c string
			return c, r.Scan(&c)
		})
		if err != nil {
			return nil, err
		}
		for _, c := range codes {
			code := (c + "000000")[:6]
			if _, err := s.regions.Get(ctx, code); err != nil {
				if platform.IsNotFound(err) || errors.Is(err, sql.ErrNoRows) {
					continue
				}
				return nil, err
			}
			out = append(out, code)
		}
	}
	return out, nil
}
