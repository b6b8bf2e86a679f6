package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// TestIncidentPages: a supervisor declares an incident from the form (a
// refused form comes back with the field named and what was typed), the
// page lists the batch in words with its state form, a task form refused
// for a past due time names the field, a stale state change is 409 on the
// same page, and the situation report is a PDF; another province's
// supervisor gets 404 and no list row.
func TestIncidentPages(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		srv := apptest.Server(t, a)
		const pw = "incident-page-2026"
		for _, u := range []struct{ name, role, region string }{{"inp-sup", "supervisor", "370686"}, {"inp-insp", "inspector", "370686"}, {"inp-far", "supervisor", "440981"}} {
			if _, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: u.name, Password: pw, Name: u.name + "姓名", Role: u.role, RegionCode: u.region}); err != nil {
				t.Fatal(err)
			}
		}
		anon := apptest.NewClient(t, srv)
		sup, far := anon.Login("inp-sup", pw), anon.Login("inp-far", pw)
		code := newFarm(t, a).apples(t, a, 120).TraceCode

		form := getPage(t, srv.URL+"/incidents/new", sup.Token)
		if !strings.Contains(form, `id="incident-form"`) || !strings.Contains(form, `<option value="manual" selected>`) {
			t.Fatalf("the form:\n%s", form)
		}
		fields := url.Values{"source_kind": {"manual"}, "title": {""}, "description": {"超市抽检发现异常"}, "batch_codes": {code}}
		st, _, body := postForm(t, srv.URL, sup.Token, "/incidents", fields)
		if st != 422 || !strings.Contains(body, "必填") || !strings.Contains(body, "超市抽检发现异常</textarea>") {
			t.Fatalf("refused declaration: %d\n%s", st, body)
		}
		fields.Set("title", "栖霞苹果农残异常")
		st, loc, _ := postForm(t, srv.URL, sup.Token, "/incidents", fields)
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/incidents/") {
			t.Fatalf("declared: %d %s", st, loc)
		}
		view := strings.SplitN(loc, "?", 2)[0]
		page := getPage(t, srv.URL+loc, sup.Token)
		for _, want := range []string{"应急事件已启动", "栖霞苹果农残异常", "处置中", "未处置", grouped(code), `action="` + view + `/batches/` + code + `/state"`, `id="incident-assign"`, `data-values="`} {
			if !strings.Contains(page, want) {
				t.Errorf("the incident page lacks %q", want)
			}
		}
		st, _, body = postForm(t, srv.URL, sup.Token, view+"/tasks", url.Values{"_form": {"assign"}, "kind": {"seal"}, "assignee": {"inp-insp"},
			"batch_code": {code}, "due_at": {"2020-01-01T10:00"}, "instructions": {"立即查封"}})
		if st != 422 || !strings.Contains(body, "截止时间应晚于现在") || !strings.Contains(body, "立即查封</textarea>") {
			t.Fatalf("refused task: %d\n%s", st, body)
		}
		due := time.Now().In(platform.ChinaTZ).Add(24 * time.Hour).Format("2006-01-02T15:04")
		if st, _, body = postForm(t, srv.URL, sup.Token, view+"/tasks", url.Values{"kind": {"seal"}, "assignee": {"inp-insp"}, "batch_code": {code}, "due_at": {due}}); st != http.StatusSeeOther {
			t.Fatalf("task: %d\n%s", st, body)
		}
		st, _, body = postForm(t, srv.URL, sup.Token, view+"/batches/"+code+"/state", url.Values{"_form": {"state-" + code}, "from": {"sealed"}, "state": {"destroyed"}, "note": {"已销毁"}})
		if st != http.StatusConflict || !strings.Contains(body, "刷新后再试") {
			t.Fatalf("stale state: %d\n%s", st, body)
		}
		if st, h, _ := getStatus(t, srv.URL+view+"/report.pdf", sup.Token); st != 200 || h.Get("Content-Type") != "application/pdf" {
			t.Errorf("report: %d %s", st, h.Get("Content-Type"))
		}
		if st, _, _ := getStatus(t, srv.URL+view, far.Token); st != http.StatusNotFound {
			t.Errorf("another province opens the incident: %d", st)
		}
		if list := getPage(t, srv.URL+"/incidents", far.Token); strings.Contains(list, "栖霞苹果农残异常") {
			t.Error("another province lists the incident")
		}
		if list := getPage(t, srv.URL+"/incidents", sup.Token); !strings.Contains(list, "栖霞苹果农残异常") || !strings.Contains(list, "人工启动") {
			t.Errorf("the list:\n%s", list)
		}
	})
}
