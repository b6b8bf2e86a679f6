package assess_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/assess"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/supervision"
)

const pw = "assess-pass-2026"

// Three counties of 烟台 (prefecture 370600), crafted so the ranking is
// known under the test's county sheet (coverage 20, inspections 50 with a
// target of 100 per 100 operators, batches recorded 30 with a target of 1
// per operator):
//
//	栖霞 370686: 2 operators, 2 inspections, 2 batches → 0 + 50 + 30 = 80
//	莱阳 370682: 2 operators, 1 inspection           → 0 + 25 + 0  = 25
//	莱州 370683: 4 operators, 1 inspection           → 0 + 12.5    = 12.5
//
// and every other county of 烟台 has nothing: 0. No county has key
// operators on a roster, so coverage scores 0 everywhere (it still counts).
var crafted = []struct {
	county, name       string
	ops, inspections   int
	batchesPerOperator int
	total              float64
}{
	{"370686", "栖霞市", 2, 2, 1, 80},
	{"370682", "莱阳市", 2, 1, 0, 25},
	{"370683", "莱州市", 4, 1, 0, 12.5},
}

type fixture struct {
	admin, ydSup, sdSup, gdSup, qxSup, analyst, anon *apptest.Client
}

func count(t *testing.T, a *app.App, q string, args ...any) int {
	t.Helper()
	var n int
	if err := a.DB.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func newFixture(t *testing.T, a *app.App) fixture {
	t.Helper()
	ctx := context.Background()
	srv := apptest.Server(t, a)
	anon := apptest.NewClient(t, srv)
	users := []struct{ name, role, region string }{
		{"as-admin", "admin", "000000"}, {"yt-sup", "supervisor", "370600"}, {"sd-sup", "supervisor", "370000"},
		{"gd-sup", "supervisor", "440000"}, {"qx-sup", "supervisor", "370686"}, {"sd-analyst", "analyst", "370000"},
	}
	for _, u := range users {
		if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: u.name, Password: pw, Name: u.name + "姓名", Role: u.role, RegionCode: u.region}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range crafted {
		insp, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "insp-" + c.county, Password: pw, Name: c.name + "巡查员", Role: "inspector", RegionCode: c.county})
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.ops {
			o, user, opw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: fmt.Sprintf("%s考核主体%d", c.name, i+1), RegionCode: c.county})
			if i < c.inspections {
				if _, err := a.Supervision.RecordInspection(ctx, apptest.ActorOf(insp), supervision.InspectionInput{OperatorCode: o.Code, Kind: "site", Result: "pass"}); err != nil {
					t.Fatalf("inspection: %v", err)
				}
			}
			for range c.batchesPerOperator {
				anon.Login(user, opw).Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 50, "unit": "kg",
					"produced_at": platform.Today(time.Now()), "origin": "考核试验园"}).Expect(t, 201)
			}
		}
	}
	return fixture{admin: anon.Login("as-admin", pw), ydSup: anon.Login("yt-sup", pw), sdSup: anon.Login("sd-sup", pw), gdSup: anon.Login("gd-sup", pw),
		qxSup: anon.Login("qx-sup", pw), analyst: anon.Login("sd-analyst", pw), anon: anon}
}

// countySheet sets the county sheet the ranking is crafted for.
func countySheet(t *testing.T, f fixture) {
	t.Helper()
	r := f.anon.Do("GET", "/api/v1/assessment-sheets", nil).Expect(t, 200)
	var id, version string
	for i := range 3 {
		if r.Str(fmt.Sprintf("items.%d.level", i)) == "county" {
			id, version = r.Str(fmt.Sprintf("items.%d.id", i)), r.Str(fmt.Sprintf("items.%d.version", i))
		}
	}
	var v int
	fmt.Sscan(version, &v)
	f.admin.Do("PUT", "/api/v1/assessment-sheets/"+id, map[string]any{"version": v, "name": "测试县级考核表", "indicators": []map[string]any{
		{"indicator": "key_coverage", "weight": 20, "target": 100}, {"indicator": "inspection_volume", "weight": 50, "target": 100},
		{"indicator": "recording", "weight": 30, "target": 1}}}).Expect(t, 200)
}

// TestAssessmentRanksAsTheDataSays: an assessment of 烟台's counties ranks
// the three crafted counties as their records say, with each score's value
// and evidence; computing the month again replaces it; the PDF and the
// workbook hold the ranking — on both engines.
func TestAssessmentRanksAsTheDataSays(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		f := newFixture(t, a)
		countySheet(t, f)
		month := time.Now().In(platform.ChinaTZ).Format("2006-01")
		r := f.ydSup.Do("POST", "/api/v1/assessments", map[string]any{"level": "county", "period": month}).Expect(t, 200)
		id := r.Str("id")
		if r.Str("region_code") != "370600" || r.Str("origin") != "demand" || r.Str("regions") != "13" {
			t.Fatalf("assessment: %s", r.Body)
		}
		for i, c := range crafted {
			p := fmt.Sprintf("ranking.%d.", i)
			if r.Str(p+"region_code") != c.county || r.Str(p+"rank") != fmt.Sprint(i+1) || r.Get(p+"total") != c.total {
				t.Errorf("place %d: %s rank %s total %v, want %s %v", i+1, r.Str(p+"region_code"), r.Str(p+"rank"), r.Get(p+"total"), c.county, c.total)
			}
		}
		// the rest of 烟台 share 4th place at 0
		if r.Str("ranking.3.rank") != "4" || r.Get("ranking.3.total") != 0.0 || r.Str("ranking.12.rank") != "4" {
			t.Errorf("the other counties: %v %v %v", r.Get("ranking.3.rank"), r.Get("ranking.3.total"), r.Get("ranking.12.rank"))
		}
		// 栖霞's inspections: 2 per 2 operators = 100 per 100, full 50 points, from the inspections figure
		sc := "ranking.0.scores.1."
		if r.Str(sc+"indicator") != "inspection_volume" || r.Get(sc+"value") != 100.0 || r.Get(sc+"score") != 50.0 ||
			r.Get(sc+"numerator") != 2.0 || r.Get(sc+"denominator") != 2.0 || !strings.HasPrefix(r.Str(sc+"evidence.query"), "/api/v1/stats/inspections?") ||
			r.Str(sc+"evidence.list") != "/inspections?region=370686" {
			t.Errorf("栖霞 inspections: %v", r.Get("ranking.0.scores.1"))
		}
		// the evidence query answers the same count
		ev := f.ydSup.Do("GET", r.Str(sc+"evidence.query"), nil).Expect(t, 200)
		if ev.Get("total") != 2.0 {
			t.Errorf("evidence %s answers %s", r.Str(sc+"evidence.query"), ev.Body)
		}
		// coverage has nothing to measure yet counts (0 points of 20)
		if r.Get("ranking.0.scores.0.applicable") != true || r.Get("ranking.0.scores.0.value") != nil {
			t.Errorf("coverage: %v", r.Get("ranking.0.scores.0"))
		}

		// again: the same assessment, replaced, not duplicated
		again := f.sdSup.Do("POST", "/api/v1/assessments", map[string]any{"level": "county", "period": month, "region": "370600"}).Expect(t, 200)
		if again.Str("id") != id || count(t, a, `SELECT COUNT(*) FROM assessments`) != 1 ||
			count(t, a, `SELECT COUNT(*) FROM assessment_results`) != 13 || count(t, a, `SELECT COUNT(*) FROM assessment_scores`) != 39 {
			t.Fatalf("rerun: id %s → %s, %d assessments, %d results, %d scores", id, again.Str("id"), count(t, a, `SELECT COUNT(*) FROM assessments`),
				count(t, a, `SELECT COUNT(*) FROM assessment_results`), count(t, a, `SELECT COUNT(*) FROM assessment_scores`))
		}
		if count(t, a, `SELECT COUNT(*) FROM audit_log WHERE action = 'assessment.compute' AND resource_id = $1`, id) != 2 {
			t.Error("each computation is an audit entry")
		}
		checkReports(t, f, id)
	})
}

// checkReports: the PDF's text names the regions and their totals; the
// workbook opens and holds the ranking.
func checkReports(t *testing.T, f fixture, id string) {
	t.Helper()
	pdf := f.ydSup.Do("GET", "/api/v1/assessments/"+id+"/report.pdf", nil).Expect(t, 200)
	if pdf.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf.Body, []byte("%PDF")) {
		t.Fatalf("pdf: %s %.20q", pdf.Header.Get("Content-Type"), pdf.Body)
	}
	if bin, err := exec.LookPath("pdftotext"); err == nil {
		path := filepath.Join(t.TempDir(), "report.pdf")
		if err := os.WriteFile(path, pdf.Body, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "-layout", path, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext: %v", err)
		}
		text := string(out)
		for _, want := range []string{"烟台市", "栖霞市", "莱阳市", "莱州市", "80.00", "25.00", "12.50", "巡查检查频次", "第 1 页 / 共 2 页"} {
			if !strings.Contains(strings.ReplaceAll(text, " ", ""), strings.ReplaceAll(want, " ", "")) {
				t.Errorf("the PDF text has no %q:\n%.1500s", want, text)
			}
		}
	} else {
		t.Log("pdftotext not installed: PDF text not checked")
	}
	x := f.ydSup.Do("GET", "/api/v1/assessments/"+id+"/report.xlsx", nil).Expect(t, 200)
	wb, err := excelize.OpenReader(bytes.NewReader(x.Body))
	if err != nil {
		t.Fatalf("xlsx: %v", err)
	}
	defer wb.Close()
	rows, err := wb.GetRows(wb.GetSheetName(0))
	if err != nil || len(rows) != 14 {
		t.Fatalf("xlsx rows: %d %v", len(rows), err)
	}
	for i, c := range crafted {
		row := rows[i+1]
		if row[0] != fmt.Sprint(i+1) || row[1] != c.name || row[2] != c.county || row[3] != fmt.Sprint(c.total) {
			t.Errorf("xlsx row %d: %v, want %s %v", i+2, row[:4], c.name, c.total)
		}
	}
}

// TestAssessmentRefusals: malformed sheets are 422 naming the field and
// save nothing; a stale edit is 409; only administrators edit; requests
// outside the jurisdiction are 404, bad levels and periods 422 — on both
// engines.
func TestAssessmentRefusals(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		f := newFixture(t, a)
		sheets, err := a.Assess.Sheets(ctx)
		if err != nil || len(sheets) != 3 {
			t.Fatalf("sheets: %v %v", sheets, err)
		}
		sh := sheets[2]
		path := fmt.Sprintf("/api/v1/assessment-sheets/%d", sh.ID)
		items := func(edit func([]map[string]any)) []map[string]any {
			var out []map[string]any
			for _, it := range sh.Indicators {
				out = append(out, map[string]any{"indicator": it.Indicator, "weight": it.Weight, "target": it.Target})
			}
			edit(out)
			return out
		}
		for _, c := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"weights sum to 95", map[string]any{"version": sh.Version, "indicators": items(func(l []map[string]any) { l[0]["weight"] = 20 })}, "indicators"},
			{"unknown indicator", map[string]any{"version": sh.Version, "indicators": items(func(l []map[string]any) { l[3]["indicator"] = "gdp_growth" })}, "indicators[3].indicator"},
			{"bad target", map[string]any{"version": sh.Version, "indicators": items(func(l []map[string]any) { l[1]["target"] = 250 })}, "indicators[1].target"},
			{"a wrong direction", map[string]any{"version": sh.Version, "indicators": items(func(l []map[string]any) { l[7]["direction"] = "higher" })}, "indicators[7].direction"},
			{"no version", map[string]any{"indicators": items(func([]map[string]any) {})}, "version"},
		} {
			r := f.admin.Do("PUT", path, c.body).Expect(t, 422)
			if !strings.Contains(string(r.Body), `"field":"`+c.field+`"`) {
				t.Errorf("%s: the refusal does not name %s: %s", c.name, c.field, r.Body)
			}
		}
		f.sdSup.Do("PUT", path, map[string]any{"version": sh.Version, "indicators": items(func([]map[string]any) {})}).Expect(t, 403)
		f.admin.Do("PUT", path, map[string]any{"version": sh.Version + 5, "indicators": items(func([]map[string]any) {})}).Expect(t, 409)
		after, _ := a.Assess.Sheet(ctx, sh.ID)
		if after.Version != sh.Version || len(after.Indicators) != len(sh.Indicators) || after.Indicators[0].Weight != sh.Indicators[0].Weight {
			t.Fatalf("a refused edit changed the sheet: %+v", after)
		}
		f.admin.Do("PUT", "/api/v1/assessment-sheets/99", map[string]any{"version": 1, "indicators": items(func([]map[string]any) {})}).Expect(t, 404)

		month := time.Now().In(platform.ChinaTZ).Format("2006-01")
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"level": "township", "period": month}, "level"},
			{map[string]any{"level": "county", "period": "2026-13"}, "period"},
			{map[string]any{"level": "county", "period": "2999-01"}, "period"},
			{map[string]any{"level": "prefecture", "period": month, "region": "370600"}, "level"},
			{map[string]any{"level": "county", "period": month, "region": "3706"}, "region"},
		} {
			r := f.sdSup.Do("POST", "/api/v1/assessments", c.body).Expect(t, 422)
			if !strings.Contains(string(r.Body), `"field":"`+c.field+`"`) {
				t.Errorf("%v: the refusal does not name %s: %s", c.body, c.field, r.Body)
			}
		}
		// outside the jurisdiction: 404 (a Guangdong supervisor, Shandong's counties)
		f.gdSup.Do("POST", "/api/v1/assessments", map[string]any{"level": "county", "period": month, "region": "370000"}).Expect(t, 404)
		f.analyst.Do("POST", "/api/v1/assessments", map[string]any{"level": "county", "period": month}).Expect(t, 403)
		r := f.sdSup.Do("POST", "/api/v1/assessments", map[string]any{"level": "prefecture", "period": month}).Expect(t, 200)
		id := r.Str("id")
		if count(t, a, `SELECT COUNT(*) FROM assessment_results WHERE assessment_id = $1`, id) != 16 {
			t.Errorf("Shandong has 16 prefectures: %s", r.Body)
		}
		for _, c := range []*apptest.Client{f.gdSup, f.qxSup, f.ydSup} {
			c.Do("GET", "/api/v1/assessments/"+id, nil).Expect(t, 404)
			c.Do("GET", "/api/v1/assessments/"+id+"/report.pdf", nil).Expect(t, 404)
			c.Do("GET", "/api/v1/assessments/"+id+"/report.xlsx", nil).Expect(t, 404)
		}
		f.analyst.Do("GET", "/api/v1/assessments/"+id, nil).Expect(t, 200)
		f.gdSup.Do("GET", "/api/v1/assessments?region=370000", nil).Expect(t, 404)
		if l := f.gdSup.Do("GET", "/api/v1/assessments", nil).Expect(t, 200); len(l.Get("items").([]any)) != 0 {
			t.Errorf("Guangdong lists Shandong's assessment: %s", l.Body)
		}
		if l := f.analyst.Do("GET", "/api/v1/assessments?level=prefecture&period="+month, nil).Expect(t, 200); l.Str("items.0.id") != id {
			t.Errorf("Shandong's analyst list: %s", l.Body)
		}
		f.analyst.Do("GET", "/api/v1/assessments?period=13", nil).Expect(t, 422)
		f.anon.Do("GET", "/api/v1/assessments/"+id, nil).Expect(t, http.StatusUnauthorized)

		// a retried request with its Idempotency-Key computes once (the key
		// commits with the assessment, not with the figures' update)
		key := map[string]string{"Idempotency-Key": "assess-retry-1"}
		body := map[string]any{"level": "county", "period": month}
		first := f.sdSup.DoHeader("POST", "/api/v1/assessments", body, key).Expect(t, 200)
		second := f.sdSup.DoHeader("POST", "/api/v1/assessments", body, key).Expect(t, 200)
		if first.Str("id") != second.Str("id") || count(t, a, `SELECT COUNT(*) FROM audit_log WHERE action = 'assessment.compute' AND resource_id = $1`, first.Str("id")) != 1 {
			t.Errorf("a retry computed again: %s / %s", first.Str("computed_at"), second.Str("computed_at"))
		}
	})
}

// TestMonthlyJob: the job assesses last month once per month across
// replicas: inside the nation and each province and prefecture with
// figures, every level below; a second try does nothing.
func TestMonthlyJob(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		_ = newFixture(t, a)
		rep, err := a.Assess.RunMonthly(ctx, "replica-1", time.Hour)
		if err != nil || !rep.Ran {
			t.Fatalf("first run: %+v %v", rep, err)
		}
		// nation: 3 levels; 山东 370000: 2; 烟台 370600: 1
		if rep.Assessments != 6 || count(t, a, `SELECT COUNT(*) FROM assessments WHERE origin = 'job' AND period = $1`, rep.Period) != 6 {
			t.Errorf("assessments: %+v", rep)
		}
		if rep, err := a.Assess.RunMonthly(ctx, "replica-2", time.Hour); err != nil || rep.Ran {
			t.Errorf("second run: %+v %v", rep, err)
		}
		if _, err := a.Assess.AssessAll(ctx, rep.Period, assess.OriginJob); err != nil || count(t, a, `SELECT COUNT(*) FROM assessments`) != 6 {
			t.Errorf("assessing the month again duplicated it: %v", err)
		}
	})
}
