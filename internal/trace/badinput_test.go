package trace_test

import (
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
)

func fieldNames(r *apptest.Response) []string {
	var out []string
	errs, _ := r.Get("errors").([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok {
			out = append(out, fmt.Sprint(m["field"]))
		}
	}
	return out
}

func hasField(r *apptest.Response, f string) bool {
	for _, x := range fieldNames(r) {
		if x == f {
			return true
		}
	}
	return false
}

// wrongCheckDigit changes the last digit of a code.
func wrongCheckDigit(code string) string {
	last := code[len(code)-1]
	return code[:len(code)-1] + string('0'+(last-'0'+1)%10)
}

// TestBadInput: each refusal is a 4xx naming the field, and nothing is
// written (stock and row counts unchanged).
func TestBadInput(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		lot := batch(t, w.farmC, "apple", 400, "kg", daysAgo(3))
		sale := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 100, "buyer_operator_code": w.coop.Code}).Expect(t, 201)
		pending := sale.Str("trace_code")
		coopLot := batch(t, w.coopC, "apple", 50, "kg", daysAgo(1))
		coopLot2 := batch(t, w.coopC, "apple", 50, "kg", daysAgo(1))

		tests := []struct {
			name   string
			client *apptest.Client
			method string
			path   string
			body   any
			status int
			field  string // "" when the refusal must not reveal anything (404)
		}{
			{"over-shipping", w.farmC, "POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 301, "buyer_operator_code": w.coop.Code}, 409, "quantity"},
			{"selling another operator's batch", w.coopC, "POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 1, "buyer_operator_code": w.far.Code}, 403, "from_code"},
			{"splitting another operator's batch", w.coopC, "POST", "/api/v1/batches/" + lot + "/split", map[string]any{"parts": []float64{1}}, 403, "code"},
			{"merging another operator's batch", w.coopC, "POST", "/api/v1/merges", map[string]any{"product_code": "apple",
				"inputs": []map[string]any{{"code": coopLot, "quantity": 1}, {"code": lot, "quantity": 1}}}, 403, "inputs[1].code"},
			{"transforming another operator's batch", w.coopC, "POST", "/api/v1/transformations", map[string]any{
				"inputs": []map[string]any{{"code": lot, "quantity": 1}}, "outputs": []map[string]any{{"product_code": "apple", "quantity": 1, "unit": "kg"}}}, 403, "inputs[0].code"},
			{"confirming someone else's transfer", w.farC, "POST", "/api/v1/transfers/" + pending + "/confirm", map[string]any{"received_quantity": 100}, 404, ""},
			{"the seller confirming its own sale", w.farmC, "POST", "/api/v1/transfers/" + pending + "/confirm", map[string]any{"received_quantity": 100}, 404, ""},
			{"rejecting someone else's transfer", w.farC, "POST", "/api/v1/transfers/" + pending + "/reject", map[string]any{"reason": "x"}, 404, ""},
			{"buyer code with a wrong check digit", w.farmC, "POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 1, "buyer_operator_code": wrongCheckDigit(w.coop.Code)}, 422, "buyer_operator_code"},
			{"unknown buyer code", w.farmC, "POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 1, "buyer_operator_code": "037068699999999990"}, 422, "buyer_operator_code"},
			{"from code with a wrong check digit", w.farmC, "POST", "/api/v1/transfers", map[string]any{"from_code": wrongCheckDigit(lot), "quantity": 1, "buyer_operator_code": w.coop.Code}, 422, "from_code"},
			{"path code with a wrong check digit", w.farmC, "GET", "/api/v1/batches/" + wrongCheckDigit(lot), nil, 400, "code"},
			{"unknown product", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "dragonfruit_x", "quantity": 1, "unit": "kg", "produced_at": today()}, 422, "product_code"},
			{"zero quantity", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 0, "unit": "kg", "produced_at": today()}, 422, "quantity"},
			{"negative quantity", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": -5, "unit": "kg", "produced_at": today()}, 422, "quantity"},
			{"negative sale", w.farmC, "POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": -1, "buyer_operator_code": w.coop.Code}, 422, "quantity"},
			{"zero split part", w.farmC, "POST", "/api/v1/batches/" + lot + "/split", map[string]any{"parts": []float64{10, 0}}, 422, "parts[1]"},
			{"more than 3 decimals", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 1.0005, "unit": "kg", "produced_at": today()}, 422, "quantity"},
			{"unit not fitting the product", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 3, "unit": "head", "produced_at": today()}, 422, "unit"},
			{"future production date", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 3, "unit": "kg", "produced_at": daysAgo(-2)}, 422, "produced_at"},
			{"malformed date", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 3, "unit": "kg", "produced_at": "2026-02-30"}, 422, "produced_at"},
			{"future shipping date", w.farmC, "POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 1, "buyer_operator_code": w.coop.Code, "shipped_at": daysAgo(-1)}, 422, "shipped_at"},
			{"shipment before production", w.farmC, "POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 1, "buyer_operator_code": w.coop.Code, "shipped_at": daysAgo(5)}, 422, "shipped_at"},
			{"merge dated before its inputs", w.coopC, "POST", "/api/v1/merges", map[string]any{"product_code": "apple", "produced_at": daysAgo(4),
				"inputs": []map[string]any{{"code": coopLot, "quantity": 1}, {"code": coopLot2, "quantity": 1}}}, 422, "produced_at"},
			{"confirmation before shipment", w.coopC, "POST", "/api/v1/transfers/" + pending + "/confirm", map[string]any{"received_quantity": 100, "received_at": daysAgo(10)}, 422, "received_at"},
			{"received more than shipped", w.coopC, "POST", "/api/v1/transfers/" + pending + "/confirm", map[string]any{"received_quantity": 101}, 422, "received_quantity"},
			{"unknown extension field", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 3, "unit": "kg", "produced_at": today(), "attributes": map[string]any{"colour": "red"}}, 422, "attributes.colour"},
			{"bad enum value", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 3, "unit": "kg", "produced_at": today(), "attributes": map[string]any{"storage": "freezer"}}, 422, "attributes.storage"},
			{"bad ear tag", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "live_pig", "quantity": 2, "unit": "head", "produced_at": today(), "attributes": map[string]any{"ear_tags": []string{"137068612345678", "23706861234567"}}}, 422, "attributes.ear_tags[1]"},
			{"required extension field", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "turbot", "quantity": 3, "unit": "kg", "produced_at": today()}, 422, "attributes.tank"},
			{"harvest inside a safety interval", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 3, "unit": "kg", "produced_at": today(),
				"inputs": []map[string]any{{"kind": "pesticide", "name": "吡虫啉", "reg_no": "PD20101234", "used_at": daysAgo(3), "interval_days": 14}}}, 422, "produced_at"},
			{"buyer and market at once", w.farmC, "POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 1, "buyer_operator_code": w.coop.Code,
				"market": map[string]any{"name": "x", "kind": "retail", "region_code": "370686"}}, 422, "buyer_operator_code"},
			{"bad market kind", w.farmC, "POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 1, "market": map[string]any{"name": "x", "kind": "supermarket", "region_code": "370686"}}, 422, "market.kind"},
			{"selling to oneself", w.farmC, "POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 1, "buyer_operator_code": w.farm.Code}, 422, "buyer_operator_code"},
			{"selling an unconfirmed circulation code", w.coopC, "POST", "/api/v1/transfers", map[string]any{"from_code": pending, "quantity": 1, "buyer_operator_code": w.far.Code}, 422, "from_code"},
			{"certificate without test reference", w.farmC, "POST", "/api/v1/batches/" + lot + "/certificates", map[string]any{"basis": "commissioned_test", "quantity": 1}, 422, "test_ref"},
			{"certificate above the stock", w.farmC, "POST", "/api/v1/batches/" + lot + "/certificates", map[string]any{"basis": "control", "quantity": 301}, 422, "quantity"},
			{"alias with a bad GTIN", w.farmC, "POST", "/api/v1/batches/" + lot + "/aliases", map[string]any{"scheme": "gs1", "value": "06901234567890/L1"}, 422, "value"},
			{"officials cannot record batches", w.supervisor, "POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 3, "unit": "kg", "produced_at": today()}, 403, ""},
			{"trace depth out of range", w.farmC, "GET", "/api/v1/trace/" + lot + "?depth=5000", nil, 422, "depth"},
			{"another county's official reading a batch", w.farRegionSupervisor, "GET", "/api/v1/batches/" + lot, nil, 404, ""},
			{"label size", w.farmC, "GET", "/api/v1/batches/" + lot + "/label.pdf?size=10x10", nil, 422, "size"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := counts(t, a)
				stockBefore := stock(t, w.farmC, lot)
				r := tc.client.Do(tc.method, tc.path, tc.body)
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
				}
				if tc.field != "" && !hasField(r, tc.field) {
					t.Fatalf("error does not name %q (fields %v): %s", tc.field, fieldNames(r), r.Body)
				}
				if r.Str("detail") == "" || r.Str("detail_zh") == "" {
					t.Fatalf("problem without a reason: %s", r.Body)
				}
				if after := counts(t, a); !reflect.DeepEqual(before, after) {
					t.Fatalf("rows written: before %v, after %v", before, after)
				}
				if got := stock(t, w.farmC, lot); got != stockBefore {
					t.Fatalf("stock changed: %v → %v", stockBefore, got)
				}
			})
		}
		// the over-shipment attempt is on record; repeated, it becomes a finding
		if count(t, a, "refused_attempts") != 1 {
			t.Fatalf("refused attempts: %d, want 1", count(t, a, "refused_attempts"))
		}
		w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 301, "buyer_operator_code": w.coop.Code}).Expect(t, 409)
		f := w.supervisor.Do("GET", "/api/v1/findings?kind=over_shipment", nil).Expect(t, 200)
		if f.Str("items.0.kind") != "over_shipment" || f.Str("items.0.code") != lot {
			t.Fatalf("over-shipment finding: %s", f.Body)
		}
	})
}

// TestConcurrentOverSale: many concurrent sales against one stock; exactly
// as many succeed as the stock allows, the rest are 409 (both engines).
func TestConcurrentOverSale(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		lot := batch(t, w.farmC, "apple", 100, "kg", today())
		const n = 8
		var wg sync.WaitGroup
		statuses := make([]int, n)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 30, "buyer_operator_code": w.coop.Code}).Status
			}()
		}
		wg.Wait()
		created, conflicts := 0, 0
		for _, s := range statuses {
			switch s {
			case http.StatusCreated:
				created++
			case http.StatusConflict:
				conflicts++
			default:
				t.Fatalf("unexpected status %d in %v", s, statuses)
			}
		}
		if created != 3 || conflicts != n-3 {
			t.Fatalf("statuses %v: %d created, %d refused; want 3 and %d", statuses, created, conflicts, n-3)
		}
		if got := stock(t, w.farmC, lot); got != 10 {
			t.Fatalf("stock = %v, want 10", got)
		}
	})
}
