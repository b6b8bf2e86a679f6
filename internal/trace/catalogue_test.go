package trace_test

import (
	"context"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/trace"
)

// TestCatalogueNeverWaitsOnTheDatabase: once loaded, an expired catalogue
// is still served at once — even to a caller whose context is already done,
// as a writer inside its transaction must be served — while it reloads in
// the background.
func TestCatalogueNeverWaitsOnTheDatabase(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		reloaded := trace.ExpireCatalogue(a.Trace)
		done, cancel := context.WithCancel(context.Background())
		cancel()
		p, err := a.Trace.Product(done, "apple")
		if err != nil || p.Name != "苹果" {
			t.Fatalf("an expired catalogue was not served: %+v, %v", p, err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !reloaded() {
			if time.Now().After(deadline) {
				t.Fatal("the expired catalogue was never reloaded")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
