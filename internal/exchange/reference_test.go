package exchange_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/exchange"
	"agtrace/internal/monitoring"
	"agtrace/internal/region"
)

// TestReferenceDataDown: the national node's holiday calendar and residue
// limits reach the province nodes. A province heard from for the first
// time is sent the calendar of this year on; a year or a day the national
// administrators publish, and a limit they change, reach every province,
// once.
func TestReferenceDataDown(t *testing.T) {
	url := natsURL(t)
	for _, engine := range apptest.Engines() {
		t.Run(engine, func(t *testing.T) { testReferenceDataDown(t, engine, url) })
	}
}

func testReferenceDataDown(t *testing.T, engine, url string) {
	ctx := context.Background()
	stream := testStream(t, url)
	pa := newProvince(t, engine, "370686", "371082")
	pb := newProvince(t, engine, "440304", "440305")
	nat := apptest.NewApp(t, engine)
	natAdmin, _ := admin(t, nat, "nat-admin")
	cfg := func(role exchange.Role, id string) exchange.Config {
		return exchange.Config{Role: role, NodeID: id, NATSURL: url, Stream: stream}
	}
	startNode(t, nat, cfg(exchange.RoleNational, "national"))
	startNode(t, pa.a, cfg(exchange.RoleProvince, "pa"))
	startNode(t, pb.a, cfg(exchange.RoleProvince, "pb"))
	provs := []*app.App{pa.a, pb.a}
	year := nat.Clock.Now().Year()
	national := func(a *app.App, like string) int64 {
		return count(t, a.DB, `SELECT COUNT(*) FROM calendar_days WHERE source = $1 AND day LIKE $2`, region.SourceNational, like)
	}

	// first contact: this year's calendar, as the national node holds it
	want := count(t, nat.DB, `SELECT COUNT(*) FROM calendar_days WHERE day LIKE $1`, fmt.Sprintf("%d-%%", year))
	if want == 0 {
		t.Fatalf("the national node has no calendar for %d", year)
	}
	for i, p := range provs {
		eventually(t, 30*time.Second, fmt.Sprintf("province %d welcomed with the calendar", i), func() (bool, string) {
			n := national(p, fmt.Sprintf("%d-%%", year))
			return n == want, fmt.Sprintf("%d of %d days", n, want)
		})
	}

	// a year the national administrators publish, then one day changed
	in := region.YearInput{Holidays: []region.Day{{Date: "2031-01-01", Name: "元旦"}, {Date: "2031-10-01", Name: "国庆节"}},
		Workdays: []region.Day{{Date: "2031-09-28", Name: "国庆节调休"}}}
	if err := nat.Calendar.SetYear(ctx, natAdmin, 2031, in); err != nil {
		t.Fatal(err)
	}
	if err := nat.Calendar.SetDay(ctx, natAdmin, "2031-10-02", "holiday", "国庆节"); err != nil {
		t.Fatal(err)
	}
	for i, p := range provs {
		eventually(t, 30*time.Second, fmt.Sprintf("province %d has 2031", i), func() (bool, string) {
			n := national(p, "2031-%")
			return n == 4, fmt.Sprintf("%d days", n)
		})
		var kind string
		if err := p.DB.QueryRow(ctx, `SELECT kind FROM calendar_days WHERE day = '2031-09-28'`).Scan(&kind); err != nil || kind != "workday" {
			t.Fatalf("province %d: 2031-09-28 is %q (%v)", i, kind, err)
		}
	}

	// a residue limit changed at the national node
	l, err := nat.Monitoring.SaveLimit(ctx, natAdmin, monitoring.LimitInput{Substance: "chlorpyrifos", Food: "apple", Value: 0.5, Unit: "mg/kg",
		Judgement: "max", Standard: "GB 2763", Edition: "2031", ValidFrom: "2031-03-01", Source: "国家平台测试", Reason: "新版标准"})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range provs {
		eventually(t, 30*time.Second, fmt.Sprintf("province %d has the limit", i), func() (bool, string) {
			n := count(t, p.DB, `SELECT COUNT(*) FROM residue_limits WHERE substance_code = 'chlorpyrifos' AND food_code = 'apple'
				AND edition = '2031' AND value = 0.5 AND updated_by = 'national:national'`)
			return n == 1, fmt.Sprint(n)
		})
		got, err := p.Monitoring.Applicable(ctx, "apple", "chlorpyrifos", "2031-06-01")
		if err != nil || got == nil || got.Value != l.Value || got.Edition != "2031" {
			t.Fatalf("province %d judges by %+v (%v), want the national limit", i, got, err)
		}
	}

	// each message applied once: nothing parked, each province's ledger verifies
	for i, p := range provs {
		if n := count(t, p.DB, `SELECT COUNT(*) FROM exchange_parked`); n != 0 {
			t.Fatalf("province %d parked %d messages", i, n)
		}
		if n := count(t, p.DB, `SELECT COUNT(*) FROM outbox WHERE topic = 'calendar.national'`); n != 3 { // welcome, year, day
			t.Fatalf("province %d wrote the calendar %d times, want 3", i, n)
		}
		if rep, err := p.Ledger.Verify(ctx, nil); err != nil || !rep.OK() {
			t.Fatalf("province %d ledger: %v %+v", i, err, rep.Problems)
		}
	}
}
