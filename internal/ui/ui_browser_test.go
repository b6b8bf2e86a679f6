package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
	"agtrace/internal/auth"
)

// TestBrowserReviewerLogin: a county reviewer logs in through the page and
// sees the reviewer's home page in Chinese.
func TestBrowserReviewerLogin(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	if _, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: "qixia-reviewer", Password: "test-pass-2026",
		Name: "栖霞市审核员", Role: "reviewer", RegionCode: "370686"}); err != nil {
		t.Fatal(err)
	}
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 1280, 900)

	// a wrong password first: the page says so, in Chinese
	apptest.Do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "qixia-reviewer"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "wrong-password"),
		chromedp.Click(chromedp.CSS(`form.form button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`p.alert`)),
	)
	if msg := apptest.Text(t, ctx, "p.alert"); !strings.Contains(msg, "用户名或密码错误") {
		t.Fatalf("wrong-password message: %q", msg)
	}

	apptest.Do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`input[name=password]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "test-pass-2026"),
		chromedp.Click(chromedp.CSS(`form.form button.primary`)),
	)
	apptest.WaitText(t, ctx, "h1", "您好")
	apptest.Screenshot(t, ctx, "reviewer-home")
	if h1 := apptest.Text(t, ctx, "h1"); !strings.Contains(h1, "您好") || !strings.Contains(h1, "栖霞市审核员") {
		t.Fatalf("home heading: %q", h1)
	}
	body := apptest.Text(t, ctx, "main")
	for _, want := range []string{"县级审核员", "栖霞市", "主体注册审核"} {
		if !strings.Contains(body, want) {
			t.Errorf("reviewer home lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "用户管理") {
		t.Error("reviewer home offers the admin's user management")
	}

	// English switch, then log out
	apptest.Do(t, ctx, chromedp.Click(chromedp.CSS(`a.lang`)))
	apptest.WaitText(t, ctx, "h1", "Hello")
	apptest.Do(t, ctx, chromedp.Click(chromedp.CSS(`header form button`)), chromedp.WaitVisible(chromedp.CSS(`form.lookup`)))
}
