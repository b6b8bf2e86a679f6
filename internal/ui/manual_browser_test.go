package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/demo"
	"agtrace/internal/supervision"
	"agtrace/internal/trace"
)

// TestManualScreenshots walks each role's manual through the real pages of
// the demo data on a phone. With AGTRACE_MANUAL=update (`make manual`) it
// saves each page as the manual's screenshot (static/manual/<name>.png);
// always it checks that the manual pages render in both languages and that
// every screenshot they show is there.
func TestManualScreenshots(t *testing.T) {
	if testing.Short() {
		t.Skip("walks the demo dataset in a browser")
	}
	a := apptest.NewApp(t, "sqlite")
	const pw = "demo-pass-2026"
	if _, err := demo.Load(context.Background(), a, pw); err != nil {
		t.Fatal(err)
	}
	base := apptest.LiveServer(t, a)
	update := os.Getenv("AGTRACE_MANUAL") == "update"
	shot := func(ctx context.Context, name string) {
		t.Helper()
		if !update {
			return
		}
		buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join("static", "manual", name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	visit := func(ctx context.Context, path, name string) {
		t.Helper()
		apptest.Do(t, ctx, chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS(`footer`)))
		shot(ctx, name)
	}
	orchard := actorFor(t, a, "qixia-orchard")
	list, err := a.Trace.ListBatches(context.Background(), orchard, trace.BatchFilter{})
	if err != nil || len(list) == 0 {
		t.Fatalf("the demo orchard has no batches: %v", err)
	}

	op := apptest.Browser(t, 390, 844)
	login(t, op, base, "qixia-orchard", pw)
	visit(op, "/", "operator-home")
	visit(op, "/batches/new", "operator-batch-new")
	visit(op, "/batches/"+list[0].TraceCode, "operator-batch")
	visit(op, "/sell", "operator-sell")
	visit(op, "/transfers", "operator-transfers")

	rev := apptest.Browser(t, 390, 844)
	login(t, rev, base, "qixia-reviewer", pw)
	visit(rev, "/", "reviewer-home")
	visit(rev, "/reviews", "reviewer-queue")
	apptest.Do(t, rev, chromedp.Click(chromedp.CSS(`#queue a.button`)), chromedp.WaitVisible(chromedp.CSS(`#op-status`)))
	shot(rev, "reviewer-operator")

	sup := apptest.Browser(t, 390, 844)
	login(t, sup, base, "qixia-supervisor", pw)
	visit(sup, "/", "supervisor-home")
	visit(sup, "/findings", "supervisor-findings")
	visit(sup, "/markets", "supervisor-markets")
	visit(sup, "/draws/1", "supervisor-draw")
	visit(sup, "/admin/monitoring", "supervisor-monitoring")

	insp := apptest.Browser(t, 390, 844)
	login(t, insp, base, "rongcheng-inspector", pw)
	visit(insp, "/inspections", "inspector-tasks")
	insp2 := apptest.Browser(t, 390, 844)
	login(t, insp2, base, "qixia-inspector", pw)
	visit(insp2, fmt.Sprintf("/operators/%d/inspect", orchard.OperatorID), "inspector-form")

	overdue, err := a.Supervision.Cases(context.Background(), auth.System(), supervision.CaseFilter{Overdue: true, Region: "370686"})
	if err != nil || len(overdue) == 0 {
		t.Fatalf("the demo has no overdue case: %v", err)
	}
	enf := apptest.Browser(t, 390, 844)
	login(t, enf, base, "qixia-enforcer", pw)
	visit(enf, "/cases", "enforcer-cases")
	visit(enf, fmt.Sprintf("/cases/%d", overdue[0].ID), "enforcer-case")

	an := apptest.Browser(t, 390, 844)
	login(t, an, base, "sd-analyst", pw)
	apptest.Do(t, an, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`#st-map[data-rendered="1"]`))) // the map drawn
	shot(an, "analyst-dashboard")

	mk := apptest.Browser(t, 390, 844)
	login(t, mk, base, "qixia-market", pw)
	visit(mk, "/market", "market-check")

	// every manual, both languages: it renders, and its pictures exist
	img := regexp.MustCompile(`src="(/static/manual/[a-z-]+\.png)"`)
	client := &http.Client{}
	shots := 0
	for _, role := range []string{"operator", "staff", "reviewer", "supervisor", "inspector", "enforcer", "analyst", "market"} {
		for _, lang := range []string{"zh", "en"} {
			req, _ := http.NewRequest("GET", base+"/help/"+role, nil)
			req.AddCookie(&http.Cookie{Name: "lang", Value: lang})
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := make([]byte, 0, 1<<16)
			buf := make([]byte, 4096)
			for {
				n, err := resp.Body.Read(buf)
				body = append(body, buf[:n]...)
				if err != nil {
					break
				}
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("/help/%s (%s): %d", role, lang, resp.StatusCode)
			}
			for _, m := range img.FindAllStringSubmatch(string(body), -1) {
				r, err := client.Get(base + m[1])
				if err != nil {
					t.Fatal(err)
				}
				r.Body.Close()
				if r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/png" {
					t.Errorf("/help/%s shows %s, which answers %d %s (run make manual)", role, m[1], r.StatusCode, r.Header.Get("Content-Type"))
				}
				shots++
			}
		}
	}
	if shots < 30 {
		t.Errorf("the manuals show only %d screenshots", shots)
	}
}
