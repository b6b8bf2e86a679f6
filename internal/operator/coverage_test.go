package operator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/demo"
	"agtrace/internal/operator"
)

type want struct{ rostered, registered, keyRostered, keyRegistered int }

func checkCoverage(t *testing.T, c *apptest.Client, region string, w want) {
	t.Helper()
	path := "/api/v1/coverage"
	if region != "" {
		path += "?region=" + region
	}
	r := c.Do("GET", path, nil).Expect(t, 200)
	got := want{int(r.Get("rostered").(float64)), int(r.Get("registered").(float64)),
		int(r.Get("key.rostered").(float64)), int(r.Get("key.registered").(float64))}
	if got != w {
		t.Fatalf("coverage %s = %+v, want %+v: %s", region, got, w, r.Body)
	}
	rate := r.Get("rate").(float64)
	if w.rostered > 0 && fmt.Sprintf("%.6f", rate) != fmt.Sprintf("%.6f", float64(w.registered)/float64(w.rostered)) {
		t.Fatalf("rate %v", rate)
	}
}

// TestCoverageFixture: matching by credit code (both orders), by ID number,
// by a confirmed name suggestion; only approved registrations count; key
// operators counted separately; reminders recorded.
func TestCoverageFixture(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		towns, _ := a.Regions.Children(ctx, "370686")
		t1, t2 := towns[0].Code, towns[1].Code
		for _, u := range []auth.NewUser{
			{Username: "town1", Password: "township-pass-1", Role: "township", RegionCode: t1},
			{Username: "town2", Password: "township-pass-1", Role: "township", RegionCode: t2},
			{Username: "sd-analyst", Password: "analyst-pass-1", Role: "analyst", RegionCode: "370000"},
			{Username: "nat-analyst", Password: "analyst-pass-1", Role: "analyst", RegionCode: "000000"},
			{Username: "gd-analyst", Password: "analyst-pass-1", Role: "analyst", RegionCode: "440000"},
		} {
			if _, err := a.Auth.CreateUser(ctx, auth.System(), u); err != nil {
				t.Fatal(err)
			}
		}
		// A: approved, registered before it was rostered
		opA, _, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "A果品公司", Kind: "enterprise", Category: "trader", RegionCode: "370686"})
		// C: approved individual, rostered by name only
		opC, _, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "陈家果园", Kind: "individual", Category: "producer", RegionCode: "370686"})
		srv := apptest.Server(t, a)
		town1 := apptest.NewClient(t, srv).Login("town1", "township-pass-1")
		town2 := apptest.NewClient(t, srv).Login("town2", "township-pass-1")

		creditB := operator.SampleUSCC("91", "370686", 31337)
		idD := operator.SampleResidentID("370686", "19660606", 66)
		e1 := town1.Do("POST", "/api/v1/roster", map[string]any{"name": "A果品公司", "kind": "企业", "credit_code": opA.CreditCode, "leading_enterprise": "省级"}).Expect(t, 201)
		if e1.Str("operator_id") != fmt.Sprint(opA.ID) || e1.Str("match_method") != "credit_code" || e1.Str("registered") != "true" || e1.Str("key") != "true" {
			t.Fatalf("E1: %s", e1.Body)
		}
		e2 := town1.Do("POST", "/api/v1/roster", map[string]any{"name": "B农业公司", "kind": "enterprise", "credit_code": creditB}).Expect(t, 201)
		e3 := town1.Do("POST", "/api/v1/roster", map[string]any{"name": "散户甲", "kind": "individual", "certified": true, "phone": "13700001234"}).Expect(t, 201)
		e4 := town1.Do("POST", "/api/v1/roster", map[string]any{"name": "陈家果园", "kind": "individual"}).Expect(t, 201)
		town2.Do("POST", "/api/v1/roster", map[string]any{"name": "示范合作社", "kind": "cooperative", "demo_cooperative": true}).Expect(t, 201)
		e6 := town2.Do("POST", "/api/v1/roster", map[string]any{"name": "丁某", "kind": "individual", "id_number": idD}).Expect(t, 201)
		// refusals
		town1.Do("POST", "/api/v1/roster", map[string]any{"name": "重复", "kind": "enterprise", "credit_code": creditB}).Expect(t, 409)
		town1.Do("POST", "/api/v1/roster", map[string]any{"region_code": t2, "name": "越界", "kind": "individual"}).Expect(t, 403)
		r := town1.Do("POST", "/api/v1/roster", map[string]any{"name": "坏号", "kind": "enterprise", "credit_code": "91440300715267261R"}).Expect(t, 422)
		if r.Str("errors.0.field") != "credit_code" || r.Str("errors.0.message_zh") == "" {
			t.Fatalf("roster bad credit code: %s", r.Body)
		}

		// B registers after being rostered: matched automatically, but only counts once approved
		b := apptest.NewClient(t, srv).Do("POST", "/api/v1/operators", map[string]any{"username": "bcorp", "password": "bcorp-pass-01", "phone": "13811112222",
			"operator": map[string]any{"name": "B农业有限公司", "kind": "enterprise", "category": "producer", "credit_code": creditB,
				"id_number": operator.SampleResidentID("370686", "19700101", 9), "legal_rep": "B", "phone": "13811112222", "region_code": t1}}).Expect(t, 201)
		// D registers as an individual with the rostered ID number
		d := apptest.NewClient(t, srv).Do("POST", "/api/v1/operators", map[string]any{"username": "dingmou", "password": "dingmou-pass-1", "phone": "13811113333",
			"operator": map[string]any{"name": "丁某家庭农场", "kind": "individual", "category": "producer",
				"id_number": idD, "phone": "13811113333", "region_code": "370686"}}).Expect(t, 201)

		// E4 is suggested by name and confirmed by a person
		list := town1.Do("GET", "/api/v1/roster?registered=no", nil).Expect(t, 200)
		var sug string
		for _, x := range list.Get("items").([]any) {
			m := x.(map[string]any)
			if fmt.Sprint(m["id"]) == e4.Str("id") {
				sug = fmt.Sprint(m["suggestions"])
			}
		}
		if !strings.Contains(sug, fmt.Sprint(opC.ID)) {
			t.Fatalf("no name suggestion for E4: %s", list.Body)
		}
		town2.Do("POST", "/api/v1/roster/"+e4.Str("id")+"/match", map[string]any{"operator_id": opC.ID}).Expect(t, 404)
		m := town1.Do("POST", "/api/v1/roster/"+e4.Str("id")+"/match", map[string]any{"operator_id": opC.ID}).Expect(t, 200)
		if m.Str("match_method") != "confirmed" || m.Str("registered") != "true" {
			t.Fatalf("match: %s", m.Body)
		}

		// reminders: recorded for unregistered entries, refused for registered ones
		town1.Do("POST", "/api/v1/roster/"+e3.Str("id")+"/remind", map[string]any{"channel": "phone", "note": "电话通知"}).Expect(t, 201)
		town1.Do("POST", "/api/v1/roster/"+e3.Str("id")+"/remind", map[string]any{"channel": "visit"}).Expect(t, 201)
		town1.Do("POST", "/api/v1/roster/"+e1.Str("id")+"/remind", map[string]any{"channel": "visit"}).Expect(t, 409)
		town1.Do("POST", "/api/v1/roster/"+e3.Str("id")+"/remind", map[string]any{"channel": "carrier-pigeon"}).Expect(t, 422)
		rm := town1.Do("GET", "/api/v1/roster/"+e3.Str("id")+"/reminders", nil).Expect(t, 200)
		if len(rm.Get("items").([]any)) != 2 || rm.Str("items.0.channel") != "phone" || rm.Str("items.0.by") != "town1" {
			t.Fatalf("reminders: %s", rm.Body)
		}

		// Hand count. Township 1: E1 A (approved, key: leading), E2 B (draft), E3 (unmatched, key: certified), E4 C (confirmed, approved).
		// Township 2: E5 (unmatched, key: demo cooperative), E6 D (draft individual, matched by ID number).
		checkCoverage(t, town1, "", want{4, 2, 2, 1})
		checkCoverage(t, town2, "", want{2, 0, 1, 0})
		sd := apptest.NewClient(t, srv).Login("sd-analyst", "analyst-pass-1")
		checkCoverage(t, sd, "370686", want{6, 2, 3, 1})
		checkCoverage(t, sd, "", want{6, 2, 3, 1})
		nat := apptest.NewClient(t, srv).Login("nat-analyst", "analyst-pass-1")
		checkCoverage(t, nat, "000000", want{6, 2, 3, 1})
		checkCoverage(t, nat, "440000", want{0, 0, 0, 0})
		gd := apptest.NewClient(t, srv).Login("gd-analyst", "analyst-pass-1")
		gd.Do("GET", "/api/v1/coverage?region=370686", nil).Expect(t, 404)
		gd.Do("GET", "/api/v1/coverage?region=000000", nil).Expect(t, 404)
		town1.Do("GET", "/api/v1/coverage?region=370686", nil).Expect(t, 404)
		c := nat.Do("GET", "/api/v1/coverage", nil).Expect(t, 200)
		if c.Str("children.0.region") != "370000" || c.Str("children.0.rostered") != "6" {
			t.Fatalf("national children: %s", c.Body)
		}
		county := sd.Do("GET", "/api/v1/coverage?region=370686", nil).Expect(t, 200)
		if len(county.Get("children").([]any)) != 2 || county.Str("children.0.region") != t1 || county.Str("children.0.registered") != "2" {
			t.Fatalf("county children: %s", county.Body)
		}

		// approving B and D raises coverage; the entries were linked at registration
		rev := apptest.ReviewerFor(t, a, "370686")
		for _, id := range []string{b.Str("operator.id"), d.Str("operator.id")} {
			u, _ := a.Auth.GetUserByName(ctx, map[string]string{b.Str("operator.id"): "bcorp", d.Str("operator.id"): "dingmou"}[id])
			if _, err := a.Operators.AddDocument(ctx, apptest.ActorOf(u), mustInt(id), "licence", "l.png", strings.NewReader(string(apptest.TinyPNG))); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Operators.Submit(ctx, apptest.ActorOf(u), mustInt(id)); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Operators.Approve(ctx, apptest.ActorOf(rev), mustInt(id)); err != nil {
				t.Fatal(err)
			}
		}
		checkCoverage(t, sd, "370686", want{6, 4, 3, 1})
		got := town2.Do("GET", "/api/v1/roster", nil).Expect(t, 200)
		for _, x := range got.Get("items").([]any) {
			m := x.(map[string]any)
			if fmt.Sprint(m["id"]) == e6.Str("id") && (m["match_method"] != "id_number" || m["registered"] != true) {
				t.Fatalf("E6 not matched by ID number: %v", m)
			}
		}
		if e2 := town1.Do("GET", "/api/v1/roster?registered=yes", nil).Expect(t, 200); !strings.Contains(string(e2.Body), "B农业有限公司") {
			t.Fatalf("E2 not registered after B's approval: %s", e2.Body)
		}
		_ = e2
	})
}

// TestDemoCoverage loads the demo and checks its coverage against a hand
// count of internal/demo/operators.go: per county, every approved chain
// operator is rostered and registered, plus the pending operator (rostered,
// not registered), an unregistered certified farm (key) and an unregistered
// individual.
func TestDemoCoverage(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		if _, err := demo.Load(context.Background(), a, "demo-pass-2026"); err != nil {
			t.Fatal(err)
		}
		srv := apptest.Server(t, a)
		// county: rostered, registered, key rostered, key registered
		hand := map[string]want{
			"370686": {7, 4, 4, 3}, // orchard(certified) coop(demo) trader(leading) 刘建国; pending; certified farm; individual
			"371082": {5, 2, 2, 1}, // farm(certified) trader; pending; certified farm; individual
			"441881": {5, 2, 2, 1}, // garden, factory(leading); ...
			"440981": {5, 2, 2, 1}, // farm, slaughterhouse(leading); ...
			"510131": {5, 2, 2, 1}, // garden(certified), factory; ...
			"510722": {8, 5, 2, 1}, // pig farm, slaughterhouse, dairy farm, station, dairy(leading); ...
		}
		for _, c := range demo.Counties {
			rev := apptest.NewClient(t, srv).Login(c.Slug+"-reviewer", "demo-pass-2026")
			checkCoverage(t, rev, "", hand[c.Code])
			town := apptest.NewClient(t, srv).Login(c.Slug+"-township", "demo-pass-2026")
			checkCoverage(t, town, "", hand[c.Code])
		}
		nat := apptest.NewClient(t, srv).Login("ministry-analyst", "demo-pass-2026")
		checkCoverage(t, nat, "000000", want{35, 17, 14, 8})
		sd := apptest.NewClient(t, srv).Login("sd-analyst", "demo-pass-2026")
		checkCoverage(t, sd, "", want{12, 6, 6, 4})

		// the coverage page shows the same figures
		page := string(nat.Do("GET", "/coverage?region=000000", nil).Expect(t, 200).Body)
		for _, s := range []string{`id="rostered">35<`, `id="registered">17<`, `id="key-rostered">14<`, `id="key-registered">8<`, "48.6%", "57.1%"} {
			if !strings.Contains(page, s) {
				t.Fatalf("coverage page lacks %q", s)
			}
		}

		// every state exists in every county; overdue ones are marked in the queue
		for _, c := range demo.Counties {
			rev := apptest.NewClient(t, srv).Login(c.Slug+"-reviewer", "demo-pass-2026")
			q := rev.Do("GET", "/api/v1/reviews", nil).Expect(t, 200)
			items := q.Get("items").([]any)
			if len(items) != 2 || q.Str("items.0.overdue") != "true" || q.Str("items.1.overdue") != "false" {
				t.Fatalf("%s queue: %s", c.Code, q.Body)
			}
			for _, st := range []string{"draft", "approved", "rejected"} {
				l := rev.Do("GET", "/api/v1/operators?status="+st, nil).Expect(t, 200)
				if len(l.Get("items").([]any)) == 0 {
					t.Fatalf("%s has no %s operator", c.Code, st)
				}
			}
			un := rev.Do("GET", "/api/v1/agreements/unsigned", nil).Expect(t, 200)
			signed := rev.Do("GET", "/api/v1/agreements?status=signed", nil).Expect(t, 200)
			if len(un.Get("items").([]any)) == 0 || len(signed.Get("items").([]any)) == 0 {
				t.Fatalf("%s: want signed and unsigned agreements", c.Code)
			}
		}
		// loading again changes nothing
		if _, err := demo.Load(context.Background(), a, "demo-pass-2026"); err != nil {
			t.Fatal(err)
		}
		checkCoverage(t, nat, "000000", want{35, 17, 14, 8})
	})
}
