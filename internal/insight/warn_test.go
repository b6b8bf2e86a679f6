package insight_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/insight"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

const warnPW = "warning-pass-2026"

// warnWorld: an apple orchard in 栖霞 (370686) whose quick tests turn
// positive lately, a tea garden in 高州 (440981) whose tests fail at random
// at the same rate throughout; a tester, a supervisor and an analyst per
// county.
type warnWorld struct {
	a    *app.App
	anon *apptest.Client
	c    map[string]*apptest.Client
	op   map[string]operator.Operator
	code map[string]string
	n    int
}

func newWarnWorld(t *testing.T, a *app.App) *warnWorld {
	t.Helper()
	w := &warnWorld{a: a, anon: apptest.NewClient(t, apptest.Server(t, a)), c: map[string]*apptest.Client{}, op: map[string]operator.Operator{},
		code: map[string]string{}}
	for _, o := range []struct{ key, name, region, product string }{
		{"orchard", "栖霞红富士果园", "370686", "apple"},
		{"garden", "高州茶园", "440981", "tea_fresh_leaf"},
	} {
		op, u, p := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: o.name, RegionCode: o.region, Products: []string{o.product}})
		w.op[o.key], w.c[o.key] = op, w.anon.Login(u, p)
		w.code[o.key] = w.c[o.key].Do("POST", "/api/v1/batches", map[string]any{"product_code": o.product, "quantity": 500, "unit": "kg",
			"produced_at": day(-200), "origin": "基地"}).Expect(t, 201).Str("trace_code")
	}
	for _, u := range []struct{ name, role, region string }{
		{"qx-tester", "tester", "370686"}, {"qx-sup", "supervisor", "370686"}, {"qx-analyst", "analyst", "370686"},
		{"gz-tester", "tester", "440981"}, {"gz-sup", "supervisor", "440981"},
	} {
		if _, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: u.name, Password: warnPW, Name: u.name, Role: u.role, RegionCode: u.region}); err != nil {
			t.Fatal(err)
		}
		w.c[u.name] = w.anon.Login(u.name, warnPW)
	}
	return w
}

func day(n int) string { return time.Now().In(platform.ChinaTZ).AddDate(0, 0, n).Format(time.DateOnly) }

// quick records a quick test of the operator's batch, daysAgo days ago.
func (w *warnWorld) quick(t *testing.T, tester, key string, daysAgo int, positive bool) {
	t.Helper()
	w.n++
	result := "negative"
	if positive {
		result = "positive"
	}
	w.c[tester].Do("POST", "/api/v1/samples", map[string]any{"operator_code": w.op[key].Code, "batch_code": w.code[key], "sample_no": fmt.Sprintf("WS-%d", w.n),
		"sampled_at": day(-daysAgo), "kind": "quick", "items": []map[string]any{{"substance": "有机磷类农药", "result": result}}}).Expect(t, 201)
}

// TestWarningFromRecords: real sampling records → stat_daily → evaluation.
// A rising failure series raises one warning (with its evidence) and the
// same-rate noise none; evaluating again raises nothing new; the county's
// officials see it, another county's do not (404); a bad status is 422
// naming the field; concurrent acknowledgements give one 200 and 409s,
// nothing half-written; a closed warning is not raised again for the
// same window.
func TestWarningFromRecords(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		w := newWarnWorld(t, a)
		// 栖霞: weekly tests for half a year, one positive; then 5 of 8 in the last four weeks
		for d := 190; d >= 30; d -= 7 {
			w.quick(t, "qx-tester", "orchard", d, d == 99)
		}
		for i, d := range []int{26, 23, 20, 16, 12, 8, 4, 1} {
			w.quick(t, "qx-tester", "orchard", d, i%3 != 0)
		}
		// 高州: a test every four days, each failing with probability 0.1 (a fixed seed)
		rng := rand.New(rand.NewPCG(7, 11))
		for d := 194; d >= 0; d -= 4 {
			w.quick(t, "gz-tester", "garden", d, rng.Float64() < 0.1)
		}

		rep, err := a.Insight.EvaluateWarnings(ctx, auth.System())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Raised[insight.RuleFailureRate] != 1 || len(rep.Warnings) != 1 {
			t.Fatalf("raised %v (fired %v), want one failure-rate warning", rep.Raised, rep.Fired)
		}
		id := fmt.Sprint(rep.Warnings[0])
		got := w.c["qx-sup"].Do("GET", "/api/v1/warnings/"+id, nil).Expect(t, 200)
		if got.Str("rule") != "failure_rate" || got.Str("region_code") != "370686" || got.Str("product_code") != "apple" || got.Str("status") != "open" {
			t.Fatalf("the warning: %s", got.Body)
		}
		if h, n, bh, bn := got.Get("evidence.hits"), got.Get("evidence.trials"), got.Get("evidence.baseline_hits"), got.Get("evidence.baseline_trials"); h != 5.0 || n != 8.0 || bh != 1.0 || bn != 23.0 {
			t.Errorf("evidence: hits %v of %v, baseline %v of %v", h, n, bh, bn)
		}
		if p := got.Get("evidence.statistic").(float64); p >= got.Get("threshold").(float64) || len(got.Get("evidence.buckets").([]any)) < 20 {
			t.Errorf("statistic %v, threshold %v, %d buckets", p, got.Get("threshold"), len(got.Get("evidence.buckets").([]any)))
		}
		if !strings.Contains(got.Str("records"), "/samples?region=370686") {
			t.Errorf("records link %q", got.Str("records"))
		}

		// dedup: a second evaluation (also through the API) raises nothing
		again := w.c["qx-sup"].Do("POST", "/api/v1/warnings/evaluate", nil).Expect(t, 200)
		if again.Str("region") != "370686" || len(again.Get("warnings").([]any)) != 0 || again.Get("fired.failure_rate") != 1.0 {
			t.Fatalf("second evaluation: %s", again.Body)
		}
		if n := count(t, a, `SELECT COUNT(*) FROM warnings`); n != 1 {
			t.Fatalf("%d warnings after two evaluations", n)
		}

		// jurisdiction: 栖霞 sees it, 高州 does not
		if items := w.c["qx-analyst"].Do("GET", "/api/v1/warnings?status=active", nil).Expect(t, 200).Get("items").([]any); len(items) != 1 {
			t.Fatalf("栖霞's analyst sees %d warnings", len(items))
		}
		if items := w.c["gz-sup"].Do("GET", "/api/v1/warnings", nil).Expect(t, 200).Get("items").([]any); len(items) != 0 {
			t.Fatalf("高州's supervisor sees %d warnings", len(items))
		}
		w.c["gz-sup"].Do("GET", "/api/v1/warnings/"+id, nil).Expect(t, 404)
		w.c["gz-sup"].Do("GET", "/api/v1/warnings?region=370686", nil).Expect(t, 404)
		w.c["gz-sup"].Do("POST", "/api/v1/warnings/"+id+"/status", map[string]any{"status": "acknowledged"}).Expect(t, 404)
		w.c["qx-analyst"].Do("POST", "/api/v1/warnings/"+id+"/status", map[string]any{"status": "acknowledged"}).Expect(t, 403)
		w.c["orchard"].Do("GET", "/api/v1/warnings", nil).Expect(t, 404)

		// bad input: 422 naming the field, nothing written
		for _, c := range []struct {
			body  map[string]any
			field string
		}{{map[string]any{"status": "done"}, "status"}, {map[string]any{"status": "dismissed"}, "note"}, {map[string]any{"status": "open"}, "status"},
			{map[string]any{"status": "acknowledged", "from": "new"}, "from"}} {
			r := w.c["qx-sup"].Do("POST", "/api/v1/warnings/"+id+"/status", c.body).Expect(t, 422)
			if r.Str("errors.0.field") != c.field {
				t.Errorf("%v: %s", c.body, r.Body)
			}
		}
		w.c["qx-sup"].Do("GET", "/api/v1/warnings?status=later", nil).Expect(t, 422)

		// a race: eight officials acknowledge at once
		statuses := make([]int, 8)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = w.c["qx-sup"].Do("POST", "/api/v1/warnings/"+id+"/status", map[string]any{"status": "acknowledged", "from": "open"}).Status
			}()
		}
		wg.Wait()
		ok := 0
		for _, st := range statuses {
			switch st {
			case 200:
				ok++
			case 409:
			default:
				t.Errorf("a concurrent acknowledgement answered %d", st)
			}
		}
		if ok != 1 || count(t, a, `SELECT COUNT(*) FROM audit_log WHERE action = 'warning.status'`) != 1 || count(t, a, `SELECT COUNT(*) FROM warning_steps`) != 2 {
			t.Fatalf("%d acknowledgements succeeded (%v); audit and history must hold exactly one", ok, statuses)
		}

		// closed with a note, it is not raised again for the same window
		done := w.c["qx-sup"].Do("POST", "/api/v1/warnings/"+id+"/status", map[string]any{"status": "closed", "note": "已对果园停售复检，督促整改用药记录", "from": "acknowledged"}).Expect(t, 200)
		if done.Str("status") != "closed" || len(done.Get("steps").([]any)) != 3 || len(done.Get("next").([]any)) != 0 {
			t.Fatalf("closed: %s", done.Body)
		}
		if rep, err := a.Insight.EvaluateWarnings(ctx, auth.System()); err != nil || len(rep.Warnings) != 0 {
			t.Fatalf("after closing: %+v %v", rep.Raised, err)
		}
		if items := w.c["qx-sup"].Do("GET", "/api/v1/warnings", nil).Expect(t, 200).Get("items").([]any); len(items) != 1 {
			t.Fatalf("栖霞 lists %d warnings", len(items))
		}
	})
}

// TestWarningJobLease: of two replicas ticking in the same period, one
// evaluates; the run is recorded.
func TestWarningJobLease(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		r1, err := a.Insight.RunWarnings(ctx, "replica-1", time.Hour)
		if err != nil || !r1.Ran {
			t.Fatalf("first replica: %+v %v", r1, err)
		}
		r2, err := a.Insight.RunWarnings(ctx, "replica-2", time.Hour)
		if err != nil || r2.Ran {
			t.Fatalf("second replica in the same period: %+v %v", r2, err)
		}
		if n := count(t, a, `SELECT COUNT(*) FROM job_runs WHERE name = 'warnings' AND finished IS NOT NULL AND error = ''`); n != 1 {
			t.Fatalf("%d finished runs recorded", n)
		}
	})
}

// TestWarningRuleSettings: a supervisor sets a parameter in the county; it
// applies there and not in the province; bad values are 422 naming the
// field; another county's is 404/403.
func TestWarningRuleSettings(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		anon := apptest.NewClient(t, apptest.Server(t, a))
		if _, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: "qx-sup", Password: warnPW, Name: "qx", Role: "supervisor", RegionCode: "370686"}); err != nil {
			t.Fatal(err)
		}
		sup := anon.Login("qx-sup", warnPW)
		r := sup.Do("PUT", "/api/v1/warnings/rules", map[string]any{"region_code": "370686", "rule": "complaint_cluster", "param": "min_events", "value": 5}).Expect(t, 200)
		if r.Get("params.min_events") != 5.0 || r.Str("set_in.min_events") != "370686" {
			t.Fatalf("set: %s", r.Body)
		}
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"region_code": "370686", "rule": "nope", "param": "alpha", "value": 0.01}, "rule"},
			{map[string]any{"region_code": "370686", "rule": "failure_rate", "param": "speed", "value": 1}, "param"},
			{map[string]any{"region_code": "370686", "rule": "failure_rate", "param": "alpha", "value": 0.5}, "value"},
			{map[string]any{"region_code": "370686", "rule": "failure_rate", "param": "window", "value": 7.5}, "value"},
		} {
			if r := sup.Do("PUT", "/api/v1/warnings/rules", c.body).Expect(t, 422); r.Str("errors.0.field") != c.field {
				t.Errorf("%v: %s", c.body, r.Body)
			}
		}
		sup.Do("PUT", "/api/v1/warnings/rules", map[string]any{"region_code": "440981", "rule": "failure_rate", "param": "alpha", "value": 0.01}).Expect(t, 403)
		sup.Do("GET", "/api/v1/warnings/rules?region=440981", nil).Expect(t, 404)
		var list []map[string]any
		if err := json.Unmarshal(sup.Do("GET", "/api/v1/warnings/rules", nil).Expect(t, 200).Body, &list); err != nil || len(list) != len(insight.WarnRules) {
			t.Fatalf("rules: %v %d", err, len(list))
		}
		for _, x := range list {
			if x["rule"] == "complaint_cluster" && x["params"].(map[string]any)["min_events"] != 5.0 {
				t.Errorf("the county's setting does not apply: %v", x)
			}
		}
		if n := count(t, a, `SELECT COUNT(*) FROM audit_log WHERE action = 'warning.setting'`); n != 1 {
			t.Errorf("%d setting events", n)
		}
	})
}

func count(t *testing.T, a *app.App, q string) int {
	t.Helper()
	var n int
	if err := a.DB.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
