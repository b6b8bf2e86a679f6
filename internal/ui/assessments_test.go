package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/assess"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/ui"
)

// TestAssessWords: every level, origin, unit and direction the pages show
// through a key has its words in both languages.
func TestAssessWords(t *testing.T) {
	var keys []string
	for _, l := range assess.Levels {
		keys = append(keys, "as.level."+string(l))
	}
	for _, o := range []assess.Origin{assess.OriginJob, assess.OriginDemand} {
		keys = append(keys, "as.origin."+string(o))
	}
	for _, in := range assess.Indicators {
		keys = append(keys, "as.unit."+string(in.Unit), "as.unit.short."+string(in.Unit), "as.dir."+string(in.Direction))
	}
	for _, lang := range []string{"zh", "en"} {
		cat := ui.Catalogue(lang)
		for _, k := range keys {
			if cat[k] == "" {
				t.Errorf("%s: %q has no text", lang, k)
			}
		}
	}
}

// TestAssessPages: a provincial supervisor computes a month from the page
// and reads the ranking with its evidence links and report links; the
// administrator's sheet form refuses weights that do not sum to 100 on the
// form (what was typed kept, nothing saved) and saves a good one; a county
// supervisor cannot open the province's assessment.
func TestAssessPages(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		srv := apptest.Server(t, a)
		const pw = "assess-page-2026"
		for _, u := range []struct{ name, role, region string }{{"asp-admin", "admin", "000000"}, {"asp-sup", "supervisor", "510000"}, {"asp-county", "supervisor", "510131"}} {
			if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: u.name, Password: pw, Name: u.name, Role: u.role, RegionCode: u.region}); err != nil {
				t.Fatal(err)
			}
		}
		anon := apptest.NewClient(t, srv)
		admin, sup, county := anon.Login("asp-admin", pw), anon.Login("asp-sup", pw), anon.Login("asp-county", pw)
		apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "蒲江考核茶园", RegionCode: "510131"})

		if home := getPage(t, srv.URL+"/", sup.Token); !strings.Contains(home, `href="/assessments"`) {
			t.Fatalf("the supervisor's home has no assessment tile")
		}
		list := getPage(t, srv.URL+"/assessments", sup.Token)
		if !strings.Contains(list, `id="as-compute"`) || !strings.Contains(list, "县级（各县排名）") {
			t.Fatalf("the assessments page has no form:\n%s", list)
		}
		month := time.Now().In(platform.ChinaTZ).Format("2006-01")
		st, _, body := postForm(t, srv.URL, sup.Token, "/assessments", url.Values{"level": {"county"}, "period": {"2026-13"}, "region": {"510000"}})
		if st != 422 || !strings.Contains(body, "考核期应为") || !strings.Contains(body, `id="as-compute"`) {
			t.Fatalf("a bad month: %d\n%s", st, body)
		}
		st, loc, _ := postForm(t, srv.URL, sup.Token, "/assessments", url.Values{"level": {"county"}, "period": {month}, "region": {"510000"}})
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/assessments/") {
			t.Fatalf("compute: %d %s", st, loc)
		}
		view := getPage(t, srv.URL+loc, sup.Token)
		for _, want := range []string{"考核结果已计算", "蒲江县", `id="as-row-510131"`, "/api/v1/assessments/", "report.pdf", "report.xlsx", "/operators?region=510131",
			"重点主体入网率", "在试运行地区范围内，率先实现"} {
			if !strings.Contains(view, want) {
				t.Errorf("the assessment page has no %q", want)
			}
		}
		id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/assessments/")
		if st, _, _ := getStatus(t, srv.URL+"/assessments/"+id, county.Token); st != http.StatusNotFound {
			t.Errorf("the county supervisor opens the province's assessment: %d", st)
		}

		// the sheet form
		sheet, err := a.Assess.SheetFor(ctx, assess.LevelCounty)
		if err != nil {
			t.Fatal(err)
		}
		page := getPage(t, srv.URL+"/admin/assessment-sheets", admin.Token)
		form := fmt.Sprintf("sheet-%d", sheet.ID)
		if !strings.Contains(page, `id="`+form+`"`) {
			t.Fatalf("no form for the county sheet:\n%s", page)
		}
		fields := url.Values{"_form": {form}, "version": {fmt.Sprint(sheet.Version)}, "name": {sheet.Name}}
		for i, in := range assess.Indicators {
			w := "0"
			if i < 4 {
				w = "20" // 80 in all
			}
			fields.Add("indicator", in.Key)
			fields.Add("weight", w)
			fields.Add("target", fmt.Sprint(in.Target))
		}
		st, _, body = postForm(t, srv.URL, admin.Token, "/admin/assessment-sheets/"+fmt.Sprint(sheet.ID), fields)
		if st != 422 || !strings.Contains(body, "权重合计应为 100，现为 80") {
			t.Fatalf("weights summing to 80: %d\n%s", st, body)
		}
		if after, _ := a.Assess.SheetFor(ctx, assess.LevelCounty); after.Version != sheet.Version {
			t.Fatal("a refused sheet was saved")
		}
		fields["weight"][4] = "20"
		fields["target"][1] = "很多"
		st, _, body = postForm(t, srv.URL, admin.Token, "/admin/assessment-sheets/"+fmt.Sprint(sheet.ID), fields)
		if st != 422 || !strings.Contains(body, "目标值应大于 0") || !strings.Contains(body, `value="很多"`) {
			t.Fatalf("a target that is not a number: %d\n%s", st, body)
		}
		fields["target"][1] = "90"
		st, loc, _ = postForm(t, srv.URL, admin.Token, "/admin/assessment-sheets/"+fmt.Sprint(sheet.ID), fields)
		if st != http.StatusSeeOther {
			t.Fatalf("a good sheet: %d %s", st, loc)
		}
		after, _ := a.Assess.SheetFor(ctx, assess.LevelCounty)
		if after.Version != sheet.Version+1 || len(after.Indicators) != 5 || after.Indicators[1].Target != 90 {
			t.Fatalf("saved sheet: %+v", after)
		}
		if st, _, _ := postForm(t, srv.URL, sup.Token, "/admin/assessment-sheets/"+fmt.Sprint(sheet.ID), fields); st != http.StatusForbidden {
			t.Errorf("a supervisor edits a sheet: %d", st)
		}
	})
}
