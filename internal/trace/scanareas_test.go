package trace_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/demo"
	"agtrace/internal/trace"
)

// TestScanAreas: after folds of views of codes in several counties and
// products, on several days and from several clients (more codes than one
// lookup statement reads, the last list padded, over several chunks, plus a
// string no code has),
// trace_scan_areas is exactly trace_scans summed by day, county, product
// and client, summed here in Go from the two raw tables.
func TestScanAreas(t *testing.T) {
	defer trace.SetScanFoldChunk(50)()
	defer trace.SetScanAreaLookup(7)()
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		if _, err := demo.Load(ctx, a, "demo-pass-2026"); err != nil {
			t.Fatal(err)
		}
		rows, err := a.DB.Query(ctx, `SELECT code, region_code, product_code FROM trace_codes ORDER BY code`)
		if err != nil {
			t.Fatal(err)
		}
		type where struct{ region, product string }
		codes := map[string]where{}
		var order []string
		for rows.Next() {
			var c string
			var w where
			if err := rows.Scan(&c, &w.region, &w.product); err != nil {
				t.Fatal(err)
			}
			codes[c] = w
			order = append(order, c)
		}
		rows.Close()
		counties, products := map[string]bool{}, map[string]bool{}
		for _, w := range codes {
			counties[w.region[:6]], products[w.product] = true, true
		}
		if len(order)%7 == 0 || len(counties) < 2 || len(products) < 2 {
			t.Fatalf("the demo should hold codes of several counties and products, not a multiple of 7 of several counties and products: %d codes, %d counties, %d products", len(order), len(counties), len(products))
		}

		want := func() map[string]int64 { // trace_scans by day, county, product, client
			t.Helper()
			rows, err := a.DB.Query(ctx, `SELECT code, day, client, CAST(count AS BIGINT) FROM trace_scans`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			out := map[string]int64{}
			for rows.Next() {
				var code, day, client string
				var n int64
				if err := rows.Scan(&code, &day, &client, &n); err != nil {
					t.Fatal(err)
				}
				if w, ok := codes[code]; ok {
					out[day+"|"+w.region[:6]+"|"+w.product+"|"+client] += n
				}
			}
			return out
		}
		got := func() map[string]int64 {
			t.Helper()
			rows, err := a.DB.Query(ctx, `SELECT day, region_code, product_code, client, CAST(count AS BIGINT) FROM trace_scan_areas`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			out := map[string]int64{}
			for rows.Next() {
				var d, r, p, c string
				var n int64
				if err := rows.Scan(&d, &r, &p, &c, &n); err != nil {
					t.Fatal(err)
				}
				out[d+"|"+r+"|"+p+"|"+c] = n
			}
			return out
		}
		check := func(when string, views int64) {
			t.Helper()
			w, g := want(), got()
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("%s: trace_scan_areas %v\nsummed from trace_scans %v", when, g, w)
			}
			var sum int64
			for _, n := range g {
				sum += n
			}
			if sum != views {
				t.Fatalf("%s: %d views by area, want %d", when, sum, views)
			}
		}

		clients := []string{trace.ClientWeChat, trace.ClientMobile, trace.ClientAlipay}
		var views int64
		for i, c := range order {
			for j := range i%3 + 1 {
				a.Trace.CountScan(c, trace.ScanView{Client: clients[(i+j)%len(clients)], Region: "370000"})
				views++
			}
		}
		a.Trace.CountScan("99999999999999999999", trace.ScanView{}) // no such code: in trace_scans, in no area
		// a silent instance's views of earlier days, folded by this one
		var entries strings.Builder
		for i, c := range order[:10] {
			fmt.Fprintf(&entries, "%s\t2026-11-%02d\tdesktop\t\t%d\t1\n", c, 20+i%3, i+1)
			views += int64(i + 1)
		}
		if _, err := a.DB.Exec(ctx, `INSERT INTO trace_scan_log (owner, at, entries) VALUES ('gone', $1, $2)`,
			time.Now().UTC().Add(-time.Hour), entries.String()); err != nil {
			t.Fatal(err)
		}
		if err := a.Trace.FlushScans(ctx); err != nil {
			t.Fatal(err)
		}
		check("first fold", views)

		// a second fold adds to the rows the first wrote
		for _, c := range order[:30] {
			a.Trace.CountScan(c, trace.ScanView{Client: trace.ClientWeChat})
			views++
		}
		if err := a.Trace.FlushScans(ctx); err != nil {
			t.Fatal(err)
		}
		check("second fold", views)
	})
}
