package supervision_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/platform"
	"agtrace/internal/supervision"
)

// TestCaseLifecycle: a case filed from an inspection runs filed →
// investigated → decision (rectify in 5 working days, decided on
// 2026-09-29 so the deadline crosses the National Day holiday and the
// 10 October make-up workday: 2026-10-12) → overdue on 10-13 → follow-up
// confirms the rectification → closed; the credit record goes rectifying
// and back to clean, and a penalty afterwards makes it penalised.
func TestCaseLifecycle(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		ctx := context.Background()
		clk := &platform.FixedClock{T: day("2026-09-21")}
		sv := w.service(t, clk)
		enf := w.actors["qixia-enforcer"]
		insp, err := sv.RecordInspection(ctx, w.actors["qixia-inspector"], supervision.InspectionInput{OperatorCode: w.farm.Code, Kind: "enforcement",
			Result: "violation", Checklist: []supervision.CheckResult{{Item: "records", OK: false, Note: "施药记录与实际不符"}}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := sv.FileCase(ctx, enf, supervision.CaseInput{Source: "inspection", SourceID: insp.Number, OperatorCodes: []string{w.farm.Code},
			Violation: "false_records", Summary: "施药记录虚假", Evidence: []supervision.Evidence{{Kind: "inspection", Ref: insp.Number}, {Kind: "note", Note: "现场照片 3 张"}}})
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != "filed" || c.DueOn != "2026-10-26" || !strings.HasPrefix(c.Number, "AJ-370686-2026-") {
			// 20 working days from 09-21: 09-22…09-30 (6: the Mid-Autumn break is 09-25…27), 10-08…10-26 (14: 10-10 is a make-up workday)
			t.Fatalf("filed: status %s due %s number %s", c.Status, c.DueOn, c.Number)
		}
		step := func(in supervision.StepInput) supervision.Case {
			t.Helper()
			c, err := sv.TakeStep(ctx, enf, c.ID, in)
			if err != nil {
				t.Fatalf("%s: %v", in.Step, err)
			}
			return c
		}
		clk.T = day("2026-09-28")
		step(supervision.StepInput{Step: "investigated", Note: "已询问负责人"})
		clk.T = day("2026-09-29")
		c = step(supervision.StepInput{Step: "decision", Decision: "rectify", RectifyDays: 5, Note: "责令改正"})
		if c.Status != "decided" || c.DueOn != "2026-10-12" || c.Overdue {
			t.Fatalf("decided: status %s due %s overdue %v", c.Status, c.DueOn, c.Overdue)
		}
		if cr := credit(t, sv, w, w.farm.ID); cr.Level != "rectifying" {
			t.Fatalf("credit after a rectification order: %+v", cr)
		}
		clk.T = day("2026-10-12")
		if c, _ = sv.Case(ctx, enf, c.ID); c.Overdue {
			t.Fatal("overdue on its due date")
		}
		clk.T = day("2026-10-13")
		if c, _ = sv.Case(ctx, enf, c.ID); !c.Overdue {
			t.Fatal("not overdue the day after its due date")
		}
		overdue, err := sv.Cases(ctx, w.actors["qixia-supervisor"], supervision.CaseFilter{Overdue: true})
		if err != nil || len(overdue) != 1 || overdue[0].ID != c.ID {
			t.Fatalf("overdue list: %v %+v", err, overdue)
		}
		yes := true
		c = step(supervision.StepInput{Step: "follow_up", Rectified: &yes, Note: "复查已整改"})
		if c.Status != "follow_up" || c.Overdue {
			t.Fatalf("followed up: %+v", c)
		}
		if cr := credit(t, sv, w, w.farm.ID); cr.Level != "warned" { // the inspection's violation (180 days) remains
			t.Fatalf("credit after the rectification is confirmed: %+v", cr)
		}
		c = step(supervision.StepInput{Step: "closed", Note: "整改到位，结案"})
		if c.Status != "closed" || c.DueOn != "" || len(c.Steps) != 5 || len(c.Next) != 0 {
			t.Fatalf("closed: %+v", c)
		}

		p, err := sv.FileCase(ctx, enf, supervision.CaseInput{Source: "manual", OperatorCodes: []string{w.farm.Code}, Violation: "broken_chain", Summary: "未扫码交易"})
		if err != nil {
			t.Fatal(err)
		}
		c = p
		step(supervision.StepInput{Step: "investigated"})
		step(supervision.StepInput{Step: "decision", Decision: "penalty", PenaltyAmount: 5000, LegalBasis: "《中华人民共和国农产品质量安全法》第七十三条"})
		if cr := credit(t, sv, w, w.farm.ID); cr.Level != "penalised" {
			t.Fatalf("credit after a penalty: %+v", cr)
		}
		// a second penalty within two years blacklists
		c, _ = sv.FileCase(ctx, enf, supervision.CaseInput{Source: "manual", OperatorCodes: []string{w.farm.Code}, Violation: "batch_mixing", Summary: "批次混杂"})
		step(supervision.StepInput{Step: "investigated"})
		step(supervision.StepInput{Step: "decision", Decision: "penalty", PenaltyAmount: 8000, LegalBasis: "同上"})
		if cr := credit(t, sv, w, w.farm.ID); cr.Level != "blacklisted" {
			t.Fatalf("credit after a second penalty: %+v", cr)
		}
		for _, doc := range []string{"filing", "penalty"} {
			pdf, _, err := sv.CaseDocumentPDF(ctx, enf, c.ID, doc)
			if err != nil || !strings.HasPrefix(string(pdf), "%PDF-") {
				t.Fatalf("%s document: %v", doc, err)
			}
		}
		if _, _, err := sv.CaseDocumentPDF(ctx, enf, c.ID, "rectify"); platform.KindOf(err) != platform.KindNotFound {
			t.Fatalf("a penalty case has no rectification order: %v", err)
		}
	})
}

// TestCaseDecidedAgain: a rectification the follow-up finds not done sends
// the case back for a new decision; the penalty that follows replaces the
// rectification order on the credit record (no longer rectifying) and is
// not a "repeat" penalty of the same case (penalised, not blacklisted).
func TestCaseDecidedAgain(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		ctx := context.Background()
		sv := w.service(t, &platform.FixedClock{T: day("2026-06-01")})
		enf := w.actors["qixia-enforcer"]
		c, err := sv.FileCase(ctx, enf, supervision.CaseInput{Source: "manual", OperatorCodes: []string{w.pigs.Code}, Violation: "false_records", Summary: "用药记录不全"})
		if err != nil {
			t.Fatal(err)
		}
		no := false
		for _, in := range []supervision.StepInput{{Step: "investigated"},
			{Step: "decision", Decision: "rectify_and_penalty", RectifyDays: 5, PenaltyAmount: 2000, LegalBasis: "第七十三条"},
			{Step: "follow_up", Rectified: &no, Note: "复查仍未整改"}} {
			if c, err = sv.TakeStep(ctx, enf, c.ID, in); err != nil {
				t.Fatalf("%s: %v", in.Step, err)
			}
		}
		if c.Status != "investigated" {
			t.Fatalf("a failed follow-up should send the case back: %s", c.Status)
		}
		if c, err = sv.TakeStep(ctx, enf, c.ID, supervision.StepInput{Step: "decision", Decision: "penalty", PenaltyAmount: 10000, LegalBasis: "第七十三条"}); err != nil {
			t.Fatal(err)
		}
		cr := credit(t, sv, w, w.pigs.ID)
		if cr.Level != "penalised" {
			t.Fatalf("credit after deciding again: %+v", cr)
		}
		for _, e := range cr.Entries {
			if e.Level == "rectifying" && e.InForce {
				t.Fatalf("the replaced rectification order is still in force: %+v", e)
			}
		}
		yes := true
		if _, err := sv.TakeStep(ctx, enf, c.ID, supervision.StepInput{Step: "investigated", Rectified: &yes}); platform.KindOf(err) != platform.KindInvalid {
			t.Fatalf("rectified on another step: %v", err)
		}
	})
}

func credit(t *testing.T, sv *supervision.Service, w *world, id int64) supervision.Credit {
	t.Helper()
	c, err := sv.Credit(context.Background(), w.actors["qixia-supervisor"], id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCaseBadInput: steps out of order, a rectification without its
// deadline, a penalty without legal basis or amount, cases of operators
// out of reach — 422 (or 403/404) naming the field, nothing written.
func TestCaseBadInput(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		before := counts(t, a)
		files := []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"source": "manual", "operator_codes": []string{w.farm.Code}, "violation": "theft", "summary": "x"}, "violation"},
			{map[string]any{"source": "manual", "operator_codes": []string{}, "violation": "other", "summary": "x"}, "operator_codes"},
			{map[string]any{"source": "manual", "operator_codes": []string{w.far.Code}, "violation": "other", "summary": "x"}, "operator_codes[0]"},
			{map[string]any{"source": "inspection", "source_id": "XC-1", "operator_codes": []string{w.farm.Code}, "violation": "other", "summary": "x"}, "source_id"},
			{map[string]any{"source": "finding", "operator_codes": []string{w.farm.Code}, "violation": "other", "summary": "x"}, "source_id"},
			{map[string]any{"source": "manual", "operator_codes": []string{w.farm.Code}, "violation": "other", "summary": "x",
				"evidence": []map[string]any{{"kind": "batch", "ref": "nope"}}}, "evidence[0].ref"},
		}
		for _, f := range files {
			if r := w.enforcer.Do("POST", "/api/v1/cases", f.body).Expect(t, 422); !hasField(r, f.field) {
				t.Errorf("%v: refusal does not name %s: %s", f.body, f.field, r.Body)
			}
		}
		w.inspector.Do("POST", "/api/v1/cases", files[0].body).Expect(t, 403)
		sameCounts(t, before, counts(t, a))

		id := w.enforcer.Do("POST", "/api/v1/cases", map[string]any{"source": "manual", "operator_codes": []string{w.farm.Code},
			"violation": "other", "summary": "未按规定出具合格证"}).Expect(t, 201).Str("id")
		path := "/api/v1/cases/" + id + "/steps"
		before = counts(t, a)
		steps := []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"step": "closed", "note": "结案"}, "step"},
			{map[string]any{"step": "decision", "decision": "rectify", "rectify_days": 5}, "step"},
			{map[string]any{"step": "follow_up", "rectified": true}, "step"},
			{map[string]any{"step": "archive"}, "step"},
			{map[string]any{"step": "investigated", "decision": "penalty"}, "decision"},
		}
		for _, s := range steps {
			if r := w.enforcer.Do("POST", path, s.body).Expect(t, 422); !hasField(r, s.field) {
				t.Errorf("%v: refusal does not name %s: %s", s.body, s.field, r.Body)
			}
		}
		sameCounts(t, before, counts(t, a))
		w.enforcer.Do("POST", path, map[string]any{"step": "investigated"}).Expect(t, 200)
		before = counts(t, a)
		decisions := []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"step": "decision", "decision": "rectify"}, "rectify_days"},
			{map[string]any{"step": "decision", "decision": "penalty", "penalty_amount": 500}, "legal_basis"},
			{map[string]any{"step": "decision", "decision": "penalty", "legal_basis": "第七十三条"}, "penalty_amount"},
			{map[string]any{"step": "decision", "decision": "rectify_and_penalty", "rectify_days": 5, "penalty_amount": -1, "legal_basis": "x"}, "penalty_amount"},
			{map[string]any{"step": "decision", "decision": "no_violation", "rectify_days": 5}, "rectify_days"},
			{map[string]any{"step": "decision", "decision": "forgive"}, "decision"},
			{map[string]any{"step": "closed"}, "note"},
		}
		for _, d := range decisions {
			if r := w.enforcer.Do("POST", path, d.body).Expect(t, 422); !hasField(r, d.field) {
				t.Errorf("%v: refusal does not name %s: %s", d.body, d.field, r.Body)
			}
		}
		w.farInsp.Do("POST", path, map[string]any{"step": "decision", "decision": "no_violation"}).Expect(t, 403)
		sameCounts(t, before, counts(t, a))
		r := w.enforcer.Do("POST", path, map[string]any{"step": "decision", "decision": "no_violation", "note": "证据不足"}).Expect(t, 200)
		if r.Str("status") != "decided" || fmt.Sprint(r.Get("next")) != "[closed]" {
			t.Fatalf("no violation: %s", r.Body)
		}
		w.enforcer.Do("POST", path, map[string]any{"step": "closed", "note": "不予处罚"}).Expect(t, 200)
		if c := w.farmC.Do("GET", fmt.Sprintf("/api/v1/operators/%d/credit", w.farm.ID), nil).Expect(t, 200); c.Str("level") != "clean" {
			t.Fatalf("no violation changed the credit: %s", c.Body)
		}
	})
}
