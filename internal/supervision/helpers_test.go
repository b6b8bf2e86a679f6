package supervision_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/supervision"
)

const officialPW = "official-pass-2026"

// world is a county (栖霞 370686) with operators, officials and their
// HTTP clients, and a second county (荣成 371082) outside it.
type world struct {
	a          *app.App
	srv        *httptest.Server
	farm, pigs operator.Operator // an apple cooperative, a pig farm (栖霞)
	trader     operator.Operator // a trader (栖霞)
	far        operator.Operator // a trader in 荣成
	farmC      *apptest.Client
	inspector  *apptest.Client // 栖霞
	inspector2 *apptest.Client // 栖霞
	enforcer   *apptest.Client // 栖霞
	supervisor *apptest.Client // 栖霞
	farInsp    *apptest.Client // 荣成
	actors     map[string]*auth.Actor
}

func newWorld(t *testing.T, a *app.App) *world {
	t.Helper()
	w := &world{a: a, srv: apptest.Server(t, a), actors: map[string]*auth.Actor{}}
	var fu, fp string
	w.farm, fu, fp = apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞绿源苹果专业合作社", Kind: "cooperative", Category: "producer",
		RegionCode: "370686", Products: []string{"apple"}})
	w.pigs, _, _ = apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞丰牧生猪养殖场", Kind: "family_farm", Category: "producer",
		RegionCode: "370686", Products: []string{"live_pig"}})
	w.trader, _, _ = apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "烟台鲜果商贸有限公司", Category: "trader", RegionCode: "370686"})
	w.far, _, _ = apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "荣成海鲜贸易有限公司", Category: "trader", RegionCode: "371082"})
	anon := apptest.NewClient(t, w.srv)
	w.farmC = anon.Login(fu, fp)
	w.inspector = w.official(t, "qixia-inspector", auth.RoleInspector, "370686")
	w.inspector2 = w.official(t, "qixia-inspector2", auth.RoleInspector, "370686")
	w.enforcer = w.official(t, "qixia-enforcer", auth.RoleEnforcer, "370686")
	w.supervisor = w.official(t, "qixia-supervisor", auth.RoleSupervisor, "370686")
	w.farInsp = w.official(t, "rongcheng-inspector", auth.RoleInspector, "371082")
	return w
}

// official creates an account and returns its logged-in client.
func (w *world) official(t *testing.T, username string, role auth.Role, region string) *apptest.Client {
	t.Helper()
	u, err := w.a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: username, Password: officialPW,
		Name: username, Role: string(role), RegionCode: region})
	if err != nil {
		t.Fatal(err)
	}
	w.actors[username] = apptest.ActorOf(u)
	return apptest.NewClient(t, w.srv).Login(username, officialPW)
}

// service is a supervision service on the world's database with its own clock.
func (w *world) service(t *testing.T, clk platform.Clock) *supervision.Service {
	return supervision.NewService(w.a.DB, clk, w.a.Operators, w.a.Trace, w.a.Regions, w.a.Calendar, w.a.Signer,
		t.TempDir(), "http://trace.test")
}

// batch records a batch of the farm and returns its code.
func (w *world) batch(t *testing.T, qty float64) string {
	t.Helper()
	r := w.farmC.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": qty, "unit": "kg",
		"produced_at": time.Now().In(platform.ChinaTZ).AddDate(0, 0, -1).Format(time.DateOnly), "origin": "试验基地",
		"attributes": map[string]any{"plot": "1号地块"}}).Expect(t, 201)
	return r.Str("trace_code")
}

func count(t *testing.T, a *app.App, table string) int {
	t.Helper()
	var n int
	if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// counts are the rows of every table a supervision write touches.
func counts(t *testing.T, a *app.App) map[string]int {
	out := map[string]int{}
	for _, tb := range []string{"inspections", "inspection_batches", "inspection_photos", "draws", "draw_tasks", "cases", "case_operators",
		"case_steps", "credit_entries", "findings", "audit_log"} {
		out[tb] = count(t, a, tb)
	}
	return out
}

func sameCounts(t *testing.T, before, after map[string]int) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %d rows before, %d after a refused request", k, v, after[k])
		}
	}
}

func fieldNames(r *apptest.Response) []string {
	var out []string
	errs, _ := r.Get("errors").([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok {
			out = append(out, fmt.Sprint(m["field"]))
		}
	}
	return out
}

func hasField(r *apptest.Response, f string) bool {
	for _, x := range fieldNames(r) {
		if x == f {
			return true
		}
	}
	return false
}

// day is a time at 10:00 in China on date.
func day(date string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, date, platform.ChinaTZ)
	if err != nil {
		panic(err)
	}
	return t.Add(10 * time.Hour)
}
