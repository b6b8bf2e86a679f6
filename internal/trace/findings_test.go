package trace_test

import (
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
)

func findingKinds(r *apptest.Response) map[string][]string {
	out := map[string][]string{}
	items, _ := r.Get("items").([]any)
	for _, it := range items {
		m := it.(map[string]any)
		k, _ := m["kind"].(string)
		c, _ := m["code"].(string)
		out[k] = append(out[k], c)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestFindings: each kind of finding appears for a fixture that causes it,
// in the jurisdiction concerned and not in another.
func TestFindings(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		lot := batch(t, w.farmC, "apple", 500, "kg", daysAgo(14))

		// unconfirmed for more than 3 working days (shipped 10 days ago)
		old := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 50, "buyer_operator_code": w.coop.Code,
			"shipped_at": daysAgo(10)}).Expect(t, 201).Str("trace_code")
		// a fresh pending transfer is not a finding yet
		fresh := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 50, "buyer_operator_code": w.coop.Code}).Expect(t, 201).Str("trace_code")

		// refused over-shipment
		w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 1000, "buyer_operator_code": w.coop.Code}).Expect(t, 409)

		// received quantity differs (to a buyer in another county: both counties see it)
		mm := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 100, "buyer_operator_code": w.far.Code}).Expect(t, 201).Str("trace_code")
		w.farC.Do("POST", "/api/v1/transfers/"+mm+"/confirm", map[string]any{"received_quantity": 92.5}).Expect(t, 200)

		// harvest inside a safety interval, overridden with a reason
		si := w.farmC.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 80, "unit": "kg", "produced_at": daysAgo(1),
			"inputs":          []map[string]any{{"kind": "pesticide", "name": "吡虫啉", "reg_no": "PD20101234", "dose": "2000倍液", "used_at": daysAgo(5), "interval_days": 14}},
			"override_reason": "订单急需，已自检农残合格"}).Expect(t, 201)
		siCode := si.Str("trace_code")
		if si.Str("override_reason") == "" {
			t.Fatalf("override not recorded: %s", si.Body)
		}

		// a correction moves production after the shipment that followed it
		tl := batch(t, w.farmC, "apple", 60, "kg", daysAgo(6))
		w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": tl, "quantity": 10, "buyer_operator_code": w.coop.Code, "shipped_at": daysAgo(4)}).Expect(t, 201)
		corr := w.farmC.Do("POST", "/api/v1/batches/"+tl+"/corrections", map[string]any{"produced_at": daysAgo(2), "reason": "录入时日期填错"}).Expect(t, 201)
		if corr.Str("version") != "2" || corr.Str("produced_at") != daysAgo(2) {
			t.Fatalf("correction: %s", corr.Body)
		}
		if corrs, _ := corr.Get("corrections").([]any); len(corrs) != 1 {
			t.Fatalf("the correction history: %s", corr.Body)
		}

		got := findingKinds(w.supervisor.Do("GET", "/api/v1/findings", nil).Expect(t, 200))
		want := map[string]string{"unconfirmed_transfer": old, "over_shipment": lot, "quantity_mismatch": mm, "safety_interval": siCode, "timeline_backwards": tl}
		for kind, code := range want {
			if !contains(got[kind], code) {
				t.Errorf("finding %s for %s missing; got %v", kind, code, got)
			}
		}
		if contains(got["unconfirmed_transfer"], fresh) {
			t.Errorf("a transfer shipped today is reported as unconfirmed")
		}
		// filter by kind
		only := findingKinds(w.supervisor.Do("GET", "/api/v1/findings?kind=quantity_mismatch", nil).Expect(t, 200))
		if len(only) != 1 || !contains(only["quantity_mismatch"], mm) {
			t.Errorf("kind filter: %v", only)
		}
		// the buyer's county sees the mismatch, not the farm's other findings
		far := findingKinds(w.farRegionSupervisor.Do("GET", "/api/v1/findings", nil).Expect(t, 200))
		if !contains(far["quantity_mismatch"], mm) || len(far["safety_interval"]) != 0 || len(far["over_shipment"]) != 0 {
			t.Errorf("other county's findings: %v", far)
		}
		// outside one's jurisdiction: 404; operators have no findings list
		w.farRegionSupervisor.Do("GET", "/api/v1/findings?region=370686", nil).Expect(t, 404)
		w.farmC.Do("GET", "/api/v1/findings", nil).Expect(t, 404) // a read the role lacks: 404, as the policy answers
	})
}
