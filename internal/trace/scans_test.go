package trace_test

import (
	"context"
	"fmt"
	"testing"
	"time"

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

// TestScanLogFold: views are logged as one row a second and reach
// trace_scans only when folded, exactly once; until then this instance
// counts them as unfolded (the page adds them). An instance's rows are
// folded by another only once it has been silent for ten minutes, and a
// damaged log row stops the fold without losing anything.
func TestScanLogFold(t *testing.T) {
	// the instance's own rows summed in memory as they are logged, and read
	// back from the log (a sum too large to keep: maxInLog 0)
	for _, mode := range []struct {
		name  string
		limit int
	}{{"sums in memory", 1 << 19}, {"log read back", 0}} {
		t.Run(mode.name, func(t *testing.T) {
			defer trace.SetMaxInLog(mode.limit)()
			testScanLogFold(t)
		})
	}
}

func testScanLogFold(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		stored := func(code string) (sum int64) {
			t.Helper()
			if err := a.DB.QueryRow(ctx, `SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM trace_scans WHERE code = $1`, code).Scan(&sum); err != nil {
				t.Fatal(err)
			}
			return sum
		}
		logRows := func() (n int64) {
			t.Helper()
			if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM trace_scan_log`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		const code = "90000000000000000001"
		for range 5 {
			a.Trace.CountScan(code, trace.ScanView{Client: trace.ClientWeChat, Region: "350000"})
		}
		if err := a.Trace.LogScans(ctx); err != nil {
			t.Fatal(err)
		}
		a.Trace.CountScan(code, trace.ScanView{Client: trace.ClientMobile})
		if err := a.Trace.LogScans(ctx); err != nil {
			t.Fatal(err)
		}
		if got := logRows(); got != 2 {
			t.Fatalf("log rows after two writes: %d, want 2", got)
		}
		if got := stored(code); got != 0 {
			t.Fatalf("trace_scans before the fold: %d views, want 0", got)
		}
		if got := trace.Unfolded(a.Trace, code); got != 6 {
			t.Fatalf("unfolded views: %d, want 6", got)
		}

		// another instance's fresh row stays; a silent one's is folded
		now := time.Now().UTC()
		if _, err := a.DB.Exec(ctx, `INSERT INTO trace_scan_log (owner, at, entries) VALUES ('live', $1, $2), ('gone', $3, $4)`,
			now, code+"\t2026-11-30\tmobile\t\t7\t1\n", now.Add(-11*time.Minute), code+"\t2026-11-30\tdesktop\t\t4\t1\n"); err != nil {
			t.Fatal(err)
		}
		a.Trace.CountScan(code, trace.ScanView{Client: trace.ClientWeChat, Region: "350000"}) // pending at the fold: logged by it
		if err := a.Trace.FoldScans(ctx); err != nil {
			t.Fatal(err)
		}
		if got := stored(code); got != 5+1+1+4 {
			t.Fatalf("trace_scans after the fold: %d views, want 11 (7 of this instance, 4 of the silent one)", got)
		}
		if got := logRows(); got != 1 {
			t.Fatalf("log rows after the fold: %d, want 1 (the live instance's)", got)
		}
		if got := trace.Unfolded(a.Trace, code); got != 0 {
			t.Fatalf("unfolded views after the fold: %d, want 0", got)
		}
		if err := a.Trace.FoldScans(ctx); err != nil { // nothing left of ours: no double count
			t.Fatal(err)
		}
		if got := stored(code); got != 11 {
			t.Fatalf("trace_scans after a second fold: %d, want 11", got)
		}

		// a damaged row: the fold fails whole, the rows and counts stay
		if _, err := a.DB.Exec(ctx, `INSERT INTO trace_scan_log (owner, at, entries) VALUES ('gone', $1, 'not an entry')`, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		a.Trace.CountScan(code, trace.ScanView{Client: trace.ClientWeChat})
		if err := a.Trace.FoldScans(ctx); err == nil {
			t.Fatal("fold over a damaged log row succeeded")
		}
		if got := stored(code); got != 11 {
			t.Fatalf("trace_scans after a failed fold: %d, want 11", got)
		}
		if got := trace.Unfolded(a.Trace, code); got != 1 {
			t.Fatalf("unfolded views after a failed fold: %d, want 1", got)
		}
		if got := logRows(); got != 3 {
			t.Fatalf("log rows after a failed fold: %d, want 3 (live, damaged, ours)", got)
		}
		// the damaged row removed, the next fold counts the kept view once
		if _, err := a.DB.Exec(ctx, `DELETE FROM trace_scan_log WHERE entries = 'not an entry'`); err != nil {
			t.Fatal(err)
		}
		if err := a.Trace.FoldScans(ctx); err != nil {
			t.Fatal(err)
		}
		if got := stored(code); got != 12 {
			t.Fatalf("trace_scans after the failed fold's rerun: %d, want 12", got)
		}

		// a log write that fails keeps its counts for the next, and the
		// fold after it reads the log back (the row may have landed)
		a.Trace.CountScan(code, trace.ScanView{Client: trace.ClientMobile})
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if err := a.Trace.LogScans(cancelled); err == nil {
			t.Fatal("log write with a cancelled context succeeded")
		}
		a.Trace.CountScan(code, trace.ScanView{Client: trace.ClientMobile})
		if err := a.Trace.LogScans(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.Trace.FoldScans(ctx); err != nil {
			t.Fatal(err)
		}
		if got := stored(code); got != 14 {
			t.Fatalf("trace_scans after a failed log write: %d, want 14", got)
		}
		if got := logRows(); got != 1 {
			t.Fatalf("log rows at the end: %d, want 1 (the live instance's)", got)
		}
		if got := trace.Unfolded(a.Trace, code); got != 0 {
			t.Fatalf("unfolded views at the end: %d, want 0", got)
		}
	})
}

// TestScanFoldChunks: a fold larger than a chunk is applied chunk by chunk,
// every view once; a chunk row a crashed fold left behind is applied by the
// next fold; afterwards the log is empty and nothing counts as unfolded.
func TestScanFoldChunks(t *testing.T) {
	defer trace.SetScanFoldChunk(3)()
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		const codes = 10
		for i := range codes {
			code := fmt.Sprintf("8%019d", i)
			for range i + 1 {
				a.Trace.CountScan(code, trace.ScanView{Client: trace.ClientWeChat})
			}
		}
		if err := a.Trace.LogScans(ctx); err != nil {
			t.Fatal(err)
		}
		left := fmt.Sprintf("8%019d", 0)
		if _, err := a.DB.Exec(ctx, `INSERT INTO trace_scan_log (owner, at, entries) VALUES ('fold', $1, $2)`,
			time.Now().UTC(), left+"\t2026-11-30\tmobile\t\t5\t1\n"); err != nil {
			t.Fatal(err)
		}
		if err := a.Trace.FlushScans(ctx); err != nil {
			t.Fatal(err)
		}
		var rows, sum int64
		if err := a.DB.QueryRow(ctx, `SELECT COUNT(*), CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM trace_scans WHERE code LIKE '8%'`).Scan(&rows, &sum); err != nil {
			t.Fatal(err)
		}
		if want := int64(codes*(codes+1)/2 + 5); rows != codes+1 || sum != want {
			t.Fatalf("trace_scans: %d rows, %d views; want %d rows, %d views", rows, sum, codes+1, want)
		}
		var logRows int64
		if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM trace_scan_log`).Scan(&logRows); err != nil {
			t.Fatal(err)
		}
		if logRows != 0 {
			t.Fatalf("%d scan log rows left after the fold", logRows)
		}
		for i := range codes {
			if n := trace.Unfolded(a.Trace, fmt.Sprintf("8%019d", i)); n != 0 {
				t.Fatalf("code %d: %d views still unfolded", i, n)
			}
		}
	})
}
