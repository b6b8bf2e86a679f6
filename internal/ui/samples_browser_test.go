package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// TestBrowserFailingSample: on a phone, a county tester records a
// clenbuterol-positive sample of a pig farm's lot; the page says 不合格 and
// names the recall; the supervisor of the county the pigs were sold to
// sees the recall on the home page and opens it from the findings.
func TestBrowserFailingSample(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	ctx0 := context.Background()
	farm, fu, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "高州良种生猪养殖场", RegionCode: "440981", Products: []string{"live_pig"}})
	buyer, bu, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "英德生猪定点屠宰厂", Kind: "slaughterhouse", Category: "producer_trader", RegionCode: "441881"})
	seller, buyerActor := actorFor(t, a, fu), actorFor(t, a, bu)
	today := time.Now().In(platform.ChinaTZ).Format(time.DateOnly)
	b, err := a.Trace.CreateBatch(ctx0, seller, trace.NewBatch{ProductCode: "live_pig", Quantity: 20, Unit: "head", ProducedAt: today})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := a.Trace.Sell(ctx0, seller, trace.SaleInput{FromCode: b.TraceCode, Quantity: 10, BuyerOperatorCode: buyer.Code})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Trace.Confirm(ctx0, buyerActor, tr.TraceCode, trace.ConfirmInput{ReceivedQuantity: 10}); err != nil {
		t.Fatal(err)
	}
	const pw = "sample-pass-2026"
	for _, u := range []struct{ name, role, region string }{{"gaozhou-tester", "tester", "440981"}, {"yingde-supervisor", "supervisor", "441881"}} {
		if _, err := a.Auth.CreateUser(ctx0, auth.System(), auth.NewUser{Username: u.name, Password: pw, Name: u.name, Role: u.role, RegionCode: u.region}); err != nil {
			t.Fatal(err)
		}
	}
	base := apptest.LiveServer(t, a)
	phone := apptest.Browser(t, 390, 844)
	login(t, phone, base, "gaozhou-tester", pw)
	apptest.Do(t, phone,
		chromedp.Navigate(base+"/samples/new"),
		chromedp.WaitVisible(chromedp.CSS(`#sample-form`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=operator_code]`), farm.Code),
		chromedp.SendKeys(chromedp.CSS(`input[name=batch_code]`), b.TraceCode),
		chromedp.SendKeys(chromedp.CSS(`input[name=sample_no]`), "GZ-2026-0501"),
		chromedp.SetValue(chromedp.CSS(`input[name=sampled_at]`), today),
		chromedp.SendKeys(chromedp.CSS(`input[name=substance_0]`), "克仑特罗"),
		chromedp.SendKeys(chromedp.CSS(`input[name=value_0]`), "2.4"),
		chromedp.SetValue(chromedp.CSS(`select[name=unit_0]`), "μg/kg"),
		chromedp.SendKeys(chromedp.CSS(`input[name=lod_0]`), "0.5"),
		chromedp.Click(chromedp.CSS(`#sample-submit`)),
	)
	apptest.WaitText(t, phone, "p.flash", "抽样检测已登记")
	if got := apptest.Text(t, phone, "#sample-verdict"); !strings.Contains(got, "不合格") || !strings.Contains(got, "召回") {
		t.Fatalf("the sample page: %q", got)
	}
	apptest.Screenshot(t, phone, "sample-failed-phone")

	sup := apptest.Browser(t, 1280, 900)
	login(t, sup, base, "yingde-supervisor", pw)
	if got := apptest.Text(t, sup, "#queue-recalls"); !strings.Contains(got, "1") {
		t.Fatalf("the downstream supervisor's home does not count the recall: %q", got)
	}
	apptest.Do(t, sup, chromedp.Navigate(base+"/findings?kind=recall_hold"), chromedp.WaitVisible(chromedp.CSS(`#findings`)),
		chromedp.Click(chromedp.CSS(`#findings td a`)), chromedp.WaitVisible(chromedp.CSS(`#recall-batches`)))
	if got := apptest.Text(t, sup, "#recall-batches"); !strings.Contains(got, "英德生猪定点屠宰厂") || !strings.Contains(got, "高州良种生猪养殖场") {
		t.Fatalf("the recall's scope: %q", got)
	}
}
