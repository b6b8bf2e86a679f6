package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
)

const pw = "test-pass-2026"

func seedUsers(t *testing.T, a *app.App) {
	t.Helper()
	ctx := context.Background()
	for _, u := range []auth.NewUser{
		{Username: "admin", Role: "admin", RegionCode: "000000"},
		{Username: "qixia-reviewer", Role: "reviewer", RegionCode: "370686", Name: "栖霞审核员"},
		{Username: "bot", Role: "integration", RegionCode: "370686"},
	} {
		u.Password = pw
		if _, err := a.Auth.CreateUser(ctx, auth.System(), u); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFoundationAPI is the end-to-end check: login, /me, regions,
// calendar — on SQLite, and on PostgreSQL when AGTRACE_TEST_POSTGRES is set.
func TestFoundationAPI(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		seedUsers(t, a)
		srv := apptest.Server(t, a)
		anon := apptest.NewClient(t, srv)

		// health
		anon.Do("GET", "/healthz", nil).Expect(t, 200)
		if r := anon.Do("GET", "/readyz", nil).Expect(t, 200); r.Str("status") != "ready" {
			t.Fatalf("readyz: %s", r.Body)
		}

		// login
		login := anon.Do("POST", "/api/v1/session", map[string]string{"username": "qixia-reviewer", "password": pw}).Expect(t, 200)
		if login.Str("token") == "" || login.Str("expires_at") == "" || login.Str("user.role") != "reviewer" || login.Str("user.region_code") != "370686" || login.Str("user.username") != "qixia-reviewer" {
			t.Fatalf("login response: %s", login.Body)
		}
		c := &apptest.Client{T: t, Base: srv.URL, HTTP: srv.Client(), Token: login.Str("token")}
		if r := c.Do("GET", "/api/v1/me", nil).Expect(t, 200); r.Str("user.username") != "qixia-reviewer" || r.Str("user.name") != "栖霞审核员" {
			t.Fatalf("me: %s", r.Body)
		}

		// regions
		r := anon.Do("GET", "/api/v1/regions/370686", nil).Expect(t, 200)
		if r.Str("name") != "栖霞市" || r.Str("level") != "county" || r.Str("parent_code") != "370600" {
			t.Fatalf("region: %s", r.Body)
		}
		if r := anon.Do("GET", "/api/v1/regions/370000", nil).Expect(t, 200); r.Str("name") != "山东省" || r.Str("level") != "province" {
			t.Fatalf("province: %s", r.Body)
		}
		if r := anon.Do("GET", "/api/v1/regions/370600", nil).Expect(t, 200); r.Str("name") != "烟台市" {
			t.Fatalf("prefecture: %s", r.Body)
		}
		kids := anon.Do("GET", "/api/v1/regions/370686/children", nil).Expect(t, 200)
		items, _ := kids.Get("items").([]any)
		if len(items) < 10 {
			t.Fatalf("栖霞市 should have its townships, got %d", len(items))
		}
		first := items[0].(map[string]any)
		if len(first["code"].(string)) != 9 || first["level"] != "township" || first["parent_code"] != "370686" {
			t.Fatalf("township: %v", first)
		}
		prob := anon.Do("GET", "/api/v1/regions/999999", nil).Expect(t, 404)
		if ct := prob.Header.Get("Content-Type"); ct != "application/problem+json" || prob.Str("status") != "404" {
			t.Fatalf("unknown region: %s %s", ct, prob.Body)
		}

		// calendar (issue vectors)
		for _, v := range []struct{ from, days, want string }{
			{"2026-09-30", "5", "2026-10-13"}, {"2026-02-13", "2", "2026-02-24"},
			{"2025-12-31", "1", "2026-01-04"}, {"2026-04-30", "5", "2026-05-11"},
		} {
			r := anon.Do("GET", "/api/v1/calendar/add-workdays?from="+v.from+"&days="+v.days, nil).Expect(t, 200)
			if r.Str("date") != v.want || r.Get("calendar_complete") != true {
				t.Errorf("%s + %s: %s, want %s", v.from, v.days, r.Body, v.want)
			}
		}
		if r := anon.Do("GET", "/api/v1/calendar/add-workdays?from=2027-03-05&days=1", nil).Expect(t, 200); r.Str("date") != "2027-03-08" || r.Get("calendar_complete") != false {
			t.Errorf("2027 falls back to Mon–Fri and says so: %s", r.Body)
		}
		anon.Do("GET", "/api/v1/calendar/add-workdays?from=yesterday&days=x", nil).Expect(t, 422)

		// logout revokes
		c.Do("DELETE", "/api/v1/session", nil).Expect(t, 204)
		c.Do("GET", "/api/v1/me", nil).Expect(t, 401)
	})
}

func TestAuthErrors(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		seedUsers(t, a)
		srv := apptest.Server(t, a)
		anon := apptest.NewClient(t, srv)

		cases := []struct {
			name   string
			body   string
			status int
			field  string
		}{
			{"malformed JSON", `{"username":`, 400, ""},
			{"wrong type", `{"username":1,"password":"x"}`, 400, "username"},
			{"unknown field", `{"username":"a","password":"b","x":1}`, 400, "x"},
			{"empty body", ``, 400, ""},
			{"missing password", `{"username":"qixia-reviewer"}`, 422, "password"},
			{"wrong password", `{"username":"qixia-reviewer","password":"wrong-password"}`, 401, ""},
			{"unknown user", `{"username":"nobody","password":"wrong-password"}`, 401, ""},
		}
		for _, c := range cases {
			r := anon.Do("POST", "/api/v1/session", c.body)
			if r.Status != c.status || r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s: %d %s, want %d problem", c.name, r.Status, r.Body, c.status)
				continue
			}
			if c.field != "" && r.Str("errors.0.field") != c.field {
				t.Errorf("%s: field %q, want %q (%s)", c.name, r.Str("errors.0.field"), c.field, r.Body)
			}
		}
		// oversize body → 413
		big := `{"username":"` + strings.Repeat("a", 2<<20) + `","password":"x"}`
		anon.Do("POST", "/api/v1/session", big).Expect(t, 413)

		// no token / bad token
		anon.Do("GET", "/api/v1/me", nil).Expect(t, 401)
		bad := &apptest.Client{T: t, Base: srv.URL, HTTP: srv.Client(), Token: "not-a-token"}
		bad.Do("GET", "/api/v1/me", nil).Expect(t, 401)

		// role checks: a reviewer may not manage users (403), may not read the audit log (404: not revealed)
		rev := anon.Login("qixia-reviewer", pw)
		rev.Do("POST", "/api/v1/users", map[string]any{"username": "x1", "password": pw, "role": "admin", "region_code": "000000"}).Expect(t, 403)
		rev.Do("GET", "/api/v1/audit", nil).Expect(t, 404)

		// repeated failures lock the username: 5 failures then 429 even with the right password
		for i := 0; i < 4; i++ {
			anon.Do("POST", "/api/v1/session", map[string]string{"username": "bot", "password": "wrong-password"}).Expect(t, 401)
		}
		anon.Do("POST", "/api/v1/session", map[string]string{"username": "bot", "password": "wrong-password"}).Expect(t, 401)
		r := anon.Do("POST", "/api/v1/session", map[string]string{"username": "bot", "password": pw}).Expect(t, 429)
		if r.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	})
}

func TestAdminAPI(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		seedUsers(t, a)
		srv := apptest.Server(t, a)
		admin := apptest.NewClient(t, srv).Login("admin", pw)

		ag := admin.Do("POST", "/api/v1/agencies", map[string]any{"name": "栖霞市农业农村局", "kind": "agriculture_department", "region_code": "370686"}).Expect(t, 201)
		admin.Do("POST", "/api/v1/agencies", map[string]any{"name": "", "kind": "bogus", "region_code": "370686"}).Expect(t, 422)

		u := admin.Do("POST", "/api/v1/users", map[string]any{"username": "qixia-tester", "password": pw, "role": "tester", "region_code": "370686", "agency_id": ag.Get("id")}).Expect(t, 201)
		admin.Do("POST", "/api/v1/users", map[string]any{"username": "qixia-tester", "password": pw, "role": "tester", "region_code": "370686"}).Expect(t, 409)
		weak := admin.Do("POST", "/api/v1/users", map[string]any{"username": "xx2", "password": "1234567890", "role": "tester", "region_code": "370686"}).Expect(t, 422)
		if weak.Str("errors.0.field") != "password" || weak.Str("errors.0.message_zh") == "" {
			t.Fatalf("weak password: %s", weak.Body)
		}
		admin.Do("POST", "/api/v1/users", map[string]any{"username": "xx3", "password": pw, "role": "tester", "region_code": "123456"}).Expect(t, 422)

		// disable → cannot log in
		admin.Do("POST", "/api/v1/users/"+u.Str("id")+"/status", map[string]string{"status": "disabled"}).Expect(t, 204)
		apptest.NewClient(t, srv).Do("POST", "/api/v1/session", map[string]string{"username": "qixia-tester", "password": pw}).Expect(t, 403)

		// integration token with a scope
		bot, err := a.Auth.GetUserByName(context.Background(), "bot")
		if err != nil {
			t.Fatal(err)
		}
		tok := admin.Do("POST", "/api/v1/users/"+itoa(bot.ID)+"/tokens", map[string]any{"name": "省平台对接", "scopes": []string{"trace.read"}, "valid_days": 365}).Expect(t, 201)
		botc := &apptest.Client{T: t, Base: srv.URL, HTTP: srv.Client(), Token: tok.Str("token")}
		if r := botc.Do("GET", "/api/v1/me", nil).Expect(t, 200); r.Str("user.role") != "integration" {
			t.Fatalf("integration me: %s", r.Body)
		}

		// calendar edit: publish 2027 with one holiday and one make-up day
		admin.Do("PUT", "/api/v1/calendar/years/2027", map[string]any{
			"holidays": []map[string]string{{"date": "2027-01-01", "name": "元旦"}},
			"workdays": []map[string]string{{"date": "2027-01-02", "name": "元旦调休"}}}).Expect(t, 204)
		if r := admin.Do("GET", "/api/v1/calendar/add-workdays?from=2026-12-31&days=1", nil).Expect(t, 200); r.Str("date") != "2027-01-02" || r.Get("calendar_complete") != true {
			t.Fatalf("after publishing 2027: %s", r.Body)
		}
		admin.Do("PUT", "/api/v1/calendar/years/2027", map[string]any{"holidays": []map[string]string{{"date": "2028-01-01"}}}).Expect(t, 422)
		rev := apptest.NewClient(t, srv).Login("qixia-reviewer", pw)
		rev.Do("PUT", "/api/v1/calendar/days/2027-05-01", map[string]string{"kind": "holiday"}).Expect(t, 403)

		// audit log records the writes with who and from where
		audit := admin.Do("GET", "/api/v1/audit?action=user.", nil).Expect(t, 200)
		entries, _ := audit.Get("items").([]any)
		if len(entries) == 0 {
			t.Fatal("no audit entries for user.* actions")
		}
		found := false
		for _, e := range entries {
			m := e.(map[string]any)
			if m["action"] == "user.disabled" && m["actor_name"] == "admin" && m["addr"] == "127.0.0.1" && m["resource_id"] == u.Str("id") {
				found = true
			}
		}
		if !found {
			t.Fatalf("audit lacks the disable by admin from 127.0.0.1: %s", audit.Body)
		}
	})
}

func TestOpenAPIDocument(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	srv := apptest.Server(t, a)
	r := apptest.NewClient(t, srv).Do("GET", "/api/v1/openapi.json", nil).Expect(t, http.StatusOK)
	if r.Str("openapi") != "3.1.0" {
		t.Fatalf("openapi version: %s", r.Str("openapi"))
	}
	for _, p := range []string{"/api/v1/session", "/api/v1/me", "/api/v1/regions/{code}", "/api/v1/calendar/add-workdays"} {
		if r.Get("paths."+p) == nil {
			t.Errorf("OpenAPI lacks %s", p)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestHTTPSurface: security headers, CSRF refusal of cross-site browser
// writes, metrics by route.
func TestHTTPSurface(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	seedUsers(t, a)
	srv := apptest.Server(t, a)
	c := apptest.NewClient(t, srv)

	r := c.Do("GET", "/api/v1/regions/370000", nil)
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy"} {
		if r.Header.Get(h) == "" {
			t.Errorf("missing security header %s", h)
		}
	}

	// a cross-site form post (what a forged request from another site looks like) is refused
	req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader("username=admin&password="+pw))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST /login: %d, want 403", resp.StatusCode)
	}

	m := c.Do("GET", "/metrics", nil).Expect(t, 200)
	body := string(m.Body)
	for _, want := range []string{`agtrace_http_requests_total{code="OK",route="GET /api/v1/regions/{code}"}`, "agtrace_http_request_duration_seconds", "go_goroutines",
		"agtrace_scan_pages_memory_hits_total", "agtrace_scan_pages_store_hits_total", "agtrace_scan_pages_memory_bytes"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
