package trace_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/platform"
)

func today() string { return platform.Today(time.Now()) }

func daysAgo(n int) string { return platform.Today(time.Now().AddDate(0, 0, -n)) }

func hasNode(r *apptest.Response, code string) bool {
	nodes, _ := r.Get("nodes").([]any)
	for _, n := range nodes {
		if m, ok := n.(map[string]any); ok && m["code"] == code {
			return true
		}
	}
	return false
}

// TestTraceEndToEnd is the acceptance path on both engines: batch →
// label (rasterised, decoded back to the /q/ URL) → certificate → sale →
// confirmation → split → merge → market entry → traces both ways; then
// over-shipping and a concurrent over-sale.
func TestTraceEndToEnd(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)

		// 1. the farm records a batch
		origin := batch(t, w.farmC, "apple", 1000, "kg", daysAgo(2))
		if got := stock(t, w.farmC, origin); got != 1000 {
			t.Fatalf("stock after recording = %v, want 1000", got)
		}

		// 2. labels: the PDF, rasterised at 150 dpi, decodes to
		// <PublicURL>/q/<code>?v=<verification token>
		r := w.farmC.Do("GET", "/api/v1/batches/"+origin+"/label.pdf?size=40x30&copies=2", nil).Expect(t, 200)
		if ct := r.Header.Get("Content-Type"); ct != "application/pdf" {
			t.Fatalf("label content type %q", ct)
		}
		if got, want := pdfQR(t, r.Body), "http://trace.test/q/"+origin+"?v="+a.Trace.Token(origin); got != want {
			t.Fatalf("label QR = %q, want %q", got, want)
		}
		w.farmC.Do("GET", "/api/v1/batches/"+origin+"/label.png", nil).Expect(t, 200)
		if r := w.farmC.Do("GET", "/api/v1/batches/"+origin+"/label.svg", nil).Expect(t, 200); !strings.Contains(string(r.Body), "<svg") {
			t.Fatalf("label.svg is not SVG: %.80s", r.Body)
		}
		prints := w.farmC.Do("GET", "/api/v1/batches/"+origin+"/prints", nil).Expect(t, 200)
		if items, _ := prints.Get("items").([]any); len(items) != 3 || prints.Str("items.2.kind") != "T" || prints.Str("items.2.copies") != "2" ||
			prints.Str("items.2.size") != "40x30" {
			t.Fatalf("print log: %s", prints.Body)
		}

		// 3. compliance certificate
		cert := w.farmC.Do("POST", "/api/v1/batches/"+origin+"/certificates", map[string]any{"basis": "self_test", "test_ref": "ZJ-2026-0312", "quantity": 600}).Expect(t, 201)
		if !strings.HasPrefix(cert.Str("certificate_no"), "HG370686") || cert.Str("pdf_url") == "" {
			t.Fatalf("certificate: %s", cert.Body)
		}
		if r := w.farmC.Do("GET", cert.Str("pdf_url"), nil).Expect(t, 200); r.Header.Get("Content-Type") != "application/pdf" {
			t.Fatal("certificate PDF content type")
		}

		// 4. sale to the cooperative by its operator code: pending circulation code
		sale := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": origin, "quantity": 600, "buyer_operator_code": w.coop.Code}).Expect(t, 201)
		circ := sale.Str("trace_code")
		if sale.Str("status") != "pending" || len(circ) != 20 || circ[0] != '2' {
			t.Fatalf("sale: %s", sale.Body)
		}
		if got := stock(t, w.farmC, origin); got != 400 {
			t.Fatalf("seller stock after sale = %v, want 400", got)
		}

		// the seller prints the trace certificate (追溯凭证) that goes with the goods
		tc := w.farmC.Do("GET", "/api/v1/batches/"+circ+"/trace-certificate.pdf", nil).Expect(t, 200)
		if got := pdfQR(t, tc.Body); got != "http://trace.test/q/"+circ+"?v="+a.Trace.Token(circ) {
			t.Fatalf("trace certificate QR = %q", got)
		}

		// 5. the buyer sees it incoming and confirms
		in := w.coopC.Do("GET", "/api/v1/transfers?direction=incoming&status=pending", nil).Expect(t, 200)
		if in.Str("items.0.trace_code") != circ || in.Str("items.0.seller.name") != w.farm.Name {
			t.Fatalf("incoming: %s", in.Body)
		}
		if r := w.coopC.Do("POST", "/api/v1/transfers/"+circ+"/confirm", map[string]any{"received_quantity": 600}).Expect(t, 200); r.Str("status") != "confirmed" {
			t.Fatalf("confirm: %s", r.Body)
		}
		if got := stock(t, w.coopC, circ); got != 600 {
			t.Fatalf("buyer stock = %v, want 600", got)
		}
		w.coopC.Do("POST", "/api/v1/transfers/"+circ+"/confirm", map[string]any{"received_quantity": 600}).Expect(t, 409)

		// 6. split and 7. merge
		split := w.coopC.Do("POST", "/api/v1/batches/"+circ+"/split", map[string]any{"parts": []float64{200, 300}}).Expect(t, 201)
		parts, _ := split.Get("codes").([]any)
		if len(parts) != 2 {
			t.Fatalf("split: %s", split.Body)
		}
		p1, p2 := parts[0].(string), parts[1].(string)
		if got := stock(t, w.coopC, circ); got != 100 {
			t.Fatalf("stock after split = %v, want 100", got)
		}
		merge := w.coopC.Do("POST", "/api/v1/merges", map[string]any{"product_code": "apple",
			"inputs": []map[string]any{{"code": p1, "quantity": 200}, {"code": p2, "quantity": 250}}}).Expect(t, 201)
		merged := merge.Str("codes.0")
		if got := stock(t, w.coopC, merged); got != 450 {
			t.Fatalf("merged stock = %v, want 450", got)
		}

		// 8. market entry
		me := w.coopC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": merged, "quantity": 450,
			"market": map[string]any{"name": "栖霞苹果批发市场", "kind": "wholesale", "region_code": "370686"}}).Expect(t, 201)
		entry := me.Str("trace_code")
		if me.Str("status") != "issued" || entry[0] != '3' || me.Str("certificate_url") == "" {
			t.Fatalf("market entry: %s", me.Body)
		}
		pdf := w.coopC.Do("GET", me.Str("certificate_url"), nil).Expect(t, 200)
		if got := pdfQR(t, pdf.Body); got != "http://trace.test/q/"+entry+"?v="+a.Trace.Token(entry) {
			t.Fatalf("market-entry certificate QR = %q", got)
		}
		if r := w.market.Do("POST", "/api/v1/transfers/"+entry+"/accept", nil).Expect(t, 200); r.Str("status") != "accepted" {
			t.Fatalf("accept: %s", r.Body)
		}

		// 9. the trace from the market entry reaches the origin, and back
		up := w.coopC.Do("GET", "/api/v1/trace/"+entry+"?direction=up", nil).Expect(t, 200)
		for _, c := range []string{origin, circ, p1, p2, merged, entry} {
			if !hasNode(up, c) {
				t.Fatalf("trace up from %s misses %s: %s", entry, c, up.Body)
			}
		}
		if edges, _ := up.Get("edges").([]any); len(edges) != 6 {
			t.Fatalf("trace up: %d edges, want 6: %s", len(edges), up.Body)
		}
		down := w.farmC.Do("GET", "/api/v1/trace/"+origin+"?direction=down", nil).Expect(t, 200)
		if !hasNode(down, entry) || !hasNode(down, merged) {
			t.Fatalf("trace down from %s misses the market entry: %s", origin, down.Body)
		}
		// officials of the county read it too; the public page shows the chain
		w.supervisor.Do("GET", "/api/v1/trace/"+entry, nil).Expect(t, 200)
		w.farRegionSupervisor.Do("GET", "/api/v1/trace/"+entry, nil).Expect(t, 404)
		pub := apptest.NewClient(t, w.srv).Do("GET", "/api/v1/public/trace/"+entry, nil).Expect(t, 200)
		if pub.Str("operator.name") != w.farm.Name || pub.Str("operator.code") != w.farm.Code || pub.Str("certificates.0.basis") != "self_test" ||
			pub.Str("status") != "accepted" || pub.Str("code_type") != "market_entry" || pub.Str("product.code") == "" || pub.Get("scans.count") == nil ||
			pub.Get("ledger.leaf_index") == nil || pub.Get("chain.0.name") != w.farm.Name {
			t.Fatalf("public trace: %s", pub.Body)
		}

		// 10. over-shipping is refused with the available quantity
		over := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": origin, "quantity": 401, "buyer_operator_code": w.coop.Code}).Expect(t, 409)
		if av, _ := over.Get("available").(float64); av != 400 {
			t.Fatalf("over-shipping: available = %v: %s", over.Get("available"), over.Body)
		}

		// 11. two concurrent sales of 60 from a stock of 100: exactly one wins
		lot := batch(t, w.farmC, "apple", 100, "kg", today())
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 60, "buyer_operator_code": w.coop.Code}).Status
			}()
		}
		wg.Wait()
		ok, conflict := 0, 0
		for _, s := range statuses {
			switch s {
			case http.StatusCreated:
				ok++
			case http.StatusConflict:
				conflict++
			}
		}
		if ok != 1 || conflict != 1 {
			t.Fatalf("concurrent sales: statuses %v, want one 201 and one 409", statuses)
		}
		if got := stock(t, w.farmC, lot); got != 40 {
			t.Fatalf("stock after concurrent sales = %v, want 40", got)
		}
	})
}
