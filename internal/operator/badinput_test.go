package operator_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/operator"
)

// TestRegistrationBadInput: every refusal names its field and says why in Chinese and English.
func TestRegistrationBadInput(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		srv := apptest.Server(t, a)
		anon := apptest.NewClient(t, srv)
		cases := []struct {
			name, field, code string
			mutate            func(op map[string]any, body map[string]any)
		}{
			{"USCC check character", "operator.credit_code", "check_digit", func(op, _ map[string]any) { op["credit_code"] = "91350100M000100Y44" }},
			{"USCC inner GB 11714 check", "operator.credit_code", "check_digit.org", func(op, _ map[string]any) { op["credit_code"] = "91440300715267261R" }},
			{"USCC length", "operator.credit_code", "format.length", func(op, _ map[string]any) { op["credit_code"] = "9137068612345" }},
			{"USCC charset", "operator.credit_code", "format.charset", func(op, _ map[string]any) { op["credit_code"] = "91350100M000100YI3" }},
			{"USCC missing for an enterprise", "operator.credit_code", "required", func(op, _ map[string]any) { op["credit_code"] = "" }},
			{"ID check character", "operator.id_number", "check_digit", func(op, _ map[string]any) { op["id_number"] = "110105194912310021" }},
			{"ID first generation", "operator.id_number", "format.length", func(op, _ map[string]any) { op["id_number"] = "110105491231002" }},
			{"ID birth date", "operator.id_number", "format.date", func(op, _ map[string]any) {
				op["id_number"] = operator.SampleResidentID("110105", "19490231", 2)
			}},
			{"ID missing", "operator.id_number", "required", func(op, _ map[string]any) { op["id_number"] = "" }},
			{"unknown region", "operator.region_code", "unknown", func(op, _ map[string]any) { op["region_code"] = "379999" }},
			{"province is not a county", "operator.region_code", "level", func(op, _ map[string]any) { op["region_code"] = "370000" }},
			{"unknown kind", "operator.kind", "not_allowed", func(op, _ map[string]any) { op["kind"] = "farm" }},
			{"unknown category", "operator.category", "not_allowed", func(op, _ map[string]any) { op["category"] = "temporary" }},
			{"leading level", "operator.leading_enterprise", "not_allowed", func(op, _ map[string]any) { op["leading_enterprise"] = "county" }},
			{"certification kind", "operator.certifications[0].kind", "not_allowed", func(op, _ map[string]any) {
				op["certifications"] = []map[string]any{{"kind": "iso9001", "number": "1"}}
			}},
			{"phone", "operator.phone", "format", func(op, _ map[string]any) { op["phone"] = "12" }},
			{"weak password", "password", "too_short", func(_, b map[string]any) { b["password"] = "short" }},
			{"bad username", "username", "format", func(_, b map[string]any) { b["username"] = "a b" }},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				body := applicant(100+i, "370686", "测试主体")
				c.mutate(body["operator"].(map[string]any), body)
				r := anon.Do("POST", "/api/v1/operators", body).Expect(t, 422)
				errs, _ := r.Get("errors").([]any)
				found := false
				for _, e := range errs {
					m := e.(map[string]any)
					if m["field"] == c.field {
						found = true
						if m["code"] != c.code {
							t.Errorf("code %v, want %s", m["code"], c.code)
						}
						zh, _ := m["message_zh"].(string)
						en, _ := m["message"].(string)
						if zh == "" || en == "" || zh == en {
							t.Errorf("messages zh=%q en=%q", zh, en)
						}
					}
				}
				if !found {
					t.Fatalf("no error for %s: %s", c.field, r.Body)
				}
			})
		}
		// nothing was registered by the refused requests
		var n int
		if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM operators`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("operators after refusals: %d %v", n, err)
		}

		// individuals need no credit code; 92/93 prefixes suggest the kind
		body := applicant(200, "370686", "张老汉")
		op := body["operator"].(map[string]any)
		op["kind"], op["credit_code"], op["leading_enterprise"] = "individual", "", ""
		anon.Do("POST", "/api/v1/operators", body).Expect(t, 201)
		body = applicant(201, "370686", "栖霞果农合作社")
		body["operator"].(map[string]any)["kind"] = ""
		body["operator"].(map[string]any)["credit_code"] = operator.SampleUSCC("93", "370686", 77)
		if got := anon.Do("POST", "/api/v1/operators", body).Expect(t, 201).Str("operator.kind"); got != "cooperative" {
			t.Fatalf("kind from 93 prefix: %q", got)
		}

		// a credit code already registered: 409 naming the field; the username is not consumed
		dup := applicant(300, "370686", "重复企业")
		anon.Do("POST", "/api/v1/operators", dup).Expect(t, 201)
		dup2 := applicant(300, "371082", "另一家企业")
		dup2["username"] = "another-user"
		dup2["operator"].(map[string]any)["credit_code"] = dup["operator"].(map[string]any)["credit_code"]
		r := anon.Do("POST", "/api/v1/operators", dup2).Expect(t, 409)
		if r.Str("errors.0.field") != "operator.credit_code" || r.Str("detail_zh") == "" {
			t.Fatalf("duplicate: %s", r.Body)
		}
		if _, err := a.Auth.GetUserByName(context.Background(), "another-user"); err == nil {
			t.Fatal("refused registration left an account behind")
		}
		// a taken username: 409
		dup3 := applicant(301, "370686", "第三家")
		dup3["username"] = "applicant300"
		anon.Do("POST", "/api/v1/operators", dup3).Expect(t, 409)
	})
}

// TestUploadAndReviewRefusals covers 413/415 uploads, reviewers outside the
// jurisdiction (404) and approving twice (409).
func TestUploadAndReviewRefusals(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		srv := apptest.Server(t, a)
		reg := apptest.NewClient(t, srv).Do("POST", "/api/v1/operators", applicant(1, "441881", "英德红茶有限公司")).Expect(t, 201)
		id := reg.Str("operator.id")
		op := &apptest.Client{T: t, Base: srv.URL, HTTP: srv.Client(), Token: reg.Str("token")}
		up := "/api/v1/operators/" + id + "/documents"

		big := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 10<<20)...)
		r := op.Upload(up, "licence.pdf", big, map[string]string{"kind": "licence"}).Expect(t, 413)
		if r.Str("detail_zh") == "" {
			t.Fatalf("413 without message: %s", r.Body)
		}
		exact := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 10<<20-9)...)
		op.Upload(up, "licence.pdf", exact, map[string]string{"kind": "licence"}).Expect(t, 201)
		op.Upload(up, "photo.png", []byte("this is just text, named .png"), nil).Expect(t, 415)
		op.Upload(up, "photo.gif", []byte("GIF89a....."), nil).Expect(t, 415)
		if r := op.Upload(up, "empty.pdf", nil, nil).Expect(t, 422); !strings.Contains(string(r.Body), "empty") {
			t.Errorf("an empty file is refused without saying so: %s", r.Body)
		}
		op.Upload(up, "photo.jpg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}, map[string]string{"kind": "id_photo"}).Expect(t, 201)
		op.Upload(up, "x.png", apptest.TinyPNG, map[string]string{"kind": "passport"}).Expect(t, 422)
		// nobody else may upload
		other := apptest.NewClient(t, srv).Do("POST", "/api/v1/operators", applicant(2, "441881", "另一茶厂")).Expect(t, 201)
		oc := &apptest.Client{T: t, Base: srv.URL, HTTP: srv.Client(), Token: other.Str("token")}
		oc.Upload(up, "x.png", apptest.TinyPNG, nil).Expect(t, 404)
		oc.Do("GET", "/api/v1/operators/"+id, nil).Expect(t, 404)

		op.Do("POST", "/api/v1/operators/"+id+"/submit", nil).Expect(t, 200)
		newReviewer(t, a, "rev-yingde", "441881")
		newReviewer(t, a, "rev-gaozhou", "440981")
		newReviewer(t, a, "rev-sichuan", "510000")
		for _, u := range []string{"rev-gaozhou", "rev-sichuan"} {
			c := apptest.NewClient(t, srv).Login(u, "reviewer-pass-1")
			c.Do("POST", "/api/v1/operators/"+id+"/approve", nil).Expect(t, 404)
			c.Do("GET", "/api/v1/operators/"+id, nil).Expect(t, 404)
		}
		rev := apptest.NewClient(t, srv).Login("rev-yingde", "reviewer-pass-1")
		rev.Do("POST", "/api/v1/operators/"+id+"/reject", map[string]string{"reason": " "}).Expect(t, 422)
		code := rev.Do("POST", "/api/v1/operators/"+id+"/approve", nil).Expect(t, 200).Str("operator_code")
		rev.Do("POST", "/api/v1/operators/"+id+"/approve", nil).Expect(t, 409)
		rev.Do("POST", "/api/v1/operators/"+id+"/reject", map[string]string{"reason": "late"}).Expect(t, 409)
		// still exactly one code, and the county sequence advanced once
		var codes, serial int
		if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM operators WHERE code IS NOT NULL`).Scan(&codes); err != nil {
			t.Fatal(err)
		}
		if err := a.DB.QueryRow(context.Background(), `SELECT value FROM code_sequences WHERE name = 'operator:441881'`).Scan(&serial); err != nil {
			t.Fatal(err)
		}
		if codes != 1 || serial != 1 || !strings.HasPrefix(code, "0441881") {
			t.Fatalf("codes %d, serial %d, code %s", codes, serial, code)
		}
	})
}

// TestRejectFixResubmit: a rejected registration is corrected and resubmitted; every decision is kept.
func TestRejectFixResubmit(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		srv := apptest.Server(t, a)
		reg := apptest.NewClient(t, srv).Do("POST", "/api/v1/operators", applicant(1, "510131", "蒲江雀舌茶业")).Expect(t, 201)
		id := reg.Str("operator.id")
		op := &apptest.Client{T: t, Base: srv.URL, HTTP: srv.Client(), Token: reg.Str("token")}
		op.Upload("/api/v1/operators/"+id+"/documents", "l.png", apptest.TinyPNG, map[string]string{"kind": "licence"}).Expect(t, 201)
		op.Do("POST", "/api/v1/operators/"+id+"/submit", nil).Expect(t, 200)
		newReviewer(t, a, "rev-pujiang", "510131")
		rev := apptest.NewClient(t, srv).Login("rev-pujiang", "reviewer-pass-1")
		r := rev.Do("POST", "/api/v1/operators/"+id+"/reject", map[string]string{"reason": "营业执照照片不清晰"}).Expect(t, 200)
		if r.Str("status") != "rejected" || r.Str("status_reason") != "营业执照照片不清晰" {
			t.Fatalf("reject: %s", r.Body)
		}
		if n := len(rev.Do("GET", "/api/v1/reviews", nil).Expect(t, 200).Get("items").([]any)); n != 0 {
			t.Fatalf("rejected still queued: %d", n)
		}
		// the operator sees the reason, fixes (PATCH: fields given replace), uploads and resubmits
		if got := op.Do("GET", "/api/v1/operators/"+id, nil).Expect(t, 200).Str("status_reason"); got != "营业执照照片不清晰" {
			t.Fatalf("reason not shown: %q", got)
		}
		p := op.Do("PATCH", "/api/v1/operators/"+id, map[string]any{"name": "蒲江雀舌茶业有限公司", "address": "蒲江县鹤山街道"}).Expect(t, 200)
		if p.Str("name") != "蒲江雀舌茶业有限公司" || p.Str("address") != "蒲江县鹤山街道" || p.Str("legal_rep") != "王建国" || p.Str("status") != "rejected" {
			t.Fatalf("patch: %s", p.Body)
		}
		bad := op.Do("PATCH", "/api/v1/operators/"+id, map[string]any{"credit_code": "91350100M000100Y44"}).Expect(t, 422)
		if bad.Str("errors.0.field") != "credit_code" {
			t.Fatalf("patch error field: %s", bad.Body)
		}
		op.Upload("/api/v1/operators/"+id+"/documents", "l2.png", apptest.TinyPNG, map[string]string{"kind": "licence"}).Expect(t, 201)
		if s := op.Do("POST", "/api/v1/operators/"+id+"/submit", nil).Expect(t, 200).Str("status"); s != "pending" {
			t.Fatal(s)
		}
		rev.Do("POST", "/api/v1/operators/"+id+"/approve", nil).Expect(t, 200)
		ds := op.Do("GET", "/api/v1/operators/"+id+"/decisions", nil).Expect(t, 200)
		var kinds []string
		for _, d := range ds.Get("items").([]any) {
			kinds = append(kinds, d.(map[string]any)["kind"].(string))
		}
		if strings.Join(kinds, ",") != "submit,reject,submit,approve" || ds.Str("items.1.reason") != "营业执照照片不清晰" || ds.Str("items.1.actor_name") != "rev-pujiang" {
			t.Fatalf("history: %v %s", kinds, ds.Body)
		}
		// identical documents are stored once (content-addressed)
		docs := op.Do("GET", "/api/v1/operators/"+id+"/documents", nil).Expect(t, 200)
		if docs.Str("items.0.sha256") != docs.Str("items.1.sha256") {
			t.Fatal("same content, different hash")
		}
	})
}

func rosterFile(t *testing.T, rows [][]string) []byte {
	t.Helper()
	var tmpl bytes.Buffer
	if err := operator.RosterTemplate(&tmpl); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&tmpl)
	if err != nil {
		t.Fatal(err)
	}
	sheet := f.GetSheetList()[0]
	for i, row := range rows {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+2)
			if err := f.SetCellStr(sheet, cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	var out bytes.Buffer
	if err := f.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestRosterImportReport: a file with bad rows is refused with a
// row-by-row report and nothing imported, unless "import valid rows" is chosen.
func TestRosterImportReport(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		towns, err := a.Regions.Children(ctx, "370686")
		if err != nil || len(towns) < 2 {
			t.Fatalf("townships: %v", err)
		}
		town := towns[0].Code
		if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "town1", Password: "township-pass-1", Role: "township", RegionCode: town}); err != nil {
			t.Fatal(err)
		}
		srv := apptest.Server(t, a)
		c := apptest.NewClient(t, srv).Login("town1", "township-pass-1")

		tmpl := c.Do("GET", "/api/v1/roster/template.xlsx", nil).Expect(t, 200)
		if !bytes.HasPrefix(tmpl.Body, []byte("PK")) {
			t.Fatal("template is not an xlsx")
		}
		rows := [][]string{
			{"", "王家庄苹果园", "家庭农场", "", operator.SampleResidentID("370686", "19700101", 1), "王家庄", "苹果", "王五", "13700000001", "", "否", "是"},
			{"", "坏代码企业", "企业", "91350100M000100Y44", "", "", "苹果", "", "", "省级", "否", "否"},
			{"", "", "合作社", operator.SampleUSCC("93", "370686", 5), "", "", "", "", "", "", "是", "否"},
			{towns[1].Code, "邻镇合作社", "合作社", operator.SampleUSCC("93", "370686", 6), "", "", "苹果", "", "", "", "是", "否"},
			{"", "重复身份证户", "个人", "", operator.SampleResidentID("370686", "19700101", 1), "", "", "", "", "", "", "maybe"},
		}
		file := rosterFile(t, rows)
		r := c.Upload("/api/v1/roster/import", "roster.xlsx", file, nil).Expect(t, 422)
		report, _ := r.Get("report").(map[string]any)
		if report == nil {
			t.Fatalf("no report: %s", r.Body)
		}
		rep := report["rows"].([]any)
		if len(rep) != 5 || fmt.Sprint(report["valid"]) != "1" || fmt.Sprint(report["invalid"]) != "4" || fmt.Sprint(report["imported"]) != "0" {
			t.Fatalf("report: %s", r.Body)
		}
		want := map[int]string{2: "", 3: "credit_code", 4: "name", 5: "region_code", 6: "id_number"}
		for _, x := range rep {
			row := x.(map[string]any)
			n := int(row["row"].(float64))
			if want[n] == "" {
				if row["status"] != "valid" {
					t.Errorf("row %d: %v", n, row)
				}
				continue
			}
			if row["status"] != "error" || !strings.Contains(fmt.Sprint(row["errors"]), want[n]) {
				t.Errorf("row %d should fail on %s: %v", n, want[n], row)
			}
		}
		if !strings.Contains(string(r.Body), "rows[3].credit_code") {
			t.Errorf("field-named errors missing: %s", r.Body)
		}
		if n := len(c.Do("GET", "/api/v1/roster", nil).Expect(t, 200).Get("items").([]any)); n != 0 {
			t.Fatalf("%d entries imported from a refused file", n)
		}
		// import the valid rows only
		ok := c.Upload("/api/v1/roster/import", "roster.xlsx", file, map[string]string{"import_valid": "true"}).Expect(t, 200)
		if ok.Str("imported") != "1" || ok.Str("rows.0.status") != "imported" || ok.Str("rows.1.status") != "skipped" || len(ok.Get("rows").([]any)) != 5 {
			t.Fatalf("import valid: %s", ok.Body)
		}
		list := c.Do("GET", "/api/v1/roster", nil).Expect(t, 200)
		if len(list.Get("items").([]any)) != 1 || list.Str("items.0.name") != "王家庄苹果园" || list.Str("items.0.id_number_masked") == "" ||
			strings.Contains(string(list.Body), rows[0][4]) {
			t.Fatalf("roster: %s", list.Body)
		}
		// the same file again: the row is now a duplicate
		again := c.Upload("/api/v1/roster/import", "roster.xlsx", file, nil).Expect(t, 422)
		if !strings.Contains(string(again.Body), "rows[2].id_number") {
			t.Fatalf("duplicate row not reported: %s", again.Body)
		}
		c.Upload("/api/v1/roster/import", "x.xlsx", []byte("not a spreadsheet"), nil).Expect(t, 415)
	})
}
