package trace_test

import (
	"context"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/trace"
)

// TestListBatches: the stock list's filters — in stock, sold out, waiting
// for the buyer's confirmation, a code prefix, a product name — on both engines; an unknown
// status is refused, a page past the end is empty.
func TestListBatches(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		ctx := context.Background()
		kept := batch(t, w.farmC, "apple", 100, "kg", daysAgo(2))
		sold := batch(t, w.farmC, "apple", 50, "kg", daysAgo(2))
		pending := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": sold, "quantity": 50, "buyer_operator_code": w.coop.Code}).Expect(t, 201).Str("trace_code")
		codes := func(f trace.BatchFilter) map[string]bool {
			t.Helper()
			list, err := a.Trace.ListBatches(ctx, w.farmActor, f)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, b := range list {
				out[b.TraceCode] = true
			}
			return out
		}
		if got := codes(trace.BatchFilter{Status: "in_stock"}); !got[kept] || got[sold] {
			t.Errorf("in stock: %v", got)
		}
		if got := codes(trace.BatchFilter{Status: "depleted"}); !got[sold] || got[kept] {
			t.Errorf("sold out: %v", got)
		}
		if got := codes(trace.BatchFilter{Q: kept[:16]}); !got[kept] {
			t.Errorf("by code prefix: %v", got)
		}
		if got := codes(trace.BatchFilter{Q: "苹果"}); !got[kept] || !got[sold] {
			t.Errorf("by product name: %v", got)
		}
		if got := codes(trace.BatchFilter{Q: "%"}); len(got) != 2 {
			t.Errorf("a LIKE wildcard typed in the search is not a wildcard: %v", got)
		}
		if got := codes(trace.BatchFilter{Offset: 10}); len(got) != 0 {
			t.Errorf("past the last page: %v", got)
		}
		// the buyer sees the incoming code as waiting, with nothing in stock yet
		bought, err := a.Trace.ListBatches(ctx, w.coopActor, trace.BatchFilter{Status: "pending"})
		if err != nil || len(bought) != 1 || bought[0].TraceCode != pending || bought[0].Stock != 0 || bought[0].Status != "pending" {
			t.Errorf("the buyer's waiting codes: %+v %v", bought, err)
		}
		if _, err := a.Trace.ListBatches(ctx, w.farmActor, trace.BatchFilter{Status: "lost"}); err == nil {
			t.Error("an unknown status was accepted")
		}
	})
}
