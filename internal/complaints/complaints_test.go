package complaints_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/codes"
)

const pw = "complaint-pass-2026"

// report posts a multipart report with one attachment named photo.
func report(t *testing.T, c *apptest.Client, fields map[string]string, filename string, content []byte) *apptest.Response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if filename != "" {
		fw, _ := mw.CreateFormFile("photo", filename)
		_, _ = fw.Write(content)
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", c.Base+"/api/v1/public/reports", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.DoRequest(req)
}

func count(t *testing.T, a *app.App) int {
	var n int
	if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM complaints`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestComplaints: the public reports a problem about a batch (JSON or with
// a photo) and follows it by ticket; bad reports are refused field by
// field and store nothing; the complaint reaches the officials of the
// batch holder's county only, with the contact masked; they assign, reply
// (the reporter reads it) and close it, or file a case from it.
func TestComplaints(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		srv := apptest.Server(t, a)
		anon := apptest.NewClient(t, srv)
		op, user, opw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞举报测试合作社", Kind: "cooperative", RegionCode: "370686", Products: []string{"apple"}})
		code := anon.Login(user, opw).Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 50, "unit": "kg",
			"produced_at": time.Now().Format(time.DateOnly), "origin": "果园"}).Expect(t, 201).Str("trace_code")
		for _, u := range []struct{ name, role, region string }{{"qx-sup", "supervisor", "370686"}, {"qx-enf", "enforcer", "370686"}, {"pj-sup", "supervisor", "510131"}} {
			if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: u.name, Password: pw, Name: u.name, Role: u.role, RegionCode: u.region}); err != nil {
				t.Fatal(err)
			}
		}
		sup, enf, far := anon.Login("qx-sup", pw), anon.Login("qx-enf", pw), anon.Login("pj-sup", pw)

		// refusals: nothing stored
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"category": "quality", "code": code}, "description"},
			{map[string]any{"category": "smell", "description": "x", "code": code}, "category"},
			{map[string]any{"category": "quality", "description": "发霉"}, "region"},
			{map[string]any{"category": "quality", "description": "发霉", "region": "99999"}, "region"},
			{map[string]any{"category": "quality", "description": "发霉", "code": "12345"}, "region"}, // an unknown code or alias is kept as typed; it does not route
			{map[string]any{"category": "quality", "description": strings.Repeat("长", 2001), "code": code}, "description"},
		} {
			if r := anon.Do("POST", "/api/v1/public/reports", c.body).Expect(t, 422); !strings.Contains(string(r.Body), `"field":"`+c.field+`"`) {
				t.Errorf("%v: want an error on %s: %s", c.body, c.field, r.Body)
			}
		}
		if r := report(t, anon, map[string]string{"category": "quality", "description": "标签模糊", "code": code}, "x.png", []byte("not an image at all")); r.Status != 415 {
			t.Fatalf("a text file as a photo: %d %s", r.Status, r.Body)
		}
		if n := count(t, a); n != 0 {
			t.Fatalf("refused reports stored %d rows", n)
		}

		// a report with a photo, about the batch; and a suspected counterfeit
		r := report(t, anon, map[string]string{"category": "quality", "description": "苹果有异味，疑似农药残留", "code": code, "contact": "13812345678"},
			"apple.png", apptest.TinyPNG).Expect(t, 201)
		ticket := r.Str("ticket")
		if !strings.HasPrefix(ticket, "JB-") || r.Str("status") != "received" {
			t.Fatalf("filed: %s", r.Body)
		}
		never, _ := codes.NewTraceCode(codes.Production, "370686", 99_999_999) // well formed, never issued
		fake := anon.Do("POST", "/api/v1/public/reports", map[string]any{"category": "counterfeit", "description": "扫码查不到",
			"code": never, "region": "370686"})
		if fake.Status != 201 {
			t.Fatalf("a well-formed unknown code: %d %s", fake.Status, fake.Body)
		}
		if r := anon.Do("POST", "/api/v1/public/reports", map[string]any{"category": "counterfeit", "description": "x", "code": never[:19] + "0", "region": "370686"}); r.Status != 422 && never[19] != '0' {
			t.Fatalf("a wrong check digit: %d", r.Status)
		}
		if got := anon.Do("GET", "/api/v1/public/reports/"+strings.ToLower(ticket), nil).Expect(t, 200); got.Str("status") != "received" ||
			strings.Contains(string(got.Body), "1381234") {
			t.Fatalf("following the ticket: %s", got.Body)
		}
		anon.Do("GET", "/api/v1/public/reports/JB-2026-NOSUCHXXXX", nil).Expect(t, 404)

		// routed to the holder's county; the contact is masked
		list := sup.Do("GET", "/api/v1/complaints", nil).Expect(t, 200)
		items := list.Get("items").([]any)
		var id string
		for i := range items {
			if list.Str(fmt.Sprintf("items.%d.ticket", i)) == ticket {
				id = fmt.Sprint(list.Get(fmt.Sprintf("items.%d.id", i)))
				if c := list.Str(fmt.Sprintf("items.%d.contact", i)); c != "138****5678" {
					t.Errorf("contact shown as %q", c)
				}
				if list.Str(fmt.Sprintf("items.%d.operator_code", i)) != op.Code {
					t.Errorf("the complaint does not name the holder: %s", list.Body)
				}
			}
		}
		if id == "" {
			t.Fatalf("the county's supervisor does not see the complaint: %s", list.Body)
		}
		if n := len(far.Do("GET", "/api/v1/complaints", nil).Expect(t, 200).Get("items").([]any)); n != 0 {
			t.Errorf("another county sees %d complaints", n)
		}
		far.Do("GET", "/api/v1/complaints/"+id, nil).Expect(t, 404)
		if c := sup.Do("GET", "/api/v1/complaints/"+id, nil).Expect(t, 200); len(c.Get("photos").([]any)) != 1 {
			t.Fatalf("photo not kept: %s", c.Body)
		}

		// handling
		sup.Do("POST", "/api/v1/complaints/"+id+"/steps", map[string]any{"step": "reply"}).Expect(t, 422)
		sup.Do("POST", "/api/v1/complaints/"+id+"/steps", map[string]any{"step": "assign", "assignee": "pj-sup"}).Expect(t, 422)
		if c := sup.Do("POST", "/api/v1/complaints/"+id+"/steps", map[string]any{"step": "assign", "assignee": "qx-enf"}).Expect(t, 200); c.Str("status") != "assigned" || c.Str("assignee_name") != "qx-enf" {
			t.Fatalf("assign: %s", c.Body)
		}
		enf.Do("POST", "/api/v1/complaints/"+id+"/steps", map[string]any{"step": "reply", "reply": "已到现场抽样，结果将另行告知"}).Expect(t, 200)
		if got := anon.Do("GET", "/api/v1/public/reports/"+ticket, nil).Expect(t, 200); got.Str("status") != "replied" || got.Str("reply") != "已到现场抽样，结果将另行告知" {
			t.Fatalf("the reporter does not read the reply: %s", got.Body)
		}
		// a case from the complaint links it
		enf.Do("POST", "/api/v1/cases", map[string]any{"source": "complaint", "source_id": "JB-2026-NOSUCHXXXX", "operator_codes": []string{op.Code},
			"violation": "other", "summary": "x"}).Expect(t, 422)
		cs := enf.Do("POST", "/api/v1/cases", map[string]any{"source": "complaint", "source_id": ticket, "operator_codes": []string{op.Code},
			"violation": "other", "summary": "消费者举报苹果异味，立案调查"}).Expect(t, 201)
		if c := sup.Do("GET", "/api/v1/complaints/"+id, nil).Expect(t, 200); fmt.Sprint(c.Get("case_id")) != fmt.Sprint(cs.Get("id")) {
			t.Fatalf("the complaint is not linked to its case: %s", c.Body)
		}
		sup.Do("POST", "/api/v1/complaints/"+id+"/steps", map[string]any{"step": "close", "reply": "已立案查处"}).Expect(t, 200)
		sup.Do("POST", "/api/v1/complaints/"+id+"/steps", map[string]any{"step": "reply", "reply": "again"}).Expect(t, 422)
		if n := len(sup.Do("GET", "/api/v1/complaints", nil).Expect(t, 200).Get("items").([]any)); n != count(t, a)-1 {
			t.Errorf("the open list still holds the closed complaint (%d)", n)
		}
	})
}
