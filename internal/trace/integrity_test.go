package trace_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
)

// fieldCode is the error code given for field f ("" when not named).
func fieldCode(r *apptest.Response, f string) string {
	errs, _ := r.Get("errors").([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok && m["field"] == f {
			return fmt.Sprint(m["code"])
		}
	}
	return ""
}

// refused checks a 422 naming field (with error code when given), with a
// Chinese and an English reason, and that no table in tables changed.
func refused(t *testing.T, a *app.App, tables []string, do func() *apptest.Response, field, code string) *apptest.Response {
	t.Helper()
	before := tableCounts(t, a, tables)
	r := do()
	if r.Status != 422 {
		t.Fatalf("status %d, want 422: %s", r.Status, r.Body)
	}
	if !hasField(r, field) {
		t.Fatalf("error does not name %q (fields %v): %s", field, fieldNames(r), r.Body)
	}
	if code != "" && fieldCode(r, field) != code {
		t.Fatalf("field %s: code %q, want %q: %s", field, fieldCode(r, field), code, r.Body)
	}
	if r.Str("detail") == "" || r.Str("detail_zh") == "" {
		t.Fatalf("problem without a reason: %s", r.Body)
	}
	if after := tableCounts(t, a, tables); !reflect.DeepEqual(before, after) {
		t.Fatalf("rows written: before %v, after %v", before, after)
	}
	return r
}

// integrityTables are the tables a refused write must leave alone.
var integrityTables = append(append([]string{}, writeTables...), "findings", "refused_attempts", "audit_log", "outbox", "operators")

func tableCounts(t *testing.T, a *app.App, tables []string) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, tb := range tables {
		m[tb] = count(t, a, tb)
	}
	// the sum of all serials: a consumed code serial shows here
	var serials int64
	if err := a.DB.QueryRow(context.Background(), `SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM code_sequences`).Scan(&serials); err != nil {
		t.Fatal(err)
	}
	m["code_sequences.value"] = int(serials)
	return m
}

// findingsOf lists the recorded findings of kind on code.
func findingsOf(t *testing.T, a *app.App, kind, code string) int {
	t.Helper()
	var n int
	if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM findings WHERE kind = $1 AND code = $2`, kind, code).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// buy records a batch at the farm, sells it to the cooperative and confirms
// it; it returns the cooperative's circulation code.
func buy(t *testing.T, w *world, product string, qty float64, unit string, attrs map[string]any) string {
	t.Helper()
	body := map[string]any{"product_code": product, "quantity": qty, "unit": unit, "produced_at": daysAgo(3), "origin": "试验基地"}
	if attrs != nil {
		body["attributes"] = attrs
	}
	lot := w.farmC.Do("POST", "/api/v1/batches", body).Expect(t, 201).Str("trace_code")
	circ := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": qty, "buyer_operator_code": w.coop.Code,
		"shipped_at": daysAgo(3)}).Expect(t, 201).Str("trace_code")
	w.coopC.Do("POST", "/api/v1/transfers/"+circ+"/confirm", map[string]any{"received_quantity": qty, "received_at": daysAgo(3)}).Expect(t, 200)
	return circ
}

// TestMergeOneProduct: a merge mixes lots of one product only (apples into
// "pear", or apples with pears, is refused naming the input).
func TestMergeOneProduct(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		a1, a2 := batch(t, w.coopC, "apple", 50, "kg", daysAgo(2)), batch(t, w.coopC, "apple", 30, "kg", daysAgo(2))
		pear := batch(t, w.coopC, "pear", 20, "kg", daysAgo(2))
		merge := func(product string, codes ...string) func() *apptest.Response {
			return func() *apptest.Response {
				var in []map[string]any
				for _, c := range codes {
					in = append(in, map[string]any{"code": c, "quantity": 10})
				}
				return w.coopC.Do("POST", "/api/v1/merges", map[string]any{"product_code": product, "inputs": in})
			}
		}
		refused(t, a, integrityTables, merge("pear", a1, a2), "inputs[0].code", "product_family")
		refused(t, a, integrityTables, merge("apple", a1, pear), "inputs[1].code", "product_family")
		ok := merge("apple", a1, a2)().Expect(t, 201)
		if got := stock(t, w.coopC, ok.Str("codes.0")); got != 20 {
			t.Fatalf("merged stock %v", got)
		}
	})
}

// TestTransformYield: outputs outside the yield range of their inputs are
// refused unless an override reason is given (then flagged); outputs with
// no rule may not outweigh the inputs; outputs unrelated to the inputs and
// outside the operator's registered business are flagged.
func TestTransformYield(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		pigs := buy(t, w, "live_pig", 10, "head", nil)
		carcass := func(kg float64, override string) func() *apptest.Response {
			return func() *apptest.Response {
				body := map[string]any{"produced_at": daysAgo(1), "inputs": []map[string]any{{"code": pigs, "quantity": 10}},
					"outputs": []map[string]any{{"product_code": "pork_carcass", "quantity": kg, "unit": "kg",
						"attributes": map[string]any{"slaughter_batch": "TZ-1"}}}}
				if override != "" {
					body["override_reason"] = override
				}
				return w.coopC.Do("POST", "/api/v1/transformations", body)
			}
		}
		// 10 pigs (50–250 kg each) cannot give 5 t of carcass, nor only 50 kg
		r := refused(t, a, integrityTables, carcass(5000, ""), "outputs[0].quantity", "yield")
		if !strings.Contains(r.Str("errors.0.message_zh"), "出成率") {
			t.Fatalf("the refusal does not explain the yield: %s", r.Body)
		}
		refused(t, a, integrityTables, carcass(50, ""), "outputs[0].quantity", "yield")
		// accepted with a reason, and flagged
		flagged := carcass(5000, "含外购白条，补录")().Expect(t, 201).Str("codes.0")
		if findingsOf(t, a, "implausible_yield", flagged) != 1 {
			t.Fatal("an overridden yield is not flagged")
		}

		// 5 kg apples → 5 000 kg pork: no rule, and heavier than the inputs
		apples := batch(t, w.coopC, "apple", 5, "kg", daysAgo(2))
		refused(t, a, integrityTables, func() *apptest.Response {
			return w.coopC.Do("POST", "/api/v1/transformations", map[string]any{"inputs": []map[string]any{{"code": apples, "quantity": 5}},
				"outputs": []map[string]any{{"product_code": "pork_carcass", "quantity": 5000, "unit": "kg", "attributes": map[string]any{"slaughter_batch": "X"}}}})
		}, "outputs[0].quantity", "yield")
		// a plausible weight into an unrelated product outside the registered business: accepted, flagged
		odd := w.coopC.Do("POST", "/api/v1/transformations", map[string]any{"inputs": []map[string]any{{"code": apples, "quantity": 5}},
			"outputs": []map[string]any{{"product_code": "tomato", "quantity": 4, "unit": "kg"}}}).Expect(t, 201).Str("codes.0")
		if findingsOf(t, a, "unrelated_output", odd) != 1 {
			t.Fatal("an unrelated output outside the registered business is not flagged")
		}

		// realistic processing passes without findings: 100 kg fresh leaves → 24 kg green tea
		leaf := buy(t, w, "tea_fresh_leaf", 100, "kg", nil)
		tea := w.coopC.Do("POST", "/api/v1/transformations", map[string]any{"inputs": []map[string]any{{"code": leaf, "quantity": 100}},
			"outputs": []map[string]any{{"product_code": "green_tea", "quantity": 24, "unit": "kg"}}}).Expect(t, 201).Str("codes.0")
		var n int
		if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM findings WHERE code = $1`, tea).Scan(&n); err != nil || n != 0 {
			t.Fatalf("plausible tea processing flagged (%d, %v)", n, err)
		}
		// 100 kg leaves → 60 kg tea is refused
		leaf2 := buy(t, w, "tea_fresh_leaf", 100, "kg", nil)
		refused(t, a, integrityTables, func() *apptest.Response {
			return w.coopC.Do("POST", "/api/v1/transformations", map[string]any{"inputs": []map[string]any{{"code": leaf2, "quantity": 100}},
				"outputs": []map[string]any{{"product_code": "green_tea", "quantity": 60, "unit": "kg"}}})
		}, "outputs[0].quantity", "yield")
	})
}

// TestCorrectionRaisedDownstream: raising a batch's quantity after goods
// left it is accepted and flagged; before any movement it is not.
func TestCorrectionRaisedDownstream(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		quiet := batch(t, w.farmC, "apple", 100, "kg", daysAgo(3))
		w.farmC.Do("POST", "/api/v1/batches/"+quiet+"/corrections", map[string]any{"quantity": 120, "reason": "过磅后更正"}).Expect(t, 201)
		if findingsOf(t, a, "quantity_raised", quiet) != 0 {
			t.Fatal("a correction before any movement is flagged")
		}
		moved := batch(t, w.farmC, "apple", 100, "kg", daysAgo(3))
		w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": moved, "quantity": 60, "buyer_operator_code": w.coop.Code}).Expect(t, 201)
		w.farmC.Do("POST", "/api/v1/batches/"+moved+"/corrections", map[string]any{"quantity": 180, "reason": "补录"}).Expect(t, 201)
		if findingsOf(t, a, "quantity_raised", moved) != 1 {
			t.Fatal("raising the quantity after a sale is not flagged")
		}
		if got := stock(t, w.farmC, moved); got != 120 {
			t.Fatalf("stock %v, want 120", got)
		}
	})
}

// TestCertificateRules: no compliance certificate for slaughtered meat, raw
// milk or grain, nor for a batch with an open safety-interval finding; the
// contact prints in full when the issuer chooses to show it.
func TestCertificateRules(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		cert := func(code string) func() *apptest.Response {
			return func() *apptest.Response {
				return w.farmC.Do("POST", "/api/v1/batches/"+code+"/certificates", map[string]any{"basis": "control", "quantity": 1})
			}
		}
		for _, p := range []struct {
			product, unit string
			attrs         map[string]any
		}{{"pork_carcass", "kg", map[string]any{"slaughter_batch": "TZ-9"}}, {"raw_milk", "kg", nil}, {"wheat", "kg", nil}} {
			body := map[string]any{"product_code": p.product, "quantity": 10, "unit": p.unit, "produced_at": daysAgo(1), "attributes": p.attrs}
			code := w.farmC.Do("POST", "/api/v1/batches", body).Expect(t, 201).Str("trace_code")
			refused(t, a, integrityTables, cert(code), "code", "not_certifiable")
		}
		// harvested inside a safety interval (overridden): no certificate, here or downstream
		si := w.farmC.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 80, "unit": "kg", "produced_at": daysAgo(1),
			"inputs":          []map[string]any{{"kind": "pesticide", "name": "吡虫啉", "used_at": daysAgo(5), "interval_days": 14}},
			"override_reason": "订单急需"}).Expect(t, 201).Str("trace_code")
		refused(t, a, integrityTables, cert(si), "code", "safety_interval")
		parts := w.farmC.Do("POST", "/api/v1/batches/"+si+"/split", map[string]any{"parts": []float64{10}}).Expect(t, 201)
		refused(t, a, integrityTables, cert(parts.Str("codes.0")), "code", "safety_interval")
		// the date was mistyped: the correction closes the finding
		w.farmC.Do("POST", "/api/v1/batches/"+si+"/corrections", map[string]any{"produced_at": daysAgo(4), "reason": "采收日期录错"}).Expect(t, 201)
		refused(t, a, integrityTables, cert(si), "code", "safety_interval") // still inside (used 5 days ago, 14 days)
		w.farmC.Do("POST", "/api/v1/batches/"+si+"/corrections", map[string]any{"produced_at": daysAgo(6), "reason": "采收在施药之前"}).Expect(t, 201)
		cert(si)().Expect(t, 201)
		cert(parts.Str("codes.0"))().Expect(t, 201)
		ok := batch(t, w.farmC, "apple", 50, "kg", daysAgo(1))
		c := cert(ok)().Expect(t, 201)
		if c.Get("show_contact") != true {
			t.Fatalf("the contact is shown by default: %s", c.Body)
		}
		hidden := w.farmC.Do("POST", "/api/v1/batches/"+ok+"/certificates", map[string]any{"basis": "control", "quantity": 1, "show_contact": false}).Expect(t, 201)
		if hidden.Get("show_contact") != false {
			t.Fatalf("show_contact false: %s", hidden.Body)
		}
		if ph, err := a.Operators.ContactPhone(context.Background(), w.farm.ID); err != nil || ph != "13800000000" {
			t.Fatalf("full contact phone %q, %v", ph, err)
		}
		for _, n := range []string{c.Str("certificate_no"), hidden.Str("certificate_no")} {
			pdf := w.farmC.Do("GET", "/api/v1/certificates/"+n+"/certificate.pdf", nil).Expect(t, 200)
			if !strings.HasPrefix(string(pdf.Body), "%PDF") {
				t.Fatal("certificate PDF")
			}
		}
	})
}

// TestSmallholderOneTransaction: the temporary operator is written with the
// purchase; a refused purchase leaves no operator, serial, event or outbox
// row; the same person (ID number or phone) gets the same temporary code.
func TestSmallholderOneTransaction(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		buyFrom := func(sh map[string]any, produced, purchased string) func() *apptest.Response {
			return func() *apptest.Response {
				return w.coopC.Do("POST", "/api/v1/smallholder-purchases", map[string]any{"smallholder": sh, "purchased_at": purchased,
					"batch": map[string]any{"product_code": "apple", "quantity": 30, "unit": "kg", "produced_at": produced, "origin": "后山"}})
			}
		}
		wang := map[string]any{"name": "王大爷", "region_code": "370686", "phone": "13700002222"}
		// refused in the batch, and refused in the sale (purchase before harvest): nothing left behind
		refused(t, a, integrityTables, buyFrom(wang, daysAgo(-3), ""), "batch.produced_at", "future")
		refused(t, a, integrityTables, buyFrom(wang, daysAgo(1), daysAgo(2)), "purchased_at", "")
		first := buyFrom(wang, daysAgo(1), "")().Expect(t, 201)
		code := first.Str("smallholder_operator_code")
		// same phone, name written differently: the same person
		again := buyFrom(map[string]any{"name": "王建国", "region_code": "370686", "phone": "137 0000 2222"}, daysAgo(1), "")().Expect(t, 201)
		if again.Str("smallholder_operator_code") != code {
			t.Fatalf("same phone got a new temporary operator: %s vs %s", again.Str("smallholder_operator_code"), code)
		}
		// matched by ID number
		id := "110101199003070011"
		li := buyFrom(map[string]any{"name": "李婶", "region_code": "370686", "id_number": id}, daysAgo(1), "")().Expect(t, 201)
		li2 := buyFrom(map[string]any{"name": "李婶", "region_code": "370686", "id_number": id, "phone": "13900009999"}, daysAgo(1), "")().Expect(t, 201)
		if li.Str("smallholder_operator_code") != li2.Str("smallholder_operator_code") || li.Str("smallholder_operator_code") == code {
			t.Fatalf("ID-number match: %s, %s (wang %s)", li.Str("smallholder_operator_code"), li2.Str("smallholder_operator_code"), code)
		}
		var n int
		if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM operators WHERE category = 'temporary'`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d temporary operators (%v), want 2", n, err)
		}
	})
}

// TestWithdrawTransfer: the seller withdraws a pending sale; the stock
// returns; the buyer can no longer confirm (409); others get 404.
func TestWithdrawTransfer(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		lot := batch(t, w.farmC, "apple", 100, "kg", daysAgo(2))
		sale := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 40, "buyer_operator_code": w.coop.Code}).Expect(t, 201).Str("trace_code")
		path := "/api/v1/transfers/" + sale + "/withdraw"
		refused(t, a, integrityTables, func() *apptest.Response { return w.farmC.Do("POST", path, map[string]any{"reason": " "}) }, "reason", "")
		w.coopC.Do("POST", path, map[string]any{"reason": "x"}).Expect(t, 404) // the buyer cannot withdraw
		w.farC.Do("POST", path, map[string]any{"reason": "x"}).Expect(t, 404)
		audit := count(t, a, "audit_log")
		r := w.farmC.Do("POST", path, map[string]any{"reason": "发错货"}).Expect(t, 200)
		if r.Str("status") != "withdrawn" || r.Str("reason") != "发错货" {
			t.Fatalf("withdrawn: %s", r.Body)
		}
		if got := stock(t, w.farmC, lot); got != 100 {
			t.Fatalf("stock after withdrawal %v, want 100", got)
		}
		if count(t, a, "audit_log") <= audit {
			t.Fatal("no event for the withdrawal")
		}
		w.coopC.Do("POST", "/api/v1/transfers/"+sale+"/confirm", map[string]any{"received_quantity": 40}).Expect(t, 409)
		w.coopC.Do("POST", "/api/v1/transfers/"+sale+"/reject", map[string]any{"reason": "x"}).Expect(t, 409)
		w.farmC.Do("POST", path, map[string]any{"reason": "again"}).Expect(t, 409)
		// a confirmed sale cannot be withdrawn
		s2 := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 10, "buyer_operator_code": w.coop.Code}).Expect(t, 201).Str("trace_code")
		w.coopC.Do("POST", "/api/v1/transfers/"+s2+"/confirm", map[string]any{"received_quantity": 10}).Expect(t, 200)
		w.farmC.Do("POST", "/api/v1/transfers/"+s2+"/withdraw", map[string]any{"reason": "x"}).Expect(t, 409)
	})
}

// TestOverShipmentRule: a single near miss is recorded as an attempt, not a
// finding; a repetition within 24 h or an attempt far above the stock
// raises one finding.
func TestOverShipmentRule(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		lot := batch(t, w.farmC, "apple", 100, "kg", daysAgo(2))
		sell := func(code string, q float64) {
			w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": code, "quantity": q, "buyer_operator_code": w.coop.Code}).Expect(t, 409)
		}
		sell(lot, 110) // a typo
		if count(t, a, "refused_attempts") != 1 || findingsOf(t, a, "over_shipment", lot) != 0 {
			t.Fatal("a first near miss must be recorded as an attempt only")
		}
		sell(lot, 120)
		sell(lot, 130)
		if count(t, a, "refused_attempts") != 3 || findingsOf(t, a, "over_shipment", lot) != 1 {
			t.Fatalf("repeated attempts: %d attempts, %d findings", count(t, a, "refused_attempts"), findingsOf(t, a, "over_shipment", lot))
		}
		far := batch(t, w.farmC, "apple", 100, "kg", daysAgo(2))
		sell(far, 201)
		if findingsOf(t, a, "over_shipment", far) != 1 {
			t.Fatal("an attempt far above the stock is not a finding")
		}
	})
}
