package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
)

// TestLimitsPage: the limits page answers what applies to a food on a
// date (naming the category a limit comes from); an administrator's
// refused change keeps what was typed and names the field; a saved change
// shows its history.
func TestLimitsPage(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		srv := apptest.Server(t, a)
		const pw = "limits-page-2026"
		if _, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: "lp-admin", Password: pw, Role: "admin", RegionCode: "000000"}); err != nil {
			t.Fatal(err)
		}
		admin := apptest.NewClient(t, srv).Login("lp-admin", pw)
		page := getPage(t, srv.URL+"/limits?food=pork_cuts&date=2026-06-01", admin.Token)
		if !strings.Contains(page, "克仑特罗") || !strings.Contains(page, "不得检出") || !strings.Contains(page, "依据类别 livestock") {
			t.Fatalf("what applies to pork cuts:\n%s", page)
		}
		form := url.Values{"_form": {"limit"}, "substance": {"chlorpyrifos"}, "food": {"apple"}, "value": {"很多"}, "unit": {"mg/kg"}, "judgement": {"max"},
			"standard": {"GB 2763"}, "edition": {"2026"}, "valid_from": {"2026-03-01"}, "source": {"GB 2763-2026 表125 官方文本"}}
		st, _, body := postForm(t, srv.URL, admin.Token, "/limits", form)
		if st != 422 || !strings.Contains(body, "限量值应大于 0") || !strings.Contains(body, `value="GB 2763-2026 表125 官方文本"`) {
			t.Fatalf("refused change: %d\n%s", st, body)
		}
		form.Set("value", "1.5")
		form.Set("reason", "按官方文本核对")
		if st, loc, _ := postForm(t, srv.URL, admin.Token, "/limits", form); st != http.StatusSeeOther || !strings.Contains(loc, "food=apple") {
			t.Fatalf("saved: %d %s", st, loc)
		}
		page = getPage(t, srv.URL+"/limits?food=apple&substance=chlorpyrifos", admin.Token)
		if !strings.Contains(page, "≤ 1.5 mg/kg") || !strings.Contains(page, "修改记录（v2）") {
			t.Fatalf("after the change:\n%s", page)
		}
	})
}
