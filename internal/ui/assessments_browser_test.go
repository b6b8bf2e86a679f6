package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
	"agtrace/internal/demo"
)

// TestBrowserAssessment: on a phone, Shandong's supervisor opens 绩效考核
// from the home page, computes the month's county ranking, reads it (the
// page never scrolls sideways; the wide table scrolls in its box) and
// downloads the PDF and Excel reports.
func TestBrowserAssessment(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	const pw = "demo-pass-2026"
	if _, err := demo.Load(context.Background(), a, pw); err != nil {
		t.Fatal(err)
	}
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 390, 844)
	apptest.BrowserLogin(t, ctx, base, "sd-supervisor", pw)
	apptest.Do(t, ctx, chromedp.Navigate(base+"/"), chromedp.Click(chromedp.CSS(`a[href="/assessments"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#as-compute`)))
	apptest.Screenshot(t, ctx, "assessments-phone")
	apptest.Do(t, ctx, chromedp.SetValue(chromedp.CSS(`#as-compute select[name=level]`), "county"),
		chromedp.Click(chromedp.CSS(`#as-compute button.primary`)), chromedp.WaitVisible(chromedp.CSS(`#as-ranking`)))
	if title := apptest.Text(t, ctx, `#as-title`); !strings.Contains(title, "山东省") || !strings.Contains(title, "县级") {
		t.Errorf("title %q", title)
	}
	if first := apptest.Text(t, ctx, `#as-ranking tbody tr:first-child td:nth-child(2)`); first != "荣成市" && first != "栖霞市" {
		t.Errorf("the first place goes to %q, not a pilot county", first)
	}
	over, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || over {
		t.Errorf("the page scrolls sideways on a phone (%v)", err)
	}
	apptest.Screenshot(t, ctx, "assessment-phone")
	for _, c := range []struct{ sel, want string }{{"#as-pdf", "application/pdf 37,80"}, {"#as-xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet 80,75"}} {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector('`+c.sel+`').href).then(r => r.arrayBuffer().then(b =>
			r.status + ' ' + r.headers.get('content-type') + ' ' + new Uint8Array(b).slice(0, 2).join(',')))`, chromedp.EvalAwaitPromise))
		if err != nil || got != "200 "+c.want {
			t.Errorf("%s: %q %v", c.sel, got, err)
		}
	}
}
