package trace_test

import (
	"fmt"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
)

// TestCorrectionVersions: a correction is a new version with its reason,
// never an overwrite; refusals (no reason, nothing to correct, below what
// already left the batch, not a production batch) write nothing, on both
// engines.
func TestCorrectionVersions(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		lot := batch(t, w.farmC, "apple", 300, "kg", daysAgo(3))
		sale := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 100, "buyer_operator_code": w.coop.Code}).Expect(t, 201).Str("trace_code")
		w.coopC.Do("POST", "/api/v1/transfers/"+sale+"/confirm", map[string]any{"received_quantity": 100}).Expect(t, 200)
		path := "/api/v1/batches/" + lot + "/corrections"
		before := counts(t, a)
		w.farmC.Do("POST", path, map[string]any{"quantity": 280}).Expect(t, 422)                                                // no reason
		w.farmC.Do("POST", path, map[string]any{"reason": "过磅有误"}).Expect(t, 422)                                               // nothing to correct
		w.farmC.Do("POST", path, map[string]any{"reason": "过磅有误", "quantity": 90}).Expect(t, 409)                               // 100 kg already left
		w.coopC.Do("POST", "/api/v1/batches/"+sale+"/corrections", map[string]any{"reason": "x", "quantity": 1}).Expect(t, 422) // a circulation code
		if after := counts(t, a); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("refused corrections wrote rows: %v → %v", before, after)
		}
		r := w.farmC.Do("POST", path, map[string]any{"reason": "过磅有误", "quantity": 280, "origin": "寺口镇 5 号园"}).Expect(t, 201)
		if r.Str("quantity") != "280" || r.Str("origin") != "寺口镇 5 号园" || r.Str("version") != "2" {
			t.Fatalf("corrected batch: %s", r.Body)
		}
		if r.Str("corrections.0.reason") != "过磅有误" || r.Str("corrections.0.corrects") != "1" {
			t.Fatalf("the correction's record: %s", r.Body)
		}
		if got := stock(t, w.farmC, lot); got != 180 {
			t.Fatalf("stock after correcting 300 → 280 with 100 sold: %v, want 180", got)
		}
	})
}
