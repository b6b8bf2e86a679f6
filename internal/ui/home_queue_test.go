package ui_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"agtrace/internal/apptest"
	"agtrace/internal/demo"
	"agtrace/internal/trace"
)

// TestHomeShowsWhatWaits: on the demo data, the county reviewer's home
// page counts the applications waiting for review, an operator's the sales
// waiting for its confirmation and the market clerk's the market entries
// to check — the same numbers the lists behind the tiles hold.
func TestHomeShowsWhatWaits(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	const pw = "demo-pass-2026"
	if _, err := demo.Load(context.Background(), a, pw); err != nil {
		t.Fatal(err)
	}
	srv := apptest.Server(t, a)
	ctx := context.Background()
	badge := func(user, queue string) string {
		t.Helper()
		c := walker(t, srv.URL, "zh")
		c.login(user, pw)
		_, body := c.get("/")
		m := regexp.MustCompile(`id="queue-` + queue + `"><h2>[^<]*</h2>(?:<p class="waiting"><span class="badge pending">([0-9+]+)</span>)?`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("%s's home page has no %s tile", user, queue)
		}
		return m[1]
	}
	want := func(n int) string {
		if n == 0 {
			return ""
		}
		return fmt.Sprint(n)
	}

	reviewer := actorFor(t, a, "qixia-reviewer")
	items, err := a.Operators.Queue(ctx, reviewer)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) == 0 {
		t.Fatal("the demo has nothing for 栖霞's reviewer to review")
	}
	if got := badge("qixia-reviewer", "reviews"); got != want(len(items)) {
		t.Errorf("reviewer's badge %q, queue holds %d", got, len(items))
	}

	clerk := actorFor(t, a, "qixia-market")
	entries, err := a.Trace.ListTransfers(ctx, clerk, trace.TransferFilter{Status: trace.TransferIssued})
	if err != nil {
		t.Fatal(err)
	}
	if got := badge("qixia-market", "market"); got != want(len(entries)) {
		t.Errorf("market clerk's badge %q, %d entries wait", got, len(entries))
	}

	// an operator with a sale waiting for its confirmation
	incoming := 0
	var buyer string
	for _, u := range []string{"qixia-trader", "qixia-coop", "rongcheng-trader", "yingde-factory", "gaozhou-slaughter", "pujiang-factory", "santai-slaughter", "santai-station"} {
		ac, err := a.Auth.GetUserByName(ctx, u)
		if err != nil {
			continue
		}
		list, err := a.Trace.ListTransfers(ctx, apptest.ActorOf(ac), trace.TransferFilter{Direction: "incoming", Status: trace.TransferPending})
		if err == nil && len(list) > 0 {
			incoming, buyer = len(list), u
			break
		}
	}
	if buyer == "" {
		t.Skip("no demo operator has a sale waiting for confirmation")
	}
	if got := badge(buyer, "incoming"); got != want(incoming) {
		t.Errorf("%s's incoming badge %q, %d sales wait", buyer, got, incoming)
	}
}
