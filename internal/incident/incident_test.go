package incident_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
)

// TestIncidentTracksToResolution: an incident declared by hand on a batch
// takes in its downstream (a sale before the declaration at once, a sale
// after it as soon as it is seen), tasks go to the county officials who
// cover each batch, and the incident resolves — in the write that finishes
// the last thing, not before — only when every affected batch is resolved
// and no task is open. A resolved incident takes no more writes (409).
func TestIncidentTracksToResolution(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		root := w.batch(t, 500)
		atTrader := w.sell(t, w.farmC, root, 200, w.trader, w.traderC)

		inc := w.sup.Do("POST", "/api/v1/incidents", map[string]any{"title": "高州苹果毒死蜱超标", "description": "群众反映食用后不适",
			"batch_codes": []string{root}}).Expect(t, 201)
		id := inc.Str("id")
		if !strings.HasPrefix(inc.Str("number"), "YJ-") || inc.Str("status") != "open" || inc.Str("region_code") != gaozhou {
			t.Fatalf("declared: %s", inc.Body)
		}
		if batchState(inc, root) != "unresolved" || batchState(inc, atTrader) != "unresolved" {
			t.Fatalf("the affected batches are the root and the trader's: %s", inc.Body)
		}
		// the trader sells on to 英德 after the declaration: the page shows it at once
		atFar := w.sell(t, w.traderC, atTrader, 50, w.far, nil)
		got := w.sup.Do("GET", "/api/v1/incidents/"+id, nil).Expect(t, 200)
		if batchState(got, atFar) != "unresolved" {
			t.Fatalf("the sale after the declaration is not among the affected batches: %s", got.Body)
		}
		// 英德 sees the incident once a write has recorded its batch
		w.ydInsp.Do("GET", "/api/v1/incidents/"+id, nil).Expect(t, 404)

		// tasks: 高州 seals its batches; 高州 may not task 英德's batch, the province may
		seal := w.sup.Do("POST", "/api/v1/incidents/"+id+"/tasks", map[string]any{"kind": "seal", "assignee": "gz-inspector", "batch_code": root,
			"due_at": due(), "instructions": "查封冷库中的剩余苹果"}).Expect(t, 201)
		r := w.sup.Do("POST", "/api/v1/incidents/"+id+"/tasks", map[string]any{"kind": "check", "assignee": "yd-inspector", "batch_code": atFar, "due_at": due()})
		if r.Status != 422 || !strings.Contains(fields(r), "batch_code") || !strings.Contains(fields(r), "assignee") {
			t.Fatalf("高州 tasking 英德: %d %s", r.Status, r.Body)
		}
		check := w.gdSup.Do("POST", "/api/v1/incidents/"+id+"/tasks", map[string]any{"kind": "check", "assignee": "yd-inspector", "batch_code": atFar,
			"due_at": due()}).Expect(t, 201)
		report := w.sup.Do("POST", "/api/v1/incidents/"+id+"/tasks", map[string]any{"kind": "report", "assignee": "gz-supervisor", "due_at": due()}).Expect(t, 201)
		list := w.ydInsp.Do("GET", "/api/v1/incidents?mine=true", nil).Expect(t, 200)
		if n, _ := list.Get("items").([]any); len(n) != 1 || list.Str("items.0.my_tasks") != "1" {
			t.Fatalf("英德's inspector's own tasks: %s", list.Body)
		}

		// progress: the seal task is done and destroys the root; the check clears 英德's batch
		status := func(c *apptest.Client, task *apptest.Response, body map[string]any, want int) *apptest.Response {
			t.Helper()
			return c.Do("POST", "/api/v1/tasks/"+task.Str("id")+"/status", body).Expect(t, want)
		}
		status(w.insp, seal, map[string]any{"status": "in_progress"}, 200)
		status(w.insp, seal, map[string]any{"status": "done", "batch_state": "destroyed", "note": "已监督无害化处理 300 kg"}, 200)
		status(w.ydInsp, check, map[string]any{"status": "done", "batch_state": "cleared", "note": "已全部售出，无库存"}, 200)
		// the assignee of another task may not move this one
		status(w.ydInsp, report, map[string]any{"status": "done"}, 403)
		status(w.sup, report, map[string]any{"status": "done", "note": "已上报市局"}, 200)
		mid := w.sup.Do("GET", "/api/v1/incidents/"+id, nil).Expect(t, 200)
		if mid.Str("status") != "open" || mid.Str("resolved") != "2" || mid.Str("open_tasks") != "0" {
			t.Fatalf("one batch is still unresolved, yet: %s", mid.Body)
		}
		// sealed is a step, not an end
		w.sup.Do("POST", "/api/v1/incidents/"+id+"/batches/"+atTrader+"/state", map[string]any{"state": "sealed", "from": "unresolved"}).Expect(t, 200)
		if w.sup.Do("GET", "/api/v1/incidents/"+id, nil).Str("status") != "open" {
			t.Fatal("a sealed batch resolved the incident")
		}
		done := w.sup.Do("POST", "/api/v1/incidents/"+id+"/batches/"+atTrader+"/state", map[string]any{"state": "destroyed", "note": "批发商库存 150 kg 已销毁"}).Expect(t, 200)
		if done.Str("status") != "resolved" || done.Get("resolved_at") == nil || done.Str("resolved") != "3" {
			t.Fatalf("every batch resolved and no task open, yet: %s", done.Body)
		}
		var actions []string
		for _, e := range done.Get("timeline").([]any) {
			actions = append(actions, fmt.Sprint(e.(map[string]any)["action"]))
		}
		want := "incident.declare incident.batches.add incident.task.assign incident.task.assign incident.task.assign incident.task.status incident.task.status incident.batch.state incident.task.status incident.batch.state incident.task.status incident.batch.state incident.batch.state incident.resolve"
		if strings.Join(actions, " ") != want {
			t.Errorf("timeline:\n got %s\nwant %s", strings.Join(actions, " "), want)
		}
		// 英德 now sees it (its batch was recorded), 栖霞 never does
		w.ydInsp.Do("GET", "/api/v1/incidents/"+id, nil).Expect(t, 200)
		w.qxSup.Do("GET", "/api/v1/incidents/"+id, nil).Expect(t, 404)
		// resolved: nothing more
		w.sup.Do("POST", "/api/v1/incidents/"+id+"/tasks", map[string]any{"kind": "check", "assignee": "gz-inspector", "due_at": due()}).Expect(t, 409)
		if n := count(t, a, `SELECT COUNT(*) FROM audit_log WHERE resource_type = 'incident' AND action = 'incident.resolve'`); n != 1 {
			t.Errorf("%d resolve events", n)
		}
	})
}

// TestIncidentRefusals: bad input is 422 naming the field, another
// jurisdiction's incident is 404, a stale status is 409 — and nothing is
// written by any of them.
func TestIncidentRefusals(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		root := w.batch(t, 100)
		id := w.sup.Do("POST", "/api/v1/incidents", map[string]any{"title": "测试事件", "batch_codes": []string{root}}).Expect(t, 201).Str("id")
		task := w.sup.Do("POST", "/api/v1/incidents/"+id+"/tasks", map[string]any{"kind": "check", "assignee": "gz-inspector", "batch_code": root, "due_at": due()}).Expect(t, 201).Str("id")
		// a batch 英德 holds that 高州 never touched (a sale's code is also its seller's county's)
		_, fu, fp := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "英德茶园", RegionCode: yingde, Products: []string{"apple"}})
		farCode := apptest.NewClient(t, w.srv).Login(fu, fp).Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 10, "unit": "kg",
			"produced_at": w.a.Trace.Today(), "origin": "英德"}).Expect(t, 201).Str("trace_code")
		before := rows(t, a)
		for _, tc := range []struct {
			name         string
			c            *apptest.Client
			method, path string
			body         any
			status       int
			field        string
		}{
			{"no title by hand", w.sup, "POST", "/api/v1/incidents", map[string]any{"batch_codes": []string{root}}, 422, "title"},
			{"two-line title", w.sup, "POST", "/api/v1/incidents", map[string]any{"title": "a\nb", "batch_codes": []string{root}}, 422, "title"},
			{"no batch", w.sup, "POST", "/api/v1/incidents", map[string]any{"title": "无批次"}, 422, "batch_codes"},
			{"typo in a code", w.sup, "POST", "/api/v1/incidents", map[string]any{"title": "t", "batch_codes": []string{root[:19] + "0"}}, 422, "batch_codes[0]"},
			{"a batch outside the county", w.sup, "POST", "/api/v1/incidents", map[string]any{"title": "t", "batch_codes": []string{farCode}}, 422, "batch_codes[0]"},
			{"unknown source kind", w.sup, "POST", "/api/v1/incidents", map[string]any{"title": "t", "source": map[string]any{"kind": "rumour"}, "batch_codes": []string{root}}, 422, "source.kind"},
			{"unknown recall", w.sup, "POST", "/api/v1/incidents", map[string]any{"source": map[string]any{"kind": "recall", "id": 999}}, 422, "source.id"},
			{"unknown warning", w.sup, "POST", "/api/v1/incidents", map[string]any{"source": map[string]any{"kind": "warning", "id": 999}, "batch_codes": []string{root}}, 422, "source.id"},
			{"manual with an id", w.sup, "POST", "/api/v1/incidents", map[string]any{"title": "t", "source": map[string]any{"kind": "manual", "id": 3}, "batch_codes": []string{root}}, 422, "source.id"},
			{"recall without id", w.sup, "POST", "/api/v1/incidents", map[string]any{"source": map[string]any{"kind": "recall"}}, 422, "source.id"},
			{"bad region", w.sup, "POST", "/api/v1/incidents", map[string]any{"title": "t", "region": "44098", "batch_codes": []string{root}}, 422, "region"},
			{"unknown product", w.sup, "POST", "/api/v1/incidents", map[string]any{"title": "t", "product_code": "durian", "batch_codes": []string{root}}, 422, "product_code"},
			{"region outside", w.sup, "POST", "/api/v1/incidents", map[string]any{"title": "t", "region": yingde, "batch_codes": []string{root}}, 404, ""},
			{"an inspector declares", w.insp, "POST", "/api/v1/incidents", map[string]any{"title": "t", "batch_codes": []string{root}}, 403, ""},
			{"task kind", w.sup, "POST", "/api/v1/incidents/" + id + "/tasks", map[string]any{"kind": "arrest", "assignee": "gz-inspector", "due_at": due()}, 422, "kind"},
			{"due in the past", w.sup, "POST", "/api/v1/incidents/" + id + "/tasks", map[string]any{"kind": "check", "assignee": "gz-inspector", "due_at": "2020-01-01"}, 422, "due_at"},
			{"due unreadable", w.sup, "POST", "/api/v1/incidents/" + id + "/tasks", map[string]any{"kind": "check", "assignee": "gz-inspector", "due_at": "明天"}, 422, "due_at"},
			{"unknown assignee", w.sup, "POST", "/api/v1/incidents/" + id + "/tasks", map[string]any{"kind": "check", "assignee": "nobody", "due_at": due()}, 422, "assignee"},
			{"an analyst takes no task", w.sup, "POST", "/api/v1/incidents/" + id + "/tasks", map[string]any{"kind": "check", "assignee": "gz-analyst", "due_at": due()}, 422, "assignee"},
			{"a batch not in the incident", w.sup, "POST", "/api/v1/incidents/" + id + "/tasks", map[string]any{"kind": "check", "assignee": "gz-inspector", "batch_code": farCode, "due_at": due()}, 422, "batch_code"},
			{"missing required", w.sup, "POST", "/api/v1/incidents/" + id + "/tasks", map[string]any{"kind": "check"}, 422, "assignee"},
			{"out of order", w.insp, "POST", "/api/v1/tasks/" + task + "/status", map[string]any{"status": "open"}, 422, "status"},
			{"cannot without a reason", w.insp, "POST", "/api/v1/tasks/" + task + "/status", map[string]any{"status": "cannot_complete"}, 422, "note"},
			{"a batch state without done", w.insp, "POST", "/api/v1/tasks/" + task + "/status", map[string]any{"status": "in_progress", "batch_state": "sealed"}, 422, "batch_state"},
			{"destroyed without saying how", w.insp, "POST", "/api/v1/tasks/" + task + "/status", map[string]any{"status": "done", "batch_state": "destroyed"}, 422, "note"},
			{"a stale task status", w.insp, "POST", "/api/v1/tasks/" + task + "/status", map[string]any{"status": "done", "from": "in_progress"}, 409, ""},
			{"a stale batch state", w.sup, "POST", "/api/v1/incidents/" + id + "/batches/" + root + "/state", map[string]any{"state": "sealed", "from": "sealed"}, 409, ""},
			{"back to unresolved", w.sup, "POST", "/api/v1/incidents/" + id + "/batches/" + root + "/state", map[string]any{"state": "unresolved"}, 422, "state"},
			{"a batch not in the incident (state)", w.sup, "POST", "/api/v1/incidents/" + id + "/batches/" + farCode + "/state", map[string]any{"state": "sealed"}, 404, ""},
			{"an analyst records a state", w.analyst, "POST", "/api/v1/incidents/" + id + "/batches/" + root + "/state", map[string]any{"state": "sealed"}, 403, ""},
			{"another province reads", w.qxSup, "GET", "/api/v1/incidents/" + id, nil, 404, ""},
			{"another province's report", w.qxSup, "GET", "/api/v1/incidents/" + id + "/report.pdf", nil, 404, ""},
			{"another province tasks", w.qxSup, "POST", "/api/v1/incidents/" + id + "/tasks", map[string]any{"kind": "check", "assignee": "qx-supervisor", "due_at": due()}, 404, ""},
			{"another province moves a task", w.qxSup, "POST", "/api/v1/tasks/" + task + "/status", map[string]any{"status": "done"}, 404, ""},
			{"another county's official moves a task", w.ydSup, "POST", "/api/v1/tasks/" + task + "/status", map[string]any{"status": "done"}, 404, ""},
			{"the operator reads", w.farmC, "GET", "/api/v1/incidents/" + id, nil, 404, ""},
			{"no such incident", w.sup, "GET", "/api/v1/incidents/99999", nil, 404, ""},
			{"no such task", w.sup, "POST", "/api/v1/tasks/99999/status", map[string]any{"status": "done"}, 404, ""},
		} {
			r := tc.c.Do(tc.method, tc.path, tc.body)
			if r.Status != tc.status {
				t.Errorf("%s: %d, want %d: %s", tc.name, r.Status, tc.status, r.Body)
				continue
			}
			if tc.field != "" && !strings.Contains(","+fields(r)+",", ","+tc.field+",") {
				t.Errorf("%s: fields %q, want %s", tc.name, fields(r), tc.field)
			}
		}
		sameRows(t, "refusals", before, rows(t, a))
		// the list of another province holds nothing of this one
		if l := w.qxSup.Do("GET", "/api/v1/incidents", nil).Expect(t, 200); len(l.Get("items").([]any)) != 0 {
			t.Errorf("栖霞 lists %s", l.Body)
		}
		w.qxSup.Do("GET", "/api/v1/incidents?region="+gaozhou, nil).Expect(t, 404)
		if l := w.gdSup.Do("GET", "/api/v1/incidents?region="+gaozhou+"&status=open", nil).Expect(t, 200); len(l.Get("items").([]any)) != 1 {
			t.Errorf("the province lists %s", l.Body)
		}
	})
}

// TestTaskRace: officials moving one task at once from the status they
// saw: exactly one wins, the others get 409, and one event is written.
func TestTaskRace(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		root := w.batch(t, 100)
		id := w.sup.Do("POST", "/api/v1/incidents", map[string]any{"title": "并发测试", "batch_codes": []string{root}}).Expect(t, 201).Str("id")
		task := w.sup.Do("POST", "/api/v1/incidents/"+id+"/tasks", map[string]any{"kind": "seal", "assignee": "gz-inspector", "batch_code": root, "due_at": due()}).Expect(t, 201).Str("id")
		var wg sync.WaitGroup
		statuses := make([]int, 6)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, body := w.insp, map[string]any{"status": "in_progress", "from": "open"}
				if i%2 == 1 {
					c, body = w.sup, map[string]any{"status": "cannot_complete", "from": "open", "note": fmt.Sprintf("第 %d 次", i)}
				}
				statuses[i] = c.Do("POST", "/api/v1/tasks/"+task+"/status", body).Status
			}()
		}
		wg.Wait()
		ok := 0
		for _, st := range statuses {
			switch st {
			case http.StatusOK:
				ok++
			case http.StatusConflict:
			default:
				t.Errorf("a concurrent status change answered %d", st)
			}
		}
		if n := count(t, a, `SELECT COUNT(*) FROM audit_log WHERE action = 'incident.task.status'`); ok != 1 || n != 1 {
			t.Errorf("%d changes succeeded, %d events (want 1 and 1): %v", ok, n, statuses)
		}
	})
}

// TestDeclareFromRecall: a failed sample's recall is a source: its sampled
// batch is the source batch, the title and county come from it, and a
// second incident from the same recall is 409. The situation report is a
// PDF whose text holds the title and every batch code.
func TestDeclareFromRecall(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		tester := w.official(t, "gz-tester", "tester", gaozhou)
		root := w.batch(t, 300)
		sold := w.sell(t, w.farmC, root, 100, w.trader, w.traderC)
		s := tester.Do("POST", "/api/v1/samples", map[string]any{"operator_code": w.farm.Code, "batch_code": root, "sample_no": "GZ-T-0001",
			"sampled_at": w.a.Trace.Today(), "kind": "lab", "items": []map[string]any{{"substance": "chlorpyrifos", "value": 5, "unit": "mg/kg"}}}).Expect(t, 201)
		recall := s.Str("recall.id")
		if recall == "" {
			t.Fatalf("the sample did not fail: %s", s.Body)
		}
		inc := w.sup.Do("POST", "/api/v1/incidents", map[string]any{"source": map[string]any{"kind": "recall", "id": s.Get("recall.id")}}).Expect(t, 201)
		if !strings.HasPrefix(inc.Str("title"), "召回 ZH-") || inc.Str("source_ref") != s.Str("recall.number") || batchState(inc, sold) != "unresolved" {
			t.Fatalf("from the recall: %s", inc.Body)
		}
		w.gdSup.Do("POST", "/api/v1/incidents", map[string]any{"source": map[string]any{"kind": "recall", "id": s.Get("recall.id")}}).Expect(t, 409)
		var tl []string
		for _, e := range inc.Get("timeline").([]any) {
			tl = append(tl, fmt.Sprint(e.(map[string]any)["action"]))
		}
		if strings.Join(tl, " ") != "recall.open incident.declare" {
			t.Errorf("timeline %v: the recall's opening comes first", tl)
		}

		r := w.insp.Do("GET", "/api/v1/incidents/"+inc.Str("id")+"/report.pdf", nil).Expect(t, 200)
		if ct := r.Header.Get("Content-Type"); ct != "application/pdf" {
			t.Fatalf("content type %s", ct)
		}
		text := pdfText(t, r.Body)
		for _, want := range []string{inc.Str("title"), inc.Str("number"), root, sold, "态势报告"} {
			if !strings.Contains(text, strings.ReplaceAll(want, " ", "")) {
				t.Errorf("report text lacks %q:\n%s", want, text)
			}
		}
	})
}

// pdfText is a PDF's text (poppler's pdftotext) without white space, so
// that codes printed in groups of four read as one.
func pdfText(t *testing.T, doc []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext not installed (apt-get install poppler-utils)")
	}
	in := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(in, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, string(out))
}
