package supervision_test

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/region"
	"agtrace/internal/supervision"
	"agtrace/internal/trace"
)

// daysOn is a clock n days after now.
func daysOn(n int) *platform.FixedClock {
	return &platform.FixedClock{T: time.Now().In(platform.ChinaTZ).AddDate(0, 0, n)}
}

// dateOn is the China date n days after today.
func dateOn(n int) string { return platform.Today(time.Now().AddDate(0, 0, n)) }

// evaluate runs the monitoring rules once on the world's database at clk.
func (w *world) evaluate(t *testing.T, clk platform.Clock) map[string]int {
	t.Helper()
	raised, err := w.service(t, clk).Evaluate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return raised
}

// findings lists the findings of a kind as c sees them.
func findings(t *testing.T, c *apptest.Client, kind string) []trace.Finding {
	t.Helper()
	return decodeAs[struct{ Items []trace.Finding }](t, c.Do("GET", "/api/v1/findings?kind="+kind, nil).Expect(t, 200)).Items
}

// raisedFor lists the findings of kind c sees about an operator (by code,
// or by name for registrations, which have no code yet).
func raisedFor(t *testing.T, c *apptest.Client, kind, operator string) []trace.Finding {
	t.Helper()
	var out []trace.Finding
	for _, f := range findings(t, c, kind) {
		if f.Kind != kind {
			t.Fatalf("asked for %s, listed %s", kind, f.Kind)
		}
		if f.OperatorCode == operator || f.OperatorName == operator {
			out = append(out, f)
		}
	}
	return out
}

// fires fails unless c sees exactly one finding of kind about each of
// hit and none about each of clean.
func fires(t *testing.T, c *apptest.Client, kind string, hit []string, clean ...string) {
	t.Helper()
	for _, op := range hit {
		if got := raisedFor(t, c, kind, op); len(got) != 1 {
			t.Errorf("%s: %d findings about %s, want 1: %+v", kind, len(got), op, findings(t, c, kind))
		}
	}
	for _, op := range clean {
		if got := raisedFor(t, c, kind, op); len(got) != 0 {
			t.Errorf("%s: raised about the clean operator %s: %+v", kind, op, got)
		}
	}
}

var regSeq atomic.Int64

// register registers an operator through the operator service, uploads a
// document and submits it (pending review, due in 5 working days);
// approve has the county's reviewer approve it. It returns the operator
// and its account's username (password apptest.OperatorPassword).
func register(t *testing.T, a *app.App, d operator.Details, approve bool) (operator.Operator, string) {
	t.Helper()
	ctx := context.Background()
	n := int(regSeq.Add(1))
	county := region.CountyOf(d.RegionCode)
	username := fmt.Sprintf("mon-%s-%d", county, n)
	d.LegalRep, d.ContactName, d.Phone, d.Address, d.Category = "李四", "李四", "13900000000", "测试地址", "producer"
	d.Products = []string{"apple"}
	d.IDNumber = operator.SampleResidentID("370686", "19790101", 500+n)
	prefix := "91"
	if d.Kind == "cooperative" {
		prefix = "93"
	}
	d.CreditCode = operator.SampleUSCC(prefix, county, 7_000_000+n)
	o, u, err := a.Operators.Register(ctx, operator.Registration{Username: username, Password: apptest.OperatorPassword, Phone: d.Phone, Operator: d})
	if err != nil {
		t.Fatalf("register %s: %v", d.Name, err)
	}
	act := apptest.ActorOf(u)
	if _, err := a.Operators.AddDocument(ctx, act, o.ID, "licence", "licence.png", bytes.NewReader(apptest.TinyPNG)); err != nil {
		t.Fatal(err)
	}
	if o, err = a.Operators.Submit(ctx, act, o.ID); err != nil {
		t.Fatal(err)
	}
	if approve {
		if o, err = a.Operators.Approve(ctx, apptest.ActorOf(apptest.ReviewerFor(t, a, county)), o.ID); err != nil {
			t.Fatal(err)
		}
	}
	return o, username
}

// lot records a batch of apples produced on date through c.
func lot(t *testing.T, c *apptest.Client, qty float64, date string) string {
	t.Helper()
	return c.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": qty, "unit": "kg", "produced_at": date,
		"origin": "试验基地"}).Expect(t, 201).Str("trace_code")
}

// TestMonitorOperatorRules: no_recent_batch fires for the farm, whose last
// batch is 120 days old, not for the pig farm approved today; running the
// rules again raises nothing new; 40 days on, key_no_agreement fires for a
// leading enterprise without an agreement, not for one that signed; 400
// days on, never_inspected fires for the farm, not for the pig farm
// inspected 20 days before (a 荣成 operator's finding is 荣成's alone).
func TestMonitorOperatorRules(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		lot(t, w.farmC, 100, dateOn(-120))
		key, _ := register(t, a, operator.Details{Name: "烟台金果龙头企业有限公司", Kind: "enterprise", RegionCode: "370686", LeadingEnterprise: "provincial"}, true)
		signed, su := register(t, a, operator.Details{Name: "栖霞示范果业专业合作社", Kind: "cooperative", RegionCode: "370686", DemoCooperative: true}, true)
		ag := w.supervisor.Do("POST", fmt.Sprintf("/api/v1/operators/%d/agreements", signed.ID), map[string]any{}).Expect(t, 201).Str("id")
		apptest.NewClient(t, w.srv).Login(su, apptest.OperatorPassword).Do("POST", "/api/v1/agreements/"+ag+"/sign", nil).Expect(t, 200)

		raised := w.evaluate(t, daysOn(0))
		fires(t, w.supervisor, "no_recent_batch", []string{w.farm.Code}, w.pigs.Code, w.trader.Code, key.Code)
		if f := raisedFor(t, w.supervisor, "no_recent_batch", w.farm.Code); len(f) == 1 && (f[0].Detail["last_batch"] != dateOn(-120) || f[0].Status != "open") {
			t.Errorf("the farm's finding: %+v", f[0])
		}
		for _, k := range []string{"never_inspected", "key_no_agreement"} {
			if raised[k] != 0 {
				t.Errorf("%s raised %d on the day of approval", k, raised[k])
			}
		}
		before := count(t, a, "findings")
		for k, n := range w.evaluate(t, daysOn(0)) {
			if n != 0 {
				t.Errorf("a second run raised %d %s again", n, k)
			}
		}
		if after := count(t, a, "findings"); after != before {
			t.Fatalf("a second run wrote %d findings", after-before)
		}

		w.evaluate(t, daysOn(40))
		fires(t, w.supervisor, "key_no_agreement", []string{key.Code}, signed.Code, w.farm.Code, w.pigs.Code)

		ctx := context.Background()
		if _, err := w.service(t, daysOn(380)).RecordInspection(ctx, w.actors["qixia-inspector"], supervision.InspectionInput{
			OperatorCode: w.pigs.Code, Kind: "site", Result: "pass"}); err != nil {
			t.Fatal(err)
		}
		w.evaluate(t, daysOn(400))
		fires(t, w.supervisor, "never_inspected", []string{w.farm.Code, w.trader.Code}, w.pigs.Code, w.far.Code)
		fires(t, w.farInsp, "never_inspected", []string{w.far.Code}, w.farm.Code)
	})
}

// TestMonitorRectifyOverdue: rectify_overdue fires the day after a
// rectification deadline — of an inspection with no passing re-inspection
// since (the farm), and of a case decided with rectification and not
// followed up (the trader) — and not for the pig farm, re-inspected and
// passed, nor on the deadline itself; a case followed up raises nothing.
func TestMonitorRectifyOverdue(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		rectify := map[string]any{"kind": "site", "result": "rectify", "rectify_days": 2}
		inspect := func(c *apptest.Client, code string, body map[string]any) *apptest.Response {
			body["operator_code"] = code
			return c.Do("POST", "/api/v1/inspections", body).Expect(t, 201)
		}
		farmInsp := inspect(w.inspector, w.farm.Code, rectify)
		due := farmInsp.Str("rectify_due")
		inspect(w.inspector, w.pigs.Code, map[string]any{"kind": "site", "result": "rectify", "rectify_days": 2})
		inspect(w.inspector2, w.pigs.Code, map[string]any{"kind": "site", "result": "pass"})

		decided := func(code string, followUp bool) *apptest.Response {
			id := w.enforcer.Do("POST", "/api/v1/cases", map[string]any{"source": "manual", "operator_codes": []string{code},
				"violation": "other", "summary": "未按规定记录"}).Expect(t, 201).Str("id")
			path := "/api/v1/cases/" + id + "/steps"
			w.enforcer.Do("POST", path, map[string]any{"step": "investigated"}).Expect(t, 200)
			r := w.enforcer.Do("POST", path, map[string]any{"step": "decision", "decision": "rectify", "rectify_days": 3}).Expect(t, 200)
			if followUp {
				r = w.enforcer.Do("POST", path, map[string]any{"step": "follow_up", "rectified": true, "note": "已整改"}).Expect(t, 200)
			}
			return r
		}
		traderCase := decided(w.trader.Code, false)
		decided(w.pigs.Code, true)

		w.evaluate(t, &platform.FixedClock{T: day(due)})
		if got := findings(t, w.supervisor, "rectify_overdue"); len(got) != 0 {
			t.Fatalf("raised on the deadline itself: %+v", got)
		}
		w.evaluate(t, &platform.FixedClock{T: day(traderCase.Str("due_on")).AddDate(0, 0, 1)})
		fires(t, w.supervisor, "rectify_overdue", []string{w.farm.Code, w.trader.Code}, w.pigs.Code)
		for _, f := range findings(t, w.supervisor, "rectify_overdue") {
			want := map[string]string{w.farm.Code: "inspection " + farmInsp.Str("number"), w.trader.Code: "case " + traderCase.Str("number")}[f.OperatorCode]
			if got := fmt.Sprint(f.Detail["record"], " ", f.Code); got != want {
				t.Errorf("finding about %s names %q, want %q", f.OperatorCode, got, want)
			}
		}
		if got := findings(t, w.farInsp, "rectify_overdue"); len(got) != 0 {
			t.Errorf("荣成 sees 栖霞's findings: %+v", got)
		}
	})
}

// TestMonitorReviewOverdue: a registration pending past its 5-working-day
// review deadline raises review_overdue the first working day after it
// (not on the deadline); review_escalated waits until it is more than 3
// working days overdue and names the city (370600), whose supervisor sees
// it; approved operators raise neither; a 荣成 registration is 荣成's.
func TestMonitorReviewOverdue(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		city := w.official(t, "yantai-supervisor", auth.RoleSupervisor, "370600")
		pending, _ := register(t, a, operator.Details{Name: "栖霞待审果园有限公司", Kind: "enterprise", RegionCode: "370686"}, false)
		farPending, _ := register(t, a, operator.Details{Name: "荣成待审渔业有限公司", Kind: "enterprise", RegionCode: "371082"}, false)
		if pending.Status != "pending" || pending.ReviewDue == "" {
			t.Fatalf("registration: %+v", pending)
		}
		due, err := time.Parse(time.DateOnly, pending.ReviewDue)
		if err != nil {
			t.Fatal(err)
		}
		overdue := func(workdays int) platform.Clock {
			d, _, err := a.Calendar.AddWorkdays(context.Background(), due, workdays)
			if err != nil {
				t.Fatal(err)
			}
			return &platform.FixedClock{T: day(d.Format(time.DateOnly))}
		}
		if raised := w.evaluate(t, overdue(0)); raised["review_overdue"] != 0 {
			t.Fatalf("raised on the deadline: %v", raised)
		}
		w.evaluate(t, overdue(1))
		fires(t, w.supervisor, "review_overdue", []string{pending.Name}, farPending.Name, w.farm.Name)
		fires(t, w.farInsp, "review_overdue", []string{farPending.Name}, pending.Name)
		w.evaluate(t, overdue(3))
		fires(t, w.supervisor, "review_escalated", nil, pending.Name)
		w.evaluate(t, overdue(4))
		fires(t, w.supervisor, "review_overdue", []string{pending.Name}) // not raised twice
		fires(t, city, "review_escalated", []string{pending.Name}, farPending.Name, w.farm.Name)
		esc := raisedFor(t, city, "review_escalated", pending.Name)
		if len(esc) == 1 && (esc[0].Detail["escalated_to"] != "370600" || esc[0].Code != fmt.Sprint(pending.ID) || esc[0].Detail["review_due"] != pending.ReviewDue) {
			t.Errorf("escalation: %+v", esc[0])
		}
	})
}

// TestMonitorRepeatedOverShipment: two refused over-shipments within 30
// days raise nothing; the third makes repeated_over_shipment fire for the
// farm, not for a grower refused once.
func TestMonitorRepeatedOverShipment(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		grower, gu, gp := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞红富士专业合作社", Kind: "cooperative", RegionCode: "370686", Products: []string{"apple"}})
		growerC := apptest.NewClient(t, w.srv).Login(gu, gp)
		overship := func(c *apptest.Client, n int) {
			for range n { // far above the stock: each refusal is an over_shipment finding at once
				code := lot(t, c, 10, dateOn(-1))
				c.Do("POST", "/api/v1/transfers", map[string]any{"from_code": code, "quantity": 100, "buyer_operator_code": w.trader.Code}).Expect(t, 409)
			}
		}
		overship(w.farmC, 2)
		overship(growerC, 1)
		if n := len(findings(t, w.supervisor, "over_shipment")); n != 3 {
			t.Fatalf("%d over_shipment findings, want 3", n)
		}
		w.evaluate(t, daysOn(0))
		fires(t, w.supervisor, "repeated_over_shipment", nil, w.farm.Code, grower.Code)
		overship(w.farmC, 1)
		w.evaluate(t, daysOn(0))
		fires(t, w.supervisor, "repeated_over_shipment", []string{w.farm.Code}, grower.Code)
		if f := raisedFor(t, w.supervisor, "repeated_over_shipment", w.farm.Code); len(f) == 1 && fmt.Sprint(f[0].Detail["count"]) != "3" {
			t.Errorf("finding: %+v", f[0])
		}
		// 31 days on, the refusals are out of the window
		if raised := w.evaluate(t, daysOn(31)); raised["repeated_over_shipment"] != 0 {
			t.Errorf("raised again outside the 30-day window: %v", raised)
		}
	})
}

// setting posts a rule's threshold in a region as c.
func setting(c *apptest.Client, region, rule string, threshold float64, enabled bool) *apptest.Response {
	return c.Do("POST", "/api/v1/monitoring/settings", map[string]any{"region_code": region, "rule": rule, "threshold": threshold, "enabled": enabled})
}

// TestMonitorSettings: an admin sets never_inspected nationally to 30 days
// and 栖霞 to 60: 45 days on it fires in 荣成 (national value) but not in
// 栖霞 (its own overrides it), 61 days on in 栖霞 too; the settings list
// says which value applies and whether it is inherited; no_recent_batch
// disabled in 栖霞 raises nothing there until re-enabled; bad settings and
// settings out of reach are refused with nothing written.
func TestMonitorSettings(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		admin := w.official(t, "national-admin", auth.RoleAdmin, "000000")
		before := count(t, a, "monitor_settings")
		for _, c := range []struct {
			by     *apptest.Client
			region string
			rule   string
			thr    float64
			status int
			field  string
		}{
			{w.supervisor, "000000", "never_inspected", 30, 403, ""},
			{w.supervisor, "371082", "never_inspected", 30, 403, ""},
			{w.inspector, "370686", "never_inspected", 30, 403, ""},
			{admin, "370686", "never_checked", 30, 422, "rule"},
			{admin, "370686", "never_inspected", -1, 422, "threshold"},
			{admin, "370686", "never_inspected", 2.5, 422, "threshold"},
			{admin, "370686", "mismatch_tolerance", 150, 422, "threshold"},
			{admin, "379999", "never_inspected", 30, 422, "region_code"},
		} {
			if r := setting(c.by, c.region, c.rule, c.thr, true).Expect(t, c.status); c.field != "" && !hasField(r, c.field) {
				t.Errorf("%s %s %g: refusal does not name %s: %s", c.region, c.rule, c.thr, c.field, r.Body)
			}
		}
		if n := count(t, a, "monitor_settings"); n != before {
			t.Fatalf("refused settings wrote %d rows", n-before)
		}
		setting(admin, "000000", "never_inspected", 30, true).Expect(t, 200)
		setting(admin, "370686", "never_inspected", 60, true).Expect(t, 200)
		applies := func(c *apptest.Client, region string) supervision.Setting {
			for _, s := range decodeAs[struct{ Items []supervision.Setting }](t, c.Do("GET", "/api/v1/monitoring/settings?region="+region, nil).Expect(t, 200)).Items {
				if s.Key == "never_inspected" {
					return s
				}
			}
			t.Fatalf("no never_inspected setting in %s", region)
			return supervision.Setting{}
		}
		if s := applies(w.supervisor, "370686"); s.Threshold != 60 || s.Inherited || s.Region != "370686" || !s.Enabled {
			t.Errorf("栖霞's setting: %+v", s)
		}
		if s := applies(admin, "371082"); s.Threshold != 30 || !s.Inherited || s.Region != "000000" {
			t.Errorf("荣成's setting: %+v", s)
		}
		w.evaluate(t, daysOn(45))
		fires(t, w.farInsp, "never_inspected", []string{w.far.Code})
		fires(t, w.supervisor, "never_inspected", nil, w.farm.Code, w.pigs.Code, w.trader.Code)
		w.evaluate(t, daysOn(61))
		fires(t, w.supervisor, "never_inspected", []string{w.farm.Code, w.pigs.Code, w.trader.Code})

		setting(w.supervisor, "370686", "no_recent_batch", 90, false).Expect(t, 200) // a supervisor in the county
		if raised := w.evaluate(t, daysOn(100)); raised["no_recent_batch"] != 0 {
			t.Fatalf("a disabled rule raised %v", raised)
		}
		// a threshold posted without "enabled" keeps the rule on
		w.supervisor.Do("POST", "/api/v1/monitoring/settings", map[string]any{"region_code": "370686", "rule": "no_recent_batch", "threshold": 90}).Expect(t, 200)
		for _, st := range decodeAs[struct{ Items []supervision.Setting }](t, admin.Do("GET", "/api/v1/monitoring/settings?region=370686", nil).Expect(t, 200)).Items {
			if st.Key == "no_recent_batch" && !st.Enabled {
				t.Fatalf("a threshold without enabled disabled the rule: %+v", st)
			}
		}
		w.evaluate(t, daysOn(100))
		fires(t, w.supervisor, "no_recent_batch", []string{w.farm.Code, w.pigs.Code}, w.trader.Code)
	})
}

// TestMismatchTolerance: 100 kg shipped and 99 kg confirmed (1 %, within
// the 2 % default) records no quantity_mismatch; 95 kg records one; once
// 栖霞 (the seller's county) lowers its tolerance to 0.5 %, 99 kg does too.
func TestMismatchTolerance(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		var buyer string
		if err := a.DB.QueryRow(context.Background(), `SELECT username FROM users WHERE operator_id = $1`, w.trader.ID).Scan(&buyer); err != nil {
			t.Fatal(err)
		}
		buyerC := apptest.NewClient(t, w.srv).Login(buyer, apptest.OperatorPassword)
		stock := w.batch(t, 500)
		ship := func(received float64) string {
			code := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": stock, "quantity": 100, "buyer_operator_code": w.trader.Code}).Expect(t, 201).Str("trace_code")
			buyerC.Do("POST", "/api/v1/transfers/"+code+"/confirm", map[string]any{"received_quantity": received}).Expect(t, 200)
			return code
		}
		mismatch := func(code string) int {
			n := 0
			for _, f := range findings(t, w.supervisor, "quantity_mismatch") {
				if f.Code == code {
					n++
				}
			}
			return n
		}
		if c := ship(99); mismatch(c) != 0 {
			t.Errorf("1 %% short (within 2 %%) is a finding")
		}
		if c := ship(95); mismatch(c) != 1 {
			t.Errorf("5 %% short is not a finding: %+v", findings(t, w.supervisor, "quantity_mismatch"))
		}
		setting(w.supervisor, "370686", "mismatch_tolerance", 0.5, true).Expect(t, 200)
		if c := ship(99); mismatch(c) != 1 {
			t.Errorf("1 %% short with a 0.5 %% tolerance is not a finding")
		}
	})
}
