package ui_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
)

// TestRecallSheetPage: an official chooses what the recall spreadsheet
// covers on a form; a refused choice comes back with the field named and
// what was typed kept; a good one downloads the file (xlsx or CSV); an
// operator cannot open the form.
func TestRecallSheetPage(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		srv := apptest.Server(t, a)
		f := newFarm(t, a)
		lot := f.apples(t, a, 100)
		const pw = "sheet-page-2026"
		if _, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: "qx-sheet", Password: pw, Name: "栖霞监管", Role: "supervisor", RegionCode: "370686"}); err != nil {
			t.Fatal(err)
		}
		sup := apptest.NewClient(t, srv).Login("qx-sheet", pw)
		if page := getPage(t, srv.URL+"/samples", sup.Token); !strings.Contains(page, `href="/recall-sheet"`) {
			t.Fatalf("the samples page offers no recall spreadsheet:\n%s", page)
		}
		getPage(t, srv.URL+"/recall-sheet", sup.Token)

		st, _, body := postForm(t, srv.URL, sup.Token, "/recall-sheet", url.Values{"region": {"370686"}, "from": {"2026-11-01"}})
		if st != 422 || !strings.Contains(body, "请填写且只填写追溯码、经营主体码或产品代码之一") || !strings.Contains(body, `value="2026-11-01"`) {
			t.Fatalf("no selection: %d\n%s", st, body)
		}
		st, _, body = postForm(t, srv.URL, sup.Token, "/recall-sheet", url.Values{"product": {"apple"}, "from": {"2026-11-30"}, "to": {"2026-11-01"}})
		if st != 422 || !strings.Contains(body, "结束日期不能早于开始日期") {
			t.Fatalf("dates the wrong way round: %d\n%s", st, body)
		}
		st, _, body = postForm(t, srv.URL, sup.Token, "/recall-sheet", url.Values{"operator": {f.op.Code}, "format": {"csv"}})
		if st != 200 || !strings.Contains(body, "生产/采收 production,"+lot.TraceCode) || !strings.Contains(body, "traceability lot code") {
			t.Fatalf("csv by operator: %d\n%s", st, body)
		}
		st, _, body = postForm(t, srv.URL, sup.Token, "/recall-sheet", url.Values{"code": {lot.TraceCode}})
		if st != 200 || !strings.HasPrefix(body, "PK") {
			t.Fatalf("xlsx by code: %d %.60q", st, body)
		}
		farmer := apptest.NewClient(t, srv).Login(f.user, f.pw)
		if st, _, _ := postForm(t, srv.URL, farmer.Token, "/recall-sheet", url.Values{"code": {lot.TraceCode}}); st != 403 {
			t.Fatalf("an operator's recall sheet: %d", st)
		}
	})
}
