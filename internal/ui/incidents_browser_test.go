package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
	"agtrace/internal/demo"
)

// TestBrowserIncident: the demo's incident (the clenbuterol recall of 高州)
// at a desk — the map of the affected batches drawn, a task assigned from
// the form — and on a phone: the tester finds her task from the home tile
// and reports it done from its card, the page never wider than the screen.
func TestBrowserIncident(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	const pw = "demo-pass-2026"
	if _, err := demo.Load(context.Background(), a, pw); err != nil {
		t.Fatal(err)
	}
	base := apptest.LiveServer(t, a)

	desk := apptest.Browser(t, 1280, 1000)
	apptest.BrowserLogin(t, desk, base, "gaozhou-supervisor", pw)
	apptest.Do(t, desk, chromedp.Navigate(base+"/"), chromedp.Click(chromedp.CSS(`a[href="/incidents"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#incidents`)), chromedp.Click(chromedp.CSS(`#incidents a.code`)),
		chromedp.WaitVisible(chromedp.CSS(`#in-map[data-rendered="1"]`)))
	if n, err := chromedp.Run(desk, chromedp.Evaluate[int](`document.querySelectorAll('#in-map canvas').length`)); err != nil || n == 0 {
		t.Fatalf("the map drew no canvas: %d %v", n, err)
	}
	if rows := apptest.Text(t, desk, `#incident-batches tbody`); !strings.Contains(rows, "英德") && !strings.Contains(rows, "清远") {
		t.Errorf("the affected batches do not reach 英德's market: %s", rows)
	}
	apptest.Screenshot(t, desk, "incident-desk")
	apptest.Do(t, desk,
		chromedp.SetValue(chromedp.CSS(`#incident-assign select[name=kind]`), "report"),
		chromedp.SetValue(chromedp.CSS(`#in-assignee`), "gaozhou-enforcer"),
		chromedp.SendKeys(chromedp.CSS(`#incident-assign textarea[name=instructions]`), "汇总立案调查进展"),
		chromedp.Click(chromedp.CSS(`#incident-assign button.primary`)))
	apptest.WaitText(t, desk, `p.flash`, "任务已分派")
	if cards := apptest.Text(t, desk, `#incident-tasks`); !strings.Contains(cards, "汇总立案调查进展") {
		t.Errorf("the new task is not on the page: %s", cards)
	}

	phone := apptest.Browser(t, 390, 844)
	apptest.BrowserLogin(t, phone, base, "gaozhou-tester", pw)
	apptest.Do(t, phone, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`a[href="/incidents"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/incidents"]`)), chromedp.WaitVisible(chromedp.CSS(`#incidents`)),
		chromedp.Click(chromedp.CSS(`#incidents a.code`)), chromedp.WaitVisible(chromedp.CSS(`#incident-tasks form.in-inline`)))
	apptest.Do(t, phone,
		chromedp.SetValue(chromedp.CSS(`#incident-tasks form.in-inline select[name=status]`), "done"),
		chromedp.SendKeys(chromedp.CSS(`#incident-tasks form.in-inline input[name=note]`), "3 份样品均未检出"),
		chromedp.Click(chromedp.CSS(`#incident-tasks form.in-inline button`)))
	apptest.WaitText(t, phone, `p.flash`, "任务进度已更新")
	if cards := apptest.Text(t, phone, `#incident-tasks`); !strings.Contains(cards, "3 份样品均未检出") || !strings.Contains(cards, "已完成") {
		t.Errorf("the report is not on the task card: %s", cards)
	}
	apptest.Do(t, phone, chromedp.WaitVisible(chromedp.CSS(`#in-map[data-rendered="1"]`)))
	wide, err := chromedp.Run(phone, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || wide {
		t.Errorf("the incident page is wider than the phone (%v)", err)
	}
	apptest.Screenshot(t, phone, "incident-phone")
}
