package incident_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

const officialPW = "official-pass-2026"

// Counties of the world: 高州 (where the incident starts), 英德 (another
// county of the same province, where goods are sold on) and 栖霞 (another
// province, outside every Guangdong official's reach).
const (
	gaozhou = "440981"
	yingde  = "441881"
	qixia   = "370686"
)

// world is a chain of operators and the officials who command it.
type world struct {
	a                 *app.App
	srv               *httptest.Server
	farm, trader, far operator.Operator // a farm and a trader in 高州; a trader in 英德
	farmC, traderC    *apptest.Client
	sup, insp         *apptest.Client // 高州's supervisor (commands) and inspector (takes tasks)
	gdSup             *apptest.Client // the province's supervisor
	ydInsp, ydSup     *apptest.Client // 英德's inspector and supervisor
	qxSup             *apptest.Client // 栖霞 (Shandong): outside
	analyst           *apptest.Client // 高州's analyst: reads, takes no task
}

func newWorld(t *testing.T, a *app.App) *world {
	t.Helper()
	w := &world{a: a, srv: apptest.Server(t, a)}
	var fu, fp, tu, tp string
	w.farm, fu, fp = apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "高州丰收果园", RegionCode: gaozhou, Products: []string{"apple"}})
	w.trader, tu, tp = apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "高州鲜果批发有限公司", Category: "trader", RegionCode: gaozhou})
	w.far, _, _ = apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "英德城南果品店", Category: "trader", RegionCode: yingde})
	anon := apptest.NewClient(t, w.srv)
	w.farmC, w.traderC = anon.Login(fu, fp), anon.Login(tu, tp)
	w.sup = w.official(t, "gz-supervisor", auth.RoleSupervisor, gaozhou)
	w.insp = w.official(t, "gz-inspector", auth.RoleInspector, gaozhou)
	w.gdSup = w.official(t, "gd-supervisor", auth.RoleSupervisor, "440000")
	w.ydInsp = w.official(t, "yd-inspector", auth.RoleInspector, yingde)
	w.ydSup = w.official(t, "yd-supervisor", auth.RoleSupervisor, yingde)
	w.qxSup = w.official(t, "qx-supervisor", auth.RoleSupervisor, qixia)
	w.analyst = w.official(t, "gz-analyst", auth.RoleAnalyst, gaozhou)
	return w
}

// official creates an account and returns its logged-in client.
func (w *world) official(t *testing.T, username string, role auth.Role, region string) *apptest.Client {
	t.Helper()
	if _, err := w.a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: username, Password: officialPW,
		Name: username + "（姓名）", Role: string(role), RegionCode: region}); err != nil {
		t.Fatal(err)
	}
	return apptest.NewClient(t, w.srv).Login(username, officialPW)
}

// batch records a batch of apples at the farm and returns its code.
func (w *world) batch(t *testing.T, qty float64) string {
	t.Helper()
	return w.farmC.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": qty, "unit": "kg",
		"produced_at": platform.Today(time.Now().AddDate(0, 0, -2)), "origin": "丰收果园 3 号地块"}).Expect(t, 201).Str("trace_code")
}

// sell sells qty of code from c to buyer, confirmed, and returns the
// buyer's circulation code.
func (w *world) sell(t *testing.T, c *apptest.Client, code string, qty float64, buyer operator.Operator, buyerC *apptest.Client) string {
	t.Helper()
	out := c.Do("POST", "/api/v1/transfers", map[string]any{"from_code": code, "quantity": qty, "buyer_operator_code": buyer.Code}).Expect(t, 201).Str("trace_code")
	if buyerC != nil {
		buyerC.Do("POST", "/api/v1/transfers/"+out+"/confirm", map[string]any{"received_quantity": qty}).Expect(t, 200)
	}
	return out
}

// due is a due time a day ahead, as the API takes it.
func due() string { return time.Now().Add(24 * time.Hour).Format(time.RFC3339) }

func count(t *testing.T, a *app.App, q string, args ...any) int {
	t.Helper()
	var n int
	if err := a.DB.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// rows counts the rows of every table an incident write touches.
func rows(t *testing.T, a *app.App) map[string]int {
	out := map[string]int{}
	for _, tb := range []string{"incidents", "incident_batches", "incident_tasks", "audit_log", "outbox"} {
		out[tb] = count(t, a, `SELECT COUNT(*) FROM `+tb)
	}
	return out
}

func sameRows(t *testing.T, what string, before, after map[string]int) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %s has %d rows before, %d after a refused request", what, k, v, after[k])
		}
	}
}

// fields are the field names a refusal names.
func fields(r *apptest.Response) string {
	var out []string
	list, _ := r.Get("errors").([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, fmt.Sprint(m["field"]))
		}
	}
	return strings.Join(out, ",")
}

// batchState is the state of code in an incident answer ("" when absent).
func batchState(r *apptest.Response, code string) string {
	list, _ := r.Get("batches").([]any)
	for _, b := range list {
		if m, ok := b.(map[string]any); ok && m["code"] == code {
			return fmt.Sprint(m["state"])
		}
	}
	return ""
}
