package insight_test

import (
	"context"
	"os"
	"sort"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/auth"
	"agtrace/internal/insight"
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
