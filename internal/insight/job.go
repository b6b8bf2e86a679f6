package insight

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// Every is how often Serve runs the incremental job.
const Every = time.Minute

// wholeFigureAfter: when more days than this are touched, the figure is
// recomputed in one grouped pass instead of day by day.
const wholeFigureAfter = 31

// scanOverlap: days of rows of event-less tables (trace_scan_areas)
// changed this long before the last run are recomputed again. A fold's rows
// carry the time its transaction began, which can precede the last run
// although it committed after it; generous, since recomputing a day twice
// changes nothing and costs a few rows.
const scanOverlap = 5 * time.Minute

// watermarkName is the job's row in stat_watermark.
const watermarkName = "stat_daily"

// Report says what a run did.
type Report struct {
	FromAudit int64         `json:"from_audit"`
	ToAudit   int64         `json:"to_audit"`
	Days      int           `json:"days"`    // (figure, day) pairs recomputed
	Figures   int           `json:"figures"` // figures recomputed whole
	Rebuilt   bool          `json:"rebuilt"`
	Duration  time.Duration `json:"duration"`
}

// Update folds the audit rows written since the last run into stat_daily:
// the (figure, day) rows they touched are recomputed from the raw tables,
// and the watermark moves to the newest audit row, all in one transaction.
// The first run (no watermark yet) is a rebuild.
func (s *Service) Update(ctx context.Context) (Report, error) {
	return s.run(ctx, false)
}

// Rebuild recomputes every figure from the raw records and sets the
// watermark, in one transaction.
func (s *Service) Rebuild(ctx context.Context) (Report, error) {
	return s.run(ctx, true)
}

func (s *Service) run(ctx context.Context, rebuild bool) (Report, error) {
	start := time.Now()
	top, err := s.settledAuditID(ctx)
	if err != nil {
		return Report{}, err
	}
	var rep Report
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		rep = Report{ToAudit: top}
		var ranAt time.Time
		err := tx.QueryRow(ctx, `SELECT audit_id, ran_at FROM stat_watermark WHERE name = $1 FOR UPDATE`, watermarkName).Scan(&rep.FromAudit, &ranAt)
		if errors.Is(err, sql.ErrNoRows) {
			rebuild = true
		} else if err != nil {
			return err
		}
		if rep.FromAudit > top {
			top, rep.ToAudit = rep.FromAudit, rep.FromAudit // another run went further meanwhile
		}
		rep.Rebuilt = rebuild
		for _, f := range Figures {
			if rebuild || f.Volatile {
				rep.Figures++
				if err := s.recompute(ctx, tx, f, nil); err != nil {
					return err
				}
				continue
			}
			days, err := s.touched(ctx, tx, f, rep.FromAudit, top, ranAt.Add(-scanOverlap))
			if err != nil {
				return err
			}
			if len(days) > wholeFigureAfter {
				rep.Figures++
				days = nil
			} else if len(days) == 0 {
				continue
			} else {
				rep.Days += len(days)
			}
			if err := s.recompute(ctx, tx, f, days); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO stat_watermark (name, audit_id, ran_at, rebuilt) VALUES ($1, $2, $3, $4)
			ON CONFLICT (name) DO UPDATE SET audit_id = excluded.audit_id, ran_at = excluded.ran_at, rebuilt = excluded.rebuilt`,
			watermarkName, top, tx.Now(), rebuild)
		return err
	})
	rep.Duration = time.Since(start)
	return rep, err
}

// settledAuditID is the newest audit id below which every row has
// committed. On PostgreSQL ids are taken before commit, so a brief SHARE
// lock waits for the writers that hold one; SQLite has one writer and
// needs no such wait.
func (s *Service) settledAuditID(ctx context.Context) (int64, error) {
	var top int64
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		if tx.Dialect() == platform.Postgres {
			if _, err := tx.Exec(ctx, `LOCK TABLE audit_log IN SHARE MODE`); err != nil {
				return err
			}
		}
		return tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM audit_log`).Scan(&top)
	})
	return top, err
}

// touched lists the days of f that audit rows (from, to] or (for
// event-less sources) rows changed since `since` reach.
func (s *Service) touched(ctx context.Context, tx *platform.Tx, f Figure, from, to int64, since time.Time) ([]string, error) {
	set := map[string]bool{}
	collect := func(q string, args ...any) error {
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("insight: touched %s: %w", f.Name, err)
		}
		defer rows.Close()
		for rows.Next() {
			var d sql.NullString
			if err := rows.Scan(&d); err != nil {
				return err
			}
			if d.Valid && d.String != "" {
				set[d.String] = true
			}
		}
		return rows.Err()
	}
	if to > from {
		var types []string
		for _, t := range f.Touch {
			q := `SELECT DISTINCT ` + s.dayExpr(f) + ` FROM audit_log a JOIN ` + strings.ReplaceAll(t.Join, "{rid}", "CAST(a.resource_id AS BIGINT)") +
				` WHERE a.id > $1 AND a.id <= $2 AND a.resource_type = '` + t.Resource + `'`
			if err := collect(q, from, to); err != nil {
				return nil, err
			}
			types = append(types, "'"+t.Resource+"'")
		}
		if len(types) > 0 && f.Instant {
			// records made by a write whose resource names no record (an import):
			// they were made on the audit row's own day
			q := `SELECT DISTINCT ` + s.dayOf("a.at") + ` FROM audit_log a WHERE a.id > $1 AND a.id <= $2 AND a.resource_type IN (` + strings.Join(types, ", ") + `)`
			if err := collect(q, from, to); err != nil {
				return nil, err
			}
		}
	}
	if f.Since != "" {
		if err := collect(f.Since, since); err != nil {
			return nil, err
		}
	}
	days := make([]string, 0, len(set))
	for d := range set {
		days = append(days, d)
	}
	sort.Strings(days)
	return days, nil
}

// recompute replaces f's rows for days (nil: all of them) with what the raw
// tables say now.
func (s *Service) recompute(ctx context.Context, tx *platform.Tx, f Figure, days []string) error {
	insert := `INSERT INTO stat_daily (figure, region_code, product_code, day, key, sub, value) SELECT '` + f.Name + `', q.* FROM (` + s.selectSQL(f) + `) q`
	if days == nil {
		if _, err := tx.Exec(ctx, `DELETE FROM stat_daily WHERE figure = $1`, f.Name); err != nil {
			return err
		}
		lo, hi := s.bounds(f, "1900-01-01", "2999-12-31")
		if _, err := tx.Exec(ctx, insert, lo, hi); err != nil {
			return fmt.Errorf("insight: rebuild %s: %w", f.Name, err)
		}
		return rollUp(ctx, tx, f, nil)
	}
	months := map[string]bool{}
	for _, d := range days {
		if _, err := tx.Exec(ctx, `DELETE FROM stat_daily WHERE figure = $1 AND day = $2`, f.Name, d); err != nil {
			return err
		}
		lo, hi := s.bounds(f, d, d)
		if _, err := tx.Exec(ctx, insert, lo, hi); err != nil {
			return fmt.Errorf("insight: recompute %s %s: %w", f.Name, d, err)
		}
		months[d[:7]] = true
	}
	return rollUp(ctx, tx, f, months)
}

// rollUp sums f's stat_daily rows of the months given (nil: all of them)
// into stat_monthly again, in the recomputing transaction: by product and
// sub as the days hold them, and over all products and subs (product_code
// and sub AllRows).
func rollUp(ctx context.Context, tx *platform.Tx, f Figure, months map[string]bool) error {
	const all = `INSERT INTO stat_monthly (figure, region_code, month, product_code, key, sub, value)
		SELECT figure, region_code, month, '` + AllRows + `', key, '` + AllRows + `', SUM(value) FROM stat_monthly
		WHERE figure = $1 AND product_code <> '` + AllRows + `'`
	if months == nil {
		if _, err := tx.Exec(ctx, `DELETE FROM stat_monthly WHERE figure = $1`, f.Name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO stat_monthly (figure, region_code, month, product_code, key, sub, value)
			SELECT figure, region_code, SUBSTR(day, 1, 7), product_code, key, sub, SUM(value) FROM stat_daily WHERE figure = $1
			GROUP BY figure, region_code, SUBSTR(day, 1, 7), product_code, key, sub`, f.Name); err != nil {
			return fmt.Errorf("insight: roll up %s: %w", f.Name, err)
		}
		if _, err := tx.Exec(ctx, all+` GROUP BY figure, region_code, month, key`, f.Name); err != nil {
			return fmt.Errorf("insight: roll up %s: %w", f.Name, err)
		}
		return nil
	}
	for m := range months {
		if _, err := tx.Exec(ctx, `DELETE FROM stat_monthly WHERE figure = $1 AND month = $2`, f.Name, m); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO stat_monthly (figure, region_code, month, product_code, key, sub, value)
			SELECT figure, region_code, CAST($2 AS TEXT), product_code, key, sub, SUM(value) FROM stat_daily WHERE figure = $1 AND day >= $3 AND day <= $4
			GROUP BY figure, region_code, product_code, key, sub`, f.Name, m, m+"-01", m+"-31"); err != nil {
			return fmt.Errorf("insight: roll up %s %s: %w", f.Name, m, err)
		}
		if _, err := tx.Exec(ctx, all+` AND month = $2 GROUP BY figure, region_code, month, key`, f.Name, m); err != nil {
			return fmt.Errorf("insight: roll up %s %s: %w", f.Name, m, err)
		}
	}
	return nil
}

// selectSQL is f's grouped SELECT with its tokens replaced.
func (s *Service) selectSQL(f Figure) string {
	today := platform.Today(s.clock.Now())
	return strings.NewReplacer("{day}", s.dayExpr(f), "{when}", s.whenExpr(f), "{today}", "'"+today+"'").Replace(f.Select)
}

func (s *Service) dayExpr(f Figure) string {
	if f.Instant {
		return s.dayOf(f.DayCol)
	}
	return f.DayCol
}

// dayOf is the China civil date of a TIMESTAMP column. This is the one
// engine-specific expression of the package: SQLite stores instants as
// UTC text, PostgreSQL converts with its own zone data.
func (s *Service) dayOf(col string) string {
	if s.db.Dialect() == platform.Postgres {
		return `to_char(` + col + ` AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')`
	}
	return `date(` + col + `, '+8 hours')`
}

func (s *Service) whenExpr(f Figure) string {
	if f.Instant {
		return f.DayCol + ` >= $1 AND ` + f.DayCol + ` < $2`
	}
	return f.DayCol + ` >= $1 AND ` + f.DayCol + ` <= $2`
}

// bounds are the {when} arguments for the civil days [from, to].
func (s *Service) bounds(f Figure, from, to string) (any, any) {
	if !f.Instant {
		return from, to
	}
	lo, _ := time.ParseInLocation(time.DateOnly, from, platform.ChinaTZ)
	hi, _ := time.ParseInLocation(time.DateOnly, to, platform.ChinaTZ)
	return lo.UTC(), hi.AddDate(0, 0, 1).UTC()
}

// UpdateNow runs the incremental job on demand for an actor who may read
// figures somewhere.
func (s *Service) UpdateNow(ctx context.Context, actor *auth.Actor) (Report, error) {
	if err := auth.Authorize(actor, auth.ActStatsRead, auth.Resource{}); err != nil {
		return Report{}, err
	}
	return s.Update(ctx)
}
