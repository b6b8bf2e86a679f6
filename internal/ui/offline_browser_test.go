package ui_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/trace"
)

// TestBrowserOfflineRecordThenSync: on a phone that loses its network, the
// farmer records two batches; they wait on the phone (待同步) and nothing
// reaches the server. When the network is back they are sent in order: the
// good one is recorded exactly once (a second sync and a reload change
// nothing), the one the server refuses stays with its reason until the
// farmer discards it.
func TestBrowserOfflineRecordThenSync(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	ctx0 := context.Background()
	o, user, pw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞山后苹果家庭农场", Kind: "family_farm", Category: "producer", RegionCode: "370686", Products: []string{"苹果"}})
	batches := func() []trace.BatchSummary {
		t.Helper()
		list, err := a.Trace.ListBatches(ctx0, auth.System(), trace.BatchFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var mine []trace.BatchSummary
		for _, b := range list {
			if b.OperatorCode == o.Code {
				mine = append(mine, b)
			}
		}
		return mine
	}
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 390, 844)
	login(t, ctx, base, user, pw)
	apptest.Do(t, ctx, chromedp.Navigate(base+"/batches/new"), chromedp.WaitVisible(chromedp.CSS(`#batch-form`)))
	offline(t, ctx, true)
	apptest.WaitText(t, ctx, "#offline-note", "离线中")
	apptest.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#batch-form input[name=quantity]`), "320"),
		chromedp.SendKeys(chromedp.CSS(`#batch-form input[name=origin]`), "山后 2 号园"),
		chromedp.Click(chromedp.CSS(`#batch-form button.primary`)),
	)
	apptest.WaitText(t, ctx, "#outbox", "待同步")
	// a second one the server will refuse: an input used after the harvest
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
	  const f = document.querySelector('#batch-form');
	  f.querySelector('input[name=quantity]').value = '150';
	  f.querySelector('input[name=produced_at]').value = '2026-11-20';
	  f.querySelector('details').open = true;
	  f.querySelector('input[name=input_name]').value = '吡虫啉';
	  f.querySelector('input[name=input_date]').value = '2026-11-25';
	  return true })()`)); err != nil {
		t.Fatal(err)
	}
	apptest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#batch-form button.primary`)))
	apptest.WaitText(t, ctx, "#outbox .outbox-count", "2")
	apptest.Screenshot(t, ctx, "offline-queued")
	if got := batches(); len(got) != 0 {
		t.Fatalf("offline records reached the server: %v", got)
	}

	offline(t, ctx, false)
	apptest.WaitText(t, ctx, "#outbox .outbox-note", "已同步")
	apptest.WaitText(t, ctx, "#outbox", "未能上传")
	apptest.Screenshot(t, ctx, "offline-synced")
	if reason := apptest.Text(t, ctx, "#outbox .outbox-reason"); !strings.Contains(reason, "投入品使用日期不能晚于采收") {
		t.Errorf("the refusal's reason: %q", reason)
	}
	got := batches()
	if len(got) != 1 || got[0].Quantity != 320 || got[0].Origin != "山后 2 号园" {
		t.Fatalf("after the sync the server holds %+v, want the one batch of 320 kg", got)
	}
	// the page comes back (a reload syncs again): still exactly one
	apptest.Do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#batch-form`)))
	apptest.WaitText(t, ctx, "#outbox", "未能上传")
	if got := batches(); len(got) != 1 {
		t.Fatalf("after a reload the server holds %d batches", len(got))
	}
	// discard the refused one (after confirming)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { window.confirm = () => true; document.querySelector('#outbox button.danger').click(); return true })()`)); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#outbox li').length`))
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if i > 100 {
			t.Fatalf("%d records still waiting after the discard", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserOfflineSale: offline, the farmer records a sale into a
// registered market; back online it is sent once and the stock drops once.
func TestBrowserOfflineSale(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	ctx0 := context.Background()
	_, user, pw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞山后苹果家庭农场", Kind: "family_farm", Category: "producer", RegionCode: "370686"})
	farmer := actorFor(t, a, user)
	b, err := a.Trace.CreateBatch(ctx0, farmer, trace.NewBatch{ProductCode: "apple", Quantity: 500, Unit: "kg", ProducedAt: "2026-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.Trace.CreateMarket(ctx0, apptest.ActorOf(apptest.ReviewerFor(t, a, "370686")), trace.NewMarket{Name: "栖霞市城区农贸市场", Kind: "retail", RegionCode: "370686"})
	if err != nil {
		t.Fatal(err)
	}
	stock := func() float64 {
		t.Helper()
		got, err := a.Trace.GetBatch(ctx0, farmer, b.TraceCode)
		if err != nil {
			t.Fatal(err)
		}
		return got.Stock
	}
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 390, 844)
	login(t, ctx, base, user, pw)
	apptest.Do(t, ctx, chromedp.Navigate(base+"/sell?from="+b.TraceCode), chromedp.WaitVisible(chromedp.CSS(`#sell-form`)))
	offline(t, ctx, true)
	apptest.WaitText(t, ctx, "#offline-note", "离线中")
	apptest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`input[name=to][value=market]`)),
		chromedp.SendKeys(chromedp.CSS(`#quantity`), "120"),
		chromedp.SetValue(chromedp.CSS(`#market_id`), strconv.FormatInt(m.ID, 10)),
		chromedp.Click(chromedp.CSS(`#sell-submit`)),
	)
	apptest.WaitText(t, ctx, "#outbox", "待同步")
	if s := stock(); s != 500 {
		t.Fatalf("an offline sale reached the server: stock %v", s)
	}
	offline(t, ctx, false)
	apptest.WaitText(t, ctx, "#outbox .outbox-note", "已同步")
	apptest.Do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#sell-form`)))
	if s := stock(); s != 380 {
		t.Fatalf("after the sync the stock is %v, want 380 (sold once)", s)
	}
}

// offline switches the browser's network off or on (DevTools emulation),
// navigator.onLine included.
func offline(t *testing.T, ctx context.Context, off bool) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	conds := []*network.Conditions{}
	if off {
		conds = append(conds, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
	}
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: conds}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatal(err)
	}
}
