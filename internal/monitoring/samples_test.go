package monitoring_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

const pw = "monitor-pass-2026"

type mworld struct {
	a    *app.App
	anon *apptest.Client
	c    map[string]*apptest.Client
	op   map[string]operator.Operator
}

// newMWorld: a pig farm in 高州 (440981), a slaughterhouse in 英德
// (441881), a trader in 蒲江 (510131, another province), an apple farm
// and a tea factory in 栖霞 (370686); a tester and a supervisor per county.
func newMWorld(t *testing.T, a *app.App) *mworld {
	t.Helper()
	w := &mworld{a: a, anon: apptest.NewClient(t, apptest.Server(t, a)), c: map[string]*apptest.Client{}, op: map[string]operator.Operator{}}
	for _, o := range []struct{ key, name, kind, cat, region, product string }{
		{"pigfarm", "高州良种生猪养殖场", "enterprise", "producer", "440981", "live_pig"},
		{"slaughter", "英德生猪定点屠宰厂", "slaughterhouse", "producer_trader", "441881", "pork_cuts"},
		{"trader", "蒲江肉品商贸有限公司", "enterprise", "trader", "510131", "pork_cuts"},
		{"apples", "栖霞苹果合作社", "cooperative", "producer", "370686", "apple"},
		{"tea", "栖霞茶叶加工厂", "enterprise", "producer", "370686", "green_tea"},
		{"maize", "栖霞玉米种植合作社", "cooperative", "producer", "370686", "maize"},
	} {
		op, u, p := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: o.name, Kind: o.kind, Category: o.cat, RegionCode: o.region, Products: []string{o.product}})
		w.op[o.key], w.c[o.key] = op, w.anon.Login(u, p)
	}
	for _, u := range []struct{ name, role, region string }{{"gz-tester", "tester", "440981"}, {"gz-sup", "supervisor", "440981"}, {"yd-sup", "supervisor", "441881"},
		{"pj-sup", "supervisor", "510131"}, {"qx-tester", "tester", "370686"}, {"yd-tester", "tester", "441881"}, {"gz-enf", "enforcer", "440981"}} {
		if _, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: u.name, Password: pw, Name: u.name, Role: u.role, RegionCode: u.region}); err != nil {
			t.Fatal(err)
		}
		w.c[u.name] = w.anon.Login(u.name, pw)
	}
	return w
}

func day(n int) string { return time.Now().In(platform.ChinaTZ).AddDate(0, 0, n).Format(time.DateOnly) }

func (w *mworld) batch(t *testing.T, who, product string, qty float64, unit string) string {
	t.Helper()
	return w.c[who].Do("POST", "/api/v1/batches", map[string]any{"product_code": product, "quantity": qty, "unit": unit, "produced_at": day(-2),
		"origin": "基地"}).Expect(t, 201).Str("trace_code")
}

// sell sells qty of from to buyer, who confirms; it returns the buyer's code.
func (w *mworld) sell(t *testing.T, seller, buyer, from string, qty float64) string {
	t.Helper()
	code := w.c[seller].Do("POST", "/api/v1/transfers", map[string]any{"from_code": from, "quantity": qty, "buyer_operator_code": w.op[buyer].Code}).Expect(t, 201).Str("trace_code")
	w.c[buyer].Do("POST", "/api/v1/transfers/"+code+"/confirm", map[string]any{"received_quantity": qty}).Expect(t, 200)
	return code
}

// TestClenbuterolRecall: a clenbuterol-positive pig sample fails; in the
// same transaction the farm's batch and everything downstream — the
// slaughterhouse's (another county) and the trader's (another province) —
// is held under a recall; a further sale is refused with the recall's id;
// the downstream county's supervisor sees the alert; the recall closes only
// when every held batch has a disposition.
func TestClenbuterolRecall(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newMWorld(t, a)
		pigs := w.batch(t, "pigfarm", "live_pig", 20, "head")
		atSlaughter := w.sell(t, "pigfarm", "slaughter", pigs, 10)
		parts := w.c["slaughter"].Do("POST", "/api/v1/batches/"+atSlaughter+"/split", map[string]any{"parts": []float64{6, 4}}).Expect(t, 201)
		part := parts.Str("codes.0")
		atTrader := w.sell(t, "slaughter", "trader", part, 2)

		w.c["yd-tester"].Do("POST", "/api/v1/samples", map[string]any{"operator_code": w.op["pigfarm"].Code, "batch_code": pigs, "sample_no": "X-1",
			"sampled_at": day(0), "kind": "lab", "items": []map[string]any{{"substance": "clenbuterol", "value": 2, "unit": "μg/kg"}}}).Expect(t, 404)
		r := w.c["gz-tester"].Do("POST", "/api/v1/samples", map[string]any{"operator_code": w.op["pigfarm"].Code, "batch_code": pigs, "sample_no": "GZ-2026-001",
			"sampled_at": day(0), "place": "养殖场", "agency": "高州市农产品质量安全检测中心", "method": "GB/T 22286", "kind": "lab",
			"items": []map[string]any{{"substance": "克仑特罗", "value": 2.3, "unit": "μg/kg", "lod": 0.5}, {"substance": "ractopamine", "value": 0.1, "unit": "μg/kg", "lod": 0.5}}}).Expect(t, 201)
		if r.Str("verdict") != "fail" || r.Str("items.0.verdict") != "fail" || r.Str("items.0.judgement") != "not_detected" || r.Str("items.1.verdict") != "pass" {
			t.Fatalf("the clenbuterol sample: %s", r.Body)
		}
		scope := r.Get("recall.batches").([]any)
		held := map[string]bool{}
		for _, b := range scope {
			held[b.(map[string]any)["code"].(string)] = true
		}
		for _, c := range []string{pigs, atSlaughter, part, atTrader} {
			if !held[c] {
				t.Errorf("%s not in the recall's scope: %s", c, r.Body)
			}
		}
		if regions := fmt.Sprint(r.Get("recall.regions")); regions != "[440981 441881 510131]" {
			t.Errorf("recall regions: %s", regions)
		}
		recall := r.Str("recall.id")
		pdf := w.c["gz-sup"].Do("GET", "/api/v1/samples/"+r.Str("id")+"/report.pdf", nil).Expect(t, 200)
		if !bytes.HasPrefix(pdf.Body, []byte("%PDF-")) {
			t.Fatalf("the test report is not a PDF: %.40q", pdf.Body)
		}
		w.c["pj-sup"].Do("GET", "/api/v1/samples/"+r.Str("id")+"/report.pdf", nil).Expect(t, 404)

		// held: no sale, split or certificate
		if x := w.c["slaughter"].Do("POST", "/api/v1/transfers", map[string]any{"from_code": part, "quantity": 1, "buyer_operator_code": w.op["trader"].Code}).Expect(t, 409); x.Str("recall_id") != recall {
			t.Fatalf("sale of a held batch: %s", x.Body)
		}
		w.c["slaughter"].Do("POST", "/api/v1/batches/"+atSlaughter+"/split", map[string]any{"parts": []float64{1}}).Expect(t, 409)
		w.c["pigfarm"].Do("POST", "/api/v1/transfers", map[string]any{"from_code": pigs, "quantity": 1, "buyer_operator_code": w.op["slaughter"].Code}).Expect(t, 409)

		// the downstream counties' supervisors see the alert
		for _, sup := range []string{"yd-sup", "pj-sup"} {
			f := w.c[sup].Do("GET", "/api/v1/findings?kind=recall_hold", nil).Expect(t, 200)
			if len(f.Get("items").([]any)) != 1 {
				t.Fatalf("%s sees no recall alert: %s", sup, f.Body)
			}
		}
		if f := w.c["gz-sup"].Do("GET", "/api/v1/findings?kind=recall_hold", nil).Expect(t, 200); f.Str("items.0.operator_code") != w.op["pigfarm"].Code {
			t.Fatalf("the sampled county's alert does not name the farm (to file a case from it): %s", f.Body)
		}
		// a draft case in the farm's county, for its enforcer to file or decline
		drafts := w.c["gz-enf"].Do("GET", "/api/v1/cases?status=draft", nil).Expect(t, 200)
		if len(drafts.Get("items").([]any)) != 1 || drafts.Str("items.0.source") != "sample" || drafts.Str("items.0.source_id") != r.Str("id") ||
			drafts.Str("items.0.operators.0.operator_code") != w.op["pigfarm"].Code || drafts.Str("items.0.due_on") == "" ||
			!strings.Contains(drafts.Str("items.0.summary"), "克仑特罗 2.3 μg/kg（限量 不得检出") {
			t.Fatalf("the failed sample's draft case: %s", drafts.Body)
		}
		if n := len(w.c["pj-sup"].Do("GET", "/api/v1/cases?status=draft", nil).Expect(t, 200).Get("items").([]any)); n != 0 {
			t.Errorf("a downstream county sees the farm's draft case: %d", n)
		}
		draft := fmt.Sprint(drafts.Get("items.0.id"))
		w.c["gz-enf"].Do("POST", "/api/v1/cases/"+draft+"/steps", map[string]any{"step": "investigated"}).Expect(t, 422)
		w.c["gz-enf"].Do("POST", "/api/v1/cases/"+draft+"/steps", map[string]any{"step": "closed"}).Expect(t, 422) // declining needs a reason
		if c := w.c["gz-enf"].Do("POST", "/api/v1/cases/"+draft+"/steps", map[string]any{"step": "filed"}).Expect(t, 200); c.Str("status") != "filed" ||
			c.Str("filed_by_name") != "gz-enf" || c.Str("next.0") != "investigated" {
			t.Fatalf("filing the draft: %s", c.Body)
		}
		// a case naming a sample: the sample must exist in reach
		caseIn := map[string]any{"source": "sample", "source_id": "NO-SUCH", "operator_codes": []string{w.op["pigfarm"].Code}, "violation": "other", "summary": "复检"}
		w.c["gz-enf"].Do("POST", "/api/v1/cases", caseIn).Expect(t, 422)
		caseIn["source_id"] = "GZ-2026-001"
		if c := w.c["gz-enf"].Do("POST", "/api/v1/cases", caseIn).Expect(t, 201); c.Str("source_id") != r.Str("id") {
			t.Fatalf("a case from a sample number: %s", c.Body)
		}
		w.c["yd-sup"].Do("POST", "/api/v1/recalls/"+recall+"/release", map[string]any{"reason": ""}).Expect(t, 422)
		w.c["yd-sup"].Do("POST", "/api/v1/recalls/"+recall+"/confirm", nil).Expect(t, 200)

		// the 24-hour spreadsheet of the chain, from the slaughterhouse's county
		csv := w.c["yd-sup"].Do("GET", "/api/v1/recall-sheet?code="+atSlaughter+"&format=csv", nil).Expect(t, 200)
		for _, want := range []string{"event type", "生产/采收 production," + pigs, "发货 shipping," + atSlaughter, "收货 receiving," + atSlaughter,
			"加工/分装 transformation," + part, "发货 shipping," + atTrader, "收货 receiving," + atTrader} {
			if !strings.Contains(string(csv.Body), want) {
				t.Errorf("the recall sheet lacks %q:\n%s", want, csv.Body)
			}
		}
		x := w.c["yd-sup"].Do("GET", "/api/v1/recall-sheet?code="+atSlaughter, nil).Expect(t, 200)
		book, err := excelize.OpenReader(bytes.NewReader(x.Body))
		if err != nil {
			t.Fatal(err)
		}
		sheetRows, _ := book.GetRows(book.GetSheetName(0))
		if len(sheetRows) != 2+7 || sheetRows[1][1] != "traceability lot code" { // 2 headers; the pigs, 2 split parts, 2 transfers × (shipping, receiving)
			t.Errorf("xlsx rows: %d %v", len(sheetRows), sheetRows)
		}
		w.c["pj-sup"].Do("GET", "/api/v1/recall-sheet?code="+atSlaughter, nil).Expect(t, 404)
		w.c["slaughter"].Do("GET", "/api/v1/recall-sheet?code="+atSlaughter, nil).Expect(t, 403)

		// selected by operator, by product in a region, by dates: the same
		// chain; a range holding no lot gives the headers only
		lines := func(who, query string) int {
			body := string(w.c[who].Do("GET", "/api/v1/recall-sheet?format=csv&"+query, nil).Expect(t, 200).Body)
			return strings.Count(strings.TrimSpace(body), "\n") + 1
		}
		for _, c := range []struct{ who, query string }{{"yd-sup", "operator=" + w.op["slaughter"].Code}, {"gz-sup", "product=live_pig&region=440981&from=" + day(-2) + "&to=" + day(0)}} {
			if n := lines(c.who, c.query); n != 2+7 {
				t.Errorf("recall sheet %s: %d lines, want 9", c.query, n)
			}
		}
		if n := lines("gz-sup", "product=live_pig&from="+day(1)); n != 2 {
			t.Errorf("a date range after every lot: %d lines, want the 2 headers", n)
		}
		for _, bad := range []struct{ query, field string }{{"", "code"}, {"code=" + pigs + "&operator=" + w.op["pigfarm"].Code, "code"},
			{"product=live_pig&region=441881", "region"}, {"product=live_pig&from=2026-13-01", "from"}, {"product=live_pig&from=" + day(0) + "&to=" + day(-1), "to"}} {
			if e := w.c["gz-sup"].Do("GET", "/api/v1/recall-sheet?"+bad.query, nil).Expect(t, 422); !strings.Contains(string(e.Body), `"`+bad.field+`"`) {
				t.Errorf("recall sheet %q: want an error on %s: %s", bad.query, bad.field, e.Body)
			}
		}
		w.c["gz-sup"].Do("GET", "/api/v1/recall-sheet?operator="+w.op["trader"].Code, nil).Expect(t, 200) // out of jurisdiction: no lot of it

		// dispositions: the recall closes with the last one
		owner := map[string]string{pigs: "pigfarm", atSlaughter: "slaughter", part: "slaughter", atTrader: "trader"}
		w.c["trader"].Do("POST", "/api/v1/batches/"+part+"/disposition", map[string]any{"action": "destroyed"}).Expect(t, 403)
		codes := []string{}
		for c := range held {
			codes = append(codes, c)
		}
		for i, c := range codes {
			who := owner[c]
			if who == "" {
				who = "slaughter" // the split's second part
			}
			rr := w.c[who].Do("POST", "/api/v1/batches/"+c+"/disposition", map[string]any{"action": "destroyed", "note": "无害化处理"}).Expect(t, 200)
			want := "confirmed"
			if i == len(codes)-1 {
				want = "closed"
			}
			if rr.Str("status") != want {
				t.Fatalf("after %d of %d dispositions the recall is %s: %s", i+1, len(codes), rr.Str("status"), rr.Body)
			}
		}
		if st := w.c["gz-sup"].Do("GET", "/api/v1/recalls/"+recall, nil).Expect(t, 200).Str("status"); st != "closed" {
			t.Fatalf("recall after every disposition: %s", st)
		}
	})
}

// TestSampleJudgements: an apple sample under every limit passes; an
// unknown substance and one without a limit are not judged (never
// passed); units convert; the tea limit in force on the sampling date
// applies (the same value passes under GB 2763-2016, fails under
// GB 2763-2026); a batch of another operator is refused; a quick test is
// screening only.
func TestSampleJudgements(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newMWorld(t, a)
		apples := w.batch(t, "apples", "apple", 500, "kg")
		tester := w.c["qx-tester"]
		sample := func(no, code, date, kind string, items ...map[string]any) *apptest.Response {
			return tester.Do("POST", "/api/v1/samples", map[string]any{"operator_code": w.op["apples"].Code, "batch_code": code, "sample_no": no,
				"sampled_at": date, "kind": kind, "items": items})
		}
		r := sample("QX-1", apples, day(0), "lab", map[string]any{"substance": "chlorpyrifos", "value": 0.2, "unit": "mg/kg"},
			map[string]any{"substance": "吡虫啉", "value": 500, "unit": "μg/kg"}, map[string]any{"substance": "foo-cide", "value": 1, "unit": "mg/kg"},
			map[string]any{"substance": "protein", "value": 1, "unit": "g/100g"}, map[string]any{"substance": "methomyl", "value": 0.1, "unit": "mg/L"}).Expect(t, 201)
		if r.Str("verdict") != "pass" || r.Str("items.1.verdict") != "pass" || r.Str("items.1.in_limit_unit") != "0.5" ||
			r.Str("items.2.reason") != "unknown_substance" || r.Str("items.3.reason") != "no_limit" || r.Str("items.4.reason") != "unit" || r.Get("recall") != nil {
			t.Fatalf("apple sample: %s", r.Body)
		}
		teaC := w.c["tea"]
		tea := teaC.Do("POST", "/api/v1/batches", map[string]any{"product_code": "green_tea", "quantity": 100, "unit": "kg", "produced_at": day(-2), "origin": "茶园"}).Expect(t, 201).Str("trace_code")
		for date, want := range map[string]string{"2020-05-01": "pass", "2026-03-02": "fail"} {
			r := tester.Do("POST", "/api/v1/samples", map[string]any{"operator_code": w.op["tea"].Code, "batch_code": tea, "sample_no": "TEA-" + date,
				"sampled_at": date, "kind": "lab", "items": []map[string]any{{"substance": "carbofuran", "value": 0.03, "unit": "mg/kg"}}}).Expect(t, 201)
			if r.Str("verdict") != want {
				t.Errorf("tea carbofuran 0.03 mg/kg sampled %s: %s (limit %s %s-%s)", date, r.Str("verdict"), r.Str("items.0.limit"), r.Str("items.0.standard"), r.Str("items.0.edition"))
			}
		}
		// a limit GB 2763-2026 changed: glyphosate in maize, 1 mg/kg under
		// GB 2763-2021, 5 mg/kg from 2026-03-01 (docs/research/residue-limits.md)
		maize := w.c["maize"].Do("POST", "/api/v1/batches", map[string]any{"product_code": "maize", "quantity": 2, "unit": "t", "produced_at": day(-2), "origin": "地块 7"}).Expect(t, 201).Str("trace_code")
		for date, want := range map[string][2]string{"2026-02-20": {"fail", "2021"}, "2026-03-02": {"pass", "2026"}} {
			r := tester.Do("POST", "/api/v1/samples", map[string]any{"operator_code": w.op["maize"].Code, "batch_code": maize, "sample_no": "MZ-" + date,
				"sampled_at": date, "kind": "lab", "items": []map[string]any{{"substance": "草甘膦", "value": 3, "unit": "mg/kg"}}}).Expect(t, 201)
			if r.Str("verdict") != want[0] || r.Str("items.0.edition") != want[1] || r.Str("items.0.standard") != "GB 2763" {
				t.Errorf("maize glyphosate 3 mg/kg sampled %s: %s under %s-%s (limit %s), want %s under GB 2763-%s", date, r.Str("verdict"),
					r.Str("items.0.standard"), r.Str("items.0.edition"), r.Str("items.0.limit"), want[0], want[1])
			}
		}
		if r := sample("QX-2", tea, day(0), "lab", map[string]any{"substance": "chlorpyrifos", "value": 0.2, "unit": "mg/kg"}).Expect(t, 422); r.Str("errors.0.field") != "batch_code" {
			t.Fatalf("another operator's batch: %s", r.Body)
		}
		sample("QX-1", apples, day(0), "lab", map[string]any{"substance": "chlorpyrifos", "value": 0.2, "unit": "mg/kg"}).Expect(t, 422)
		q := sample("QX-Q1", apples, day(0), "quick", map[string]any{"substance": "chlorpyrifos", "result": "positive"}).Expect(t, 201)
		if q.Str("verdict") != "positive" || q.Get("recall") != nil {
			t.Fatalf("quick test: %s", q.Body)
		}
		// apples are still sellable after a pass and a positive screening
		w.c["apples"].Do("POST", "/api/v1/transfers", map[string]any{"from_code": apples, "quantity": 10, "buyer_operator_code": w.op["tea"].Code}).Expect(t, 201)
	})
}
