package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// TestIntegrationClients: an integration token pushes a batch, a sale and
// the buyer's confirmation for operators of its region (Agtrace-Operator),
// with Idempotency-Key; the refusals (no header, a token without the scope,
// an operator out of the region, a malformed code, a route that takes no
// pushes); a token's rate limit; the call log and the audit log.
func TestIntegrationClients(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		farm, _, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞苹果场", RegionCode: "370686"})
		buyer, _, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞果品合作社", Category: "trader", RegionCode: "370686"})
		far, _, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "高州荔枝园", RegionCode: "440981"})
		sys := auth.System()
		bot, err := a.Auth.CreateUser(ctx, sys, auth.NewUser{Username: "yantai-erp", Password: "bot-pass-2026", Name: "烟台市场系统", Role: string(auth.RoleIntegration), RegionCode: "370600"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Auth.CreateUser(ctx, sys, auth.NewUser{Username: "root", Password: "root-pass-2026", Role: string(auth.RoleAdmin), RegionCode: "000000"}); err != nil {
			t.Fatal(err)
		}
		srv := apptest.Server(t, a)
		admin := apptest.NewClient(t, srv).Login("root", "root-pass-2026")
		token := func(body map[string]any) *apptest.Client {
			r := admin.Do("POST", fmt.Sprintf("/api/v1/users/%d/tokens", bot.ID), body).Expect(t, 201)
			return &apptest.Client{T: t, Base: srv.URL, HTTP: srv.Client(), Token: r.Str("token")}
		}
		push := token(map[string]any{"name": "ERP 推送"})
		readOnly := token(map[string]any{"name": "只读", "scopes": []string{"trace.read", "changes.read"}})
		as := func(op string) map[string]string { return map[string]string{"Agtrace-Operator": op} }
		today := platform.Today(time.Now())
		batch := map[string]any{"product_code": "apple", "quantity": 100, "unit": "kg", "produced_at": today, "origin": "栖霞市蛇窝泊镇"}

		// without the header an integration token does not write
		push.Do("POST", "/api/v1/batches", batch).Expect(t, http.StatusForbidden)
		// a token whose scopes lack integration.push
		readOnly.DoHeader("POST", "/api/v1/batches", batch, as(farm.Code)).Expect(t, http.StatusForbidden)
		// an operator out of the region is not revealed
		push.DoHeader("POST", "/api/v1/batches", batch, as(far.Code)).Expect(t, http.StatusNotFound)
		// a malformed code names the header
		bad := push.DoHeader("POST", "/api/v1/batches", batch, as(farm.Code[:17]+"x")).Expect(t, http.StatusUnprocessableEntity)
		if bad.Str("errors.0.field") != "Agtrace-Operator" {
			t.Fatalf("malformed code: %s", bad.Body)
		}
		// a route that takes no pushes
		if r := push.DoHeader("POST", "/api/v1/markets", map[string]any{"name": "x"}, as(farm.Code)).Expect(t, http.StatusUnprocessableEntity); r.Str("errors.0.code") != "not_pushable" {
			t.Fatalf("not pushable: %s", r.Body)
		}
		// another account's header is refused
		admin.DoHeader("POST", "/api/v1/batches", batch, as(farm.Code)).Expect(t, http.StatusForbidden)

		// the push, and its replay
		key := map[string]string{"Agtrace-Operator": farm.Code, "Idempotency-Key": "erp-batch-0001"}
		first := push.DoHeader("POST", "/api/v1/batches", batch, key).Expect(t, http.StatusCreated)
		code := first.Str("trace_code")
		if code == "" {
			t.Fatalf("no code: %s", first.Body)
		}
		again := push.DoHeader("POST", "/api/v1/batches", batch, key).Expect(t, http.StatusCreated)
		if again.Str("trace_code") != code || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %s %v", again.Body, again.Header)
		}
		// the same key for another operator is another request
		push.DoHeader("POST", "/api/v1/batches", batch, map[string]string{"Agtrace-Operator": buyer.Code, "Idempotency-Key": "erp-batch-0001"}).
			Expect(t, http.StatusUnprocessableEntity)
		var n int
		if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM trace_codes WHERE operator_id = $1`, farm.ID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("batches of the farm: %d %v", n, err)
		}

		// a sale by the farm, confirmed by the buyer — both pushed
		sale := push.DoHeader("POST", "/api/v1/transfers", map[string]any{"from_code": code, "quantity": 40, "buyer_operator_code": buyer.Code},
			as(farm.Code)).Expect(t, http.StatusCreated).Str("trace_code")
		// the seller cannot confirm its own sale, even pushed
		push.DoHeader("POST", "/api/v1/transfers/"+sale+"/confirm", map[string]any{"received_quantity": 40}, as(farm.Code)).Expect(t, http.StatusNotFound)
		push.DoHeader("POST", "/api/v1/transfers/"+sale+"/confirm", map[string]any{"received_quantity": 40}, as(buyer.Code)).Expect(t, http.StatusOK)

		// reads with the token still work (the token's own role)
		if r := push.Do("GET", "/api/v1/trace/"+sale, nil); r.Status != http.StatusOK {
			t.Fatalf("trace read: %d %s", r.Status, r.Body)
		}

		// the audit names the integration account
		audit := admin.Do("GET", "/api/v1/audit?resource_id="+code, nil).Expect(t, 200)
		if !strings.Contains(string(audit.Body), `"batch.create"`) || !strings.Contains(string(audit.Body), `"actor_name":"yantai-erp"`) {
			t.Fatalf("audit of the pushed batch: %s", audit.Body)
		}

		// the call log
		calls := admin.Do("GET", fmt.Sprintf("/api/v1/users/%d/calls?limit=1000", bot.ID), nil).Expect(t, 200)
		items, _ := calls.Get("items").([]any)
		var pushed, refused, replayed int
		for _, it := range items {
			c := it.(map[string]any)
			if c["route"] == "/api/v1/batches" && c["method"] == "POST" {
				switch {
				case c["status"] == float64(201) && c["operator_code"] == farm.Code:
					pushed++
				case c["status"] == float64(403):
					refused++
				}
			}
			if c["route"] == "/api/v1/transfers/{code}/confirm" && c["status"] == float64(200) && c["operator_code"] == buyer.Code {
				replayed++
			}
		}
		if pushed != 2 || refused != 2 || replayed != 1 {
			t.Fatalf("call log: pushed %d, refused %d, confirm %d: %s", pushed, refused, replayed, calls.Body)
		}
		daily := admin.Do("GET", fmt.Sprintf("/api/v1/users/%d/calls/daily", bot.ID), nil).Expect(t, 200)
		if !strings.Contains(string(daily.Body), `"route":"/api/v1/batches"`) || daily.Str("items.0.day") != today {
			t.Fatalf("daily counts: %s", daily.Body)
		}
		// rows of a list
		push.Do("GET", "/api/v1/batches", nil).Expect(t, 200)
		calls = admin.Do("GET", fmt.Sprintf("/api/v1/users/%d/calls?limit=1", bot.ID), nil).Expect(t, 200)
		if calls.Str("items.0.route") != "/api/v1/batches" || calls.Get("items.0.rows") == float64(-1) {
			t.Fatalf("rows of a list: %s", calls.Body)
		}
		// other accounts do not read it
		other := apptest.NewClient(t, srv).Login(apptest.ReviewerFor(t, a, "370686").Username, apptest.OperatorPassword)
		other.Do("GET", fmt.Sprintf("/api/v1/users/%d/calls", bot.ID), nil).Expect(t, http.StatusNotFound)

		// a token's rate: 3 at once, then 429 with Retry-After
		slow := token(map[string]any{"name": "限速", "rate_per_minute": 6, "rate_burst": 3})
		for i := range 3 {
			slow.Do("GET", "/api/v1/me", nil).Expect(t, 200)
			_ = i
		}
		lim := slow.Do("GET", "/api/v1/me", nil).Expect(t, http.StatusTooManyRequests)
		if s, err := strconv.Atoi(lim.Header.Get("Retry-After")); err != nil || s < 1 || s > 10 {
			t.Fatalf("Retry-After %q", lim.Header.Get("Retry-After"))
		}
		// the administrator raises it: the next request passes
		toks := admin.Do("GET", fmt.Sprintf("/api/v1/users/%d/tokens", bot.ID), nil).Expect(t, 200)
		var slowID string
		for _, it := range toks.Get("items").([]any) {
			if m := it.(map[string]any); m["name"] == "限速" {
				slowID = m["id"].(string)
			}
		}
		admin.Do("PUT", "/api/v1/tokens/"+slowID+"/rate", map[string]any{"per_minute": 600000}).Expect(t, 422)
		if r := admin.Do("PUT", "/api/v1/tokens/"+slowID+"/rate", map[string]any{"per_minute": 1200, "burst": 100}).Expect(t, 200); r.Get("rate.per_minute") != float64(1200) {
			t.Fatalf("rate: %s", r.Body)
		}
		slow.Do("GET", "/api/v1/me", nil).Expect(t, 200)
		calls = admin.Do("GET", fmt.Sprintf("/api/v1/users/%d/calls?limit=3", bot.ID), nil).Expect(t, 200)
		if calls.Get("items.1.status") != float64(429) {
			t.Fatalf("the refusal is logged: %s", calls.Body)
		}
	})
}
