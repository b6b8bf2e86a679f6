package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
)

// TestIntegrationsPage: an administrator creates an integration client on
// /admin/integrations and gets its token once; the token works; the
// client's page lists its calls and per-day counts; the rate is set and the
// token revoked from the page; others may not open it.
func TestIntegrationsPage(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		for _, u := range []auth.NewUser{{Username: "ic-admin", Role: "admin", RegionCode: "000000"}, {Username: "ic-reviewer", Role: "reviewer", RegionCode: "370686"}} {
			u.Password = apptest.OperatorPassword
			if _, err := a.Auth.CreateUser(ctx, auth.System(), u); err != nil {
				t.Fatal(err)
			}
		}
		srv := apptest.Server(t, a)
		anon := apptest.NewClient(t, srv)
		admin := anon.Login("ic-admin", apptest.OperatorPassword)
		send := func(c *apptest.Client, method, path string, form url.Values) (int, string, string) {
			t.Helper()
			var body io.Reader
			if form != nil {
				body = strings.NewReader(form.Encode())
			}
			req, _ := http.NewRequest(method, srv.URL+path, body)
			if form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			req.Header.Set("Authorization", "Bearer "+c.Token)
			cl := *srv.Client()
			cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := cl.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b), resp.Header.Get("Location")
		}

		st, page, _ := send(admin, "GET", "/admin/integrations", nil)
		if st != 200 || !strings.Contains(page, "接口客户端") {
			t.Fatalf("list: %d %s", st, page)
		}
		st, home, _ := send(admin, "GET", "/", nil)
		if st != 200 || !strings.Contains(home, `href="/admin/integrations"`) {
			t.Fatalf("home tile missing: %d", st)
		}
		// a refused form comes back with the reason
		st, page, _ = send(admin, "POST", "/admin/integrations", url.Values{"username": {"yt-market"}, "name": {"烟台批发市场系统"}, "region_code": {"370600"},
			"token_name": {"主令牌"}, "rate_per_minute": {"99999999"}})
		if st != http.StatusUnprocessableEntity || strings.Contains(page, "ic-new-token") {
			t.Fatalf("refused rate: %d", st)
		}
		st, page, _ = send(admin, "POST", "/admin/integrations", url.Values{"username": {"yt-market2"}, "name": {"烟台批发市场系统"}, "region_code": {"370600"},
			"token_name": {"主令牌"}, "rate_per_minute": {"120"}, "scopes": {"trace.read", "integration.push"}})
		if st != 200 || !strings.Contains(page, `id="ic-new-token"`) {
			t.Fatalf("create: %d %s", st, page)
		}
		m := regexp.MustCompile(`<code class="token">([^<]+)</code>`).FindStringSubmatch(page)
		if m == nil || !strings.Contains(page, "每分钟 120 次，突发 12 次") || !strings.Contains(page, "代主体推送") {
			t.Fatalf("the new token is not shown: %s", page)
		}
		bot := &apptest.Client{T: t, Base: srv.URL, HTTP: srv.Client(), Token: m[1]}
		bot.Do("GET", "/api/v1/trace/13706860000000000011", nil)
		u, err := a.Auth.GetUserByName(ctx, "yt-market2")
		if err != nil {
			t.Fatal(err)
		}
		// the list shows the token once only
		_, page, _ = send(admin, "GET", "/admin/integrations", nil)
		if strings.Contains(page, m[1]) || !strings.Contains(page, "yt-market2") {
			t.Fatal("the list shows the token again, or not the client")
		}
		clientPath := "/admin/integrations/" + itoa64(u.ID)
		st, page, _ = send(admin, "GET", clientPath, nil)
		if st != 200 || !strings.Contains(page, "/api/v1/trace/{code...}") || !strings.Contains(page, `id="ic-daily"`) {
			t.Fatalf("client page: %d %s", st, page)
		}
		toks, err := a.Auth.ListTokens(ctx, apptest.ActorOf(mustUser(t, a.Auth, "ic-admin")), u.ID)
		if err != nil || len(toks) != 1 {
			t.Fatalf("tokens: %v %v", toks, err)
		}
		st, _, loc := send(admin, "POST", "/admin/integrations/tokens/"+toks[0].ID+"/rate", url.Values{"per_minute": {"900"}, "burst": {"90"}, "back": {clientPath}})
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, clientPath) {
			t.Fatalf("rate: %d %s", st, loc)
		}
		_, page, _ = send(admin, "GET", clientPath, nil)
		if !strings.Contains(page, "每分钟 900 次，突发 90 次") {
			t.Fatal("the new rate is not shown")
		}
		// another token, shown once on the client's page
		st, page, _ = send(admin, "POST", clientPath+"/tokens", url.Values{"token_name": {"备用"}})
		if st != 200 || !strings.Contains(page, `id="ic-new-token"`) {
			t.Fatalf("second token: %d", st)
		}
		st, _, _ = send(admin, "POST", "/admin/integrations/tokens/"+toks[0].ID+"/revoke", url.Values{"back": {clientPath}})
		if st != http.StatusSeeOther {
			t.Fatalf("revoke: %d", st)
		}
		bot.Do("GET", "/api/v1/me", nil).Expect(t, http.StatusUnauthorized)
		// English
		req, _ := http.NewRequest("GET", srv.URL+clientPath, nil)
		req.Header.Set("Authorization", "Bearer "+admin.Token)
		req.AddCookie(&http.Cookie{Name: "lang", Value: "en"})
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "Calls per day and route") {
			t.Fatalf("English page: %s", b)
		}
		// a reviewer may not
		rev := anon.Login("ic-reviewer", apptest.OperatorPassword)
		if st, _, _ := send(rev, "GET", "/admin/integrations", nil); st != http.StatusForbidden {
			t.Fatalf("reviewer: %d", st)
		}
		if st, _, _ := send(rev, "GET", clientPath, nil); st != http.StatusForbidden && st != http.StatusNotFound {
			t.Fatalf("reviewer on a client: %d", st)
		}
	})
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
