package app_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/trace"
)

// outageFixture is an app with an operator, a batch and a logged-in
// session, whose database is about to become unavailable.
type outageFixture struct {
	a        *app.App
	srv      string
	code     string // a genuine trace code
	opCode   string // a genuine operator code
	token    string // a bearer token
	cookie   *http.Cookie
	takeDown func(t *testing.T)
}

func seedOutage(t *testing.T, a *app.App) (code, opCode, token string, cookie *http.Cookie, srv string) {
	t.Helper()
	op, user, pw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞苹果合作社", Kind: "cooperative", RegionCode: "370686"})
	u, err := a.Auth.GetUserByName(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	b, err := a.Trace.CreateBatch(context.Background(), apptest.ActorOf(u), trace.NewBatch{ProductCode: "apple", Quantity: 100, Unit: "kg",
		ProducedAt: time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly), Origin: "栖霞市"})
	if err != nil {
		t.Fatal(err)
	}
	s := apptest.Server(t, a)
	c := apptest.NewClient(t, s).Login(user, pw)
	// A browser session too.
	jar := s.Client()
	jar.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := jar.PostForm(s.URL+"/login", url.Values{"username": {user}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "agtrace_session" {
			cookie = ck
		}
	}
	if cookie == nil {
		t.Fatalf("no session cookie after login (%d)", resp.StatusCode)
	}
	return b.TraceCode, op.Code, c.Token, cookie, s.URL
}

// TestOutageAnsweredHonestly: when the database cannot answer, public and
// authenticated routes say "busy, retry" (503 + Retry-After), never "not
// found" (a genuine label would read as a counterfeit) nor "please log in",
// and /readyz names no host, user or database.
func TestOutageAnsweredHonestly(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		a := apptest.NewApp(t, "sqlite")
		code, opCode, token, cookie, srv := seedOutage(t, a)
		f := outageFixture{a: a, srv: srv, code: code, opCode: opCode, token: token, cookie: cookie}
		f.takeDown = func(t *testing.T) {
			// The disk under the data directory goes away: open connections
			// are dropped and the file can no longer be opened.
			a.DB.SQL().SetMaxIdleConns(0)
			dir := a.Config.DataDir
			for _, suffix := range []string{"", "-wal", "-shm"} {
				_ = os.Rename(filepath.Join(dir, "agtrace.db"+suffix), filepath.Join(dir, "gone.db"+suffix))
			}
			if err := os.Mkdir(filepath.Join(dir, "agtrace.db"), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		checkOutage(t, f)
	})
	t.Run("postgres", func(t *testing.T) {
		if apptest.PostgresURL() == "" {
			t.Skip("no PostgreSQL")
		}
		dbURL := apptest.FreshPostgres(t)
		a, err := app.Open(context.Background(), app.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", PublicURL: "http://trace.test",
			SeedProvinces: apptest.PilotProvinces, DBURL: dbURL})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		code, opCode, token, cookie, srv := seedOutage(t, a)
		f := outageFixture{a: a, srv: srv, code: code, opCode: opCode, token: token, cookie: cookie}
		f.takeDown = func(t *testing.T) {
			// The database refuses connections and drops the ones it has.
			admin, err := sql.Open("pgx", apptest.PostgresURL())
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
			u, _ := url.Parse(dbURL)
			name := strings.TrimPrefix(u.Path, "/")
			if _, err := admin.Exec(`ALTER DATABASE ` + name + ` WITH ALLOW_CONNECTIONS false`); err != nil {
				t.Fatal(err)
			}
			if _, err := admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name); err != nil {
				t.Fatal(err)
			}
		}
		checkOutage(t, f)
	})
}

func checkOutage(t *testing.T, f outageFixture) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, auth func(*http.Request)) (*http.Response, string) {
		req, _ := http.NewRequest("GET", f.srv+path, nil)
		if auth != nil {
			auth(req)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+f.token) }
	cookie := func(r *http.Request) { r.AddCookie(f.cookie) }

	// Before: everything answers.
	if resp, _ := get("/q/"+f.code, nil); resp.StatusCode != 200 {
		t.Fatalf("before the outage /q/: %d", resp.StatusCode)
	}
	f.takeDown(t)
	// a process trusts the write generation it read for GenerationPoll while
	// it commits nothing: cached public answers may be served that long
	time.Sleep(trace.GenerationPoll + 50*time.Millisecond)

	cases := []struct {
		path string
		auth func(*http.Request)
		html bool
	}{
		{"/q/" + f.code, nil, true},
		{"/o/" + f.opCode, nil, true},
		{"/api/v1/public/trace/" + f.code, nil, false},
		{"/api/v1/public/operators/" + f.opCode, nil, false},
		{"/api/v1/me", bearer, false},
		{"/api/v1/batches", bearer, false},
		{"/api/v1/batches/" + f.code, bearer, false},
		{"/", cookie, true},
		{"/batches", cookie, true},
	}
	for _, c := range cases {
		resp, body := get(c.path, c.auth)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s during the outage: %d, want 503 (%.200s)", c.path, resp.StatusCode, body)
			continue
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", c.path)
		}
		if strings.Contains(body, "未查到") || strings.Contains(body, "不存在") || strings.Contains(body, "未登记") {
			t.Errorf("%s: the outage reads as not found: %.300s", c.path, body)
		}
		if !strings.Contains(body, "服务繁忙") {
			t.Errorf("%s: does not say the service is busy: %.300s", c.path, body)
		}
	}
	resp, body := get("/readyz", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "database unreachable") {
		t.Errorf("/readyz: %d %s", resp.StatusCode, body)
	}
	for _, leak := range []string{"postgres", "agtrace_test_", "127.0.0.1", "5432", "agtrace.db", "user="} {
		if strings.Contains(body, leak) {
			t.Errorf("/readyz leaks %q: %s", leak, body)
		}
	}
	_ = auth.DeviceCookie
}
