package ui_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/monitoring"
	"agtrace/internal/trace"
)

// TestStoredScanPage: a page once rendered is kept in memory and stored;
// later views are answered from memory (after unrelated writes too, once
// the code's revs are read) or, when memory lost it, from the store, the
// scan count current either way; and every write that changes a page — a
// correction, a sale and its confirmation, a failed sample and its hold,
// also on the pages downstream — makes both copies stale at once, so the
// next view is right.
func TestStoredScanPage(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		srv := apptest.Server(t, a)
		f := newFarm(t, a)
		lot := f.apples(t, a, 100)
		path := "/q/" + lot.TraceCode + "?v=" + a.Trace.Token(lot.TraceCode)
		flush := func() {
			t.Helper()
			if err := a.Trace.FlushScans(ctx); err != nil {
				t.Fatal(err)
			}
			if err := a.Trace.FlushPages(ctx); err != nil {
				t.Fatal(err)
			}
		}
		elsewhere := func() { // a write that changes no page of lot's chain: the memory cache is gone, the store is not
			t.Helper()
			f.apples(t, a, 1)
		}
		// view answers path; from is where the answer must have come from:
		// "memory", "store" or "build"
		view := func(what, from string, want ...string) scanResp {
			t.Helper()
			mem, store := a.Trace.PageMemoryHits(), a.Trace.PageStoreHits()
			r := scan(t, srv.URL, path, "", "")
			if r.status != 200 {
				t.Fatalf("%s: %d", what, r.status)
			}
			got := "build"
			switch {
			case a.Trace.PageMemoryHits() > mem:
				got = "memory"
			case a.Trace.PageStoreHits() > store:
				got = "store"
			}
			if got != from {
				t.Fatalf("%s: answered from %s, want %s", what, got, from)
			}
			for _, w := range want {
				if !strings.Contains(r.body, w) {
					t.Fatalf("%s: the page lacks %q:\n%s", what, w, r.body)
				}
			}
			return r
		}
		forget := func() { // memory lost (a restart, an eviction)
			a.Trace.SetPageMemory(0)
			a.Trace.SetPageMemory(trace.DefaultPageMemory)
		}

		first := view("first view", "build", "100 千克", "这是首次查询")
		flush()
		elsewhere()
		inMemory := view("after a write elsewhere", "memory", "100 千克", "已被查询 1 次")
		if inMemory.etag != first.etag {
			t.Fatalf("the kept page's ETag %q differs from the rendered one's %q", inMemory.etag, first.etag)
		}
		flush()
		forget()
		stored := view("memory lost", "store", "100 千克", "已被查询 2 次")
		if stored.etag != first.etag {
			t.Fatalf("the stored page's ETag %q differs from the rendered one's %q", stored.etag, first.etag)
		}
		view("loaded from the store", "memory", "已被查询 3 次")
		elsewhere()
		view("count current", "memory", "已被查询 4 次")
		// a client that takes no gzip gets the same page as text
		flush()
		forget()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "" || !strings.Contains(string(plain), "已被查询 5 次") || !strings.HasSuffix(strings.TrimSpace(string(plain)), "</html>") {
			t.Fatalf("the stored page without gzip (%q):\n%s", resp.Header.Get("Content-Encoding"), plain)
		}
		if r := scan(t, srv.URL, path, "", "en"); r.status != 200 || !strings.Contains(r.body, "Batch quantity") && !strings.Contains(r.body, "100 kg") {
			t.Fatalf("English view: %d\n%s", r.status, r.body)
		}

		// a correction stales the stored page
		if _, err := a.Trace.Correct(ctx, f.actor, lot.TraceCode, trace.CorrectionInput{Reason: "复称", Quantity: 96}); err != nil {
			t.Fatal(err)
		}
		view("after a correction", "build", "96 千克")
		flush()
		elsewhere()
		view("corrected, kept", "memory", "96 千克")
		forget()
		view("corrected, stored", "store", "96 千克")

		// a sale and its confirmation: the seller's page shows the buyer
		buyer, buyerUser, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "烟台鲜果批发商行", Kind: "enterprise", Category: "trader", RegionCode: "370686"})
		sold, err := a.Trace.Sell(ctx, f.actor, trace.SaleInput{FromCode: lot.TraceCode, Quantity: 40, BuyerOperatorCode: buyer.Code})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Trace.Confirm(ctx, actorFor(t, a, buyerUser), sold.TraceCode, trace.ConfirmInput{ReceivedQuantity: 40}); err != nil {
			t.Fatal(err)
		}
		view("after a sale", "build", "烟台鲜果批发商行")
		// the buyer's page, stored
		soldPath := "/q/" + sold.TraceCode + "?v=" + a.Trace.Token(sold.TraceCode)
		if r := scan(t, srv.URL, soldPath, "", ""); r.status != 200 || strings.Contains(r.body, `id="checks"`) {
			t.Fatalf("the buyer's page: %d\n%s", r.status, r.body)
		}
		flush()
		elsewhere()
		view("sold, kept", "memory", "烟台鲜果批发商行")

		// a failed sample of the producer's batch: its hold banner at once, and
		// the verdict on the buyer's page downstream (an input's check)
		if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "qx-store-tester", Password: "store-tester-2026", Name: "栖霞检测员", Role: "tester", RegionCode: "370686"}); err != nil {
			t.Fatal(err)
		}
		v := 5.0
		if _, err := a.Monitoring.RecordSample(ctx, actorFor(t, a, "qx-store-tester"), monitoring.SampleInput{OperatorCode: f.op.Code, BatchCode: lot.TraceCode,
			SampleNo: "QX-STORE-1", SampledAt: time.Now().Format(time.DateOnly), Kind: monitoring.KindLab,
			Items: []monitoring.SampleItemInput{{Substance: "chlorpyrifos", Value: &v, Unit: "mg/kg"}}}); err != nil {
			t.Fatal(err)
		}
		view("after a failed sample", "build", `id="hold"`, "请勿购买或食用")
		before, beforeMem := a.Trace.PageStoreHits(), a.Trace.PageMemoryHits()
		if r := scan(t, srv.URL, soldPath, "", ""); !strings.Contains(r.body, `id="checks"`) || a.Trace.PageStoreHits() != before || a.Trace.PageMemoryHits() != beforeMem {
			t.Fatalf("the buyer's page after its input failed a test (store hits %d → %d, memory hits %d → %d):\n%s",
				before, a.Trace.PageStoreHits(), beforeMem, a.Trace.PageMemoryHits(), r.body)
		}
		flush()
		elsewhere()
		view("held, kept", "memory", `id="hold"`)
		forget()
		view("held, stored", "store", `id="hold"`)
	})
}
