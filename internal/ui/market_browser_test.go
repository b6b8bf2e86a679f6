package ui_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/trace"
)

// TestBrowserMarketReject: on a phone, a market clerk scans in apples that
// come without a compliance certificate, is warned, turns them away with a
// reason (after confirming), and sees the entry among the checked ones; the
// seller has the quantity back.
func TestBrowserMarketReject(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	ctx0 := context.Background()
	f := newFarm(t, a)
	seller := f.actor
	b := f.apples(t, a, 500)
	entry, err := a.Trace.Sell(ctx0, seller, trace.SaleInput{FromCode: b.TraceCode, Quantity: 200,
		Market: &trace.Market{Name: "栖霞市城区农贸市场", Kind: "retail", RegionCode: "370686"}})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "market-pass-2026"
	if _, err := a.Auth.CreateUser(ctx0, auth.System(), auth.NewUser{Username: "qixia-market", Password: pw, Name: "城区市场查验员", Role: "market", RegionCode: "370686"}); err != nil {
		t.Fatal(err)
	}
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 390, 844)
	login(t, ctx, base, "qixia-market", pw)

	var mu sync.Mutex
	var asked []string
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			mu.Lock()
			asked = append(asked, ev.Message)
			mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()

	apptest.Do(t, ctx,
		chromedp.Navigate(base+"/market"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/market?code=`+entry.TraceCode+`"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/market?code=`+entry.TraceCode+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#certifies`)),
	)
	if warn := apptest.Text(t, ctx, "#no-certificate"); !strings.Contains(warn, "没有承诺达标合格证") {
		t.Fatalf("no warning about the missing certificate: %q", warn)
	}
	// no reason: the form says so where the reason goes
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const f = document.querySelector('#reject-form'); f.querySelector('textarea').required = false; f.requestSubmit(); return true })()`)); err != nil {
		t.Fatal(err)
	}
	apptest.WaitText(t, ctx, "#reject-form .ferr", "")
	apptest.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#reject-form textarea`), "无承诺达标合格证，请补开后再来"),
		chromedp.Click(chromedp.CSS(`#reject`)),
	)
	apptest.WaitText(t, ctx, "p.flash", "已拒绝入市")
	apptest.Screenshot(t, ctx, "market-rejected")
	if got := apptest.Text(t, ctx, "#entry-reason"); !strings.Contains(got, "无承诺达标合格证，请补开后再来") {
		t.Errorf("the entry does not show its reason: %q", got)
	}
	if got := apptest.Text(t, ctx, "#checked"); !strings.Contains(got, "已拒收") && !strings.Contains(got, "拒") {
		t.Errorf("the checked list lacks the rejection: %q", got)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#accept, #reject').length`)); err != nil || n != 0 {
		t.Errorf("a rejected entry still offers accept/reject (%d, %v)", n, err)
	}
	after, err := a.Trace.GetBatch(ctx0, seller, b.TraceCode)
	if err != nil || after.Stock != 500 {
		t.Fatalf("the seller's stock after the rejection: %v (%v), want 500", after.Stock, err)
	}
	mu.Lock()
	defer mu.Unlock()
	// asked before each submit: the one without a reason and the real one
	if len(asked) != 2 || !strings.Contains(asked[1], "拒绝") {
		t.Fatalf("questions asked: %q", asked)
	}
}

// TestBrowserSellToRegisteredMarket: the county has registered its market;
// the farmer picks it from the list (the typed fields hide) and the sale
// names it as registered.
func TestBrowserSellToRegisteredMarket(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	ctx0 := context.Background()
	f := newFarm(t, a)
	user, pw := f.user, f.pw
	b := f.apples(t, a, 500)
	rev := apptest.ReviewerFor(t, a, "370686")
	m, err := a.Trace.CreateMarket(ctx0, apptest.ActorOf(rev), trace.NewMarket{Name: "栖霞市城区农贸市场", Kind: "retail", RegionCode: "370686"})
	if err != nil {
		t.Fatal(err)
	}
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 390, 844)
	login(t, ctx, base, user, pw)
	apptest.Do(t, ctx,
		chromedp.Navigate(base+"/sell?from="+b.TraceCode),
		chromedp.WaitVisible(chromedp.CSS(`#sell-form`)),
		chromedp.Click(chromedp.CSS(`input[name=to][value=market]`)),
		chromedp.SendKeys(chromedp.CSS(`#quantity`), "120"),
		chromedp.SetValue(chromedp.CSS(`#market_id`), strconv.FormatInt(m.ID, 10)),
	)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#market_id').dispatchEvent(new Event('change')) || true`)); err != nil {
		t.Fatal(err)
	}
	if hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('.tr-to-market .market-typed').hidden`)); err != nil || !hidden {
		t.Errorf("the typed market fields still show with a registered market chosen (%v)", err)
	}
	apptest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#sell-submit`)), chromedp.WaitVisible(chromedp.CSS(`#transfer`)))
	if body := apptest.Text(t, ctx, "#transfer"); !strings.Contains(body, "栖霞市城区农贸市场") {
		t.Fatalf("sale page: %s", body)
	}
}
