package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/feedback"
	"agtrace/internal/platform"
	"agtrace/internal/ui"
)

// getStatus fetches a page (or a file) as the token's account.
func getStatus(t *testing.T, u, token string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestFeedbackPages: a farmer reaches the feedback form from the layout's
// link (the page it was on filled in), a refused form keeps what was typed
// and names the field, the filed feedback shows its status in words; the
// administrator finds it in the triage list, a refused triage names the
// reply, a saved one is what the farmer reads; the monthly summary and its
// CSV count it by category and province. Others' feedback and the
// administrators' pages are out of the farmer's reach.
func TestFeedbackPages(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		srv := apptest.Server(t, a)
		const pw = "feedback-page-2026"
		for _, u := range []struct{ name, role, region string }{{"fbp-admin", "admin", "000000"}, {"fbp-sup", "supervisor", "440981"}} {
			if _, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: u.name, Password: pw, Name: u.name, Role: u.role, RegionCode: u.region}); err != nil {
				t.Fatal(err)
			}
		}
		anon := apptest.NewClient(t, srv)
		farm := newFarm(t, a)
		farmer, admin, sup := anon.Login(farm.user, farm.pw), anon.Login("fbp-admin", pw), anon.Login("fbp-sup", pw)

		home := getPage(t, srv.URL+"/", farmer.Token)
		if !strings.Contains(home, `id="nav-feedback"`) || !strings.Contains(home, "问题反馈") {
			t.Fatalf("the layout has no feedback link:\n%s", home)
		}
		form := getPage(t, srv.URL+"/feedback?from=%2Fbatches", farmer.Token)
		if !strings.Contains(form, `name="page" id="fb-page" maxlength="300" value="/batches"`) || !strings.Contains(form, "使用不便") {
			t.Fatalf("the form does not name the page it came from:\n%s", form)
		}

		// refused, then filed
		fields := url.Values{"category": {"usability"}, "title": {""}, "body": {"手机上点不准“打印标签”"}, "page": {"/batches"}}
		st, _, body := postForm(t, srv.URL, farmer.Token, "/feedback", fields)
		if st != 422 || !strings.Contains(body, "必填") || !strings.Contains(body, "手机上点不准“打印标签”</textarea>") {
			t.Fatalf("refused feedback: %d\n%s", st, body)
		}
		fields.Set("title", "打印标签按钮太小")
		st, loc, _ := postForm(t, srv.URL, farmer.Token, "/feedback", fields)
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/feedback/") {
			t.Fatalf("filed: %d %s", st, loc)
		}
		view := strings.SplitN(loc, "?", 2)[0]
		if page := getPage(t, srv.URL+loc, farmer.Token); !strings.Contains(page, "反馈已提交") || !strings.Contains(page, "待处理") || !strings.Contains(page, "使用不便") {
			t.Fatalf("the filed feedback:\n%s", page)
		}
		if page := getPage(t, srv.URL+"/feedback", farmer.Token); !strings.Contains(page, "打印标签按钮太小") {
			t.Fatalf("my feedback does not list it:\n%s", page)
		}
		other := sup.Do("POST", "/api/v1/feedback", map[string]any{"category": "bug", "title": "查验列表重复", "body": "同一批次两行"}).Expect(t, 201).Str("id")
		for _, p := range []string{"/feedback/" + other, "/admin/feedback", "/admin/feedback/summary", "/admin/feedback/summary.csv"} {
			if st, _, _ := getStatus(t, srv.URL+p, farmer.Token); st != 404 && st != 403 {
				t.Errorf("the farmer GET %s: %d", p, st)
			}
		}

		// triage
		if page := getPage(t, srv.URL+"/admin/feedback?status=open&region=370000", admin.Token); !strings.Contains(page, "打印标签按钮太小") || strings.Contains(page, "查验列表重复") {
			t.Fatalf("the triage list:\n%s", page)
		}
		triage := url.Values{"status": {"answered"}, "category": {"bug"}, "reply": {""}}
		st, _, body = postForm(t, srv.URL, admin.Token, view+"/triage", triage)
		if st != 422 || !strings.Contains(body, "答复用户时须填写答复") {
			t.Fatalf("refused triage: %d\n%s", st, body)
		}
		triage.Set("reply", "下一版加大按钮")
		if st, loc, _ := postForm(t, srv.URL, admin.Token, view+"/triage", triage); st != http.StatusSeeOther || !strings.HasPrefix(loc, view) {
			t.Fatalf("triaged: %d %s", st, loc)
		}
		if page := getPage(t, srv.URL+view, farmer.Token); !strings.Contains(page, "下一版加大按钮") || !strings.Contains(page, "已答复") || !strings.Contains(page, "程序错误") ||
			strings.Contains(page, `id="feedback-triage"`) {
			t.Fatalf("the farmer's view after the triage:\n%s", page)
		}

		// the month's summary and its files
		month := time.Now().In(platform.ChinaTZ).Format("2006-01")
		sum := getPage(t, srv.URL+"/admin/feedback/summary?month="+month, admin.Token)
		if !strings.Contains(sum, "山东省") || !strings.Contains(sum, "广东省") || !strings.Contains(sum, `href="/admin/feedback/summary.csv?month=`+month+`"`) {
			t.Fatalf("the summary page:\n%s", sum)
		}
		st, h, csv := getStatus(t, srv.URL+"/admin/feedback/summary.csv?month="+month, admin.Token)
		if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.HasPrefix(csv, "\ufeff地区代码,地区,程序错误") ||
			!strings.Contains(csv, "370000,山东省,1,0,0,0,0,1\n") || !strings.Contains(csv, "440000,广东省,1,0,0,0,0,1\n") || !strings.HasSuffix(csv, "合计 total,2,0,0,0,0,2\n") {
			t.Fatalf("the CSV: %d %s\n%s", st, h.Get("Content-Type"), csv)
		}
		if st, h, _ := getStatus(t, srv.URL+"/admin/feedback/summary.xlsx?month="+month, admin.Token); st != 200 || !strings.Contains(h.Get("Content-Disposition"), "feedback-"+month+".xlsx") {
			t.Fatalf("the xlsx: %d %v", st, h)
		}
	})
}

// TestFeedbackWords: every category and status the pages show has its
// text in both languages.
func TestFeedbackWords(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		cat := ui.Catalogue(lang)
		for _, c := range feedback.Categories {
			if cat["fb.category."+string(c)] == "" {
				t.Errorf("%s: fb.category.%s has no text", lang, c)
			}
		}
		for _, s := range feedback.Statuses {
			if cat["fb.status."+string(s)] == "" || cat["status."+string(s)] == "" {
				t.Errorf("%s: fb.status.%s or status.%s (the audit log's) has no text", lang, s, s)
			}
		}
	}
}
