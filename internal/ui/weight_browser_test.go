package ui_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
	"agtrace/internal/trace"
)

// TestPageWeight measures what the operator pages and the public scan page
// cost on the wire (bytes received, headers included, as Chromium counts
// them): on a first visit with an empty cache, and on a later visit with
// the static files cached. The budgets are issue 9's: operator pages under
// 100 KB first and 20 KB after; the figures are in docs/benchmarks.md.
func TestPageWeight(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	ctx0 := context.Background()
	_, user, pw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞绿源苹果专业合作社", Kind: "cooperative", Category: "producer", RegionCode: "370686", Products: []string{"苹果"}})
	b, err := a.Trace.CreateBatch(ctx0, actorFor(t, a, user), trace.NewBatch{ProductCode: "apple", Quantity: 800, Unit: "kg", ProducedAt: "2026-11-25", Origin: "寺口镇 3 号果园"})
	if err != nil {
		t.Fatal(err)
	}
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 390, 844)
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var bytes float64
	var files int
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventLoadingFinished); ok {
			mu.Lock()
			bytes += e.EncodedDataLength
			files++
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	visit := func(path string, cold bool) (float64, int) {
		t.Helper()
		if cold {
			if _, err := chromedp.Call(ctx, network.ClearBrowserCache, cdp.Empty{}); err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		bytes, files = 0, 0
		mu.Unlock()
		apptest.Do(t, ctx, chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS(`main`)))
		time.Sleep(300 * time.Millisecond) // late subresources (none expected)
		mu.Lock()
		defer mu.Unlock()
		return bytes, files
	}
	login(t, ctx, base, user, pw)
	pages := []struct{ name, path string }{
		{"home", "/"},
		{"stock", "/batches"},
		{"new batch", "/batches/new"},
		{"sell", "/sell?from=" + b.TraceCode},
		{"batch", "/batches/" + b.TraceCode},
		{"sales", "/transfers"},
	}
	var table strings.Builder
	fmt.Fprintf(&table, "| page | first visit | later visit |\n|---|---|---|\n")
	for _, pg := range pages {
		first, n := visit(pg.path, true)
		later, m := visit(pg.path, false)
		fmt.Fprintf(&table, "| %s (`%s`) | %.1f KB in %d files | %.1f KB in %d files |\n", pg.name, strings.Split(pg.path, "?")[0], first/1024, n, later/1024, m)
		if first > 100*1024 || later > 20*1024 {
			t.Errorf("%s weighs %.1f KB first, %.1f KB later (budget 100 / 20 KB)", pg.name, first/1024, later/1024)
		}
		// on a 390 px phone nothing is cut off: the page does not scroll
		// sideways (tables scroll inside their own box), and every button and
		// field is at least 44 px high
		layout, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		  const out = [];
		  if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push('page is ' + document.documentElement.scrollWidth + ' px wide');
		  for (const el of document.querySelectorAll('main button, main a.button, main select, main input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), main textarea')) {
		    const r = el.getBoundingClientRect();
		    if (r.width === 0 || el.closest('[hidden], details:not([open])')) continue;
		    if (r.height < 44) out.push((el.id || el.name || el.textContent.trim().slice(0, 12) || el.tagName) + ' ' + Math.round(r.height) + ' px');
		  }
		  return out.join('; ');
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if layout != "" {
			t.Errorf("%s on a 390 px phone: %s", pg.name, layout)
		}
	}
	apptest.Do(t, ctx, chromedp.Navigate(base+"/"), chromedp.Click(chromedp.CSS(`header form button`)), chromedp.WaitVisible(chromedp.CSS(`form.lookup`)))
	pub := "/q/" + b.TraceCode + "?v=" + a.Trace.Token(b.TraceCode)
	first, n := visit(pub, true)
	later, m := visit(pub, false)
	fmt.Fprintf(&table, "| public scan page (`/q/{code}`, logged out) | %.1f KB in %d files | %.1f KB in %d files |\n", first/1024, n, later/1024, m)
	t.Logf("page weight on the wire (Chromium, 390 px):\n%s", table.String())
}
