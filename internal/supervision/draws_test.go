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
