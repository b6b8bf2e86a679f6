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
	"agtrace/internal/codes"
	"agtrace/internal/operator"
)

// TestChangesAndStatus: change requests keep the approved details in force
// until approved; suspension, reinstatement and cancellation need a reason.
func TestChangesAndStatus(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		o, user, pw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "高州生猪养殖场", Kind: "enterprise", Category: "producer", RegionCode: "440981"})
		srv := apptest.Server(t, a)
		op := apptest.NewClient(t, srv).Login(user, pw)
		rev := apptest.NewClient(t, srv).Login("reviewer-440981", apptest.OperatorPassword)
		id := fmt.Sprint(o.ID)

		// approved operators cannot PATCH; they request a change
		op.Do("PATCH", "/api/v1/operators/"+id, map[string]any{"address": "新地址"}).Expect(t, 409)
		r := op.Do("POST", "/api/v1/operators/"+id+"/changes", map[string]any{"address": "高州市石鼓镇 8 号", "phone": "13600001111"}).Expect(t, 201)
		diff := fmt.Sprint(r.Get("diff"))
		if !strings.Contains(diff, "高州市石鼓镇 8 号") || !strings.Contains(diff, "136****1111") || strings.Contains(diff, "13600001111") {
			t.Fatalf("diff: %s", r.Body)
		}
		changeID := r.Str("id")
		// the approved details stay in force
		if got := op.Do("GET", "/api/v1/operators/"+id, nil).Expect(t, 200).Str("address"); got != "测试地址" {
			t.Fatalf("address changed before approval: %q", got)
		}
		op.Do("POST", "/api/v1/operators/"+id+"/changes", map[string]any{"address": "又一个地址"}).Expect(t, 409)
		op.Do("POST", "/api/v1/operators/"+id+"/changes", map[string]any{"credit_code": operator.SampleUSCC("91", "440981", 1)}).Expect(t, 422)
		q := rev.Do("GET", "/api/v1/reviews", nil).Expect(t, 200)
		if q.Str("items.0.kind") != "change" || q.Str("items.0.change_id") != changeID {
			t.Fatalf("queue: %s", q.Body)
		}
		ch := rev.Do("GET", "/api/v1/operators/"+id+"/changes", nil).Expect(t, 200)
		if ch.Str("items.0.status") != "pending" || ch.Str("items.0.diff.0.field") != "phone" && ch.Str("items.0.diff.0.field") != "address" {
			t.Fatalf("changes: %s", ch.Body)
		}
		ap := rev.Do("POST", "/api/v1/changes/"+changeID+"/approve", nil).Expect(t, 200)
		if ap.Str("address") != "高州市石鼓镇 8 号" || ap.Str("phone_masked") != "136****1111" || ap.Str("operator_code") != o.Code {
			t.Fatalf("after change: %s", ap.Body)
		}
		rev.Do("POST", "/api/v1/changes/"+changeID+"/approve", nil).Expect(t, 409)
		c2 := op.Do("POST", "/api/v1/operators/"+id+"/changes", map[string]any{"name": "高州生猪养殖有限公司"}).Expect(t, 201).Str("id")
		rev.Do("POST", "/api/v1/changes/"+c2+"/reject", map[string]string{"reason": ""}).Expect(t, 422)
		rev.Do("POST", "/api/v1/changes/"+c2+"/reject", map[string]string{"reason": "缺少更名证明"}).Expect(t, 200)
		if got := op.Do("GET", "/api/v1/operators/"+id, nil).Expect(t, 200).Str("name"); got != "高州生猪养殖场" {
			t.Fatalf("rejected change applied: %q", got)
		}

		// suspension and cancellation by the county, with a reason
		other := apptest.ReviewerFor(t, a, "510722")
		oc := apptest.NewClient(t, srv).Login(other.Username, apptest.OperatorPassword)
		oc.Do("POST", "/api/v1/operators/"+id+"/suspend", map[string]string{"reason": "x"}).Expect(t, 404)
		op.Do("POST", "/api/v1/operators/"+id+"/suspend", map[string]string{"reason": "x"}).Expect(t, 403)
		rev.Do("POST", "/api/v1/operators/"+id+"/suspend", map[string]string{}).Expect(t, 422)
		s := rev.Do("POST", "/api/v1/operators/"+id+"/suspend", map[string]string{"reason": "抽检不合格，限期整改"}).Expect(t, 200)
		if s.Str("status") != "suspended" || s.Str("status_reason") != "抽检不合格，限期整改" {
			t.Fatalf("suspend: %s", s.Body)
		}
		got, err := a.Operators.ByID(context.Background(), o.ID)
		if err != nil || got.Active() {
			t.Fatal("a suspended operator must not be active for trace actions")
		}
		rev.Do("POST", "/api/v1/operators/"+id+"/suspend", map[string]string{"reason": "again"}).Expect(t, 409)
		if rev.Do("POST", "/api/v1/operators/"+id+"/reinstate", map[string]string{"reason": "已整改"}).Expect(t, 200).Str("status") != "approved" {
			t.Fatal("reinstate")
		}
		if rev.Do("POST", "/api/v1/operators/"+id+"/cancel", map[string]string{"reason": "停业"}).Expect(t, 200).Str("status") != "cancelled" {
			t.Fatal("cancel")
		}
		pub := apptest.NewClient(t, srv).Do("GET", "/api/v1/public/operators/"+o.Code, nil).Expect(t, 200)
		if pub.Str("status") != "cancelled" {
			t.Fatalf("public status: %s", pub.Body)
		}
		ds, _ := a.Operators.Decisions(context.Background(), apptest.ActorOf(other), o.ID)
		if ds != nil {
			t.Fatal("decisions readable outside jurisdiction")
		}
	})
}

// TestStaffAccounts: the main account creates staff with permissions and can disable them.
func TestStaffAccounts(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		o, user, pw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "三台乳业", Kind: "enterprise", Category: "producer_trader", RegionCode: "510722"})
		srv := apptest.Server(t, a)
		op := apptest.NewClient(t, srv).Login(user, pw)
		id := fmt.Sprint(o.ID)
		r := op.Do("POST", "/api/v1/operators/"+id+"/staff", map[string]any{"username": "santai-clerk", "password": "clerk-pass-01", "name": "开票员", "permissions": []string{"sell", "print"}}).Expect(t, 201)
		if r.Str("role") != "staff" || r.Str("operator_id") != id || fmt.Sprint(r.Get("permissions")) != "[sell print]" {
			t.Fatalf("staff: %s", r.Body)
		}
		uid := r.Str("id")
		op.Do("POST", "/api/v1/operators/"+id+"/staff", map[string]any{"username": "bad", "password": "clerk-pass-01", "permissions": []string{"approve"}}).Expect(t, 422)
		staff := apptest.NewClient(t, srv).Login("santai-clerk", "clerk-pass-01")
		staff.Do("GET", "/api/v1/operators/"+id, nil).Expect(t, 200)
		staff.Do("POST", "/api/v1/operators/"+id+"/staff", map[string]any{"username": "x-clerk", "password": "clerk-pass-01"}).Expect(t, 403)
		staff.Do("POST", "/api/v1/operators/"+id+"/changes", map[string]any{"address": "x"}).Expect(t, 403)
		actor, err := a.Auth.Authenticate(context.Background(), staff.Token)
		if err != nil || actor.OperatorID != o.ID || !actor.Can(auth.ActTransferSell) || actor.Can(auth.ActBatchWrite) {
			t.Fatalf("staff actor: %+v %v", actor, err)
		}
		list := op.Do("GET", "/api/v1/operators/"+id+"/staff", nil).Expect(t, 200)
		if len(list.Get("items").([]any)) != 1 {
			t.Fatalf("staff list: %s", list.Body)
		}
		// another operator cannot touch them
		_, u2, p2 := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "另一家", RegionCode: "510722"})
		apptest.NewClient(t, srv).Login(u2, p2).Do("POST", "/api/v1/operators/"+id+"/staff/"+uid+"/status", map[string]string{"status": "disabled"}).Expect(t, 404)
		op.Do("POST", "/api/v1/operators/"+id+"/staff/"+uid+"/status", map[string]string{"status": "disabled"}).Expect(t, 204)
		staff.Do("GET", "/api/v1/operators/"+id, nil).Expect(t, 401)
		if r := apptest.NewClient(t, srv).Do("POST", "/api/v1/session", map[string]string{"username": "santai-clerk", "password": "clerk-pass-01"}); r.Status != 403 {
			t.Fatalf("disabled staff login: %d", r.Status)
		}
	})
}

// TestAgreements: issue from the versioned template, sign (SM3 + SM2 + time), PDF, who has not signed.
func TestAgreements(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		o, user, pw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "蒲江县茶叶专业合作社", Kind: "cooperative", Category: "producer", RegionCode: "510131"})
		o2, _, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "蒲江茶厂", Kind: "enterprise", Category: "producer_trader", RegionCode: "510131"})
		srv := apptest.Server(t, a)
		op := apptest.NewClient(t, srv).Login(user, pw)
		rev := apptest.NewClient(t, srv).Login("reviewer-510131", apptest.OperatorPassword)
		id := fmt.Sprint(o.ID)

		un := rev.Do("GET", "/api/v1/agreements/unsigned", nil).Expect(t, 200)
		if len(un.Get("items").([]any)) != 2 {
			t.Fatalf("unsigned before issuing: %s", un.Body)
		}
		op.Do("POST", "/api/v1/operators/"+id+"/agreements", nil).Expect(t, 403)
		ag := rev.Do("POST", "/api/v1/operators/"+id+"/agreements", nil).Expect(t, 201)
		if ag.Str("status") != "issued" || ag.Str("version") != operator.DefaultTemplateVersion || !strings.Contains(ag.Str("body"), "真实性承诺") ||
			!strings.Contains(ag.Str("body"), "信息采集") || !strings.Contains(ag.Str("body"), "信息传输") || !strings.Contains(ag.Str("body"), "扫码交易") {
			t.Fatalf("issue: %s", ag.Body)
		}
		agID := ag.Str("id")
		rev.Do("POST", "/api/v1/operators/"+id+"/agreements", nil).Expect(t, 409)
		rev.Do("POST", "/api/v1/agreements/"+agID+"/sign", nil).Expect(t, 403)
		_, u3, p3 := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "别家", RegionCode: "510131"})
		apptest.NewClient(t, srv).Login(u3, p3).Do("GET", "/api/v1/agreements/"+agID, nil).Expect(t, 404)

		sg := op.Do("POST", "/api/v1/agreements/"+agID+"/sign", nil).Expect(t, 200)
		if sg.Str("status") != "signed" || sg.Str("signed_at") == "" || sg.Str("signature") == "" || len(sg.Str("text_sm3")) != 64 || sg.Str("signed_by") != user {
			t.Fatalf("sign: %s", sg.Body)
		}
		op.Do("POST", "/api/v1/agreements/"+agID+"/sign", nil).Expect(t, 409)
		got, err := a.Operators.GetAgreement(context.Background(), apptest.ActorOf(apptest.ReviewerFor(t, a, "510131")), mustInt(agID))
		if err != nil || !a.Operators.VerifyAgreement(got) {
			t.Fatalf("signature does not verify: %v", err)
		}
		tampered := got
		tampered.Body += "。"
		if a.Operators.VerifyAgreement(tampered) {
			t.Fatal("tampered text verifies")
		}
		pdf := op.Do("GET", "/api/v1/agreements/"+agID+"/pdf", nil).Expect(t, 200)
		if !bytes.HasPrefix(pdf.Body, []byte("%PDF-")) {
			t.Fatal("agreement PDF")
		}
		un = rev.Do("GET", "/api/v1/agreements/unsigned", nil).Expect(t, 200)
		var ids []string
		for _, x := range un.Get("items").([]any) {
			ids = append(ids, fmt.Sprint(x.(map[string]any)["operator_id"]))
		}
		if strings.Contains(strings.Join(ids, ","), id+",") || len(ids) != 2 || !strings.Contains(strings.Join(ids, ","), fmt.Sprint(o2.ID)) {
			t.Fatalf("unsigned after signing: %v", ids)
		}
		if n := len(op.Do("GET", "/api/v1/agreements", nil).Expect(t, 200).Get("items").([]any)); n != 1 {
			t.Fatalf("operator sees %d agreements", n)
		}
		// a new county template version applies to later agreements
		tpl := rev.Do("POST", "/api/v1/agreement-templates", map[string]string{"version": "2027.1", "body": "第一条 信息采集、信息传输、扫码交易。\n第二条 真实性承诺：信息真实。"}).Expect(t, 201)
		if tpl.Str("region_code") != "510131" {
			t.Fatalf("template: %s", tpl.Body)
		}
		rev.Do("POST", "/api/v1/agreement-templates", map[string]string{"version": "2027.2", "body": "没有承诺的文本"}).Expect(t, 422)
		if v := rev.Do("POST", fmt.Sprintf("/api/v1/operators/%d/agreements", o2.ID), nil).Expect(t, 201).Str("version"); v != "2027.1" {
			t.Fatalf("template version used: %s", v)
		}
	})
}

// TestTemporaryAndList covers temporary codes and officials' search and export.
func TestTemporaryAndList(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		market, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "market1", Password: "market-pass-1", Role: "market", RegionCode: "440981"})
		if err != nil {
			t.Fatal(err)
		}
		tmp, err := a.Operators.CreateTemporary(ctx, apptest.ActorOf(market), operator.TemporaryInput{Name: "李阿婆", RegionCode: "440981", Phone: "13500000000", Products: "生猪、土鸡"})
		if err != nil {
			t.Fatal(err)
		}
		oc, err := codes.ParseOperatorCode(tmp.Code)
		if err != nil || oc.Category != codes.Temporary || oc.County != "440981" || tmp.Status != "temporary" || !tmp.Active() || len(tmp.Products) != 2 {
			t.Fatalf("temporary: %+v %v", tmp, err)
		}
		again, _ := a.Operators.CreateTemporary(ctx, apptest.ActorOf(market), operator.TemporaryInput{Name: "李阿婆", RegionCode: "440981", Phone: "135 0000 0000"})
		if again.ID != tmp.ID {
			t.Fatal("same smallholder got a second temporary code")
		}
		if _, err := a.Operators.CreateTemporary(ctx, apptest.ActorOf(market), operator.TemporaryInput{Name: "外县", RegionCode: "441881"}); err == nil {
			t.Fatal("temporary operator outside jurisdiction")
		}
		if _, err := a.Operators.CreateTemporary(ctx, &auth.Actor{UserID: 1, Role: auth.RoleReviewer, Region: "440981"}, operator.TemporaryInput{Name: "x", RegionCode: "440981"}); err == nil {
			t.Fatal("reviewer may not create temporary operators")
		}
		byCode, err := a.Operators.ByCode(ctx, codes.FormatGrouped(tmp.Code))
		if err != nil || byCode.ID != tmp.ID {
			t.Fatalf("ByCode grouped: %v", err)
		}
		if _, err := a.Operators.ByCode(ctx, "037010200000000018"); err == nil || !strings.Contains(err.Error(), "operator_code") {
			t.Fatalf("ByCode bad check digit: %v", err)
		}
		if _, err := a.Operators.ByCode(ctx, "037010200000000017"); err == nil || !strings.Contains(err.Error(), "no operator") {
			t.Fatalf("ByCode unknown: %v", err)
		}

		apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "高州市生猪定点屠宰厂", Kind: "slaughterhouse", Category: "producer_trader", RegionCode: "440981"})
		apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "英德红茶厂", RegionCode: "441881"})
		srv := apptest.Server(t, a)
		rev := apptest.NewClient(t, srv).Login("reviewer-440981", apptest.OperatorPassword)
		l := rev.Do("GET", "/api/v1/operators", nil).Expect(t, 200)
		if n := len(l.Get("items").([]any)); n != 2 {
			t.Fatalf("reviewer sees %d operators: %s", n, l.Body)
		}
		if l := rev.Do("GET", "/api/v1/operators?q=屠宰&kind=slaughterhouse&status=approved", nil).Expect(t, 200); len(l.Get("items").([]any)) != 1 {
			t.Fatalf("filter: %s", l.Body)
		}
		if l := rev.Do("GET", "/api/v1/operators?product=土鸡", nil).Expect(t, 200); l.Str("items.0.name") != "李阿婆" {
			t.Fatalf("product filter: %s", l.Body)
		}
		rev.Do("GET", "/api/v1/operators?region=441881", nil).Expect(t, 404)
		x := rev.Do("GET", "/api/v1/operators/export.xlsx?status=approved", nil).Expect(t, 200)
		f, err := excelize.OpenReader(bytes.NewReader(x.Body))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := f.GetRows(f.GetSheetList()[0])
		if len(rows) != 2 || rows[1][1] != "高州市生猪定点屠宰厂" || !codes.ValidOperatorCode(rows[1][0]) {
			t.Fatalf("export rows: %v", rows)
		}
		for _, row := range rows {
			for _, cell := range row {
				if strings.Contains(cell, "13800000000") {
					t.Fatal("export contains a clear phone number")
				}
			}
		}
	})
}

// TestConcurrentApproval: reviewers approving the same registration at once
// issue exactly one code; every other request is a 409.
func TestConcurrentApproval(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		reg, user, err := a.Operators.Register(ctx, operator.Registration{Username: "race-op", Password: "race-pass-2026", Operator: operator.Details{
			Name: "并发测试农场", Kind: "family_farm", Category: "producer", CreditCode: operator.SampleUSCC("91", "510722", 99),
			IDNumber: operator.SampleResidentID("510722", "19800101", 9), LegalRep: "甲", Phone: "13700000009", RegionCode: "510722"}})
		if err != nil {
			t.Fatal(err)
		}
		self := apptest.ActorOf(user)
		if _, err := a.Operators.AddDocument(ctx, self, reg.ID, "licence", "l.png", bytes.NewReader(apptest.TinyPNG)); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Operators.Submit(ctx, self, reg.ID); err != nil {
			t.Fatal(err)
		}
		rev := apptest.ActorOf(apptest.ReviewerFor(t, a, "510722"))
		const n = 6
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := a.Operators.Approve(ctx, rev, reg.ID)
				errs <- err
			}()
		}
		ok, conflicts := 0, 0
		for range n {
			switch err := <-errs; {
			case err == nil:
				ok++
			case strings.Contains(err.Error(), "already approved") || strings.Contains(err.Error(), "meanwhile"):
				conflicts++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		var serial int
		if err := a.DB.QueryRow(ctx, `SELECT value FROM code_sequences WHERE name = 'operator:510722'`).Scan(&serial); err != nil {
			t.Fatal(err)
		}
		ds, _ := a.Operators.Decisions(ctx, rev, reg.ID)
		if ok != 1 || conflicts != n-1 || serial != 1 || len(ds) != 2 {
			t.Fatalf("ok %d, conflicts %d, serial %d, decisions %d", ok, conflicts, serial, len(ds))
		}
	})
}
