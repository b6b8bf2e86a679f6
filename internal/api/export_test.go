package api_test

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// TestExports: each export is its list, in the same reach: an operator
// exports its own batches and sales, a supervisor the findings of its
// county and not another county's, an operator no audit log.
func TestExports(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		srv := apptest.Server(t, a)
		anon := apptest.NewClient(t, srv)
		seller, su, sp := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞绿源苹果专业合作社", Kind: "cooperative", RegionCode: "370686"})
		buyer, bu, bp := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "荣成海鲜贸易有限公司", Kind: "enterprise", Category: "trader", RegionCode: "371082"})
		_ = seller
		sc, bc := anon.Login(su, sp), anon.Login(bu, bp)
		today := platform.Today(time.Now())
		code := sc.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 100, "unit": "kg", "produced_at": today, "origin": "寺口镇, 3 号园"}).Expect(t, 201).Str("trace_code")
		tr := sc.Do("POST", "/api/v1/transfers", map[string]any{"from_code": code, "quantity": 40, "buyer_operator_code": buyer.Code}).Expect(t, 201).Str("trace_code")
		bc.Do("POST", "/api/v1/transfers/"+tr+"/confirm", map[string]any{"received_quantity": 35}).Expect(t, 200) // a quantity_mismatch finding

		read := func(c *apptest.Client, path string) [][]string {
			t.Helper()
			r := c.Do("GET", path, nil).Expect(t, 200)
			body := string(r.Body)
			if !strings.HasPrefix(body, "\uFEFF") {
				t.Fatalf("%s: no byte-order mark", path)
			}
			recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			return recs
		}
		b := read(sc, "/api/v1/batches/export.csv?status=")
		if len(b) != 2 || b[0][0] != "追溯码 code" {
			t.Fatalf("seller's batches: %v", b)
		}
		found := false
		for _, rec := range b[1:] {
			if rec[0] == code && rec[8] == "寺口镇, 3 号园" && rec[5] == "60" {
				found = true
			}
		}
		if !found {
			t.Errorf("the batch with its stock and origin is not in the export: %v", b)
		}
		if tx := read(bc, "/api/v1/transfers/export.csv?direction=incoming"); len(tx) != 2 || tx[1][0] != tr || tx[1][10] != "35" {
			t.Errorf("buyer's incoming sales: %v", tx)
		}

		mk := func(username, region string) *apptest.Client {
			if _, err := a.Auth.CreateUser(t.Context(), auth.System(), auth.NewUser{Username: username, Password: "export-pass-2026", Role: "supervisor", RegionCode: region}); err != nil {
				t.Fatal(err)
			}
			return anon.Login(username, "export-pass-2026")
		}
		qixia, yingde := mk("qixia-sup", "370686"), mk("yingde-sup", "441881")
		if f := read(qixia, "/api/v1/findings/export.csv?kind=quantity_mismatch"); len(f) != 2 || f[1][3] != tr || f[1][7] != "open" {
			t.Errorf("栖霞's findings: %v", f)
		}
		if f := read(yingde, "/api/v1/findings/export.csv"); len(f) != 1 {
			t.Errorf("英德 sees another county's findings: %v", f)
		}
		sc.Do("GET", "/api/v1/audit/export.csv", nil).Expect(t, 404)
		anon.Do("GET", "/api/v1/batches/export.csv", nil).Expect(t, 401)
		qixia.Do("GET", "/api/v1/findings/export.csv?status=lost", nil).Expect(t, 422)
		if _, err := a.Auth.CreateUser(t.Context(), auth.System(), auth.NewUser{Username: "export-admin", Password: "export-pass-2026", Role: "admin", RegionCode: "000000"}); err != nil {
			t.Fatal(err)
		}
		admin := anon.Login("export-admin", "export-pass-2026")
		if au := read(admin, "/api/v1/audit/export.csv?action=transfer."); len(au) < 3 {
			t.Errorf("the audit export lacks the sale and the receipt: %v", au)
		}
	})
}
