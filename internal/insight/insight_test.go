package insight_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/demo"
	"agtrace/internal/httpx"
	"agtrace/internal/insight"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// snapshot is stat_daily and stat_monthly as a map, for comparing runs;
// it checks that the monthly roll-up is the daily rows summed by month.
func snapshot(t *testing.T, a *app.App) map[string]int64 {
	t.Helper()
	read := func(q string) map[string]int64 {
		rows, err := a.DB.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int64{}
		for rows.Next() {
			var f, r, d, p, k, s string
			var v int64
			if err := rows.Scan(&f, &r, &d, &p, &k, &s, &v); err != nil {
				t.Fatal(err)
			}
			out[f+"|"+r+"|"+d+"|"+p+"|"+k+"|"+s] = v
		}
		return out
	}
	daily := read(`SELECT figure, region_code, day, product_code, key, sub, value FROM stat_daily`)
	monthly := read(`SELECT figure, region_code, month, product_code, key, sub, value FROM stat_monthly`)
	byMonth := map[string]int64{}
	for k, v := range daily {
		f := strings.Split(k, "|") // figure, region, day, product, key, sub
		byMonth[f[0]+"|"+f[1]+"|"+f[2][:7]+"|"+f[3]+"|"+f[4]+"|"+f[5]] += v
		byMonth[f[0]+"|"+f[1]+"|"+f[2][:7]+"|*|"+f[4]+"|*"] += v // summed over products and subs
	}
	if !reflect.DeepEqual(monthly, byMonth) {
		t.Errorf("stat_monthly (%d rows) is not stat_daily summed by month (%d rows)", len(monthly), len(byMonth))
	}
	out := daily
	for k, v := range monthly {
		out["monthly|"+k] = v
	}
	return out
}

// direct counts each figure's records by key straight from the raw tables
// (no days, no joins), within the region prefix.
func direct(t *testing.T, a *app.App, prefix string) map[string]map[string]int64 {
	t.Helper()
	lo, hi := prefix, prefix+"\uffff"
	qs := map[string]string{
		"registrations":  `SELECT status, COUNT(*) FROM operators WHERE category <> 'temporary' AND county_code >= $1 AND county_code < $2 GROUP BY status`,
		"batches":        `SELECT CAST(type AS TEXT), COUNT(*) FROM trace_codes WHERE region_code >= $1 AND region_code < $2 GROUP BY type`,
		"transfers":      `SELECT status, COUNT(*) FROM transfers WHERE kind = 'operator' AND seller_region >= $1 AND seller_region < $2 GROUP BY status`,
		"market_entries": `SELECT status, COUNT(*) FROM transfers WHERE kind = 'market' AND buyer_region >= $1 AND buyer_region < $2 GROUP BY status`,
		"findings":       `SELECT status, COUNT(*) FROM findings WHERE region_code >= $1 AND region_code < $2 GROUP BY status`,
		"inspections":    `SELECT result, COUNT(*) FROM inspections WHERE region_code >= $1 AND region_code < $2 GROUP BY result`,
		"samples":        `SELECT verdict, COUNT(*) FROM samples WHERE region_code >= $1 AND region_code < $2 GROUP BY verdict`,
		"sample_items":   `SELECT i.verdict, COUNT(*) FROM sample_items i JOIN samples s ON s.id = i.sample_id WHERE s.region_code >= $1 AND s.region_code < $2 GROUP BY i.verdict`,
		"cases":          `SELECT status, COUNT(*) FROM cases WHERE region_code >= $1 AND region_code < $2 GROUP BY status`,
		"complaints":     `SELECT status, COUNT(*) FROM complaints WHERE region_code >= $1 AND region_code < $2 GROUP BY status`,
		"recalls":        `SELECT status, COUNT(*) FROM recalls WHERE region_code >= $1 AND region_code < $2 GROUP BY status`,
		"certificates":   `SELECT f.basis, COUNT(*) FROM certificates f JOIN operators o ON o.id = f.operator_id WHERE o.county_code >= $1 AND o.county_code < $2 GROUP BY f.basis`,
		"scans":          `SELECT s.client, CAST(SUM(s.count) AS BIGINT) FROM trace_scans s JOIN trace_codes c ON c.code = s.code WHERE c.region_code >= $1 AND c.region_code < $2 GROUP BY s.client`,
	}
	typeKey := map[string]string{"1": "production", "2": "circulation", "3": "market_entry"}
	out := map[string]map[string]int64{}
	for fig, q := range qs {
		rows, err := a.DB.Query(context.Background(), q, lo, hi)
		if err != nil {
			t.Fatalf("%s: %v", fig, err)
		}
		out[fig] = map[string]int64{}
		for rows.Next() {
			var k string
			var n int64
			if err := rows.Scan(&k, &n); err != nil {
				t.Fatal(err)
			}
			if fig == "batches" {
				k = typeKey[k]
			}
			out[fig][k] = n
		}
		rows.Close()
	}
	out["chain_reach"] = chainReach(t, a, lo, hi)
	return out
}

// chainReach classifies the market-entry codes of the region prefix [lo,
// hi) by walking trace_edges upstream in Go (not the figure's recursive
// SQL): producer when a production code of a registered (not temporary)
// operator is upstream, else smallholder when a temporary operator's is,
// else broken.
func chainReach(t *testing.T, a *app.App, lo, hi string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	type code struct {
		typ       int
		region    string
		temporary bool
	}
	codes := map[string]code{}
	rows, err := a.DB.Query(ctx, `SELECT c.code, c.type, c.region_code, o.category FROM trace_codes c JOIN operators o ON o.id = c.operator_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c, region, cat string
		var typ int
		if err := rows.Scan(&c, &typ, &region, &cat); err != nil {
			t.Fatal(err)
		}
		codes[c] = code{typ, region, cat == "temporary"}
	}
	rows.Close()
	up := map[string][]string{}
	rows, err = a.DB.Query(ctx, `SELECT from_code, to_code FROM trace_edges`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			t.Fatal(err)
		}
		up[to] = append(up[to], from)
	}
	rows.Close()
	out := map[string]int64{}
	for c, m := range codes {
		if m.typ != 3 || m.region < lo || m.region >= hi {
			continue
		}
		best, seen, stack := "broken", map[string]bool{c: true}, []string{c}
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if y := codes[x]; y.typ == 1 {
				if !y.temporary {
					best = "producer"
					break
				}
				best = "smallholder"
			}
			for _, p := range up[x] {
				if !seen[p] {
					seen[p] = true
					stack = append(stack, p)
				}
			}
		}
		out[best]++
	}
	return out
}

// fromStats is what the API's answers say for each figure, by key.
func fromStats(t *testing.T, a *app.App, actor *auth.Actor, region string) map[string]map[string]int64 {
	t.Helper()
	out := map[string]map[string]int64{}
	to := time.Now().In(platform.ChinaTZ)
	q := insight.Query{Region: region, By: "total", From: to.AddDate(-3, 0, 1).Format(time.DateOnly), To: to.Format(time.DateOnly)}
	for _, f := range insight.Figures {
		all, err := a.Insight.Stats(context.Background(), actor, f.Name, q)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out[f.Name] = map[string]int64{}
		var sum int64
		for _, s := range all.Series {
			out[f.Name][s.Key] = s.Total
			sum += s.Total
		}
		if sum != all.Total {
			t.Errorf("%s: series sum %d, total %d", f.Name, sum, all.Total)
		}
	}
	return out
}

func compare(t *testing.T, when string, got, want map[string]map[string]int64) {
	t.Helper()
	for fig, w := range want {
		if len(w) == 0 && len(got[fig]) == 0 {
			continue
		}
		if !reflect.DeepEqual(got[fig], w) {
			t.Errorf("%s: %s from the aggregates %v, counted directly %v", when, fig, got[fig], w)
		}
	}
}

// TestIncrementalEqualsRebuild: after a mixed workload (the demo dataset,
// then status changes on old records), the incremental job, a rebuild and a
// direct count over the raw tables agree — on both engines.
func TestIncrementalEqualsRebuild(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		rep, err := a.Insight.Update(ctx)
		if err != nil || !rep.Rebuilt {
			t.Fatalf("first run: %+v %v", rep, err)
		}
		if _, err := demo.Load(ctx, a, "demo-pass-2026"); err != nil {
			t.Fatal(err)
		}
		scanViews(t, a)
		// the demo's last step ran the incremental job over its whole workload
		var wm, top int64
		if err := a.DB.QueryRow(ctx, `SELECT audit_id FROM stat_watermark`).Scan(&wm); err != nil || wm <= rep.ToAudit {
			t.Fatalf("the demo did not move the watermark past %d: %d %v", rep.ToAudit, wm, err)
		}
		if rep, err = a.Insight.Update(ctx); err != nil || rep.Rebuilt {
			t.Fatalf("incremental run: %+v %v", rep, err)
		}
		if err := a.DB.QueryRow(ctx, `SELECT MAX(id) FROM audit_log`).Scan(&top); err != nil || rep.ToAudit != top {
			t.Fatalf("watermark %d, newest audit row %d (%v)", rep.ToAudit, top, err)
		}
		sys := auth.System()
		want := direct(t, a, "")
		if r := want["chain_reach"]; r["producer"] == 0 || r["smallholder"]+r["broken"] == 0 {
			t.Errorf("the demo should hold market-entry codes of every kind of chain: %v", r)
		}
		compare(t, "after the demo", fromStats(t, a, sys, "000000"), want)
		checkBySubstance(t, a)
		checkCountyMap(t, a)
		inc := snapshot(t, a)
		if len(inc) == 0 {
			t.Fatal("no aggregates after the demo")
		}

		// change old records: suspend an approved operator, close a finding
		var opID int64
		if err := a.DB.QueryRow(ctx, `SELECT id FROM operators WHERE status = 'approved' ORDER BY id LIMIT 1`).Scan(&opID); err != nil {
			t.Fatal(err)
		}
		if err := a.DB.InTx(ctx, func(tx *platform.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE operators SET status = 'suspended' WHERE id = $1`, opID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE findings SET status = 'closed' WHERE id = (SELECT MIN(id) FROM findings WHERE status <> 'closed')`); err != nil {
				return err
			}
			if err := tx.Emit(ctx, platform.Event{Action: "operator.suspend", ResourceType: "operator", ResourceID: fmt.Sprint(opID)}); err != nil {
				return err
			}
			var fid int64
			if err := tx.QueryRow(ctx, `SELECT MIN(id) FROM findings WHERE status = 'closed'`).Scan(&fid); err != nil {
				return err
			}
			return tx.Emit(ctx, platform.Event{Action: "finding.close", ResourceType: "finding", ResourceID: fmt.Sprint(fid)})
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Insight.Update(ctx); err != nil {
			t.Fatal(err)
		}
		inc = snapshot(t, a)
		compare(t, "after changes", fromStats(t, a, sys, "000000"), direct(t, a, ""))
		if _, err := a.Insight.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
		if reb := snapshot(t, a); !reflect.DeepEqual(inc, reb) {
			for k, v := range reb {
				if inc[k] != v {
					t.Errorf("rebuild %s = %d, incremental %d", k, v, inc[k])
				}
			}
			for k, v := range inc {
				if _, ok := reb[k]; !ok {
					t.Errorf("incremental has %s = %d, rebuild nothing", k, v)
				}
			}
		}
		countyOfficial(t, a)
	})
}

// scanViews counts public views of the demo's codes (one to three each,
// from several clients) and folds them into trace_scans.
func scanViews(t *testing.T, a *app.App) {
	t.Helper()
	ctx := context.Background()
	rows, err := a.DB.Query(ctx, `SELECT code FROM trace_codes ORDER BY code`)
	codes, err := platform.Collect(rows, err, platform.Scalar[string])
	if err != nil || len(codes) == 0 {
		t.Fatalf("codes to view: %d (%v)", len(codes), err)
	}
	clients := []string{trace.ClientWeChat, trace.ClientMobile, trace.ClientDesktop}
	for i, c := range codes {
		for j := range i%3 + 1 {
			a.Trace.CountScan(c, trace.ScanView{Client: clients[(i+j)%len(clients)]})
		}
	}
	if err := a.Trace.FlushScans(ctx); err != nil {
		t.Fatal(err)
	}
}

// countyOfficial: a county analyst sees the county's figures (equal to the
// direct count there) and gets 404 for another county or the province.
func countyOfficial(t *testing.T, a *app.App) {
	ctx := context.Background()
	u, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "insight-county", Password: apptest.OperatorPassword, Name: "县分析员",
		Role: string(auth.RoleAnalyst), RegionCode: "370686"})
	if err != nil {
		t.Fatal(err)
	}
	actor := apptest.ActorOf(u)
	compare(t, "county 370686", fromStats(t, a, actor, ""), direct(t, a, "370686"))
	for _, far := range []string{"371082", "370000", "000000", "440000"} {
		_, err := a.Insight.Stats(ctx, actor, "batches", insight.Query{Region: far})
		if st := httpx.StatusOf(err); st != http.StatusNotFound {
			t.Errorf("county analyst, region %s: %v (%d), want 404", far, err, st)
		}
		if _, err := a.Insight.Map(ctx, actor, "batches", insight.Query{Region: far}); httpx.StatusOf(err) != http.StatusNotFound {
			t.Errorf("county analyst, map of %s: %v, want 404", far, err)
		}
	}
}

// TestBadInput: unknown figure, bad by, reversed or too long ranges are
// 422 naming the field.
func TestBadInput(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	ctx := context.Background()
	sys := auth.System()
	cases := []struct {
		figure string
		q      insight.Query
		field  string
	}{
		{"nonsense", insight.Query{}, "figure"},
		{"batches", insight.Query{By: "week"}, "by"},
		{"batches", insight.Query{From: "2026-03-01", To: "2026-02-01"}, "from"},
		{"batches", insight.Query{From: "2020-01-01", To: "2026-02-01"}, "to"},
		{"batches", insight.Query{From: "2026-13-01", To: "2026-02-01"}, "from"},
	}
	for _, c := range cases {
		_, err := a.Insight.Stats(ctx, sys, c.figure, c.q)
		var pe *platform.Error
		if httpx.StatusOf(err) != http.StatusUnprocessableEntity || !errors.As(err, &pe) || len(pe.Fields) == 0 || pe.Fields[0].Field != c.field {
			t.Errorf("%s %+v: %v, want 422 on %s", c.figure, c.q, err, c.field)
		}
	}
	if _, err := a.Insight.Stats(ctx, nil, "batches", insight.Query{}); httpx.StatusOf(err) != http.StatusUnauthorized {
		t.Errorf("no actor: %v", err)
	}
}

// checkCountyMap: a province's map by county gives every county of the
// province (Shandong has over a hundred) with the trace codes counted there
// straight from the raw rows; a prefecture's map gives the same counts for
// its counties; an unknown level is 422 naming it.
func checkCountyMap(t *testing.T, a *app.App) {
	t.Helper()
	ctx := context.Background()
	to := time.Now().In(platform.ChinaTZ)
	q := insight.Query{Region: "370000", Level: insight.LevelCounty, From: to.AddDate(-3, 0, 1).Format(time.DateOnly), To: to.Format(time.DateOnly)}
	m, err := a.Insight.Map(ctx, auth.System(), "batches", q)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	rows, err := a.DB.Query(ctx, `SELECT SUBSTR(region_code, 1, 6), COUNT(*) FROM trace_codes WHERE region_code LIKE '37%' GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		var n int64
		if err := rows.Scan(&c, &n); err != nil {
			t.Fatal(err)
		}
		want[c] = n
	}
	rows.Close()
	got := map[string]int64{}
	for _, v := range m.Values {
		if len(v.Key) != 6 || v.Key[:2] != "37" || v.Key[4:] == "00" {
			t.Errorf("Shandong by county: %s (%s) is not a county of it", v.Key, v.Label)
		}
		if v.Value != 0 {
			got[v.Key] = v.Value
		}
	}
	if len(m.Values) < 100 || len(want) == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("Shandong by county: %d counties, counts %v, counted directly %v", len(m.Values), got, want)
	}
	q.Region, q.Level = "370600", insight.LevelChildren
	if m, err = a.Insight.Map(ctx, auth.System(), "batches", q); err != nil {
		t.Fatal(err)
	}
	for _, v := range m.Values {
		if v.Value != want[v.Key] {
			t.Errorf("Yantai: %s %d, counted directly %d", v.Key, v.Value, want[v.Key])
		}
	}
	q.Level = "town"
	_, err = a.Insight.Map(ctx, auth.System(), "batches", q)
	var pe *platform.Error
	if httpx.StatusOf(err) != http.StatusUnprocessableEntity || !errors.As(err, &pe) || pe.Fields[0].Field != "level" {
		t.Errorf("level town: %v, want 422 on level", err)
	}
}

// checkBySubstance: sample_items by kind gives each substance's items by
// verdict (the pass rate by substance), as counted from the raw rows.
func checkBySubstance(t *testing.T, a *app.App) {
	t.Helper()
	to := time.Now().In(platform.ChinaTZ)
	ans, err := a.Insight.Stats(context.Background(), auth.System(), "sample_items",
		insight.Query{Region: "000000", By: "kind", From: to.AddDate(-3, 0, 1).Format(time.DateOnly), To: to.Format(time.DateOnly)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, s := range ans.Series {
		for _, v := range s.Values {
			if v.Value != 0 {
				got[v.Key+"|"+s.Key] += v.Value
			}
		}
	}
	want := map[string]int64{}
	rows, err := a.DB.Query(context.Background(), `SELECT i.substance, i.verdict, COUNT(*) FROM sample_items i GROUP BY i.substance, i.verdict`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var sub, verdict string
		var n int64
		if err := rows.Scan(&sub, &verdict, &n); err != nil {
			t.Fatal(err)
		}
		want[sub+"|"+verdict] = n
	}
	if len(want) == 0 {
		t.Fatal("the demo tested no substances")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("items by substance and verdict: from the aggregates %v, counted directly %v", got, want)
	}
}
