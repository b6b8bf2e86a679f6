package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/codes"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// saleWorld: a seller with 1000 kg of apples and a buyer, both approved in 栖霞市.
type saleWorld struct {
	a                      *app.App
	lot                    string
	buyerCode, buyerName   string
	sellerUser, sellerPass string
}

func newSaleWorld(t *testing.T, a *app.App) saleWorld {
	t.Helper()
	_, su, sp := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞绿源苹果专业合作社", Kind: "cooperative", RegionCode: "370686"})
	buyer, _, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "烟台鲜果商贸有限公司", Category: "trader", RegionCode: "370686"})
	b, err := a.Trace.CreateBatch(context.Background(), apptest.ActorOf(mustUser(t, a.Auth, su)), trace.NewBatch{ProductCode: "apple", Quantity: 1000,
		Unit: "kg", ProducedAt: platform.Today(time.Now().AddDate(0, 0, -1)), Origin: "寺口镇 3 号果园"})
	if err != nil {
		t.Fatal(err)
	}
	return saleWorld{a: a, lot: b.TraceCode, buyerCode: buyer.Code, buyerName: buyer.Name, sellerUser: su, sellerPass: sp}
}

// postForm posts a page form with a bearer token, without following the redirect.
func postForm(t *testing.T, base, token, path string, form url.Values) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// TestSellConfirmStep: a sale typed by operator code is not made by the
// first submit: the page names the buyer and its region and keeps the
// values; only the confirmed submit sells. A wrong code is named on its
// field, and a market sale (no code) needs no confirmation.
func TestSellConfirmStep(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newSaleWorld(t, a)
		srv := apptest.Server(t, w.a)
		c := apptest.NewClient(t, srv).Login(w.sellerUser, w.sellerPass)
		stock := func() string {
			return c.Do("GET", "/api/v1/batches/"+w.lot, nil).Expect(t, 200).Str("stock")
		}
		form := url.Values{"from_code": {w.lot}, "quantity": {"300"}, "to": {"operator"},
			"buyer_operator_code": {grouped(w.buyerCode)}, "shipped_at": {""}}

		st, _, body := postForm(t, srv.URL, c.Token, "/sell", form)
		if st != 200 || !strings.Contains(body, "确认卖给 "+w.buyerName+"（") || !strings.Contains(body, "栖霞市") ||
			!strings.Contains(body, `id="sell-confirm"`) || !strings.Contains(body, `name="buyer_operator_code" value="`+w.buyerCode+`"`) ||
			!strings.Contains(body, `name="quantity" value="300"`) {
			t.Fatalf("first submit: %d\n%s", st, body)
		}
		if got := stock(); got != "1000" {
			t.Fatalf("the first submit sold: stock %s", got)
		}

		// back to the form: the values are kept
		edit := url.Values{}
		for k, v := range form {
			edit[k] = v
		}
		edit.Set("buyer_operator_code", w.buyerCode)
		edit.Set("step", "edit")
		if st, _, body := postForm(t, srv.URL, c.Token, "/sell", edit); st != 200 || !strings.Contains(body, `id="sell-submit"`) ||
			!strings.Contains(body, `value="300"`) || strings.Contains(body, `id="sell-confirm"`) {
			t.Fatalf("back to the form: %d\n%s", st, body)
		}

		// a code with a wrong check digit, and an unknown code: named on the field
		bad := url.Values{"from_code": {w.lot}, "quantity": {"300"}, "to": {"operator"}, "buyer_operator_code": {wrongCheck(w.buyerCode)}}
		if st, _, body := postForm(t, srv.URL, c.Token, "/sell", bad); st != 422 || !strings.Contains(body, `<span class="ferr" role="alert">`) || strings.Contains(body, `id="sell-confirm"`) {
			t.Fatalf("wrong check digit: %d\n%s", st, body)
		}

		// the confirmed submit sells
		edit.Set("step", "confirm")
		st, loc, body := postForm(t, srv.URL, c.Token, "/sell", edit)
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/batches/2") {
			t.Fatalf("confirmed submit: %d %q\n%s", st, loc, body)
		}
		if got := stock(); got != "700" {
			t.Fatalf("stock after the confirmed sale: %s", got)
		}
		sold := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/batches/")

		// the seller's page of the pending sale offers the withdrawal; a
		// withdrawal needs a reason, and gives the stock back
		if page := c.Do("GET", "/batches/"+sold, nil).Expect(t, 200); !strings.Contains(string(page.Body), `id="withdraw-`+sold+`"`) {
			t.Fatalf("the pending sale's page offers no withdrawal")
		}
		if st, _, body := postForm(t, srv.URL, c.Token, "/transfers/"+sold+"/withdraw", url.Values{"reason": {" "}}); st != 422 ||
			!strings.Contains(body, `<span class="ferr" role="alert">`) || !strings.Contains(body, `id="withdraw-`+sold+`" open`) {
			t.Fatalf("withdrawal without a reason: %d\n%s", st, body)
		}
		if st, loc, _ := postForm(t, srv.URL, c.Token, "/transfers/"+sold+"/withdraw", url.Values{"reason": {"数量填错"}}); st != http.StatusSeeOther || loc != "/batches/"+w.lot+"?msg=tr.withdrawn" {
			t.Fatalf("withdrawal: %d %q", st, loc)
		}
		if got := stock(); got != "1000" {
			t.Fatalf("stock after the withdrawal: %s", got)
		}
		if page := c.Do("GET", "/batches/"+sold, nil).Expect(t, 200); strings.Contains(string(page.Body), `id="withdraw-`+sold+`"`) || !strings.Contains(string(page.Body), "已撤回") {
			t.Fatalf("the withdrawn sale's page")
		}

		// a market sale has no code to confirm
		market := url.Values{"from_code": {w.lot}, "quantity": {"10"}, "to": {"market"}, "market_name": {"栖霞市城区农贸市场"},
			"market_kind": {"retail"}, "market_region": {"370686"}}
		if st, loc, _ := postForm(t, srv.URL, c.Token, "/sell", market); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/batches/3") {
			t.Fatalf("market sale: %d %q", st, loc)
		}
	})
}

// TestBrowserSellConfirmAndWithdraw: on a phone, the seller types the
// buyer's code, sees the buyer's name and region, goes back to change the
// quantity (the values are kept), confirms, and then withdraws the pending
// sale from the outgoing list, after confirming the withdrawal: the stock
// is whole again and the sale shows as withdrawn.
func TestBrowserSellConfirmAndWithdraw(t *testing.T) {
	w := newSaleWorld(t, apptest.NewApp(t, "sqlite"))
	base := apptest.LiveServer(t, w.a)
	ctx := apptest.Browser(t, 390, 844)
	apptest.Do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), w.sellerUser),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), w.sellerPass),
		chromedp.Click(chromedp.CSS(`form.form button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`section.cards`)),
		chromedp.Navigate(base+"/sell?from="+w.lot),
		chromedp.WaitVisible(chromedp.CSS(`#sell-form`)),
		chromedp.SendKeys(chromedp.CSS(`#quantity`), "200"),
		chromedp.SendKeys(chromedp.CSS(`#buyer_operator_code`), w.buyerCode),
		chromedp.Click(chromedp.CSS(`#sell-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#sell-confirm`)),
	)
	q := apptest.Text(t, ctx, "#sell-question")
	if !strings.Contains(q, "确认卖给 "+w.buyerName+"（") || !strings.Contains(q, "栖霞市") {
		t.Fatalf("confirmation question: %q", q)
	}
	if got := apptest.Text(t, ctx, "#sell-quantity"); !strings.Contains(got, "200") {
		t.Fatalf("confirmation quantity: %q", got)
	}
	apptest.Screenshot(t, ctx, "sell-confirm")

	// back to the form: the values are still there; change the quantity
	apptest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#sell-edit`)),
		chromedp.WaitVisible(chromedp.CSS(`#sell-submit`)),
	)
	qty, err1 := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#quantity`)))
	code, err2 := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#buyer_operator_code`)))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if qty != "200" || code != w.buyerCode {
		t.Fatalf("back on the form: quantity %q, code %q", qty, code)
	}
	apptest.Do(t, ctx,
		chromedp.SetValue(chromedp.CSS(`#quantity`), "250"),
		chromedp.Click(chromedp.CSS(`#sell-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#sell-confirm`)),
	)
	if got := apptest.Text(t, ctx, "#sell-quantity"); !strings.Contains(got, "250") {
		t.Fatalf("confirmation quantity after the change: %q", got)
	}
	apptest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#sell-confirm`)),
		chromedp.WaitVisible(chromedp.CSS(`#transfer`)),
	)
	sold := strings.ReplaceAll(apptest.Text(t, ctx, "#trace-code"), " ", "")
	if body := apptest.Text(t, ctx, "#transfer"); !strings.Contains(body, "待确认") || !strings.Contains(body, w.buyerName) || !strings.Contains(body, "250") {
		t.Fatalf("sale page: %s", body)
	}

	// the outgoing list offers to withdraw the pending sale, behind a confirmation
	apptest.Do(t, ctx,
		chromedp.Navigate(base+"/transfers?tab=outgoing"),
		chromedp.WaitVisible(chromedp.CSS(`#transfer-`+sold)),
		chromedp.Click(chromedp.CSS(`#withdraw-`+sold+` summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#withdraw-do-`+sold)),
	)
	if txt := apptest.Text(t, ctx, "#withdraw-"+sold); !strings.Contains(txt, "确认撤回这笔销售") {
		t.Fatalf("withdrawal confirmation: %q", txt)
	}
	apptest.Screenshot(t, ctx, "sell-withdraw")
	apptest.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#withdraw-`+sold+` input[name=reason]`), "数量填错"),
		chromedp.Click(chromedp.CSS(`#withdraw-do-`+sold)),
	)
	apptest.WaitText(t, ctx, "p.flash", "销售已撤回")
	if got := apptest.Text(t, ctx, "#stock"); got != "1000" {
		t.Fatalf("stock after the withdrawal = %q, want 1000", got)
	}
	apptest.Do(t, ctx, chromedp.Navigate(base+"/batches/"+sold), chromedp.WaitVisible(chromedp.CSS(`#transfer`)))
	if body := apptest.Text(t, ctx, "#transfer"); !strings.Contains(body, "已撤回") {
		t.Fatalf("the sale does not show as withdrawn: %s", body)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("details.tr-withdraw").length`)); err != nil || n != 0 {
		t.Fatalf("a withdrawn sale still offers withdrawal (%d, %v)", n, err)
	}
}

func grouped(code string) string {
	var b strings.Builder
	for i, r := range code {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// wrongCheck changes an operator code's check digit.
func wrongCheck(code string) string {
	last := code[len(code)-1]
	for d := byte('0'); d <= '9'; d++ {
		if d != last {
			if _, err := codes.ParseOperatorCode(code[:len(code)-1] + string(d)); err != nil {
				return code[:len(code)-1] + string(d)
			}
		}
	}
	return code
}
