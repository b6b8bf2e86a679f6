package trace_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/trace"
)

// written is every row count a refused request must leave unchanged: the
// trace tables, the audit log and outbox (events), and the sum of the code
// serials (no serial consumed).
func written(t *testing.T, a *app.App) map[string]int {
	t.Helper()
	m := counts(t, a)
	m["audit_log"], m["outbox"], m["operators"] = count(t, a, "audit_log"), count(t, a, "outbox"), count(t, a, "operators")
	var serials int
	if err := a.DB.QueryRow(context.Background(), `SELECT COALESCE(SUM(value), 0) FROM code_sequences`).Scan(&serials); err != nil {
		t.Fatal(err)
	}
	m["serials"] = serials
	return m
}

// TestParseQty: text quantities (form fields, query parameters) are plain
// decimals only.
func TestParseQty(t *testing.T) {
	for _, s := range []string{"12", "12.5", " 0.125 ", ".5", "5."} {
		if _, ok := trace.ParseQty(s); !ok {
			t.Errorf("ParseQty(%q) refused", s)
		}
	}
	if q, ok := trace.ParseQty(""); !ok || q != 0 {
		t.Errorf("ParseQty(\"\") = %v, %v", q, ok)
	}
	for _, s := range []string{"0x1p3", "0X10", "NaN", "nan", "Inf", "+Inf", "-Inf", "infinity", "1e3", "1E-2", "-1", "+1", "1_000",
		"1.2.3", ".", "12，5", "1,5", "٣", strings.Repeat("9", 400)} {
		if q, ok := trace.ParseQty(s); ok {
			t.Errorf("ParseQty(%q) = %v, want refused", s, q)
		}
	}
}

// TestSmallChecks: the small input rules, each refused with a 422 naming the
// field (Chinese and English), nothing written.
func TestSmallChecks(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		pigs := batch(t, w.farmC, "live_pig", 10, "head", daysAgo(5))
		pigs2 := batch(t, w.farmC, "live_pig", 4, "head", daysAgo(5))
		apples := batch(t, w.farmC, "apple", 100, "kg", daysAgo(5))
		farApples := batch(t, w.farC, "apple", 10, "kg", daysAgo(5))
		pending := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": pigs, "quantity": 3, "buyer_operator_code": w.coop.Code,
			"shipped_at": daysAgo(4)}).Expect(t, 201).Str("trace_code")
		appleSale := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": apples, "quantity": 10, "buyer_operator_code": w.coop.Code,
			"shipped_at": daysAgo(4)}).Expect(t, 201).Str("trace_code")

		tests := []struct {
			name   string
			client *apptest.Client
			method string
			path   string
			body   any
			field  string
			code   string
		}{
			// 1. count units take whole numbers
			{"1.5 head recorded", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "live_pig", "quantity": 1.5, "unit": "head", "produced_at": today()}, "quantity", "integer"},
			{"2.5 birds recorded", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "broiler", "quantity": 2.5, "unit": "bird", "produced_at": today()}, "quantity", "integer"},
			{"1.5 boxes recorded", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 1.5, "unit": "box", "produced_at": today()}, "quantity", "integer"},
			{"1.5 head sold", w.farmC, "POST", "/api/v1/transfers", map[string]any{"from_code": pigs, "quantity": 1.5, "buyer_operator_code": w.coop.Code}, "quantity", "integer"},
			{"1.5 head to market", w.farmC, "POST", "/api/v1/transfers", map[string]any{"from_code": pigs, "quantity": 1.5,
				"market": map[string]any{"name": "栖霞批发市场", "kind": "wholesale", "region_code": "370686"}}, "quantity", "integer"},
			{"split into 1.5 head", w.farmC, "POST", "/api/v1/batches/" + pigs + "/split", map[string]any{"parts": []float64{2, 1.5}}, "parts[1]", "integer"},
			{"merge of 1.5 head", w.farmC, "POST", "/api/v1/merges", map[string]any{"product_code": "live_pig",
				"inputs": []map[string]any{{"code": pigs, "quantity": 1.5}, {"code": pigs2, "quantity": 1}}}, "inputs[0].quantity", "integer"},
			{"transformation of 1.5 head", w.farmC, "POST", "/api/v1/transformations", map[string]any{
				"inputs": []map[string]any{{"code": pigs, "quantity": 1.5}},
				"outputs": []map[string]any{{"product_code": "pork_carcass", "quantity": 100, "unit": "kg",
					"attributes": map[string]any{"slaughter_batch": "TZ-01", "clenbuterol_test": "negative"}}}}, "inputs[0].quantity", "integer"},
			{"transformation into 2.5 carcass pieces", w.farmC, "POST", "/api/v1/transformations", map[string]any{
				"inputs":  []map[string]any{{"code": pigs, "quantity": 2}},
				"outputs": []map[string]any{{"product_code": "pork_carcass", "quantity": 2.5, "unit": "piece"}}}, "outputs[0].quantity", "integer"},
			{"correction to 9.5 head", w.farmC, "POST", "/api/v1/batches/" + pigs + "/corrections", map[string]any{"reason": "点错", "quantity": 9.5}, "quantity", "integer"},
			{"certificate for 1.5 head", w.farmC, "POST", "/api/v1/batches/" + pigs + "/certificates", map[string]any{"basis": "control", "quantity": 1.5}, "quantity", "integer"},
			{"1.5 head received", w.coopC, "POST", "/api/v1/transfers/" + pending + "/confirm", map[string]any{"received_quantity": 1.5}, "received_quantity", "integer"},
			{"smallholder sells 1.5 head", w.coopC, "POST", "/api/v1/smallholder-purchases", map[string]any{
				"smallholder": map[string]any{"name": "王大爷", "region_code": "370686", "phone": "13700001111"},
				"batch":       map[string]any{"product_code": "live_pig", "quantity": 1.5, "unit": "head", "produced_at": today()}}, "batch.quantity", "integer"},
			{"trace certificate for 1.5 head", w.farmC, "GET", "/api/v1/batches/" + pigs + "/trace-certificate.pdf?quantity=1.5", nil, "quantity", "integer"},

			// 2. an input is used on or before the harvest
			{"pesticide used after the harvest", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 5, "unit": "kg", "produced_at": daysAgo(3),
				"inputs": []map[string]any{{"kind": "pesticide", "name": "吡虫啉", "used_at": daysAgo(1), "interval_days": 7}}}, "inputs[0].used_at", "after_production"},
			{"vet drug used after slaughter, no interval", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "live_pig", "quantity": 2, "unit": "head", "produced_at": daysAgo(3),
				"inputs": []map[string]any{{"kind": "feed", "name": "饲料", "used_at": daysAgo(4)}, {"kind": "vet_drug", "name": "阿莫西林", "used_at": daysAgo(2)}}}, "inputs[1].used_at", "after_production"},

			// 3. quantities: no negatives, no text forms other than plain decimals
			{"negative quantity", w.farmC, "POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": -5, "unit": "kg", "produced_at": today()}, "quantity", "positive"},
			{"negative sale", w.farmC, "POST", "/api/v1/transfers", map[string]any{"from_code": apples, "quantity": -1, "buyer_operator_code": w.coop.Code}, "quantity", "positive"},
			{"negative part", w.farmC, "POST", "/api/v1/batches/" + apples + "/split", map[string]any{"parts": []float64{5, -1}}, "parts[1]", "positive"},
			{"hex float query", w.farmC, "GET", "/api/v1/batches/" + apples + "/trace-certificate.pdf?quantity=0x1p3", nil, "quantity", ""},
			{"NaN query", w.farmC, "GET", "/api/v1/batches/" + apples + "/trace-certificate.pdf?quantity=NaN", nil, "quantity", ""},
			{"Inf query", w.farmC, "GET", "/api/v1/batches/" + apples + "/trace-certificate.pdf?quantity=Inf", nil, "quantity", ""},
			{"exponent query", w.farmC, "GET", "/api/v1/batches/" + apples + "/trace-certificate.pdf?quantity=1e1", nil, "quantity", ""},
			{"negative query", w.farmC, "GET", "/api/v1/batches/" + apples + "/trace-certificate.pdf?quantity=-5", nil, "quantity", ""},

			// 4. an alias cannot name another operator's code
			{"alias = another operator's trace code", w.farmC, "POST", "/api/v1/batches/" + apples + "/aliases", map[string]any{"scheme": "provincial", "value": farApples}, "value", "other_operator"},
			{"alias = another operator's code, with dashes", w.farmC, "POST", "/api/v1/batches/" + apples + "/aliases",
				map[string]any{"scheme": "quarantine_cert", "value": farApples[:6] + "-" + farApples[6:]}, "value", "other_operator"},
			{"alias = another operator's operator code", w.farmC, "POST", "/api/v1/batches/" + apples + "/aliases", map[string]any{"scheme": "provincial", "value": w.coop.Code}, "value", "other_operator"},

			// 5. a receipt names a quantity > 0 (nothing received is a rejection)
			{"receipt without a quantity", w.coopC, "POST", "/api/v1/transfers/" + appleSale + "/confirm", map[string]any{"received_at": today()}, "received_quantity", "required"},
			{"receipt of 0", w.coopC, "POST", "/api/v1/transfers/" + appleSale + "/confirm", map[string]any{"received_quantity": 0}, "received_quantity", "required"},
			{"receipt of -1", w.coopC, "POST", "/api/v1/transfers/" + appleSale + "/confirm", map[string]any{"received_quantity": -1}, "received_quantity", "positive"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := written(t, a)
				r := tc.client.Do(tc.method, tc.path, tc.body).Expect(t, 422)
				if !hasField(r, tc.field) {
					t.Fatalf("field %q not named: %s", tc.field, r.Body)
				}
				errs, _ := r.Get("errors").([]any)
				for _, e := range errs {
					m, _ := e.(map[string]any)
					if m["field"] != tc.field {
						continue
					}
					if m["message_zh"] == "" || m["message"] == "" || m["message_zh"] == m["message"] {
						t.Errorf("messages not in Chinese and English: %s", r.Body)
					}
					if tc.code != "" && m["code"] != tc.code {
						t.Errorf("code %v, want %s: %s", m["code"], tc.code, r.Body)
					}
				}
				if after := written(t, a); !reflect.DeepEqual(before, after) {
					t.Fatalf("a refused request wrote something: %v → %v", before, after)
				}
			})
		}
		if got := stock(t, w.farmC, pigs); got != 7 {
			t.Fatalf("pig stock %v, want 7", got)
		}

		// what is allowed still is
		w.farmC.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 2.5, "unit": "kg", "produced_at": daysAgo(2),
			"inputs": []map[string]any{{"kind": "pesticide", "name": "吡虫啉", "used_at": daysAgo(2)}}}).Expect(t, 201)
		w.farmC.Do("POST", "/api/v1/batches/"+pigs+"/split", map[string]any{"parts": []float64{2, 1}}).Expect(t, 201)
		w.farmC.Do("GET", "/api/v1/batches/"+apples+"/trace-certificate.pdf?quantity=2.5", nil).Expect(t, 200)
		w.farmC.Do("POST", "/api/v1/batches/"+apples+"/aliases", map[string]any{"scheme": "provincial", "value": pigs2}).Expect(t, 201) // our own code
		w.farmC.Do("POST", "/api/v1/batches/"+apples+"/aliases", map[string]any{"scheme": "provincial", "value": "SD-GY-0042"}).Expect(t, 201)
		w.coopC.Do("POST", "/api/v1/transfers/"+pending+"/confirm", map[string]any{"received_quantity": 3}).Expect(t, 200)
		w.coopC.Do("POST", "/api/v1/transfers/"+appleSale+"/confirm", map[string]any{"received_quantity": 9.5}).Expect(t, 200)

		// the page forms parse quantities the same way: a hex float is not 8
		noRedirect := *w.srv.Client()
		noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		before := written(t, a)
		for _, q := range []string{"0x1p3", "1e1", "NaN", "1.5"} {
			form := url.Values{"product_code": {"live_pig"}, "quantity": {q}, "unit": {"head"}, "produced_at": {today()}}
			req, _ := http.NewRequest("POST", w.srv.URL+"/batches", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+w.farmC.Token)
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 422 {
				t.Errorf("form quantity %q: %d, want 422", q, resp.StatusCode)
			}
		}
		if after := written(t, a); !reflect.DeepEqual(before, after) {
			t.Fatalf("a refused form wrote something: %v → %v", before, after)
		}
	})
}
