package trace_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
	"agtrace/internal/trace"
)

func browserLogin(t *testing.T, ctx context.Context, base, user, pw string) {
	t.Helper()
	apptest.BrowserLogin(t, ctx, base, user, pw)
}

// TestBrowserSellAndConfirm: on a phone-sized screen the seller sells part
// of a batch by typing the buyer's operator code, the buyer sees the
// incoming transfer and confirms it, and both stock pages show the change.
func TestBrowserSellAndConfirm(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	seller, su, sp := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞绿源苹果专业合作社", Kind: "cooperative", Category: "producer", RegionCode: "370686"})
	buyer, bu, bp := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "烟台鲜果商贸有限公司", Kind: "enterprise", Category: "trader", RegionCode: "370686"})
	_ = seller
	b, err := a.Trace.CreateBatch(context.Background(), actorOf(t, a, su), trace.NewBatch{ProductCode: "apple", Quantity: 1000, Unit: "kg",
		ProducedAt: daysAgo(1), Origin: "寺口镇 3 号果园"})
	if err != nil {
		t.Fatal(err)
	}
	lot := b.TraceCode
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 390, 844)

	// the seller: home tile → stock at a glance → sell from the batch's card
	browserLogin(t, ctx, base, su, sp)
	apptest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`a.card[href="/batches"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#stock-`+lot)),
	)
	if got := apptest.Text(t, ctx, "#stock-"+lot); got != "1000" {
		t.Fatalf("seller stock before = %q, want 1000", got)
	}
	apptest.Screenshot(t, ctx, "trace-stock-seller")
	apptest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#batch-`+lot+` a.button`)),
		chromedp.WaitVisible(chromedp.CSS(`#sell-form`)),
		chromedp.SendKeys(chromedp.CSS(`#quantity`), "300"),
		chromedp.SendKeys(chromedp.CSS(`#buyer_operator_code`), buyer.Code),
	)
	apptest.Screenshot(t, ctx, "trace-sell-form")
	// the typed code is resolved first: the buyer's name and region, to confirm
	apptest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#sell-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#sell-confirm`)),
	)
	if q := apptest.Text(t, ctx, "#sell-question"); !strings.Contains(q, "确认卖给 "+buyer.Name) || !strings.Contains(q, "栖霞市") {
		t.Fatalf("confirmation question: %q", q)
	}
	apptest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#sell-confirm`)),
		chromedp.WaitVisible(chromedp.CSS(`#transfer`)),
	)
	sold := strings.ReplaceAll(apptest.Text(t, ctx, "#trace-code"), " ", "")
	if len(sold) != 20 || sold[0] != '2' {
		t.Fatalf("after selling, the page shows code %q, want a circulation code", sold)
	}
	if body := apptest.Text(t, ctx, "#transfer"); !strings.Contains(body, "待确认") || !strings.Contains(body, buyer.Name) {
		t.Fatalf("sale page: %s", body)
	}
	apptest.Do(t, ctx, chromedp.Navigate(base+"/batches"), chromedp.WaitVisible(chromedp.CSS(`#stock-`+lot)))
	if got := apptest.Text(t, ctx, "#stock-"+lot); got != "700" {
		t.Fatalf("seller stock after sale = %q, want 700", got)
	}
	apptest.Do(t, ctx, chromedp.Click(chromedp.CSS(`header form button`)), chromedp.WaitVisible(chromedp.CSS(`form.lookup`)))

	// the buyer: the incoming transfer, confirmed
	browserLogin(t, ctx, base, bu, bp)
	apptest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`a.card[href="/transfers"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#transfer-`+sold)),
	)
	if body := apptest.Text(t, ctx, "#transfer-"+sold); !strings.Contains(body, "苹果") || !strings.Contains(body, "300") || !strings.Contains(body, "栖霞绿源苹果专业合作社") {
		t.Fatalf("incoming transfer: %s", body)
	}
	apptest.Screenshot(t, ctx, "trace-incoming")
	apptest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#confirm-`+sold)),
		chromedp.WaitVisible(chromedp.CSS(`#stock`)),
	)
	if got := apptest.Text(t, ctx, "#stock"); got != "300" {
		t.Fatalf("buyer's batch page shows stock %q, want 300", got)
	}
	apptest.Do(t, ctx, chromedp.Navigate(base+"/batches"), chromedp.WaitVisible(chromedp.CSS(`#stock-`+sold)))
	if got := apptest.Text(t, ctx, "#stock-"+sold); got != "300" {
		t.Fatalf("buyer stock = %q, want 300", got)
	}
	apptest.Screenshot(t, ctx, "trace-stock-buyer")
	apptest.Do(t, ctx, chromedp.Navigate(base+"/transfers"), chromedp.WaitVisible(chromedp.CSS(`#no-transfers`)))
}
