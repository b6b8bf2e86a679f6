package trace_test

import (
	"context"
	"strconv"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
)

// TestFindingHandling: a quantity mismatch between two counties is taken
// up by 栖霞's supervisor (default due date: 5 working days), closed with a
// note and reopened; 荣成's supervisor (the buyer's county) sees it too;
// an operator, a tester and a supervisor elsewhere cannot handle it; bad
// steps are refused with nothing written.
func TestFindingHandling(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		lot := batch(t, w.farmC, "apple", 500, "kg", daysAgo(3))
		mm := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": lot, "quantity": 100, "buyer_operator_code": w.far.Code}).Expect(t, 201).Str("trace_code")
		w.farC.Do("POST", "/api/v1/transfers/"+mm+"/confirm", map[string]any{"received_quantity": 92.5}).Expect(t, 200)
		list := w.supervisor.Do("GET", "/api/v1/findings?kind=quantity_mismatch&status=open", nil).Expect(t, 200)
		if list.Str("items.0.code") != mm || list.Str("items.0.status") != "open" {
			t.Fatalf("the open mismatch: %s", list.Body)
		}
		id := list.Str("items.0.id")
		path := "/api/v1/findings/" + id + "/actions"

		ctx := context.Background()
		if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "qixia-tester", Password: marketPW, Role: "tester", RegionCode: "370686"}); err != nil {
			t.Fatal(err)
		}
		tester := apptest.NewClient(t, w.srv).Login("qixia-tester", marketPW)
		steps := func() int { return count(t, a, "finding_actions") }
		before := steps()
		w.farmC.Do("POST", path, map[string]any{"action": "start"}).Expect(t, 403)
		tester.Do("POST", path, map[string]any{"action": "start"}).Expect(t, 403)
		if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "yingde-supervisor", Password: marketPW, Role: "supervisor", RegionCode: "441881"}); err != nil {
			t.Fatal(err)
		}
		apptest.NewClient(t, w.srv).Login("yingde-supervisor", marketPW).Do("POST", path, map[string]any{"action": "start"}).Expect(t, 404)
		if r := w.supervisor.Do("POST", path, map[string]any{"action": "close"}).Expect(t, 422); !hasField(r, "note") {
			t.Errorf("refusal does not name note: %s", r.Body)
		}
		if r := w.supervisor.Do("POST", path, map[string]any{"action": "start", "due_on": daysAgo(1)}).Expect(t, 422); !hasField(r, "due_on") {
			t.Errorf("refusal does not name due_on: %s", r.Body)
		}
		if r := w.supervisor.Do("POST", path, map[string]any{"action": "archive"}).Expect(t, 422); !hasField(r, "action") {
			t.Errorf("refusal does not name action: %s", r.Body)
		}
		w.supervisor.Do("POST", "/api/v1/findings/999999/actions", map[string]any{"action": "start"}).Expect(t, 404)
		if n := steps(); n != before {
			t.Fatalf("refused steps wrote %d rows", n-before)
		}

		started := w.supervisor.Do("POST", path, map[string]any{"action": "start"}).Expect(t, 200)
		if started.Str("status") != "in_progress" || started.Str("assignee_name") != "qixia-supervisor" || started.Str("due_on") <= today() {
			t.Fatalf("taken up: %s", started.Body)
		}
		w.supervisor.Do("POST", path, map[string]any{"action": "start"}).Expect(t, 409)
		w.farRegionSupervisor.Do("GET", "/api/v1/findings/"+id, nil).Expect(t, 200) // the buyer's county sees it
		closed := w.farRegionSupervisor.Do("POST", path, map[string]any{"action": "close", "note": "收货方承认途中损耗 7.5 千克，已核实"}).Expect(t, 200)
		if closed.Str("status") != "closed" || closed.Str("note") == "" {
			t.Fatalf("closed: %s", closed.Body)
		}
		w.supervisor.Do("POST", path, map[string]any{"action": "close", "note": "again"}).Expect(t, 409)
		if got := w.supervisor.Do("GET", "/api/v1/findings?kind=quantity_mismatch&status=active", nil).Expect(t, 200); got.Str("items.0.id") == id {
			t.Fatalf("a closed finding is still active: %s", got.Body)
		}
		re := w.supervisor.Do("POST", path, map[string]any{"action": "reopen", "note": "复查发现另有两批同样短少"}).Expect(t, 200)
		if re.Str("status") != "in_progress" {
			t.Fatalf("reopened: %s", re.Body)
		}
		one := w.supervisor.Do("GET", "/api/v1/findings/"+id, nil).Expect(t, 200)
		var actions []string
		for i := 0; ; i++ {
			s := one.Str("steps." + strconv.Itoa(i) + ".action")
			if s == "" {
				break
			}
			actions = append(actions, s)
		}
		if len(actions) != 3 || actions[0] != "start" || actions[1] != "close" || actions[2] != "reopen" {
			t.Fatalf("history %v: %s", actions, one.Body)
		}
		if n := steps(); n != before+3 {
			t.Fatalf("%d history rows, want 3", n-before)
		}
	})
}
