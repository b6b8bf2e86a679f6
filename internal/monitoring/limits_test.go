package monitoring_test

import (
	"context"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/monitoring"
)

// TestLimitsApply: the shipped limits answer what applies to a food on a
// date — the food's own row, else its category's (pork cuts take the
// banned-substance rows of all livestock), in the edition in force that
// day; a date the data has no edition for gives no limit (not judged).
func TestLimitsApply(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		c := apptest.NewClient(t, apptest.Server(t, a)) // anonymous: limits are public
		r := c.Do("GET", "/api/v1/limits?food=apple&date=2026-06-01&substance=chlorpyrifos", nil).Expect(t, 200)
		if r.Str("items.0.value") != "1" || r.Str("items.0.unit") != "mg/kg" || r.Str("items.0.applies_via") != "apple" || r.Str("items.0.edition") != "2026" ||
			!strings.Contains(r.Str("items.0.source"), "表125") {
			t.Fatalf("apple chlorpyrifos: %s", r.Body)
		}
		r = c.Do("GET", "/api/v1/limits?food=pork_cuts&date=2026-06-01&substance=clenbuterol", nil).Expect(t, 200)
		if r.Str("items.0.judgement") != "not_detected" || r.Str("items.0.applies_via") != "livestock" || !strings.Contains(r.Str("items.0.source"), "250") {
			t.Fatalf("pork clenbuterol through the livestock category: %s", r.Body)
		}
		for date, want := range map[string]string{"2020-01-01": "0.05", "2026-03-02": "0.02", "2024-01-01": ""} {
			r := c.Do("GET", "/api/v1/limits?food=green_tea&date="+date+"&substance=carbofuran", nil).Expect(t, 200)
			if got := r.Str("items.0.value"); got != want {
				t.Errorf("green tea carbofuran on %s: %q, want %q (%s)", date, got, want, r.Body)
			}
		}
		all := c.Do("GET", "/api/v1/limits?food=raw_milk&date=2026-06-01", nil).Expect(t, 200)
		if n := len(all.Get("items").([]any)); n < 5 { // melamine, AFM1, protein + the six banned livestock substances
			t.Fatalf("raw milk has %d limits: %s", n, all.Body)
		}
		c.Do("GET", "/api/v1/limits?food=apple&date=2026-13-01", nil).Expect(t, 422)
		if r := c.Do("GET", "/api/v1/substances?q=瘦肉精", nil).Expect(t, 200); len(r.Get("items").([]any)) != 3 {
			t.Fatalf("瘦肉精: %s", r.Body)
		}

		// the lookup judges a result
		lim, err := a.Monitoring.Applicable(context.Background(), "apple", "chlorpyrifos", "2026-06-01")
		if err != nil || lim == nil {
			t.Fatalf("applicable: %v %v", lim, err)
		}
		if o := monitoring.Judge(&monitoring.Applied{Value: lim.Value, Unit: lim.Unit, Judgement: lim.Judgement}, 1001, "μg/kg", nil); o.Verdict != monitoring.VerdictFail {
			t.Fatalf("1001 μg/kg against 1 mg/kg: %+v", o)
		}
	})
}

// TestLimitsEdit: an administrator changes a limit (the previous version
// kept with the reason) and imports a CSV; a file with bad rows is refused
// whole, each error naming its row; others may not edit.
func TestLimitsEdit(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		srv := apptest.Server(t, a)
		const pw = "limits-pass-2026"
		for _, u := range []struct{ name, role, region string }{{"limits-admin", "admin", "000000"}, {"limits-sup", "supervisor", "370686"}} {
			if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: u.name, Password: pw, Role: u.role, RegionCode: u.region}); err != nil {
				t.Fatal(err)
			}
		}
		admin := apptest.NewClient(t, srv).Login("limits-admin", pw)
		sup := apptest.NewClient(t, srv).Login("limits-sup", pw)
		body := map[string]any{"substance": "imidacloprid", "food": "apple", "value": 0.4, "unit": "mg/kg", "judgement": "max", "standard": "GB 2763",
			"edition": "2026", "valid_from": "2026-03-01", "source": "GB 2763-2026 表48, official text", "reason": "checked against the official PDF"}
		sup.Do("POST", "/api/v1/limits", body).Expect(t, 403)
		r := admin.Do("POST", "/api/v1/limits", body).Expect(t, 200)
		if r.Str("version") != "2" || r.Str("value") != "0.4" {
			t.Fatalf("changed limit: %s", r.Body)
		}
		h := admin.Do("GET", "/api/v1/limits/"+r.Str("id")+"/history", nil).Expect(t, 200)
		if h.Str("items.0.version") != "1" || h.Str("items.0.value") != "0.5" || h.Str("items.0.reason") != "checked against the official PDF" {
			t.Fatalf("history: %s", h.Body)
		}
		bad := map[string]any{"substance": "nope", "food": "apple", "value": -1, "unit": "mg/L", "judgement": "max", "standard": "GB 2763", "edition": "2026",
			"valid_from": "2026-03-01", "source": "x"}
		if r := admin.Do("POST", "/api/v1/limits", bad).Expect(t, 422); len(r.Get("errors").([]any)) < 3 {
			t.Fatalf("bad limit: %s", r.Body)
		}

		var n0 int
		_ = a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM residue_limits`).Scan(&n0)
		head := strings.Join(monitoring.ImportColumns, ",") + "\n"
		badCSV := head + "chlorpyrifos,pear,1,mg/kg,max,GB 2763,2026,2026-03-01,,表125\n" +
			"chlorpyrifos,pear,abc,mg/kg,max,GB 2763,2026,2026-03-01,,表125\n" +
			"nope,durian,1,mg/L,most,GB 2763,2026,2026/03/01,,\n"
		r = admin.Upload("/api/v1/limits/import", "limits.csv", []byte("\ufeff"+badCSV), nil).Expect(t, 422)
		for _, f := range []string{"row 3 value", "row 4 substance", "row 4 food", "row 4 unit", "row 4 judgement", "row 4 valid_from", "row 4 source"} {
			if !strings.Contains(string(r.Body), `"field":"`+f+`"`) {
				t.Errorf("the refusal does not name %s: %s", f, r.Body)
			}
		}
		var n1 int
		_ = a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM residue_limits`).Scan(&n1)
		if n1 != n0 {
			t.Fatalf("a refused import wrote %d rows", n1-n0)
		}
		good := head + "chlorpyrifos,pear,1,mg/kg,max,GB 2763,2026,2026-03-01,,GB 2763-2026 表125\n" + "protein,raw_milk,2.9,g/100g,min,GB 19301,2010,2010-06-01,,test\n"
		if r := admin.Upload("/api/v1/limits/import", "limits.csv", []byte(good), nil).Expect(t, 200); r.Str("saved") != "2" {
			t.Fatalf("import: %s", r.Body)
		}
		sup.Upload("/api/v1/limits/import", "limits.csv", []byte(good), nil).Expect(t, 403)
	})
}
