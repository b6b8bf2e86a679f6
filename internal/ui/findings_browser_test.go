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

// TestBrowserHandleFinding: a county supervisor sees a quantity mismatch
// on the findings page, takes it up (due date by default), tries to close
// it without a note (told so next to the note, what was typed kept), closes
// it with one, and the home page's count of what waits goes down.
func TestBrowserHandleFinding(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	ctx0 := context.Background()
	_, su, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞绿源苹果专业合作社", Kind: "cooperative", Category: "producer", RegionCode: "370686"})
	_, bu, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "烟台鲜果商贸有限公司", Kind: "enterprise", Category: "trader", RegionCode: "370686"})
	seller, buyer := actorFor(t, a, su), actorFor(t, a, bu)
	b, err := a.Trace.CreateBatch(ctx0, seller, trace.NewBatch{ProductCode: "apple", Quantity: 500, Unit: "kg", ProducedAt: "2026-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	buyerOp, err := a.Operators.Get(ctx0, buyer, buyer.OperatorID)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := a.Trace.Sell(ctx0, seller, trace.SaleInput{FromCode: b.TraceCode, Quantity: 100, BuyerOperatorCode: buyerOp.Code})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Trace.Confirm(ctx0, buyer, tr.TraceCode, trace.ConfirmInput{ReceivedQuantity: 90}); err != nil {
		t.Fatal(err)
	}
	const pw = "supervisor-pass-2026"
	if _, err := a.Auth.CreateUser(ctx0, auth.System(), auth.NewUser{Username: "qixia-supervisor", Password: pw, Name: "栖霞监管员", Role: "supervisor", RegionCode: "370686"}); err != nil {
		t.Fatal(err)
	}
	list, err := a.Trace.Findings(ctx0, actorFor(t, a, "qixia-supervisor"), trace.FindingFilter{Kind: trace.FindingQuantityMismatch})
	if err != nil || len(list) != 1 {
		t.Fatalf("findings: %v %v", list, err)
	}
	row := "#finding-" + strconv.FormatInt(list[0].ID, 10)

	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 1280, 900)
	var mu sync.Mutex
	asked := 0
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			mu.Lock()
			asked++
			mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	login(t, ctx, base, "qixia-supervisor", pw)
	if got := apptest.Text(t, ctx, "#queue-findings"); !strings.Contains(got, "1") {
		t.Fatalf("the home page does not count the open finding: %q", got)
	}
	apptest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#queue-findings`)),
		chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.Click(chromedp.CSS(row+` details summary`)),
		chromedp.Click(chromedp.CSS(row+` button[value=start]`)),
	)
	apptest.WaitText(t, ctx, "p.flash", "已接手")
	if got := apptest.Text(t, ctx, row+" .tr-handling"); !strings.Contains(got, "处理中") || !strings.Contains(got, "栖霞监管员") || !strings.Contains(got, "处理期限") {
		t.Fatalf("after taking it up: %q", got)
	}
	// close without a note: refused next to the note
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const d = document.querySelector('`+row+` details'); d.open = true; return true })()`)); err != nil {
		t.Fatal(err)
	}
	apptest.Do(t, ctx, chromedp.Click(chromedp.CSS(row+` button[value=close]`)))
	apptest.WaitText(t, ctx, row+" .ferr", "处理情况")
	apptest.Screenshot(t, ctx, "finding-close-refused")
	apptest.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(row+` textarea[name=note]`), "收货方承认途中损耗，已核实"),
		chromedp.Click(chromedp.CSS(row+` button[value=close]`)),
	)
	apptest.WaitText(t, ctx, "p.flash", "已结案")
	// the default list shows what still needs someone: the closed one is gone
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('`+row+`').length`)); err != nil || n != 0 {
		t.Fatalf("a closed finding is still in the default list (%d, %v)", n, err)
	}
	got, err := a.Trace.Finding(ctx0, actorFor(t, a, "qixia-supervisor"), list[0].ID)
	if err != nil || got.Status != trace.FindingClosed || len(got.Steps) != 2 || got.Steps[1].Note != "收货方承认途中损耗，已核实" {
		t.Fatalf("stored: %+v (%v)", got, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if asked != 2 {
		t.Errorf("%d confirmations asked, want 2 (both close attempts)", asked)
	}
}
