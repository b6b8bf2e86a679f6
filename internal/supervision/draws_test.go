package supervision_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/supervision"
)

// pair is the two county inspectors of the world.
var pair = []string{"qixia-inspector", "qixia-inspector2"}

// decodeAs decodes a response body into T.
func decodeAs[T any](t *testing.T, r *apptest.Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, r.Body)
	}
	return v
}

// drawBody is a draw request in 栖霞.
func drawBody(seed string, size int, inspectors []string, more map[string]any) map[string]any {
	b := map[string]any{"region_code": "370686", "seed": seed, "size": size, "inspectors": inspectors, "per_task": 2}
	for k, v := range more {
		b[k] = v
	}
	return b
}

// picks is a draw's selections without names: operator → inspectors, in order.
func picks(sel []supervision.Selection) []string {
	out := make([]string, len(sel))
	for i, s := range sel {
		out[i] = s.OperatorCode + "→" + strings.Join(s.Inspectors, ",")
	}
	return out
}

// checkPublished: what a draw publishes is enough to check it — the seed,
// the algorithm, the sorted population and its SHA-256 (recomputed here),
// and the selections equal a re-run of the pure algorithm on them.
func checkPublished(t *testing.T, d supervision.Draw, seed string, population []string) {
	t.Helper()
	pop := slices.Sorted(slices.Values(population))
	sum := sha256.Sum256([]byte(strings.Join(pop, "\n")))
	if d.Seed != seed || d.Algorithm != supervision.DrawAlgorithm || d.Status != "open" || d.Population != len(pop) ||
		!reflect.DeepEqual(d.Spec.PopulationCodes, pop) || d.PopulationSHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("published: seed %q algorithm %q status %s population %d %v sha %s; want %d %v",
			d.Seed, d.Algorithm, d.Status, d.Population, d.Spec.PopulationCodes, d.PopulationSHA256, len(pop), pop)
	}
	replay, err := supervision.ReplayDraw(d.Seed, d.Spec)
	if err != nil || !reflect.DeepEqual(picks(replay), picks(d.Selections)) {
		t.Fatalf("re-running the published draw gives %v (%v), the draw %v", picks(replay), err, picks(d.Selections))
	}
	if len(d.Tasks) != len(d.Selections) || d.TaskCount != len(d.Tasks) {
		t.Fatalf("%d tasks for %d selections", len(d.Tasks), len(d.Selections))
	}
	for i, s := range d.Selections {
		task := d.Tasks[i]
		if !slices.Contains(pop, s.OperatorCode) || s.OperatorName == "" || task.OperatorCode != s.OperatorCode ||
			!reflect.DeepEqual(task.Inspectors, s.Inspectors) || task.Status != "pending" || task.Position != i+1 || task.DueOn != d.DueOn {
			t.Fatalf("selection %d %+v, task %+v", i, s, task)
		}
	}
}

// TestDrawReproducible: a supervisor draws 2 of 栖霞's 8 approved operators
// with seed s1 (201: seed, algorithm, population digest, selections with 2
// inspectors each, tasks); re-running the published draw with the pure
// algorithm gives the same selections; the same seed and inputs drawn again
// (a year on, when the first draw no longer excludes its operators) give
// the same population and selections; seed s2 a different selection; on
// the day, the operators drawn are left out of the next draw.
func TestDrawReproducible(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		pop := []string{w.farm.Code, w.pigs.Code, w.trader.Code}
		for i := range 5 {
			o, _, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: fmt.Sprintf("栖霞第%d果园", i+1), Kind: "family_farm",
				Category: "producer", RegionCode: "370686", Products: []string{"apple"}})
			pop = append(pop, o.Code)
		}
		r := w.supervisor.Do("POST", "/api/v1/draws", drawBody("s1", 2, pair, map[string]any{"title": "2026 年第四季度双随机抽查"})).Expect(t, 201)
		d := decodeAs[supervision.Draw](t, r)
		checkPublished(t, d, "s1", pop)
		if len(d.Selections) != 2 || d.Title != "2026 年第四季度双随机抽查" || !strings.HasPrefix(d.Number, "CJ-370686-") {
			t.Fatalf("draw: %s", r.Body)
		}
		for _, s := range d.Selections {
			if !reflect.DeepEqual(slices.Sorted(slices.Values(s.Inspectors)), pair) {
				t.Fatalf("task %s: inspectors %v, want both of %v", s.OperatorCode, s.Inspectors, pair)
			}
		}
		if got := decodeAs[supervision.Draw](t, w.inspector.Do("GET", fmt.Sprintf("/api/v1/draws/%d", d.ID), nil).Expect(t, 200)); !reflect.DeepEqual(picks(got.Selections), picks(d.Selections)) {
			t.Fatalf("read back: %v, drawn %v", picks(got.Selections), picks(d.Selections))
		}
		w.farInsp.Do("GET", fmt.Sprintf("/api/v1/draws/%d", d.ID), nil).Expect(t, 404)

		ctx := context.Background()
		sup := w.actors["qixia-supervisor"]
		later := w.service(t, &platform.FixedClock{T: time.Now().AddDate(1, 0, 2)})
		in := supervision.DrawInput{RegionCode: "370686", Seed: "s1", Size: 2, Inspectors: pair, PerTask: 2}
		again, err := later.CreateDraw(ctx, sup, in)
		if err != nil {
			t.Fatal(err)
		}
		if again.PopulationSHA256 != d.PopulationSHA256 || !reflect.DeepEqual(picks(again.Selections), picks(d.Selections)) {
			t.Fatalf("the same seed and inputs drew %v from %s; first %v from %s", picks(again.Selections), again.PopulationSHA256,
				picks(d.Selections), d.PopulationSHA256)
		}
		in.Seed = "s2"
		other, err := later.CreateDraw(ctx, sup, in)
		if err != nil {
			t.Fatal(err)
		}
		if reflect.DeepEqual(operatorCodes(other.Selections), operatorCodes(d.Selections)) {
			t.Fatalf("seeds s1 and s2 drew the same operators in the same order: %v", operatorCodes(d.Selections))
		}

		// today, every operator drawn so far is excluded (default: drawn within 365 days)
		drawn := map[string]bool{}
		for _, x := range []supervision.Draw{d, again, other} {
			for _, c := range operatorCodes(x.Selections) {
				drawn[c] = true
			}
		}
		next := decodeAs[supervision.Draw](t, w.supervisor.Do("POST", "/api/v1/draws", drawBody("s3", 1, pair, nil)).Expect(t, 201))
		if next.Population != len(pop)-len(drawn) {
			t.Fatalf("population after draws of %d operators: %d of %d", len(drawn), next.Population, len(pop))
		}
		for _, c := range next.Spec.PopulationCodes {
			if drawn[c] {
				t.Fatalf("operator %s drawn again within 365 days", c)
			}
		}
	})
}

func operatorCodes(sel []supervision.Selection) []string {
	out := make([]string, len(sel))
	for i, s := range sel {
		out[i] = s.OperatorCode
	}
	return out
}

// TestDrawRecusals: with only two inspectors and 2 per task, a recusal
// leaves the recused operator's task unstaffed: 422 naming recusals,
// nothing written. With a third (the enforcer), the recused inspector is
// never assigned to that operator, and the recusal — given as a scanned
// e-ID URL — is published as the bare operator code, so the published
// spec re-runs to the same draw.
func TestDrawRecusals(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		recusal := []map[string]any{{"inspector": "qixia-inspector", "operator_code": "http://trace.test/o/" + w.farm.Code, "reason": "近亲属"}}
		before := counts(t, a)
		r := w.supervisor.Do("POST", "/api/v1/draws", drawBody("rec", 3, pair, map[string]any{"recusals": recusal})).Expect(t, 422)
		if !hasField(r, "recusals") || !strings.Contains(string(r.Body), w.farm.Code) {
			t.Fatalf("unstaffed refusal: %s", r.Body)
		}
		sameCounts(t, before, counts(t, a))

		three := []string{"qixia-inspector", "qixia-inspector2", "qixia-enforcer"}
		d := decodeAs[supervision.Draw](t, w.supervisor.Do("POST", "/api/v1/draws", drawBody("rec-api", 3, three, map[string]any{"recusals": recusal})).Expect(t, 201))
		checkRecused(t, d, w.farm.Code)
		// more seeds, a year on (when the draw above no longer excludes its operators)
		later := w.service(t, &platform.FixedClock{T: time.Now().AddDate(1, 0, 2)})
		for _, seed := range []string{"rec-1", "rec-2", "rec-3", "rec-4"} {
			d, err := later.CreateDraw(context.Background(), w.actors["qixia-supervisor"], supervision.DrawInput{RegionCode: "370686", Seed: seed,
				Size: 3, Inspectors: three, PerTask: 2, Recusals: []supervision.Recusal{{Inspector: " qixia-inspector ",
					OperatorCode: "http://trace.test/o/" + w.farm.Code, Reason: "近亲属"}}})
			if err != nil {
				t.Fatal(err)
			}
			checkRecused(t, d, w.farm.Code)
		}
	})
}

// checkRecused: qixia-inspector, recused from code, is not on its task; the
// recusal is published with the bare code; the published spec re-runs.
func checkRecused(t *testing.T, d supervision.Draw, code string) {
	t.Helper()
	for _, s := range d.Selections {
		if s.OperatorCode == code && slices.Contains(s.Inspectors, "qixia-inspector") {
			t.Fatalf("seed %s: the recused inspector was assigned to %s: %v", d.Seed, s.OperatorCode, s.Inspectors)
		}
	}
	if len(d.Spec.Recusals) != 1 || d.Spec.Recusals[0].OperatorCode != code || d.Spec.Recusals[0].Inspector != "qixia-inspector" {
		t.Fatalf("published recusals: %+v", d.Spec.Recusals)
	}
	checkPublished(t, d, d.Seed, d.Spec.PopulationCodes)
}

// TestDrawBadInput: 422 naming the field, with nothing written — a size
// above the population, too few inspectors for per_task, per_task 1, an
// unknown account, a farmer's account (role), an inspector of another
// county (region), neither size nor percent, both, a percent above 100;
// an inspector may not draw (403), nor a supervisor of another county (403).
func TestDrawBadInput(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		var farmer string
		if err := a.DB.QueryRow(context.Background(), `SELECT username FROM users WHERE operator_id = $1`, w.farm.ID).Scan(&farmer); err != nil {
			t.Fatal(err)
		}
		rcSup := w.official(t, "rongcheng-supervisor", auth.RoleSupervisor, "371082")
		before := counts(t, a)
		cases := []struct {
			body        map[string]any
			field, code string
		}{
			{drawBody("x", 4, pair, nil), "size", "exceeds_population"},
			{drawBody("x", 2, pair, map[string]any{"per_task": 3}), "inspectors", "too_few"},
			{drawBody("x", 2, pair, map[string]any{"per_task": 1}), "per_task", "range"},
			{drawBody("x", 2, []string{"nobody-here", "qixia-inspector"}, nil), "inspectors[0]", "unknown"},
			{drawBody("x", 2, []string{farmer, "qixia-inspector", "qixia-inspector2"}, nil), "inspectors[0]", "role"},
			{drawBody("x", 2, []string{"rongcheng-inspector", "qixia-inspector", "qixia-inspector2"}, nil), "inspectors[0]", "region"},
			{drawBody("x", 0, pair, nil), "size", "required"},
			{drawBody("x", 2, pair, map[string]any{"percent": 50}), "percent", "not_allowed"},
			{drawBody("x", 0, pair, map[string]any{"percent": 150}), "percent", "range"},
			{drawBody("x", 2, []string{}, nil), "inspectors", "required"},
			{drawBody("x", 2, pair, map[string]any{"filter": map[string]any{"kinds": []string{"farm"}}}), "filter.kinds[0]", "not_allowed"},
		}
		for _, c := range cases {
			r := w.supervisor.Do("POST", "/api/v1/draws", c.body).Expect(t, 422)
			if code := fieldCode(r, c.field); code != c.code {
				t.Errorf("%v: refusal does not name %s (%s): %s", c.body, c.field, c.code, r.Body)
			}
		}
		w.inspector.Do("POST", "/api/v1/draws", drawBody("x", 1, pair, nil)).Expect(t, 403)
		rcSup.Do("POST", "/api/v1/draws", drawBody("x", 1, pair, nil)).Expect(t, 403)
		w.supervisor.Do("POST", "/api/v1/draws", drawBody("x", 1, pair, map[string]any{"region_code": "371082"})).Expect(t, 403)
		sameCounts(t, before, counts(t, a))
		// percent rounds up: 34 % of 3 operators is 2
		if d := decodeAs[supervision.Draw](t, w.supervisor.Do("POST", "/api/v1/draws", drawBody("x", 0, pair, map[string]any{"percent": 34})).Expect(t, 201)); len(d.Tasks) != 2 {
			t.Fatalf("34 %% of 3: %d tasks", len(d.Tasks))
		}
	})
}

// fieldCode is the code of the refusal's error on field ("" when none).
func fieldCode(r *apptest.Response, field string) string {
	errs, _ := r.Get("errors").([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok && m["field"] == field {
			if c := fmt.Sprint(m["code"]); c != "" && c != "<nil>" {
				return c
			}
			return "?"
		}
	}
	return ""
}

// TestDrawTasksToPublic: each assigned inspector sees the draw's tasks in
// GET /api/v1/tasks?mine=true (the county's enforcer sees them without
// mine, another county's inspector not at all; inspectors whose usernames
// LIKE confuses with an assigned one's are not offered them); an inspection by someone not assigned, or
// naming another operator's task, is 422 task_id with nothing written; an
// inspection with task_id marks the task done; the draw is published (一公开,
// no login) only once its last task is done, with each operator's outcome.
func TestDrawTasksToPublic(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		anon := apptest.NewClient(t, w.srv)
		// same county, usernames LIKE confuses with qixia-inspector ('_' is any character; SQLite ignores case)
		lookalikes := []*apptest.Client{w.official(t, "qixia_inspector", auth.RoleInspector, "370686"),
			w.official(t, "QIXIA-INSPECTOR", auth.RoleInspector, "370686")}
		d := decodeAs[supervision.Draw](t, w.supervisor.Do("POST", "/api/v1/draws", drawBody("tasks", 2, pair, nil)).Expect(t, 201))
		t1, t2 := d.Tasks[0], d.Tasks[1]
		for _, c := range []*apptest.Client{w.inspector, w.inspector2} {
			mine := decodeAs[struct{ Items []supervision.Task }](t, c.Do("GET", "/api/v1/tasks?mine=true", nil).Expect(t, 200)).Items
			if len(mine) != 2 || mine[0].ID != t1.ID || mine[1].ID != t2.ID || mine[0].DrawNumber != d.Number || mine[0].OperatorCode != t1.OperatorCode {
				t.Fatalf("an assigned inspector's tasks: %+v", mine)
			}
		}
		for _, c := range append(lookalikes, w.enforcer) {
			if r := c.Do("GET", "/api/v1/tasks?mine=true", nil).Expect(t, 200); r.Get("items.0") != nil {
				t.Fatalf("tasks of someone not assigned: %s", r.Body)
			}
		}
		for _, u := range []string{"qixia_inspector", "QIXIA-INSPECTOR"} {
			if offered, err := w.service(t, platform.SystemClock{}).PendingTasks(context.Background(), w.actors[u], t1.OperatorID); err != nil || len(offered) != 0 {
				t.Fatalf("the inspection form offers %s the tasks of qixia-inspector: %v %+v", u, err, offered)
			}
		}
		if r := w.enforcer.Do("GET", "/api/v1/tasks", nil).Expect(t, 200); r.Get("items.1") == nil { // the county's tasks
			t.Fatalf("the county's tasks: %s", r.Body)
		}
		if r := w.farInsp.Do("GET", "/api/v1/tasks", nil).Expect(t, 200); r.Get("items.0") != nil {
			t.Fatalf("another county's tasks: %s", r.Body)
		}
		if r := anon.Do("GET", "/api/v1/public/draws", nil).Expect(t, 200); r.Get("items.0") != nil {
			t.Fatalf("an open draw is published: %s", r.Body)
		}

		inspect := func(c *apptest.Client, code string, task int64, result string) *apptest.Response {
			body := map[string]any{"operator_code": code, "kind": "site", "result": result, "task_id": task}
			if result == "rectify" {
				body["rectify_days"] = 5
				body["checklist"] = []map[string]any{{"item": "records", "ok": false, "note": "记录不全"}}
			}
			return c.Do("POST", "/api/v1/inspections", body)
		}
		before := counts(t, a)
		if r := inspect(w.enforcer, t1.OperatorCode, t1.ID, "pass").Expect(t, 422); fieldCode(r, "task_id") != "not_assigned" {
			t.Fatalf("an inspector not assigned: %s", r.Body)
		}
		if r := inspect(w.inspector, t2.OperatorCode, t1.ID, "pass").Expect(t, 422); fieldCode(r, "task_id") != "unknown" {
			t.Fatalf("a task of another operator: %s", r.Body)
		}
		sameCounts(t, before, counts(t, a))

		if r := inspect(w.inspector, t1.OperatorCode, t1.ID, "pass").Expect(t, 201); r.Str("task_id") != fmt.Sprint(t1.ID) {
			t.Fatalf("inspection for the task: %s", r.Body)
		}
		half := decodeAs[supervision.Draw](t, w.supervisor.Do("GET", fmt.Sprintf("/api/v1/draws/%d", d.ID), nil).Expect(t, 200))
		if half.Status != "open" || half.Done != 1 || half.Tasks[0].Status != "done" || half.Tasks[0].Result != "pass" || half.Tasks[0].InspectionID == 0 {
			t.Fatalf("after the first task: %+v", half)
		}
		before = counts(t, a)
		// done already by the other inspector of the pair: refused on the task field (the form shows it), nothing recorded
		if r := inspect(w.inspector2, t1.OperatorCode, t1.ID, "pass").Expect(t, 422); !hasField(r, "task_id") {
			t.Fatalf("a done task: %s", r.Body)
		}
		sameCounts(t, before, counts(t, a))
		if r := anon.Do("GET", "/api/v1/public/draws", nil).Expect(t, 200); r.Get("items.0") != nil {
			t.Fatalf("a half-done draw is published: %s", r.Body)
		}

		inspect(w.inspector2, t2.OperatorCode, t2.ID, "rectify").Expect(t, 201)
		closed := decodeAs[supervision.Draw](t, w.supervisor.Do("GET", fmt.Sprintf("/api/v1/draws/%d", d.ID), nil).Expect(t, 200))
		if closed.Status != "closed" || closed.ClosedAt == nil || closed.Done != 2 {
			t.Fatalf("after the last task: %+v", closed)
		}
		for _, c := range []*apptest.Client{w.inspector, w.inspector2} {
			if r := c.Do("GET", "/api/v1/tasks?mine=true", nil).Expect(t, 200); r.Get("items.0") != nil {
				t.Fatalf("pending tasks after the draw closed: %s", r.Body)
			}
		}
		if r := w.inspector2.Do("GET", "/api/v1/tasks?mine=true&status=done", nil).Expect(t, 200); r.Get("items.1") == nil {
			t.Fatalf("done tasks: %s", r.Body)
		}
		pub := decodeAs[struct{ Items []supervision.PublicDraw }](t, anon.Do("GET", "/api/v1/public/draws?region=370686", nil).Expect(t, 200)).Items
		if len(pub) != 1 || pub[0].Number != d.Number || pub[0].Seed != "tasks" || pub[0].PopulationSHA256 != d.PopulationSHA256 || len(pub[0].Tasks) != 2 {
			t.Fatalf("published: %+v", pub)
		}
		want := map[string]string{t1.OperatorCode: "pass", t2.OperatorCode: "rectify"}
		for _, pt := range pub[0].Tasks {
			if want[pt.OperatorCode] != pt.Result || pt.Date == "" || pt.OperatorName == "" {
				t.Fatalf("published outcome %+v, want %v", pt, want)
			}
		}
		if r := anon.Do("GET", "/api/v1/public/draws?region=371082", nil).Expect(t, 200); r.Get("items.0") != nil {
			t.Fatalf("another county's public list: %s", r.Body)
		}
	})
}
