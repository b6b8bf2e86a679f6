package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
)

// TestSupervisionForms: the draw and case forms refuse bad input on the
// page that holds them (status 422, the reason next to the field, what was
// typed kept), then succeed; the public pages show closed draws and the
// operator's credit level; the lists export as CSV.
func TestSupervisionForms(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		f := newFarm(t, a)
		srv := apptest.Server(t, a)
		ctx := context.Background()
		const pw = "official-pass-2026"
		clients := map[string]*apptest.Client{}
		for _, u := range []struct{ name, role string }{{"qixia-supervisor", "supervisor"}, {"qixia-inspector", "inspector"}, {"qixia-enforcer", "enforcer"}} {
			if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: u.name, Password: pw, Name: u.name, Role: u.role, RegionCode: "370686"}); err != nil {
				t.Fatal(err)
			}
			clients[u.name] = apptest.NewClient(t, srv).Login(u.name, pw)
		}
		sup, enf := clients["qixia-supervisor"], clients["qixia-enforcer"]

		draw := url.Values{"title": {"冬季抽查"}, "region_code": {"370686"}, "size": {"1"}, "per_task": {"1"}, "due_days": {"20"},
			"inspectors": {"qixia-inspector", "qixia-enforcer"}, "seed": {"winter"}}
		st, _, body := postForm(t, srv.URL, sup.Token, "/draws", draw)
		if st != 422 || !strings.Contains(body, "每个任务至少 2 名检查人员") || !strings.Contains(body, `value="冬季抽查"`) || !strings.Contains(body, `value="winter"`) {
			t.Fatalf("refused draw: %d\n%s", st, body)
		}
		draw.Set("per_task", "2")
		st, loc, _ := postForm(t, srv.URL, sup.Token, "/draws", draw)
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/draws/") {
			t.Fatalf("draw: %d %s", st, loc)
		}
		if page := getPage(t, srv.URL+loc, sup.Token); !strings.Contains(page, "winter") || !strings.Contains(page, f.op.Name) {
			t.Fatalf("the draw page does not show its seed and operator:\n%s", page)
		}

		kase := url.Values{"source": {"manual"}, "operator_code": {f.op.Code, "", ""}, "violation": {"broken_chain"}, "summary": {""}}
		st, _, body = postForm(t, srv.URL, enf.Token, "/cases", kase)
		if st != 422 || !strings.Contains(body, `value="`+f.op.Code+`"`) || !strings.Contains(body, `class="ferr"`) {
			t.Fatalf("refused case: %d\n%s", st, body)
		}
		kase.Set("summary", "销售未扫码")
		st, loc, _ = postForm(t, srv.URL, enf.Token, "/cases", kase)
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/cases/") {
			t.Fatalf("case: %d %s", st, loc)
		}
		casePath := strings.Split(loc, "?")[0]
		st, _, body = postForm(t, srv.URL, enf.Token, casePath+"/steps", url.Values{"step": {"closed"}, "note": {"结案说明"}})
		if st != 422 || !strings.Contains(body, "下一步只能是：调查取证") || !strings.Contains(body, "结案说明") {
			t.Fatalf("a step out of order: %d\n%s", st, body)
		}
		if st, _, _ = postForm(t, srv.URL, enf.Token, casePath+"/steps", url.Values{"step": {"investigated"}, "note": {"已询问"}}); st != http.StatusSeeOther {
			t.Fatalf("investigated: %d", st)
		}
		if page := getPage(t, srv.URL+casePath, enf.Token); !strings.Contains(page, "调查取证") || !strings.Contains(page, "立案审批表") {
			t.Fatalf("the case page:\n%s", page)
		}

		if page := getPage(t, srv.URL+"/o/"+f.op.Code, ""); !strings.Contains(page, `id="op-credit"`) || !strings.Contains(page, "良好") {
			t.Fatalf("the public operator page does not show the credit level:\n%s", page)
		}
		if page := getPage(t, srv.URL+"/public/draws", ""); !strings.Contains(page, "抽查结果公示") {
			t.Fatalf("public draws:\n%s", page)
		}
		csv := getPage(t, srv.URL+"/api/v1/cases/export.csv", enf.Token)
		if !strings.Contains(csv, "AJ-370686-") || !strings.Contains(csv, f.op.Code) {
			t.Fatalf("cases CSV:\n%s", csv)
		}
		if csv := getPage(t, srv.URL+"/api/v1/inspections/export.csv", sup.Token); !strings.HasPrefix(strings.TrimPrefix(csv, "\ufeff"), "编号 number") {
			t.Fatalf("inspections CSV:\n%s", csv)
		}
	})
}

// getPage reads a page (with a bearer token, or anonymously) and fails on a non-200.
func getPage(t *testing.T, u, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d\n%s", u, resp.StatusCode, b)
	}
	return string(b)
}
