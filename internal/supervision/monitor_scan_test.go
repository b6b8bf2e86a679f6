package supervision_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/trace"
)

const weChatUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.47 NetType/WIFI"

// TestMonitorScanRules: clone detection. A 4 kg batch (20 units at least) scanned 100 times (5
// per unit) and a code scanned from three major regions in one day are
// findings for the operator's county, and their scan pages warn; a code
// scanned from two provinces of one major region and a large batch with
// the same views are not. Closing the finding lifts the warning, and the
// over-units finding returns only when the views per unit double.
func TestMonitorScanRules(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		ctx := context.Background()
		hot, big := w.batch(t, 4), w.batch(t, 1000) // 4 kg counts as 20 units (MinScanUnits)
		far, near := w.batch(t, 1000), w.batch(t, 1000)
		anon := apptest.NewClient(t, w.srv)
		view := func(code, region string, n int) {
			for range n {
				anon.DoHeader("GET", "/api/v1/public/trace/"+code+"?r="+region, nil, map[string]string{"User-Agent": weChatUA}).Expect(t, 200)
			}
		}
		view(hot, "", 100)
		view(big, "", 100)
		view(far, "370000", 2) // 山东 (East)
		view(far, "44", 1)     // 广东 (Central-South)
		view(far, "510104", 1) // 四川 (South-west), a district code reduced to its province
		view(near, "37", 3)    // 山东 and 江苏: both East
		view(near, "320000", 3)
		view(near, "440000", 1)
		view(near, "nonsense", 5) // ignored: counted without a region
		if err := a.Trace.FlushScans(ctx); err != nil {
			t.Fatal(err)
		}
		var rows, tool int
		if err := a.DB.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN client <> 'wechat' THEN 1 ELSE 0 END), 0) FROM trace_scans`).Scan(&rows, &tool); err != nil || rows == 0 || tool != 0 {
			t.Fatalf("trace_scans: %d rows, %d not wechat (%v)", rows, tool, err)
		}
		var regions int
		if err := a.DB.QueryRow(ctx, `SELECT COUNT(DISTINCT region) FROM trace_scans WHERE code = $1`, near).Scan(&regions); err != nil || regions != 4 {
			t.Fatalf("near: %d distinct regions stored (want 3 provinces + none): %v", regions, err)
		}

		// the operator and officials in reach see the statistics; nobody else
		st := w.farmC.Do("GET", "/api/v1/batches/"+far+"/scans", nil).Expect(t, 200)
		if st.Get("total") != float64(4) || st.Get("shared") != float64(4) || st.Str("by_client.0.key") != trace.ClientWeChat ||
			st.Str("by_region.0.key") != "370000" || st.Get("by_region.0.count") != float64(2) || st.Get("by_day.0.count") != float64(4) {
			t.Errorf("scan statistics: %s", st.Body)
		}
		w.supervisor.Do("GET", "/api/v1/batches/"+far+"/scans", nil).Expect(t, 200)
		w.farInsp.Do("GET", "/api/v1/batches/"+far+"/scans", nil).Expect(t, 404)
		if page := w.farmC.Do("GET", "/batches/"+far, nil).Expect(t, 200); !strings.Contains(string(page.Body), "山东省 2") {
			t.Errorf("the batch page lacks the scan statistics")
		}

		raised := w.evaluate(t, daysOn(0))
		if raised[trace.FindingScanOverUnits] != 1 || raised[trace.FindingScanFarApart] != 1 {
			t.Fatalf("raised %v, want one of each scan rule", raised)
		}
		over := findings(t, w.supervisor, trace.FindingScanOverUnits)
		apart := findings(t, w.supervisor, trace.FindingScanFarApart)
		if len(over) != 1 || over[0].Code != hot || over[0].RegionCode != "370686" || len(apart) != 1 || apart[0].Code != far {
			t.Fatalf("over %+v, apart %+v", over, apart)
		}
		if r, _ := apart[0].Detail["regions"].(string); !strings.Contains(r, "山东省 2") || !strings.Contains(r, "四川省 1") {
			t.Errorf("far-apart detail names the provinces and counts: %+v", apart[0].Detail)
		}
		if n := len(findings(t, w.farInsp, trace.FindingScanOverUnits)); n != 0 {
			t.Errorf("another county's inspector sees %d scan findings", n)
		}

		warning := func(code string) string {
			return anon.Do("GET", "/api/v1/public/trace/"+code, nil).Expect(t, 200).Str("warning")
		}
		for code, want := range map[string]string{hot: trace.WarningSuspectedCopy, far: trace.WarningSuspectedCopy, big: "", near: ""} {
			if got := warning(code); got != want {
				t.Errorf("warning on %s = %q, want %q", code, got, want)
			}
		}
		if page := anon.Do("GET", "/q/"+hot, nil).Expect(t, 200); !strings.Contains(string(page.Body), `id="copy-warning"`) {
			t.Error("the scan page of the suspected code shows no warning")
		}

		// handled as harmless: the warning goes, and the same episode is not raised again
		w.supervisor.Do("POST", fmt.Sprintf("/api/v1/findings/%d/status", over[0].ID), map[string]any{"status": "closed", "note": "超市展示箱，多人扫码，正常"}).Expect(t, 200)
		if got := warning(hot); got != "" {
			t.Errorf("warning after the finding was closed: %q", got)
		}
		if raised := w.evaluate(t, daysOn(0)); raised[trace.FindingScanOverUnits] != 0 {
			t.Errorf("raised again without new scans: %v", raised)
		}
		view(hot, "", 100) // 10 per unit: the threshold doubled
		if err := a.Trace.FlushScans(ctx); err != nil {
			t.Fatal(err)
		}
		if raised := w.evaluate(t, daysOn(0)); raised[trace.FindingScanOverUnits] != 1 {
			t.Errorf("doubling the views per unit raised %v", raised)
		}
		if got := warning(hot); got != trace.WarningSuspectedCopy {
			t.Errorf("warning after the second episode = %q", got)
		}
		// a county that switches the rule off raises nothing for its operators
		setting(w.supervisor, "370686", trace.FindingScanFarApart, 3, false).Expect(t, 200)
		view(near, "650000", 1) // 新疆 (North-west): now three major regions
		if err := a.Trace.FlushScans(ctx); err != nil {
			t.Fatal(err)
		}
		if raised := w.evaluate(t, daysOn(0)); raised[trace.FindingScanFarApart] != 0 {
			t.Errorf("a disabled rule raised %v", raised)
		}
	})
}
