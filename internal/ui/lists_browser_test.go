package ui_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
)

// TestBrowserPagedListAndExport: a cooperative with 57 batches sees them 50
// to a page on its phone, pages on to the last 7, and the export link of
// the list downloads all 57 as CSV (Excel reads it: UTF-8 with a BOM).
func TestBrowserPagedListAndExport(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	f := newFarm(t, a)
	user, pw := f.user, f.pw
	for i := 0; i < 57; i++ {
		f.apples(t, a, float64(100+i))
	}
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 390, 844)
	login(t, ctx, base, user, pw)
	rows := func() int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('ul.tr-stock > li.tr-card').length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	apptest.Do(t, ctx, chromedp.Navigate(base+"/batches?status=all"), chromedp.WaitVisible(chromedp.CSS(`nav.pager`)))
	if n := rows(); n != 50 {
		t.Fatalf("page 1 shows %d batches, want 50", n)
	}
	apptest.Do(t, ctx, chromedp.Click(chromedp.CSS(`nav.pager a[rel=next]`)))
	apptest.WaitText(t, ctx, "nav.pager", "第 2 页")
	if n := rows(); n != 7 {
		t.Fatalf("page 2 shows %d batches, want 7", n)
	}
	apptest.Screenshot(t, ctx, "list-page-2")
	csv, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector('a.export').href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if !strings.HasPrefix(csv, "追溯码") || len(lines) != 58 {
		t.Fatalf("the export: %d lines, starts %q", len(lines), csv[:min(len(csv), 30)])
	}
	bom, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector('a.export').href).then(r => r.arrayBuffer()).then(b => [...new Uint8Array(b).slice(0, 3)].join(','))`, chromedp.EvalAwaitPromise))
	if err != nil || bom != "239,187,191" {
		t.Fatalf("the export does not start with a UTF-8 byte-order mark (Excel needs it): %q %v", bom, err)
	}
}
