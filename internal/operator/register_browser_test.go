package operator_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/operator"
)

// TestRegisterReviewBrowser runs the registration → review flow through the
// pages in Chromium on a phone-sized screen: an applicant fills /register,
// uploads a licence and submits; a reviewer logs in, opens the queue and
// approves; the applicant's page then shows the operator code.
func TestRegisterReviewBrowser(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	if _, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: "qixia-rev", Password: "reviewer-pass-1", Role: "reviewer", RegionCode: "370686"}); err != nil {
		t.Fatal(err)
	}
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 390, 844)
	png := filepath.Join(t.TempDir(), "licence.png")
	if err := os.WriteFile(png, apptest.TinyPNG, 0o644); err != nil {
		t.Fatal(err)
	}
	credit := operator.SampleUSCC("93", "370686", 2468)
	type steps = []chromedp.Action[chromedp.Void]
	login := func(user, pw string) steps {
		return steps{
			chromedp.Navigate(base + "/login"),
			chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=username]`), user),
			chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
			chromedp.Click(chromedp.CSS(`main form button.primary`)),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)),
		}
	}
	logout := steps{
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/login"]`)),
	}

	// 1. the applicant registers on a phone
	apptest.Do(t, ctx,
		chromedp.Navigate(base+"/register"),
		chromedp.WaitVisible(chromedp.CSS(`#opform`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "qixia-apple-coop"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "coop-pass-2026"),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "栖霞市金果专业合作社"),
		chromedp.SendKeys(chromedp.CSS(`#credit_code`), credit),
		chromedp.SetValue(chromedp.CSS(`select[name=category]`), "producer_trader"),
		chromedp.SendKeys(chromedp.CSS(`input[name=legal_rep]`), "孙立"),
		chromedp.SendKeys(chromedp.CSS(`input[name=id_number]`), operator.SampleResidentID("370686", "19780808", 8)),
		chromedp.SendKeys(chromedp.CSS(`input[name=phone]`), "13905350000"),
		chromedp.SendKeys(chromedp.CSS(`#region_code`), "370686"),
		chromedp.SendKeys(chromedp.CSS(`input[name=products]`), "苹果"),
		chromedp.Click(chromedp.CSS(`#register`)),
		chromedp.WaitVisible(chromedp.CSS(`#op-status`)),
	)
	apptest.Screenshot(t, ctx, "op-registered")
	if status := apptest.Text(t, ctx, "#op-status"); !strings.Contains(status, "草稿") {
		t.Fatalf("status after registration %q", status)
	}
	o, err := a.Operators.List(context.Background(), &auth.Actor{Role: auth.RoleAdmin, Region: "000000"}, operator.ListFilter{Q: "金果"})
	if err != nil || len(o) != 1 || o[0].Kind != "cooperative" {
		t.Fatalf("registered operator (kind from the 93 prefix): %+v %v", o, err)
	}

	// 2. uploads the licence and submits
	apptest.Do(t, ctx,
		chromedp.SetUploadFiles(chromedp.CSS(`#docfile`), []string{png}),
		chromedp.Click(chromedp.CSS(`form.upload button`)),
	)
	apptest.WaitText(t, ctx, "p.flash", "材料已上传")
	apptest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#submit-review`)),
	)
	apptest.WaitText(t, ctx, "#op-status", "待审核")
	apptest.Screenshot(t, ctx, "op-submitted")

	// 3. the reviewer approves from the queue
	apptest.Do(t, ctx, logout...)
	apptest.Do(t, ctx, login("qixia-rev", "reviewer-pass-1")...)
	apptest.Do(t, ctx, chromedp.Navigate(base+"/reviews"), chromedp.WaitVisible(chromedp.CSS(`#queue`)))
	if queue := apptest.Text(t, ctx, "#queue"); !strings.Contains(queue, "栖霞市金果专业合作社") {
		t.Fatalf("queue: %q", queue)
	}
	apptest.Screenshot(t, ctx, "op-queue")
	apptest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#queue a.button`)),
		chromedp.WaitVisible(chromedp.CSS(`#approve`)),
	)
	apptest.Screenshot(t, ctx, "op-review")
	apptest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#approve`)),
	)
	apptest.WaitText(t, ctx, "p.flash", "已审核通过")

	// 4. the applicant's page shows the operator code
	apptest.Do(t, ctx, logout...)
	apptest.Do(t, ctx, login("qixia-apple-coop", "coop-pass-2026")...)
	apptest.Do(t, ctx, chromedp.Navigate(base+"/my/operator"), chromedp.WaitVisible(chromedp.CSS(`#op-code`)))
	apptest.Screenshot(t, ctx, "op-approved")
	code, status := apptest.Text(t, ctx, "#op-code"), apptest.Text(t, ctx, "#op-status")
	oc, err := codes.ParseOperatorCode(code)
	if err != nil || oc.County != "370686" || oc.Category != codes.ProducerTrader || !strings.Contains(status, "已通过") {
		t.Fatalf("code on page %q (%v), status %q", code, err, status)
	}
	got, err := a.Operators.ByCode(context.Background(), oc.Code)
	if err != nil || got.Name != "栖霞市金果专业合作社" {
		t.Fatalf("code on the page does not resolve: %v", err)
	}
}
