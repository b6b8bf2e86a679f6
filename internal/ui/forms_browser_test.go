package ui_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/trace"
)

// TestBrowserRefusedFormKeepsInput: on a phone, a farmer's correction with
// a quantity that is not a number comes back on the batch page itself —
// the message next to the quantity, what was typed still there, the other
// forms of the page untouched, nothing written. A form posted without a
// file says why on the operator's page instead of a dead end.
func TestBrowserRefusedFormKeepsInput(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	ctx0 := context.Background()
	o, user, pw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞绿源苹果专业合作社", Kind: "cooperative", Category: "producer", RegionCode: "370686"})
	actor := actorFor(t, a, user)
	b, err := a.Trace.CreateBatch(ctx0, actor, trace.NewBatch{ProductCode: "apple", Quantity: 800, Unit: "kg", ProducedAt: "2026-11-20", Origin: "寺口镇 3 号果园"})
	if err != nil {
		t.Fatal(err)
	}
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 390, 844)
	login(t, ctx, base, user, pw)

	apptest.Do(t, ctx,
		chromedp.Navigate(base+"/batches/"+b.TraceCode),
		chromedp.WaitVisible(chromedp.CSS(`#correct summary`)),
		chromedp.Click(chromedp.CSS(`#correct summary`)),
		chromedp.SendKeys(chromedp.CSS(`#correct input[name=quantity]`), "很多"),
		chromedp.SendKeys(chromedp.CSS(`#correct input[name=reason]`), "过磅有误"),
		chromedp.Click(chromedp.CSS(`#correct button`)),
	)
	msg := apptest.WaitText(t, ctx, `#correct .ferr`, "")
	apptest.Screenshot(t, ctx, "form-refused-inline")
	if !strings.Contains(msg, "请填写数字") {
		t.Fatalf("the message next to the quantity: %q, want it to ask for a number", msg)
	}
	if !strings.Contains(apptest.Location(t, ctx), "/batches/"+b.TraceCode+"/correct") {
		t.Errorf("the refusal is not the answer to the post: %s", apptest.Location(t, ctx))
	}
	got := map[string]string{}
	for _, sel := range []string{`#correct input[name=quantity]`, `#correct input[name=reason]`, `#certificates input[name=quantity]`} {
		v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("value of %s: %v", sel, err)
		}
		got[sel] = v
	}
	if got[`#correct input[name=quantity]`] != "很多" || got[`#correct input[name=reason]`] != "过磅有误" {
		t.Errorf("the refused form lost what was typed: %v", got)
	}
	if got[`#certificates input[name=quantity]`] != "800" {
		t.Errorf("the certificate form took the refused form's quantity: %v", got)
	}
	if after, err := a.Trace.GetBatch(ctx0, actor, b.TraceCode); err != nil || len(after.Corrections) != 0 || after.Quantity != 800 {
		t.Errorf("a refused correction changed the batch: %v %+v", err, after.Corrections)
	}
	if strings.Contains(apptest.Text(t, ctx, "main"), "出错了") {
		t.Error("the refusal still leads to the error page")
	}

	// an upload without a file: the operator's page again, the reason shown
	apptest.Do(t, ctx,
		chromedp.Navigate(base+"/operators/"+strconv.FormatInt(o.ID, 10)),
		chromedp.WaitVisible(chromedp.CSS(`h1`)),
	)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const f = document.querySelector('form.upload'); if (!f) return false; f.querySelector('input[type=file]').required = false; f.requestSubmit(); return true })()`)); err != nil {
		t.Fatal(err)
	}
	if got := apptest.WaitText(t, ctx, `form.upload .ferr`, "请选择要上传的文件"); got == "" {
		t.Fatal("an empty upload says nothing")
	}
}

// TestBrowserDestructiveActionsAsk: disabling a staff account asks first;
// answering no leaves it active, yes disables it.
func TestBrowserDestructiveActionsAsk(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	ctx0 := context.Background()
	o, user, pw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞绿源苹果专业合作社", Kind: "cooperative", Category: "producer", RegionCode: "370686"})
	staff, err := a.Operators.CreateStaff(ctx0, actorFor(t, a, user), o.ID, operator.StaffInput{Username: "lvyuan-picker", Password: "picker-pass-2026", Name: "采摘员", Permissions: []string{"record"}})
	if err != nil {
		t.Fatal(err)
	}
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 390, 844)
	login(t, ctx, base, user, pw)

	var mu sync.Mutex
	var asked []string
	answer := false
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			mu.Lock()
			asked = append(asked, ev.Message)
			yes := answer
			mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: yes})
		}
	}()
	status := func() string {
		t.Helper()
		users, err := a.Operators.Staff(ctx0, auth.System(), o.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if u.ID == staff.ID {
				return u.Status
			}
		}
		return ""
	}

	apptest.Do(t, ctx, chromedp.Navigate(base+"/my/staff"), chromedp.WaitVisible(chromedp.CSS(`button.danger[data-confirm]`)),
		chromedp.Click(chromedp.CSS(`button.danger[data-confirm]`)))
	apptest.Do(t, ctx, chromedp.Navigate(base+"/my/staff"), chromedp.WaitVisible(chromedp.CSS(`button.danger[data-confirm]`)))
	if st := status(); st != "active" {
		t.Fatalf("answering no still changed the account: %s", st)
	}
	mu.Lock()
	answer = true
	mu.Unlock()
	apptest.Do(t, ctx, chromedp.Click(chromedp.CSS(`button.danger[data-confirm]`)))
	apptest.WaitText(t, ctx, "p.flash", "")
	if st := status(); st != "disabled" {
		t.Fatalf("answering yes did not disable the account: %s", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 2 || !strings.Contains(asked[0], "停用") {
		t.Fatalf("questions asked: %q", asked)
	}
}

func actorFor(t *testing.T, a *app.App, username string) *auth.Actor {
	t.Helper()
	return apptest.ActorOf(mustUser(t, a.Auth, username))
}

// login signs in through the login page (apptest.BrowserLogin).
func login(t *testing.T, ctx context.Context, base, user, pw string) {
	t.Helper()
	apptest.BrowserLogin(t, ctx, base, user, pw)
}

// TestBrowserFirstBatchOfAnAppleFarm: a farm registered for apples opens
// the batch form for the first time on a phone: apples are chosen (not the
// catalogue's first product, 大白菜), the form is ready to fill in, and
// typing in the product search narrows the list.
func TestBrowserFirstBatchOfAnAppleFarm(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	_, user, pw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞山后苹果家庭农场", Kind: "family_farm", Category: "producer",
		RegionCode: "370686", Products: []string{"苹果"}})
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 390, 844)
	login(t, ctx, base, user, pw)
	apptest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`a.card[href="/batches/new"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#batch-form`)),
	)
	apptest.Screenshot(t, ctx, "batch-first-apple")
	chosen, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const s = document.querySelector('#product-select'); return s.value + ' ' + s.selectedOptions[0].textContent })()`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(chosen, "apple 苹果") {
		t.Fatalf("the first batch's product: %q, want 苹果", chosen)
	}
	if got := apptest.Text(t, ctx, ".tr-chosen strong"); got != "苹果" {
		t.Fatalf("the form records %q", got)
	}
	apptest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(`input.tr-filter`), "茶"))
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#product-select option')].filter(o => !o.hidden && o.value).map(o => o.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(shown) == 0 {
		t.Fatal("searching 茶 leaves no product")
	}
	for _, s := range shown {
		if !strings.Contains(s, "茶") {
			t.Errorf("searching 茶 still shows %q", s)
		}
	}
}

// TestBrowserRegionPicker: selling into a market, the farmer picks the
// market's county by name (山东省 → 烟台市 → 栖霞市) instead of typing a
// code; the sale goes to that county's market, and the operator list of a
// county official shows region names, not codes.
func TestBrowserRegionPicker(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	f := newFarm(t, a)
	user, pw := f.user, f.pw
	b := f.apples(t, a, 300)
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 390, 844)
	login(t, ctx, base, user, pw)
	pick := func(level int, name string) {
		t.Helper()
		sel := `.tr-to-market .region-picker select:nth-of-type(` + strconv.Itoa(level) + `)`
		apptest.Do(t, ctx, chromedp.WaitReady(chromedp.CSS(sel+` option:nth-child(2)`)))
		js := `(() => { const s = document.querySelector('` + sel + `'); const o = [...s.options].find(o => o.textContent === '` + name + `'); if (!o) return false; s.value = o.value; s.dispatchEvent(new Event('change')); return true })()`
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil || !ok {
			t.Fatalf("no %s in region level %d (%v)", name, level, err)
		}
	}
	apptest.Do(t, ctx,
		chromedp.Navigate(base+"/sell?from="+b.TraceCode),
		chromedp.WaitVisible(chromedp.CSS(`#sell-form`)),
		chromedp.Click(chromedp.CSS(`input[name=to][value=market]`)),
		chromedp.SendKeys(chromedp.CSS(`#quantity`), "100"),
		chromedp.SendKeys(chromedp.CSS(`input[name=market_name]`), "栖霞市城区农贸市场"),
	)
	pick(1, "山东省")
	pick(2, "烟台市")
	pick(3, "栖霞市")
	apptest.Screenshot(t, ctx, "region-picker")
	code, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name=market_region]`)))
	if err != nil || code != "370686" {
		t.Fatalf("the picker filled in %q (%v), want 370686", code, err)
	}
	if got := apptest.Text(t, ctx, ".tr-to-market .region-name"); got != "山东省烟台市栖霞市" {
		t.Errorf("the chosen region reads %q", got)
	}
	apptest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#sell-submit`)), chromedp.WaitVisible(chromedp.CSS(`#transfer`)))
	if body := apptest.Text(t, ctx, "#transfer"); !strings.Contains(body, "栖霞市城区农贸市场") {
		t.Fatalf("sale page: %s", body)
	}

	// the county reviewer's operator list: names, not codes
	rev := apptest.ReviewerFor(t, a, "370686")
	rc := apptest.Browser(t, 1280, 900)
	login(t, rc, base, rev.Username, apptest.OperatorPassword)
	apptest.Do(t, rc, chromedp.Navigate(base+"/operators"), chromedp.WaitVisible(chromedp.CSS(`main table`)))
	if body := apptest.Text(t, rc, "main table"); !strings.Contains(body, "山东省烟台市栖霞市") {
		t.Errorf("the operator list does not name the region:\n%s", body)
	}
}
