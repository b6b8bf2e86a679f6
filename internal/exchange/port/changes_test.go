package port_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/exchange/port"
	"agtrace/internal/platform"
)

// feed reads the whole feed as actor, limit events a page, and returns the
// events in order.
func feed(t *testing.T, a *app.App, actor *auth.Actor, limit int) []port.Change {
	t.Helper()
	var all []port.Change
	after := int64(0)
	for pages := 0; ; pages++ {
		p, err := a.Port.Changes(context.Background(), actor, after, limit)
		if err != nil {
			t.Fatalf("changes after %d: %v", after, err)
		}
		if len(p.Items) > limit {
			t.Fatalf("page of %d events, limit %d", len(p.Items), limit)
		}
		for _, c := range p.Items {
			if c.Seq <= after {
				t.Fatalf("event %d at or before the position %d", c.Seq, after)
			}
		}
		all = append(all, p.Items...)
		if p.Next == after {
			return all
		}
		if pages > 1000 {
			t.Fatal("the feed does not end")
		}
		after = p.Next
	}
}

// TestChanges: the feed pages through every event in order (the same
// events whatever the page size); an administrator sees everything, an
// integration client only its jurisdiction's records, an operator only its
// own; the limit is capped; bad positions are refused.
func TestChanges(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		s := seedRegion(t, a)
		ctx := context.Background()
		adm := admin(t, a)
		var outbox int
		if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&outbox); err != nil {
			t.Fatal(err)
		}
		all := feed(t, a, adm, port.MaxChangesLimit)
		if len(all) != outbox {
			t.Fatalf("the administrator's feed has %d events, the outbox %d", len(all), outbox)
		}
		small := feed(t, a, adm, 7)
		if len(small) != len(all) {
			t.Fatalf("pages of 7 give %d events, one page %d", len(small), len(all))
		}
		for i := range all {
			if all[i].Seq != small[i].Seq || (i > 0 && all[i].Seq <= all[i-1].Seq) {
				t.Fatalf("event %d: %d vs %d (out of order or different)", i, all[i].Seq, small[i].Seq)
			}
		}

		homeClient := apptest.ActorOf(must(a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "int-home", Password: pw, Role: "integration", RegionCode: home})))
		farClient := apptest.ActorOf(must(a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "int-far", Password: pw, Role: "integration", RegionCode: far})))
		for _, c := range []struct {
			actor  *auth.Actor
			region string
		}{{homeClient, home}, {farClient, far}} {
			got := feed(t, a, c.actor, 5)
			if len(got) == 0 {
				t.Fatalf("%s client sees no event", c.region)
			}
			for _, e := range got {
				if !strings.HasPrefix(e.RegionCode, c.region) {
					t.Fatalf("%s client sees an event of region %q: %+v", c.region, e.RegionCode, e)
				}
			}
		}
		// an operator sees its own records: the farm's batch, sales and merge, not the pig chain
		own := feed(t, a, s.farmA, 50)
		seen := map[string]bool{}
		for _, e := range own {
			seen[e.ResourceID] = true
			if e.ResourceID == s.pigs {
				t.Fatalf("the farm sees the pig farm's batch: %+v", e)
			}
		}
		if !seen[s.apple1] || !seen[s.merged] || !seen[s.sold] {
			t.Fatalf("the farm's feed misses its own records: %v", seen)
		}
		// the trader sees the sale to it (it is the buyer) but not the farm's own batches
		if got := feed(t, a, s.traderA, 50); len(got) == 0 {
			t.Fatal("the trader sees nothing")
		} else {
			for _, e := range got {
				if e.ResourceID == s.apple1 {
					t.Fatalf("the trader sees the farm's batch: %+v", e)
				}
			}
		}
		if _, err := a.Port.Changes(ctx, adm, -1, 10); platform.KindOf(err) != platform.KindInvalid {
			t.Fatalf("after=-1: %v", err)
		}
		if p := must(a.Port.Changes(ctx, adm, 0, 5000)); len(p.Items) > port.MaxChangesLimit {
			t.Fatalf("limit not capped: %d", len(p.Items))
		}
		reviewer := apptest.ActorOf(must(a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "rev", Password: pw, Role: "reviewer", RegionCode: home})))
		if _, err := a.Port.Changes(ctx, reviewer, 0, 10); platform.KindOf(err) != platform.KindNotFound {
			t.Fatalf("a reviewer reading the feed: %v, want 404", err)
		}

		// over HTTP: the page shape and a bad position
		srv := apptest.Server(t, a)
		c := apptest.NewClient(t, srv).Login("port-admin", pw)
		r := c.Do("GET", "/api/v1/changes?after=0&limit=3", nil).Expect(t, http.StatusOK)
		if items, _ := r.Get("items").([]any); len(items) != 3 || r.Get("next") != r.Get("items.2.seq") {
			t.Fatalf("GET /api/v1/changes: %s", r.Body)
		}
		if r := c.Do("GET", "/api/v1/changes?after=x", nil).Expect(t, http.StatusUnprocessableEntity); r.Str("errors.0.field") != "after" {
			t.Fatalf("after=x: %s", r.Body)
		}
	})
}
