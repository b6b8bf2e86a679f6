package trace_test

import (
	"context"
	"fmt"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
)

// TestRegisteredMarkets: the county registers its market once; sellers
// pick it by id and the sale carries its name, kind and region; bad
// registrations and unknown ids are refused with nothing written.
func TestRegisteredMarkets(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		ctx := context.Background()
		if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "qixia-rev", Password: marketPW, Role: "reviewer", RegionCode: "370686"}); err != nil {
			t.Fatal(err)
		}
		rev := apptest.NewClient(t, w.srv).Login("qixia-rev", marketPW)
		m := rev.Do("POST", "/api/v1/markets", map[string]any{"name": "栖霞市城区农贸市场", "kind": "retail", "region_code": "370686", "address": "霞光路 8 号"}).Expect(t, 201)
		if m.Str("region_name") != "山东省烟台市栖霞市" {
			t.Fatalf("registered: %s", m.Body)
		}
		id := m.Str("id")
		markets := func() int { return count(t, a, "markets") }
		before := markets()
		rev.Do("POST", "/api/v1/markets", map[string]any{"name": "栖霞市城区农贸市场", "kind": "retail", "region_code": "370686"}).Expect(t, 409)
		if r := rev.Do("POST", "/api/v1/markets", map[string]any{"name": " ", "kind": "retail", "region_code": "370686"}).Expect(t, 422); !hasField(r, "name") {
			t.Errorf("a blank name: %s", r.Body)
		}
		if r := rev.Do("POST", "/api/v1/markets", map[string]any{"name": "百货商场", "kind": "mall", "region_code": "370686"}).Expect(t, 422); !hasField(r, "kind") {
			t.Errorf("an unknown kind: %s", r.Body)
		}
		if r := rev.Do("POST", "/api/v1/markets", map[string]any{"name": "荣成水产市场", "kind": "wholesale", "region_code": "371082"}).Expect(t, 422); !hasField(r, "region_code") {
			t.Errorf("another county's market: %s", r.Body)
		}
		if r := rev.Do("POST", "/api/v1/markets", map[string]any{"name": "烟台大市场", "kind": "wholesale", "region_code": "370600"}).Expect(t, 422); !hasField(r, "region_code") {
			t.Errorf("a city is no market's place: %s", r.Body)
		}
		w.farmC.Do("POST", "/api/v1/markets", map[string]any{"name": "自家市场", "kind": "retail", "region_code": "370686"}).Expect(t, 403)
		if n := markets(); n != before {
			t.Fatalf("refused registrations wrote %d markets", n-before)
		}
		list := apptest.NewClient(t, w.srv).Do("GET", "/api/v1/markets?region=37", nil).Expect(t, 200)
		if list.Str("items.0.id") != id || list.Str("items.0.address") != "霞光路 8 号" {
			t.Fatalf("public list: %s", list.Body)
		}

		lot := batch(t, w.farmC, "apple", 100, "kg", daysAgo(1))
		transfers := func() int { return count(t, a, "transfers") }
		tb := transfers()
		if r := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 10, "market": map[string]any{"id": 999999}}).Expect(t, 422); !hasField(r, "market.id") {
			t.Errorf("unknown market id: %s", r.Body)
		}
		if n := transfers(); n != tb {
			t.Fatal("a refused sale wrote a transfer")
		}
		var mid int64
		fmt.Sscan(id, &mid)
		sale := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 10,
			"market": map[string]any{"id": mid, "name": "typed name is ignored"}}).Expect(t, 201)
		if sale.Str("market.name") != "栖霞市城区农贸市场" || sale.Str("market.kind") != "retail" || sale.Str("market.region_code") != "370686" || sale.Str("market.id") != id {
			t.Fatalf("sale into the registered market: %s", sale.Body)
		}
		if got := w.market.Do("GET", "/api/v1/transfers/"+sale.Str("trace_code"), nil).Expect(t, 200); got.Str("market.id") != id {
			t.Fatalf("the clerk's view of the entry: %s", got.Body)
		}
	})
}
