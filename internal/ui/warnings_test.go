package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/monitoring"
	"agtrace/internal/platform"
)

// TestWarningPages: three positive quick tests of five in 栖霞 (no history)
// make the supervisor's 立即评估 raise a failure-rate warning; the home
// page counts it, the list and the warning's page show it in words with
// its evidence table and chart, the dashboard links to the list; a
// dismissal without a note comes back on the page naming the note, an
// acknowledgement moves it on and a late second click is a conflict shown
// on the page; an analyst reads it without the buttons, another county's
// supervisor gets 404.
func TestWarningPages(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		srv := apptest.Server(t, a)
		const pw = "warning-page-2026"
		for _, u := range []struct{ name, role, region string }{{"wp-tester", "tester", "370686"}, {"wp-sup", "supervisor", "370686"},
			{"wp-analyst", "analyst", "370686"}, {"wp-far", "supervisor", "440981"}} {
			if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: u.name, Password: pw, Name: u.name, Role: u.role, RegionCode: u.region}); err != nil {
				t.Fatal(err)
			}
		}
		farm := newFarm(t, a)
		b := farm.apples(t, a, 100)
		tester := actorFor(t, a, "wp-tester")
		for i := 0; i < 5; i++ {
			result := monitoring.QuickNegative
			if i%2 == 0 {
				result = monitoring.QuickPositive
			}
			if _, err := a.Monitoring.RecordSample(ctx, tester, monitoring.SampleInput{OperatorCode: farm.op.Code, BatchCode: b.TraceCode,
				SampleNo: fmt.Sprintf("WP-%d", i), SampledAt: time.Now().In(platform.ChinaTZ).AddDate(0, 0, -2*i).Format(time.DateOnly),
				Kind: monitoring.KindQuick, Items: []monitoring.SampleItemInput{{Substance: "有机磷类农药", Result: result}}}); err != nil {
				t.Fatal(err)
			}
		}
		anon := apptest.NewClient(t, srv)
		sup, analyst, far := anon.Login("wp-sup", pw), anon.Login("wp-analyst", pw), anon.Login("wp-far", pw)

		if st, loc, _ := postForm(t, srv.URL, sup.Token, "/warnings/evaluate", url.Values{}); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/warnings?msg=") {
			t.Fatalf("evaluate: %d %s", st, loc)
		}
		var id int64
		if err := a.DB.QueryRow(ctx, `SELECT id FROM warnings WHERE rule = 'failure_rate' AND region_code = '370686'`).Scan(&id); err != nil {
			t.Fatalf("no warning raised: %v", err)
		}
		view := fmt.Sprintf("/warnings/%d", id)
		home := getPage(t, srv.URL+"/", sup.Token)
		if m := regexp.MustCompile(`id="queue-warnings"><h2>[^<]*</h2><p class="waiting"><span class="badge pending">1</span>`).FindString(home); m == "" {
			t.Errorf("the supervisor's home page does not count the warning:\n%s", home)
		}
		list := getPage(t, srv.URL+"/warnings", sup.Token)
		for _, want := range []string{"抽检不合格率上升", `href="` + view + `"`, "新预警", "苹果"} {
			if !strings.Contains(list, want) {
				t.Errorf("the list lacks %q", want)
			}
		}
		page := getPage(t, srv.URL+view, sup.Token)
		for _, want := range []string{`id="wr-chart"`, `data-src="/api/v1/warnings/`, `id="wr-evidence"`, "3 / 5 = 60.0%", `id="wr-to-acknowledged"`,
			`href="/samples?region=370686"`, "二项分布", `name="from" value="open"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the warning's page lacks %q", want)
			}
		}
		if dash := getPage(t, srv.URL+"/dashboard", sup.Token); !strings.Contains(dash, `id="st-warnings"`) {
			t.Error("the dashboard does not link to the warnings")
		}

		// dismissed without a note: back on the page, the note named
		st, _, body := postForm(t, srv.URL, sup.Token, view+"/status", url.Values{"status": {"dismissed"}, "from": {"open"}})
		if st != http.StatusUnprocessableEntity || !strings.Contains(body, "关闭或排除预警须说明处理情况或理由") || !strings.Contains(body, `id="wr-evidence"`) {
			t.Fatalf("dismissed without a note: %d\n%s", st, body)
		}
		if st, loc, _ := postForm(t, srv.URL, sup.Token, view+"/status", url.Values{"status": {"acknowledged"}, "from": {"open"}}); st != http.StatusSeeOther || !strings.HasPrefix(loc, view) {
			t.Fatalf("acknowledge: %d %s", st, loc)
		}
		st, _, body = postForm(t, srv.URL, sup.Token, view+"/status", url.Values{"status": {"acknowledged"}, "from": {"open"}})
		if st != http.StatusConflict || !strings.Contains(body, "该预警刚被他人处理") || !strings.Contains(body, "已确认") {
			t.Fatalf("a late second click: %d\n%s", st, body)
		}
		if p := getPage(t, srv.URL+view, analyst.Token); strings.Contains(p, `id="wr-handle"`) || !strings.Contains(p, "已确认") {
			t.Error("the analyst's page shows the handling buttons, or not the status")
		}
		if st, _, _ := getStatus(t, srv.URL+view, far.Token); st != http.StatusNotFound {
			t.Errorf("another county's supervisor: %d", st)
		}
		if p := getPage(t, srv.URL+"/warnings", far.Token); strings.Contains(p, view) {
			t.Error("another county's supervisor lists the warning")
		}
	})
}

// TestWarningRuleForm: a supervisor changes a rule's window for the county
// from the form under the rules table and sees it there; a value that is
// not a number, one out of range and an unknown region come back on the
// page naming the field, and nothing is stored; an analyst has no form.
func TestWarningRuleForm(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		srv := apptest.Server(t, a)
		const pw = "warning-rule-2026"
		for _, u := range []struct{ name, role string }{{"wf-sup", "supervisor"}, {"wf-analyst", "analyst"}} {
			if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: u.name, Password: pw, Name: u.name, Role: u.role, RegionCode: "370686"}); err != nil {
				t.Fatal(err)
			}
		}
		anon := apptest.NewClient(t, srv)
		sup, analyst := anon.Login("wf-sup", pw), anon.Login("wf-analyst", pw)
		stored := func() int {
			var n int
			if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM warning_settings WHERE region_code = '370686'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, c := range []struct {
			name, param, value, field string
		}{
			{"not a number", "window", "十四", "请输入数字"},
			{"out of range", "window", "100000", "应在"},
			{"a whole number", "window", "7.5", "请填写整数"},
			{"unknown parameter", "speed", "1", "没有这个参数"},
		} {
			st, _, body := postForm(t, srv.URL, sup.Token, "/warnings/rules", url.Values{"region_code": {"370686"}, "rule": {"failure_rate"}, "param": {c.param}, "value": {c.value}})
			if st != http.StatusUnprocessableEntity || !strings.Contains(body, `<span class="ferr" role="alert">`+c.field) || !strings.Contains(body, `id="wr-rules" open`) {
				t.Errorf("%s: %d, want 422 naming the field (%q) in the open rules block", c.name, st, c.field)
			}
			if n := stored(); n != 0 {
				t.Fatalf("%s: %d settings stored", c.name, n)
			}
		}
		// another county is not the supervisor's to set
		if st, _, _ := postForm(t, srv.URL, sup.Token, "/warnings/rules", url.Values{"region_code": {"440981"}, "rule": {"failure_rate"}, "param": {"window"}, "value": {"21"}}); st != http.StatusForbidden && st != http.StatusNotFound {
			t.Errorf("another county's setting: %d, want 403 or 404", st)
		}
		st, loc, _ := postForm(t, srv.URL, sup.Token, "/warnings/rules", url.Values{"region_code": {"370686"}, "rule": {"failure_rate"}, "param": {"window"}, "value": {"21"}})
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/warnings?rules=1&msg=") || stored() != 1 {
			t.Fatalf("a valid setting: %d %s, %d stored", st, loc, stored())
		}
		page := getPage(t, srv.URL+"/warnings?rules=1", sup.Token)
		row := regexp.MustCompile(`<tr><td>[^<]*</td><td>21</td>`).FindString(page)
		if row == "" || !strings.Contains(page, `id="wr-set"`) {
			t.Errorf("the rules table does not show the new window of 21 days, or the form is gone")
		}
		if p := getPage(t, srv.URL+"/warnings", analyst.Token); strings.Contains(p, `id="wr-set"`) {
			t.Error("an analyst sees the settings form")
		}
	})
}
