package feedback_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

const pw = "feedback-pass-2026"

func count(t *testing.T, a *app.App, query string) int {
	t.Helper()
	var n int
	if err := a.DB.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fixture is a farmer of 栖霞 (Shandong), a supervisor of 高州 (Guangdong),
// a tester of 蒲江 (Sichuan) and an administrator, logged in.
type fixture struct {
	farmer, gd, sc, admin, anon *apptest.Client
}

func newFixture(t *testing.T, a *app.App) fixture {
	t.Helper()
	srv := apptest.Server(t, a)
	anon := apptest.NewClient(t, srv)
	_, user, opw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞反馈测试果园", RegionCode: "370686"})
	for _, u := range []struct{ name, role, region string }{{"gd-sup", "supervisor", "440981"}, {"sc-tester", "tester", "510131"}, {"fb-admin", "admin", "000000"}} {
		if _, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: u.name, Password: pw, Name: u.name + "姓名", Role: u.role, RegionCode: u.region}); err != nil {
			t.Fatal(err)
		}
	}
	return fixture{farmer: anon.Login(user, opw), gd: anon.Login("gd-sup", pw), sc: anon.Login("sc-tester", pw), admin: anon.Login("fb-admin", pw), anon: anon}
}

func ids(r *apptest.Response) []string {
	var out []string
	items, _ := r.Get("items").([]any)
	for i := range items {
		out = append(out, r.Str(fmt.Sprintf("items.%d.id", i)))
	}
	return out
}

// TestFeedback: every account files feedback (refused field by field,
// storing nothing, when it is wrong); a user lists and reads only their
// own, the administrator everyone's with filters; the administrator
// triages it (a status that cannot follow is 422 on status, an answer
// without a reply 422 on reply) and the author reads the reply; every
// write is an audit entry and a ledger leaf.
func TestFeedback(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		f := newFixture(t, a)
		f.anon.Do("POST", "/api/v1/feedback", map[string]any{"category": "bug", "title": "x", "body": "y"}).Expect(t, 401)
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"title": "打不开", "body": "白屏"}, "category"},
			{map[string]any{"category": "crash", "title": "打不开", "body": "白屏"}, "category"},
			{map[string]any{"category": "bug", "title": "  ", "body": "白屏"}, "title"},
			{map[string]any{"category": "bug", "title": strings.Repeat("长", 101), "body": "白屏"}, "title"},
			{map[string]any{"category": "bug", "title": "两行\n标题", "body": "白屏"}, "title"},
			{map[string]any{"category": "bug", "title": "打不开"}, "body"},
			{map[string]any{"category": "bug", "title": "打不开", "body": strings.Repeat("长", 2001)}, "body"},
			{map[string]any{"category": "bug", "title": "打不开", "body": "白屏", "page": strings.Repeat("/x", 151)}, "page"},
		} {
			if r := f.farmer.Do("POST", "/api/v1/feedback", c.body).Expect(t, 422); !strings.Contains(string(r.Body), `"field":"`+c.field+`"`) ||
				r.Str("errors.0.message_zh") == "" {
				t.Errorf("%v: want an error on %s: %s", c.body, c.field, r.Body)
			}
		}
		if n := count(t, a, `SELECT COUNT(*) FROM feedback`); n != 0 {
			t.Fatalf("refused feedback stored %d rows", n)
		}

		mine := f.farmer.Do("POST", "/api/v1/feedback", map[string]any{"category": "usability", "title": "标签按钮太小",
			"body": "手机上点不准\r\n戴手套更难", "page": "/batches"}).Expect(t, 201)
		if mine.Str("status") != "open" || mine.Str("role") != "operator" || !strings.HasPrefix(mine.Str("region_code"), "370686") ||
			mine.Str("body") != "手机上点不准\n戴手套更难" || len(mine.Get("next").([]any)) != 0 {
			t.Fatalf("filed: %s", mine.Body)
		}
		id := mine.Str("id")
		other := f.gd.Do("POST", "/api/v1/feedback", map[string]any{"category": "bug", "title": "查验列表重复", "body": "同一批次出现两行"}).Expect(t, 201).Str("id")
		f.sc.Do("POST", "/api/v1/feedback", map[string]any{"category": "data", "title": "村名过时", "body": "两个村已合并"}).Expect(t, 201)

		checkLists(t, f, id, other)

		// triage
		f.farmer.Do("POST", "/api/v1/feedback/"+id+"/triage", map[string]any{"status": "closed"}).Expect(t, 403)
		f.admin.Do("POST", "/api/v1/feedback/999999/triage", map[string]any{"status": "closed"}).Expect(t, 404)
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"status": "answered"}, "reply"},
			{map[string]any{"status": "done"}, "status"},
			{map[string]any{"status": "in_progress", "category": "crash"}, "category"},
			{map[string]any{"status": "answered", "reply": strings.Repeat("长", 2001)}, "reply"},
		} {
			if r := f.admin.Do("POST", "/api/v1/feedback/"+id+"/triage", c.body).Expect(t, 422); !strings.Contains(string(r.Body), `"field":"`+c.field+`"`) {
				t.Errorf("%v: want an error on %s: %s", c.body, c.field, r.Body)
			}
		}
		got := f.admin.Do("POST", "/api/v1/feedback/"+id+"/triage", map[string]any{"status": "answered", "category": "bug", "reply": "下一版加大按钮"}).Expect(t, 200)
		if got.Str("status") != "answered" || got.Str("category") != "bug" || got.Str("triaged_by") != "fb-admin姓名" {
			t.Fatalf("triaged: %s", got.Body)
		}
		if r := f.farmer.Do("GET", "/api/v1/feedback/"+id, nil).Expect(t, 200); r.Str("reply") != "下一版加大按钮" || r.Str("status") != "answered" {
			t.Fatalf("the author does not read the reply: %s", r.Body)
		}
		f.admin.Do("POST", "/api/v1/feedback/"+id+"/triage", map[string]any{"status": "closed"}).Expect(t, 200)
		if r := f.admin.Do("POST", "/api/v1/feedback/"+id+"/triage", map[string]any{"status": "answered", "reply": "again"}).Expect(t, 422); r.Str("errors.0.field") != "status" {
			t.Fatalf("answering a closed item: %s", r.Body)
		}
		if r := f.admin.Do("POST", "/api/v1/feedback/"+id+"/triage", map[string]any{"status": "open"}).Expect(t, 200); r.Str("reply") != "下一版加大按钮" {
			t.Fatalf("reopening kept no reply: %s", r.Body)
		}

		audit := count(t, a, `SELECT COUNT(*) FROM audit_log WHERE action IN ('feedback.file', 'feedback.triage')`)
		leaves := count(t, a, `SELECT COUNT(*) FROM ledger_leaves l JOIN audit_log g ON g.id = l.audit_id WHERE g.action IN ('feedback.file', 'feedback.triage')`)
		if audit != 6 || leaves != audit {
			t.Fatalf("%d audit entries (want 3 filed + 3 triaged), %d ledger leaves", audit, leaves)
		}
	})
}

// TestTriageRace: administrators triaging one item at once never lose an
// event: each answer is 200 or 409, and each 200 is one audit entry.
func TestTriageRace(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		f := newFixture(t, a)
		id := f.farmer.Do("POST", "/api/v1/feedback", map[string]any{"category": "bug", "title": "闪退", "body": "打开就退出"}).Expect(t, 201).Str("id")
		var wg sync.WaitGroup
		statuses := make([]int, 8)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = f.admin.Do("POST", "/api/v1/feedback/"+id+"/triage", map[string]any{"status": "in_progress", "reply": fmt.Sprintf("第 %d 位管理员", i)}).Status
			}()
		}
		wg.Wait()
		ok := 0
		for _, st := range statuses {
			switch st {
			case 200:
				ok++
			case 409:
			default:
				t.Errorf("a concurrent triage answered %d", st)
			}
		}
		if n := count(t, a, `SELECT COUNT(*) FROM audit_log WHERE action = 'feedback.triage'`); ok == 0 || n != ok {
			t.Errorf("%d triages succeeded, %d audit entries", ok, n)
		}
	})
}

// TestSummary: the month's feedback by category × the authors' province
// (national accounts on their own line), with totals, in China time; as
// JSON, CSV and xlsx; administrators only.
func TestSummary(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		f := newFixture(t, a)
		file := func(c *apptest.Client, at, category string) {
			t.Helper()
			when, _ := time.Parse(time.RFC3339, at)
			a.DB.SetClock(&platform.FixedClock{T: when})
			defer a.DB.SetClock(a.Clock)
			c.Do("POST", "/api/v1/feedback", map[string]any{"category": category, "title": "反馈 " + at, "body": "内容"}).Expect(t, 201)
		}
		file(f.farmer, "2026-10-31T15:59:59Z", "bug") // 23:59:59 on 31 October in China: October
		file(f.farmer, "2026-10-31T16:00:00Z", "bug") // midnight on 1 November in China
		file(f.farmer, "2026-11-20T03:00:00Z", "usability")
		file(f.gd, "2026-11-21T03:00:00Z", "bug")
		file(f.admin, "2026-11-30T15:59:00Z", "suggestion") // 23:59 on 30 November in China
		file(f.sc, "2026-11-30T16:00:00Z", "data")          // December in China

		f.farmer.Do("GET", "/api/v1/feedback/summary?month=2026-11", nil).Expect(t, 403)
		f.admin.Do("GET", "/api/v1/feedback/summary?month=2026-11&format=pdf", nil).Expect(t, 422)
		if r := f.admin.Do("GET", "/api/v1/feedback/summary?month=11-2026", nil).Expect(t, 422); r.Str("errors.0.field") != "month" {
			t.Fatalf("a bad month: %s", r.Body)
		}
		s := f.admin.Do("GET", "/api/v1/feedback/summary?month=2026-11", nil).Expect(t, 200)
		// rows by province code: 000000 (the admin), 370000, 440000; categories bug usability data suggestion other
		want := "000000 0,0,0,1,0 1|370000 1,1,0,0,0 2|440000 1,0,0,0,0 1"
		var rows []string
		for i := range s.Get("rows").([]any) {
			p := fmt.Sprintf("rows.%d.", i)
			rows = append(rows, fmt.Sprintf("%s %s %s", s.Str(p+"region"), strings.Trim(strings.ReplaceAll(fmt.Sprint(s.Get(p+"counts")), " ", ","), "[]"), s.Str(p+"total")))
		}
		if got := strings.Join(rows, "|"); got != want || s.Str("total") != "4" || fmt.Sprint(s.Get("totals")) != "[2 1 0 1 0]" || s.Str("rows.1.region_name") != "山东省" {
			t.Fatalf("summary rows %q, want %q: %s", got, want, s.Body)
		}
		if oct := f.admin.Do("GET", "/api/v1/feedback/summary?month=2026-10", nil).Expect(t, 200); oct.Str("total") != "1" {
			t.Fatalf("October: %s", oct.Body)
		}

		csv := f.admin.Do("GET", "/api/v1/feedback/summary?month=2026-11&format=csv", nil).Expect(t, 200)
		body := string(csv.Body)
		if !strings.HasPrefix(body, "\ufeff地区代码,地区,程序错误,使用不便,数据问题,功能建议,其他,合计\nregion code,region,bug,") ||
			!strings.Contains(body, "370000,山东省,1,1,0,0,0,2\n") || !strings.HasSuffix(body, ",合计 total,2,1,0,1,0,4\n") ||
			!strings.Contains(csv.Header.Get("Content-Disposition"), "feedback-2026-11.csv") {
			t.Fatalf("CSV:\n%s", body)
		}
		x := f.admin.Do("GET", "/api/v1/feedback/summary?month=2026-11&format=xlsx", nil).Expect(t, 200)
		book, err := excelize.OpenReader(bytes.NewReader(x.Body))
		if err != nil {
			t.Fatalf("xlsx: %v", err)
		}
		defer book.Close()
		sheet := book.GetSheetName(0)
		if v, _ := book.GetCellValue(sheet, "B4"); v != "山东省" {
			t.Errorf("xlsx B4 = %q", v)
		}
		if v, _ := book.GetCellValue(sheet, "H6"); v != "4" {
			t.Errorf("xlsx total H6 = %q", v)
		}
		if typ, _ := book.GetCellType(sheet, "C4"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
			t.Errorf("xlsx counts are text, not numbers")
		}
	})
}

// checkLists: a user lists and reads only their own feedback (filters
// included); the administrator lists everyone's, filtered; bad filters are
// 422 naming the parameter.
func checkLists(t *testing.T, f fixture, id, other string) {
	t.Helper()
	if got := ids(f.farmer.Do("GET", "/api/v1/feedback", nil).Expect(t, 200)); strings.Join(got, ",") != id {
		t.Errorf("the farmer lists %v, want only %s", got, id)
	}
	if got := ids(f.farmer.Do("GET", "/api/v1/feedback?category=bug", nil).Expect(t, 200)); len(got) != 0 {
		t.Errorf("the farmer's filter reaches others' feedback: %v", got)
	}
	f.farmer.Do("GET", "/api/v1/feedback/"+other, nil).Expect(t, 404)
	f.farmer.Do("GET", "/api/v1/feedback/"+id, nil).Expect(t, 200)
	if got := ids(f.admin.Do("GET", "/api/v1/feedback", nil).Expect(t, 200)); len(got) != 3 {
		t.Errorf("the administrator lists %v", got)
	}
	for q, want := range map[string]int{"category=bug": 1, "region=440000": 1, "region=370686": 1, "status=open": 3, "status=answered": 0,
		"month=" + time.Now().In(platform.ChinaTZ).Format("2006-01"): 3, "month=2020-01": 0, "mine=true": 0, "limit=2": 2, "limit=2&offset=2": 1} {
		if got := ids(f.admin.Do("GET", "/api/v1/feedback?"+q, nil).Expect(t, 200)); len(got) != want {
			t.Errorf("admin ?%s: %d items, want %d", q, len(got), want)
		}
	}
	for q, field := range map[string]string{"status=done": "status", "category=crash": "category", "region=37": "region", "month=2026-13": "month", "limit=x": "limit"} {
		if r := f.admin.Do("GET", "/api/v1/feedback?"+q, nil).Expect(t, 422); r.Str("errors.0.field") != field {
			t.Errorf("?%s: %s", q, r.Body)
		}
	}
}
