package trace_test

import (
	"context"
	"fmt"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/trace"
)

// TestFlushScansMany: counts of more distinct (code, day, client, region)
// keys than one statement writes are all flushed, and a second flush adds
// to the rows the first wrote.
func TestFlushScansMany(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		const codes = 250 // × 2 clients = 500 keys: four statements
		count := func(times int) {
			for i := range codes {
				code := fmt.Sprintf("9%019d", i)
				for range times {
					a.Trace.CountScan(code, trace.ScanView{Client: trace.ClientWeChat})
					a.Trace.CountScan(code, trace.ScanView{Client: trace.ClientMobile, Region: "370000"})
				}
			}
			if err := a.Trace.FlushScans(ctx); err != nil {
				t.Fatal(err)
			}
		}
		check := func(wantSum int64) {
			t.Helper()
			var rows, sum int64
			if err := a.DB.QueryRow(ctx, `SELECT COUNT(*), CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM trace_scans WHERE code LIKE '9%'`).Scan(&rows, &sum); err != nil {
				t.Fatal(err)
			}
			if rows != 2*codes || sum != wantSum {
				t.Fatalf("trace_scans: %d rows, %d views; want %d rows, %d views", rows, sum, 2*codes, wantSum)
			}
		}
		count(3)
		check(2 * codes * 3)
		count(2)
		check(2 * codes * 5)
	})
}
