package insight_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/insight"
	"agtrace/internal/platform"
)

// TestDashboardLatency measures what the dashboard page asks for a
// province over a year — the page's overview (every figure by child
// region), a chart per figure (by month) and the map — on a bench database:
// AGTRACE_INSIGHT_DATA=<data dir of agtrace bench> (skipped without it).
// docs/benchmarks.md, "Dashboards", records the figures.
func TestDashboardLatency(t *testing.T) {
	dir := os.Getenv("AGTRACE_INSIGHT_DATA")
	if dir == "" {
		t.Skip("AGTRACE_INSIGHT_DATA not set")
	}
	ctx := context.Background()
	a, err := app.Open(ctx, app.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	start := time.Now()
	rep, err := a.Insight.Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rebuild: %v (%+v)", time.Since(start), rep)
	var province string
	var rows int64
	if err := a.DB.QueryRow(ctx, `SELECT SUBSTR(region_code, 1, 2), COUNT(*) FROM stat_daily GROUP BY 1 ORDER BY 2 DESC LIMIT 1`).Scan(&province, &rows); err != nil {
		t.Fatal(err)
	}
	var total int64
	_ = a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM stat_daily`).Scan(&total)
	province += "0000"
	t.Logf("province %s: %d of %d aggregate rows", province, rows, total)
	to := time.Now()
	q := insight.Query{Region: province, From: to.AddDate(-1, 0, 1).Format(time.DateOnly), To: to.Format(time.DateOnly)}
	sys := auth.System()
	var took []time.Duration
	for range 50 {
		t0 := time.Now()
		if _, err := a.Insight.Overview(ctx, sys, q); err != nil {
			t.Fatal(err)
		}
		for _, f := range insight.Figures {
			mq := q
			mq.By = "month"
			if _, err := a.Insight.Stats(ctx, sys, f.Name, mq); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.Insight.Map(ctx, sys, "batches", q); err != nil {
			t.Fatal(err)
		}
		took = append(took, time.Since(t0))
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("province dashboard (overview + %d charts + map), 50 runs: p50 %v, p95 %v, max %v", len(insight.Figures), took[len(took)/2], took[len(took)*95/100], took[len(took)-1])
	// an incremental run with nothing new
	t0 := time.Now()
	if _, err := a.Insight.Update(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("incremental run with nothing new: %v", time.Since(t0))
}

// TestDashboardLatencyYear measures the same province dashboard over a
// year of dense aggregates: every county of Shandong recording two
// products every day of the year, three keys each, for every figure — the
// rows a busy province's figures reach after a year, whatever the number
// of codes behind them (the request reads aggregates, never raw rows).
// AGTRACE_INSIGHT_YEAR=1 (skipped without it); both engines.
func TestDashboardLatencyYear(t *testing.T) {
	if os.Getenv("AGTRACE_INSIGHT_YEAR") == "" {
		t.Skip("AGTRACE_INSIGHT_YEAR not set")
	}
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		var counties []string
		prefs, err := a.Regions.Children(ctx, "370000")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range prefs {
			cs, err := a.Regions.Children(ctx, p.Code)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				counties = append(counties, c.Code)
			}
		}
		to := time.Now().In(platform.ChinaTZ)
		from := to.AddDate(-1, 0, 1)
		t0 := time.Now()
		var n int64
		for _, f := range insight.Figures {
			keys := slices.Concat(f.Keys, []string{"k1", "k2", "k3"})[:3]
			err := a.DB.InTx(ctx, func(tx *platform.Tx) error {
				for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
					day := d.Format(time.DateOnly)
					var rows [][]any
					for _, c := range counties {
						for pi, p := range []string{"apple", "live_pig"} {
							for ki, k := range keys {
								rows = append(rows, []any{f.Name, c, day, p, k, 1 + (pi+ki+d.Day())%5})
							}
						}
					}
					for chunk := range slices.Chunk(rows, 500) {
						if err := insertDaily(ctx, tx, chunk); err != nil {
							return err
						}
						n += int64(len(chunk))
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		// the monthly roll-up the job keeps with the days (job.go rollUp)
		if _, err := a.DB.Exec(ctx, `INSERT INTO stat_monthly (figure, region_code, month, product_code, key, sub, value)
			SELECT figure, region_code, SUBSTR(day, 1, 7), product_code, key, sub, SUM(value) FROM stat_daily
			GROUP BY figure, region_code, SUBSTR(day, 1, 7), product_code, key, sub`); err != nil {
			t.Fatal(err)
		}
		if _, err := a.DB.Exec(ctx, `INSERT INTO stat_monthly (figure, region_code, month, product_code, key, sub, value)
			SELECT figure, region_code, month, '*', key, '*', SUM(value) FROM stat_monthly GROUP BY figure, region_code, month, key`); err != nil {
			t.Fatal(err)
		}
		if a.DB.Dialect() == platform.Postgres {
			if _, err := a.DB.Exec(ctx, `ANALYZE stat_daily, stat_monthly`); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%d aggregate rows (%d counties × %d days × 2 products × 3 keys × %d figures) written in %v", n, len(counties),
			int(to.Sub(from).Hours()/24)+1, len(insight.Figures), time.Since(t0))
		sys := auth.System()
		// the page's default range (the last twelve whole months), then a
		// year from tomorrow's date a year ago (16 days of daily rows)
		for _, q := range []insight.Query{{Region: "370000", To: to.Format(time.DateOnly)},
			{Region: "370000", From: from.Format(time.DateOnly), To: to.Format(time.DateOnly)}} {
			dashboardYear(t, a, sys, q)
		}
	})
}

// dashboardYear times what the province dashboard asks for, 20 times:
// the page (the overview of every figure), each chart, the county map.
func dashboardYear(t *testing.T, a *app.App, sys *auth.Actor, q insight.Query) {
	ctx := context.Background()
	var page, chart, whole []time.Duration
	for range 20 {
		t0 := time.Now()
		if _, err := a.Insight.Overview(ctx, sys, q); err != nil {
			t.Fatal(err)
		}
		page = append(page, time.Since(t0))
		for _, f := range insight.Figures {
			t1 := time.Now()
			mq := q
			mq.By = "month"
			if _, err := a.Insight.Stats(ctx, sys, f.Name, mq); err != nil {
				t.Fatal(err)
			}
			chart = append(chart, time.Since(t1))
		}
		mq := q
		mq.Level = insight.LevelCounty
		if _, err := a.Insight.Map(ctx, sys, "batches", mq); err != nil {
			t.Fatal(err)
		}
		whole = append(whole, time.Since(t0))
	}
	p := func(d []time.Duration) string {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return fmt.Sprintf("p50 %v, p95 %v", d[len(d)/2].Round(time.Microsecond*100), d[len(d)*95/100].Round(time.Microsecond*100))
	}
	t.Logf("%s, from %q to %s, province over a year of dense rows, 20 runs: the page (overview of %d figures) %s; a chart %s; everything the page loads (page + %d charts + county map) %s",
		a.DB.Dialect(), q.From, q.To, len(insight.Figures), p(page), p(chart), len(insight.Figures), p(whole))
}

// insertDaily writes rows of (figure, region, day, product, key, value)
// into stat_daily in one statement.
func insertDaily(ctx context.Context, tx *platform.Tx, rows [][]any) error {
	vals := make([]string, len(rows))
	args := make([]any, 0, 6*len(rows))
	for i, r := range rows {
		vals[i] = fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, '', $%d)", 6*i+1, 6*i+2, 6*i+3, 6*i+4, 6*i+5, 6*i+6)
		args = append(args, r...)
	}
	_, err := tx.Exec(ctx, `INSERT INTO stat_daily (figure, region_code, day, product_code, key, sub, value) VALUES `+strings.Join(vals, ", "), args...)
	return err
}
