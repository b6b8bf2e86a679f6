package trace_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/trace"
)

// TestPigChainAliasesAndTransform: ear tags and quarantine numbers recorded
// on a pig batch resolve to it; slaughter and cutting are transformations
// whose outputs trace back to the pigs; a recall from the pigs reaches the cuts.
func TestPigChainAliasesAndTransform(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		tags := []string{"137068600000001", "137068600000002", "137068600000003"}
		pigs := w.farmC.Do("POST", "/api/v1/batches", map[string]any{"product_code": "live_pig", "quantity": 3, "unit": "head", "produced_at": daysAgo(3),
			"attributes": map[string]any{"ear_tags": tags, "quarantine_cert": "3706 8620 2600 0312"}}).Expect(t, 201).Str("trace_code")
		// the same ear tag cannot be attached to a second batch
		w.farmC.Do("POST", "/api/v1/batches", map[string]any{"product_code": "live_pig", "quantity": 1, "unit": "head", "produced_at": daysAgo(3),
			"attributes": map[string]any{"ear_tags": []string{tags[1]}}}).Expect(t, 409)
		for _, q := range []string{tags[0], "ear_tag:" + tags[2], "370686202600031 2", "quarantine_cert:3706-8620-2600-0312"} {
			r := w.farmC.Do("GET", "/api/v1/trace/"+strings.ReplaceAll(q, " ", "%20")+"?direction=up", nil).Expect(t, 200)
			if r.Str("code") != pigs {
				t.Fatalf("alias %q resolved to %s, want %s", q, r.Str("code"), pigs)
			}
		}
		// GS1 GTIN + lot and a provincial code, attached afterwards
		w.farmC.Do("POST", "/api/v1/batches/"+pigs+"/aliases", map[string]any{"scheme": "gs1", "value": "06901234567892/L2026A"}).Expect(t, 201)
		w.farmC.Do("POST", "/api/v1/batches/"+pigs+"/aliases", map[string]any{"scheme": "gs1", "value": "(01)06901234567892(10)L2026A"}).Expect(t, 201) // same, idempotent
		w.farmC.Do("POST", "/api/v1/batches/"+pigs+"/aliases", map[string]any{"scheme": "provincial", "value": "SD-ZS-000123"}).Expect(t, 201)
		if r := w.farmC.Do("GET", "/api/v1/trace/https:/x.example/01/06901234567892/10/L2026A", nil).Expect(t, 200); r.Str("code") != pigs {
			t.Fatalf("digital link resolved to %s", r.Str("code"))
		}
		if r := w.farmC.Do("GET", "/api/v1/trace/SD-ZS-000123", nil).Expect(t, 200); r.Str("code") != pigs {
			t.Fatalf("provincial code resolved to %s", r.Str("code"))
		}
		w.farmC.Do("GET", "/api/v1/trace/137068699999999", nil).Expect(t, 404)

		sold := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": pigs, "quantity": 3, "buyer_operator_code": w.coop.Code, "shipped_at": daysAgo(2)}).Expect(t, 201).Str("trace_code")
		w.coopC.Do("POST", "/api/v1/transfers/"+sold+"/confirm", map[string]any{"received_quantity": 3, "received_at": daysAgo(2)}).Expect(t, 200)
		carcass := w.coopC.Do("POST", "/api/v1/transformations", map[string]any{"produced_at": daysAgo(1),
			"inputs":  []map[string]any{{"code": sold, "quantity": 3}},
			"outputs": []map[string]any{{"product_code": "pork_carcass", "quantity": 231.5, "unit": "kg", "attributes": map[string]any{"slaughter_batch": "TZ-01", "clenbuterol_test": "negative"}}}}).Expect(t, 201)
		c1 := carcass.Str("codes.0")
		cuts := w.coopC.Do("POST", "/api/v1/transformations", map[string]any{
			"inputs": []map[string]any{{"code": c1, "quantity": 231.5}},
			"outputs": []map[string]any{{"product_code": "pork_cuts", "quantity": 80, "unit": "kg", "attributes": map[string]any{"cut": "前腿"}},
				{"product_code": "pork_cuts", "quantity": 120, "unit": "box"}}}).Expect(t, 201)
		if got := stock(t, w.coopC, sold); got != 0 {
			t.Fatalf("pigs still in stock after slaughter: %v", got)
		}
		if got := stock(t, w.coopC, cuts.Str("codes.1")); got != 120 {
			t.Fatalf("cut stock %v", got)
		}
		up := w.coopC.Do("GET", "/api/v1/trace/"+cuts.Str("codes.0")+"?direction=up", nil).Expect(t, 200)
		for _, c := range []string{pigs, sold, c1} {
			if !hasNode(up, c) {
				t.Fatalf("cuts do not trace back to %s: %s", c, up.Body)
			}
		}
		// recall from the pig batch (by ear tag) reaches both cuts; depth limits the walk
		down := w.farmC.Do("GET", "/api/v1/trace/"+tags[1]+"?direction=down", nil).Expect(t, 200)
		if !hasNode(down, cuts.Str("codes.0")) || !hasNode(down, cuts.Str("codes.1")) {
			t.Fatalf("recall misses the cuts: %s", down.Body)
		}
		one := w.farmC.Do("GET", "/api/v1/trace/"+pigs+"?direction=down&depth=1", nil).Expect(t, 200)
		if hasNode(one, c1) || !hasNode(one, sold) || one.Get("truncated") != true {
			t.Fatalf("depth=1: %s", one.Body)
		}
	})
}

// TestRejectAndMarket: a rejected transfer returns the stock; only a market
// clerk of the market's region accepts a market-entry code; a smallholder
// purchase starts a chain under a temporary operator code.
func TestRejectAndMarket(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		lot := batch(t, w.farmC, "apple", 100, "kg", daysAgo(1))
		tr := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 40, "buyer_operator_code": w.coop.Code}).Expect(t, 201).Str("trace_code")
		w.coopC.Do("POST", "/api/v1/transfers/"+tr+"/reject", map[string]any{"reason": ""}).Expect(t, 422)
		if r := w.coopC.Do("POST", "/api/v1/transfers/"+tr+"/reject", map[string]any{"reason": "货不对板"}).Expect(t, 200); r.Str("status") != "rejected" {
			t.Fatalf("reject: %s", r.Body)
		}
		if got := stock(t, w.farmC, lot); got != 100 {
			t.Fatalf("stock after rejection = %v, want 100", got)
		}
		w.coopC.Do("POST", "/api/v1/transfers/"+tr+"/confirm", map[string]any{"received_quantity": 1}).Expect(t, 409)

		me := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 30,
			"market": map[string]any{"name": "荣成市石岛水产品批发市场", "kind": "wholesale", "region_code": "371082"}}).Expect(t, 201).Str("trace_code")
		w.market.Do("POST", "/api/v1/transfers/"+me+"/accept", nil).Expect(t, 404) // 栖霞 clerk, 荣成 market
		w.coopC.Do("POST", "/api/v1/transfers/"+me+"/accept", nil).Expect(t, 403)  // operators may not accept at all
		ctx := context.Background()
		if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "rc-market", Password: marketPW, Role: "market", RegionCode: "371082"}); err != nil {
			t.Fatal(err)
		}
		rc := apptest.NewClient(t, w.srv).Login("rc-market", marketPW)
		if list := rc.Do("GET", "/api/v1/transfers?status=issued", nil).Expect(t, 200); list.Str("items.0.trace_code") != me {
			t.Fatalf("market's waiting list: %s", list.Body)
		}
		rc.Do("POST", "/api/v1/transfers/"+me+"/accept", nil).Expect(t, 200)
		rc.Do("POST", "/api/v1/transfers/"+me+"/accept", nil).Expect(t, 409)
		w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": me, "quantity": 1, "buyer_operator_code": w.coop.Code}).Expect(t, 422)

		// smallholder purchase by the cooperative, then by the market clerk
		sh := w.coopC.Do("POST", "/api/v1/smallholder-purchases", map[string]any{
			"smallholder": map[string]any{"name": "王大爷", "region_code": "370686", "phone": "13700001111"},
			"batch":       map[string]any{"product_code": "apple", "quantity": 150, "unit": "kg", "produced_at": today()}}).Expect(t, 201)
		if !strings.HasPrefix(sh.Str("smallholder_operator_code"), "4370686") || sh.Str("transfer.status") != "confirmed" {
			t.Fatalf("smallholder purchase: %s", sh.Body)
		}
		if got := stock(t, w.coopC, sh.Str("transfer.trace_code")); got != 150 {
			t.Fatalf("smallholder goods in stock: %v", got)
		}
		again := w.coopC.Do("POST", "/api/v1/smallholder-purchases", map[string]any{"smallholder_operator_code": sh.Str("smallholder_operator_code"),
			"batch": map[string]any{"product_code": "apple", "quantity": 50, "unit": "kg", "produced_at": today()}}).Expect(t, 201)
		if again.Str("transfer.seller.operator_code") != sh.Str("smallholder_operator_code") {
			t.Fatalf("reuse of the temporary code: %s", again.Body)
		}
		pub := apptest.NewClient(t, w.srv).Do("GET", "/api/v1/public/trace/"+sh.Str("transfer.trace_code"), nil).Expect(t, 200)
		if p := pub.Str("operator.name"); p != "王**（个体）" || pub.Str("operator.kind") != "individual" {
			t.Fatalf("the public page shows the smallholder as %q (must be masked)", p)
		}
		w.coopC.Do("POST", "/api/v1/smallholder-purchases", map[string]any{"smallholder": map[string]any{"name": "李四"},
			"batch": map[string]any{"product_code": "apple", "quantity": 1, "produced_at": today()}}).Expect(t, 422)
		mk := w.market.Do("POST", "/api/v1/smallholder-purchases", map[string]any{
			"smallholder": map[string]any{"name": "赵六", "region_code": "370686"},
			"batch":       map[string]any{"product_code": "cucumber", "quantity": 20, "unit": "kg", "produced_at": today()},
			"market":      map[string]any{"name": "栖霞市城区农贸市场", "kind": "retail", "region_code": "370686"}}).Expect(t, 201)
		if mk.Str("transfer.status") != "accepted" || mk.Str("transfer.trace_code")[0] != '3' {
			t.Fatalf("market smallholder entry: %s", mk.Body)
		}
	})
}

// TestMarketRejects: a market clerk of the market's region turns a
// market-entry code away with a reason; the goods return to the seller, the
// entry shows as rejected with its reason, and nothing else can answer it.
// A clerk elsewhere, the seller, a missing reason: refused, nothing written.
func TestMarketRejects(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		lot := batch(t, w.farmC, "apple", 100, "kg", daysAgo(1))
		me := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 60,
			"market": map[string]any{"name": "栖霞市城区农贸市场", "kind": "retail", "region_code": "370686"}}).Expect(t, 201).Str("trace_code")
		if got := stock(t, w.farmC, lot); got != 40 {
			t.Fatalf("stock after the market sale = %v, want 40", got)
		}
		ctx := context.Background()
		if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "rc-market", Password: marketPW, Role: "market", RegionCode: "371082"}); err != nil {
			t.Fatal(err)
		}
		rc := apptest.NewClient(t, w.srv).Login("rc-market", marketPW)
		before := counts(t, a)
		w.market.Do("POST", "/api/v1/transfers/"+me+"/reject", map[string]any{"reason": " "}).Expect(t, 422)
		rc.Do("POST", "/api/v1/transfers/"+me+"/reject", map[string]any{"reason": "不是本市场"}).Expect(t, 404)     // another region's clerk
		w.farmC.Do("POST", "/api/v1/transfers/"+me+"/reject", map[string]any{"reason": "自己拒收"}).Expect(t, 404) // the seller is no receiver
		if after := counts(t, a); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("refused rejections wrote rows: %v → %v", before, after)
		}
		r := w.market.Do("POST", "/api/v1/transfers/"+me+"/reject", map[string]any{"reason": "无承诺达标合格证"}).Expect(t, 200)
		if r.Str("status") != "rejected" || r.Str("reason") != "无承诺达标合格证" {
			t.Fatalf("market rejection: %s", r.Body)
		}
		if got := stock(t, w.farmC, lot); got != 100 {
			t.Fatalf("stock after the rejection = %v, want 100", got)
		}
		w.market.Do("POST", "/api/v1/transfers/"+me+"/accept", nil).Expect(t, 409)
		w.market.Do("POST", "/api/v1/transfers/"+me+"/reject", map[string]any{"reason": "再拒一次"}).Expect(t, 409)
		if list := w.market.Do("GET", "/api/v1/transfers?status=rejected", nil).Expect(t, 200); list.Str("items.0.trace_code") != me {
			t.Fatalf("the clerk's rejected entries: %s", list.Body)
		}
	})
}

// TestStaffPermissions: staff act on their operator's codes only with the
// permission for the act.
func TestStaffPermissions(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	w := newWorld(t, a)
	ctx := context.Background()
	mk := func(name string, perms ...string) *apptest.Client {
		if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: name, Password: marketPW, Role: "staff", RegionCode: "370686",
			OperatorID: w.farm.ID, Permissions: perms}); err != nil {
			t.Fatal(err)
		}
		return apptest.NewClient(t, w.srv).Login(name, marketPW)
	}
	recorder, seller := mk("farm-recorder", "record", "print"), mk("farm-seller", "sell")
	lot := batch(t, recorder, "apple", 10, "kg", today())
	recorder.Do("GET", "/api/v1/batches/"+lot+"/label.pdf", nil).Expect(t, 200)
	recorder.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 1, "buyer_operator_code": w.coop.Code}).Expect(t, 403)
	seller.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 1, "unit": "kg", "produced_at": today()}).Expect(t, 403)
	seller.Do("GET", "/api/v1/batches/"+lot+"/label.pdf", nil).Expect(t, 403)
	seller.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 1, "buyer_operator_code": w.coop.Code}).Expect(t, 201)
	// another operator's staff cannot read the batch
	w.coopC.Do("GET", "/api/v1/batches/"+lot, nil).Expect(t, 404)
}

var rawKey = regexp.MustCompile(`\btr\.[a-z_]+(\.[a-zA-Z0-9_]+)*\b`)

// TestPagesRender: every trace page renders for the roles that use it,
// without untranslated message keys, in Chinese and in English.
func TestPagesRender(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	w := newWorld(t, a)
	lot := batch(t, w.farmC, "live_pig", 5, "head", daysAgo(2))
	w.farmC.Do("POST", "/api/v1/batches/"+lot+"/certificates", map[string]any{"basis": "control", "quantity": 5}).Expect(t, 201)
	tr := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 2, "buyer_operator_code": w.coop.Code, "shipped_at": daysAgo(1)}).Expect(t, 201).Str("trace_code")
	me := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 1,
		"market": map[string]any{"name": "栖霞市城区农贸市场", "kind": "retail", "region_code": "370686"}}).Expect(t, 201).Str("trace_code")
	w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 99, "buyer_operator_code": w.coop.Code}).Expect(t, 409)
	pages := []struct {
		c     *apptest.Client
		path  string
		wants string
	}{
		{w.farmC, "/batches", "生猪"},
		{w.farmC, "/batches/new", "新建批次"},
		{w.farmC, "/batches/new", `value="试验基地"`}, // remembers the last batch
		{w.farmC, "/batches/new?product_code=turbot", "养殖池"},
		{w.farmC, "/batches/" + lot, "追溯链条"},
		{w.farmC, "/batches/" + tr, "待确认"},
		{w.farmC, "/batches/" + me, "栖霞市城区农贸市场"},
		{w.farmC, "/sell?from=" + lot, "购买方主体身份码"},
		{w.coopC, "/transfers", "确认收货"},
		{w.farmC, "/transfers?tab=outgoing", "生猪"},
		{w.farmC, "/merge", "合并"},
		{w.farmC, "/transform", "加工"},
		{w.farmC, "/smallholder", "临时主体编码"},
		{w.market, "/market?code=" + me, "接收入市"},
		{w.market, "/smallholder", "入市市场"},
		{w.supervisor, "/batches", lot[:4]},
		{w.supervisor, "/batches/" + lot, "追溯链条"},
		{w.supervisor, "/trace?code=" + lot, "流向"},
		{w.supervisor, "/findings", "超库存"},
		{apptest.NewClient(t, w.srv), "/q/" + me, "生产者"},
	}
	for _, lang := range []string{"zh", "en"} {
		for _, pg := range pages {
			req, _ := http.NewRequest("GET", w.srv.URL+pg.path, nil)
			if pg.c.Token != "" {
				req.Header.Set("Authorization", "Bearer "+pg.c.Token)
			}
			req.AddCookie(&http.Cookie{Name: "lang", Value: lang})
			resp, err := w.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("%s %s: status %d\n%s", lang, pg.path, resp.StatusCode, body)
				continue
			}
			if lang == "zh" && !strings.Contains(string(body), pg.wants) {
				t.Errorf("%s lacks %q", pg.path, pg.wants)
			}
			if k := rawKey.FindString(string(body)); k != "" {
				t.Errorf("%s %s shows the untranslated key %q", lang, pg.path, k)
			}
		}
	}
	// one form records the batch and offers its labels
	form := url.Values{"product_code": {"apple"}, "quantity": {"12.5"}, "unit": {"kg"}, "produced_at": {today()}, "origin": {"东山果园"},
		"attr.variety": {"红富士"}, "attr.storage": {"cold"}, "print_size": {"50x30"}, "print_copies": {"12"}}
	req, _ := http.NewRequest("POST", w.srv.URL+"/batches", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+w.farmC.Token)
	noRedirect := *w.srv.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/batches/1370686") || !strings.Contains(loc, "print=50x30&copies=12") {
		t.Fatalf("record-and-print form: %d → %q", resp.StatusCode, loc)
	}
	page := w.farmC.Do("GET", loc, nil)
	if page.Status != 200 || !strings.Contains(string(page.Body), `id="print-now"`) || !strings.Contains(string(page.Body), "label.pdf?size=50x30&copies=12") {
		t.Fatalf("the batch page does not offer the labels: %d", page.Status)
	}
	// a refused form keeps what was typed and names the field
	form.Set("quantity", "-1")
	req, _ = http.NewRequest("POST", w.srv.URL+"/batches", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+w.farmC.Token)
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 422 || !strings.Contains(string(body), "数量必须大于 0") || !strings.Contains(string(body), `value="东山果园"`) {
		t.Fatalf("refused form: %d", resp.StatusCode)
	}

	// an error on one ear tag of the list is shown under the list
	bad := url.Values{"product_code": {"live_pig"}, "quantity": {"2"}, "unit": {"head"}, "produced_at": {today()}, "attr.ear_tags": {"137068612345678 23706861234567"}}
	req, _ = http.NewRequest("POST", w.srv.URL+"/batches", strings.NewReader(bad.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+w.farmC.Token)
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 422 || !strings.Contains(string(body), `<span class="ferr" role="alert">23706861234567：`) {
		t.Fatalf("ear-tag error not shown under the field: %d", resp.StatusCode)
	}

	// the public page: a typo is answered before any lookup, an unknown code is 404
	anon := apptest.NewClient(t, w.srv)
	if r := anon.Do("GET", "/q/"+wrongCheckDigit(me), nil); r.Status != 400 || !strings.Contains(string(r.Body), "追溯码无效") {
		t.Fatalf("invalid code page: %d", r.Status)
	}
	if r := anon.Do("GET", "/q/13706869999999999990", nil); r.Status != 400 && r.Status != 404 {
		t.Fatalf("unknown code page: %d", r.Status)
	}
	var scans int
	if err := a.Trace.FlushScans(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.QueryRow(context.Background(), `SELECT CAST(COALESCE(SUM(count), 0) AS INTEGER) FROM trace_scans WHERE code = $1`, me).Scan(&scans); err != nil || scans != 2 {
		t.Fatalf("scans of %s = %d (%v), want 2", me, scans, err)
	}
}

// TestOnlyApprovedOperatorsTrade: a suspended operator can neither record,
// sell nor confirm, and cannot be sold to.
func TestOnlyApprovedOperatorsTrade(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		lot := batch(t, w.farmC, "apple", 50, "kg", today())
		pending := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 5, "buyer_operator_code": w.coop.Code}).Expect(t, 201).Str("trace_code")
		rev := apptest.ActorOf(apptest.ReviewerFor(t, a, "370686"))
		if _, err := a.Operators.SetStatus(context.Background(), rev, w.coop.ID, "suspend", "检查发现记录不实"); err != nil {
			t.Fatal(err)
		}
		r := w.coopC.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 1, "unit": "kg", "produced_at": today()}).Expect(t, 403)
		if r.Get("operator_status") != "suspended" || !strings.Contains(r.Str("detail_zh"), "已暂停") {
			t.Fatalf("suspended operator recording: %s", r.Body)
		}
		w.coopC.Do("POST", "/api/v1/transfers/"+pending+"/confirm", map[string]any{"received_quantity": 1}).Expect(t, 403)
		if r := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 1, "buyer_operator_code": w.coop.Code}).Expect(t, 422); !hasField(r, "buyer_operator_code") {
			t.Fatalf("selling to a suspended operator: %s", r.Body)
		}
		if got := stock(t, w.farmC, lot); got != 45 {
			t.Fatalf("stock %v", got)
		}
	})
}

// TestProductChoicesAndMemory: an apple farm's first batch form offers
// apples first; after a pear batch, pears lead; the next batch remembers the
// plot and variety but not the residue-test report number.
func TestProductChoicesAndMemory(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		_, user, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞苹果家庭农场", Kind: "family_farm", RegionCode: "370686", Products: []string{"苹果"}})
		farmer := actorOf(t, a, user)
		c, err := a.Trace.ProductChoices(ctx, farmer)
		if err != nil {
			t.Fatal(err)
		}
		if def, ok := c.Default(); !ok || def.Code != "apple" || len(c.Recent) != 0 {
			t.Fatalf("first batch: default %q (%v), recent %d", def.Code, ok, len(c.Recent))
		}
		if _, err := a.Trace.CreateBatch(ctx, farmer, trace.NewBatch{ProductCode: "pear", Quantity: 300, Unit: "kg", ProducedAt: daysAgo(1),
			Attributes: map[string]any{"plot": "北坡 2 号地", "variety": "丰水梨", "residue_test_ref": "QX-JC-2026-0001"}}); err != nil {
			t.Fatal(err)
		}
		c, err = a.Trace.ProductChoices(ctx, farmer)
		if err != nil {
			t.Fatal(err)
		}
		if def, _ := c.Default(); def.Code != "pear" || len(c.Business) != 1 || c.Business[0].Code != "apple" {
			t.Fatalf("after a pear batch: default %q, business %v", def.Code, c.Business)
		}
		last, err := a.Trace.LastBatch(ctx, farmer)
		if err != nil {
			t.Fatal(err)
		}
		if last.Attributes["plot"] != "北坡 2 号地" || last.Attributes["variety"] != "丰水梨" {
			t.Errorf("stable values not remembered: %v", last.Attributes)
		}
		if _, ok := last.Attributes["residue_test_ref"]; ok {
			t.Errorf("the residue-test report number is carried to the next batch: %v", last.Attributes)
		}
		// officials have no batch form
		if _, err := a.Trace.ProductChoices(ctx, apptest.ActorOf(apptest.ReviewerFor(t, a, "370686"))); err == nil {
			t.Error("a reviewer got product choices")
		}
	})
}
