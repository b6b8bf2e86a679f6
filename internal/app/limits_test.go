package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		method, path, contentType string
		want                      platform.Class
	}{
		{"GET", "/q/370686-0001-X", "", platform.ClassPublic},
		{"GET", "/o/ABC123", "", platform.ClassPublic},
		{"GET", "/api/v1/public/trace/370686-0001-X", "", platform.ClassPublic},
		{"GET", "/api/v1/public/operators/ABC", "", platform.ClassPublic},
		{"GET", "/healthz", "", platform.ClassPublic},
		{"GET", "/readyz", "", platform.ClassPublic},
		{"GET", "/api/v1/operators/export.xlsx", "", platform.ClassLong},
		{"GET", "/api/v1/roster/template.xlsx", "", platform.ClassLong},
		{"POST", "/api/v1/roster/import", "multipart/form-data; boundary=x", platform.ClassLong},
		{"POST", "/roster/import", "application/x-www-form-urlencoded", platform.ClassLong},
		{"GET", "/reports/scans.csv", "", platform.ClassLong},
		{"POST", "/operators/7/documents", "multipart/form-data; boundary=abc", platform.ClassLong},
		{"GET", "/api/v1/me", "", platform.ClassDefault},
		{"GET", "/api/v1/batches", "", platform.ClassDefault},
		{"POST", "/api/v1/batches", "application/json", platform.ClassDefault},
		{"GET", "/", "", platform.ClassDefault},
		{"GET", "/batches", "", platform.ClassDefault},
		{"GET", "/metrics", "", platform.ClassDefault},
		{"GET", "/quality", "", platform.ClassDefault}, // not /q/
		{"GET", "/api/v1/publicity", "", platform.ClassDefault},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.path, nil)
		if c.contentType != "" {
			r.Header.Set("Content-Type", c.contentType)
		}
		if got := app.Classify(r); got != c.want {
			t.Errorf("%s %s (%s): %v, want %v", c.method, c.path, c.contentType, got, c.want)
		}
	}
}

// limitsClient never waits long: a hang is a failure, not a slow pass.
var limitsClient = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type timedResponse struct {
	status     int
	retryAfter string
	body       string
	took       time.Duration
}

func timedGet(t *testing.T, url, token string) timedResponse {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := limitsClient.Do(req)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return timedResponse{took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return timedResponse{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(b), took: time.Since(start)}
}

func expect503(t *testing.T, what string, r timedResponse, within time.Duration) {
	t.Helper()
	if r.status != http.StatusServiceUnavailable || r.retryAfter == "" {
		t.Errorf("%s: %d (Retry-After %q), want 503 with Retry-After: %.300s", what, r.status, r.retryAfter, r.body)
	}
	if r.took > within {
		t.Errorf("%s took %v, want an answer within %v", what, r.took, within)
	}
}

// openLimited opens an app on engine with short request-class timeouts.
func openLimited(t *testing.T, engine string, to app.Timeouts) *app.App {
	t.Helper()
	if engine == "sqlite" {
		a := apptest.NewApp(t, "sqlite")
		a.Config.Timeouts = to // read when the handler is built
		return a
	}
	a, err := app.Open(context.Background(), app.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", PublicURL: "http://trace.test",
		SeedProvinces: apptest.PilotProvinces, DBURL: apptest.FreshPostgres(t), Timeouts: to})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// lockTables opens an admin connection to a's PostgreSQL database and holds
// ACCESS EXCLUSIVE locks on tables in an open transaction until release.
func lockTables(t *testing.T, a *app.App, tables ...string) (release func()) {
	t.Helper()
	admin, err := sql.Open("pgx", dbURLOf(t, a))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := admin.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if _, err := tx.Exec(`LOCK TABLE ` + tb + ` IN ACCESS EXCLUSIVE MODE`); err != nil {
			t.Fatal(err)
		}
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_ = tx.Rollback()
			admin.Close()
		})
	}
	t.Cleanup(release)
	return release
}

func dbURLOf(t *testing.T, a *app.App) string {
	t.Helper()
	if a.Config.DBURL == "" {
		t.Fatal("not a PostgreSQL app")
	}
	return a.Config.DBURL
}

// TestLockedTableAnswers503 (PostgreSQL): while another connection holds a
// table lock, requests that need the table answer 503 with Retry-After
// within their class's timeout instead of waiting for the lock.
func TestLockedTableAnswers503(t *testing.T) {
	if apptest.PostgresURL() == "" {
		t.Skip("no PostgreSQL")
	}
	a := openLimited(t, "postgres", app.Timeouts{Public: time.Second, Default: 2 * time.Second})
	code, _, token, _, srv := seedOutage(t, a)
	if r := timedGet(t, srv+"/api/v1/me", token); r.status != 200 {
		t.Fatalf("before the lock /api/v1/me: %d %s", r.status, r.body)
	}

	release := lockTables(t, a, "users", "trace_codes")
	expect503(t, "/api/v1/me with users locked", timedGet(t, srv+"/api/v1/me", token), 10*time.Second)
	expect503(t, "/q/ with trace_codes locked", timedGet(t, srv+"/q/"+code, ""), 10*time.Second)
	expect503(t, "/api/v1/public/trace/ with trace_codes locked", timedGet(t, srv+"/api/v1/public/trace/"+code, ""), 10*time.Second)

	// The lock goes away: the same requests answer again.
	release()
	if r := timedGet(t, srv+"/api/v1/me", token); r.status != 200 {
		t.Errorf("after the lock /api/v1/me: %d %s", r.status, r.body)
	}
	if r := timedGet(t, srv+"/q/"+code, ""); r.status != 200 {
		t.Errorf("after the lock /q/: %d", r.status)
	}
}

// TestPublicCannotStarveUsers: when public requests hold every public slot,
// further public requests answer 503 within the public timeout and a
// logged-in user's /api/v1/me still answers at once (both engines). On
// PostgreSQL the public requests are real ones stuck on a table lock, more of
// them than the pool has connections.
func TestPublicCannotStarveUsers(t *testing.T) {
	for _, engine := range apptest.Engines() {
		t.Run(engine, func(t *testing.T) {
			a := openLimited(t, engine, app.Timeouts{Public: time.Second})
			code, _, token, _, srv := seedOutage(t, a)

			var releases []func()
			for range a.DB.PublicSlots() {
				rel, err := a.DB.AcquirePublic(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				releases = append(releases, rel)
			}
			expect503(t, "/q/ with the public slots taken", timedGet(t, srv+"/q/"+code, ""), 10*time.Second)
			if r := timedGet(t, srv+"/api/v1/me", token); r.status != 200 || r.took > 5*time.Second {
				t.Errorf("/api/v1/me with the public slots taken: %d in %v", r.status, r.took)
			}
			if r := timedGet(t, srv+"/healthz", ""); r.status != 200 {
				t.Errorf("/healthz with the public slots taken: %d", r.status)
			}
			for _, rel := range releases {
				rel()
			}
			if r := timedGet(t, srv+"/q/"+code, ""); r.status != 200 {
				t.Errorf("/q/ after the slots are free: %d", r.status)
			}
			// the page is in memory now: it needs no slot
			releases = releases[:0]
			for range a.DB.PublicSlots() {
				rel, err := a.DB.AcquirePublic(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				releases = append(releases, rel)
			}
			if r := timedGet(t, srv+"/q/"+code, ""); r.status != 200 {
				t.Errorf("/q/ from memory with the public slots taken: %d, want 200", r.status)
			}
			for _, rel := range releases {
				rel()
			}
		})
	}
	t.Run("postgres-flood", func(t *testing.T) {
		if apptest.PostgresURL() == "" {
			t.Skip("no PostgreSQL")
		}
		const publicTimeout = 6 * time.Second
		a := openLimited(t, "postgres", app.Timeouts{Public: publicTimeout})
		code, _, token, _, srv := seedOutage(t, a)
		release := lockTables(t, a, "trace_codes")
		n := 3 * (a.DB.PublicSlots() + 2) // three times the connections
		var wg sync.WaitGroup
		results := make(chan timedResponse, n)
		for range n {
			wg.Go(func() { results <- timedGet(t, srv+"/q/"+code, "") })
		}
		time.Sleep(500 * time.Millisecond) // let the flood take what it can
		r := timedGet(t, srv+"/api/v1/me", token)
		if r.status != 200 || r.took > publicTimeout/2 {
			t.Errorf("/api/v1/me during a public flood: %d in %v (public requests time out after %v)", r.status, r.took, publicTimeout)
		}
		wg.Wait()
		release()
		close(results)
		for r := range results {
			if r.status != http.StatusServiceUnavailable || r.retryAfter == "" || r.took > 20*time.Second {
				t.Errorf("flooding /q/ with trace_codes locked: %d (Retry-After %q) in %v: %.200s", r.status, r.retryAfter, r.took, r.body)
				break
			}
		}
	})
}

// TestScanCrowdWithWrites: a crowd viewing scan pages while an operator
// records batches (each write sends the pages in memory back to check their
// revs) is answered 200 every time: views that need the database wait for
// a public slot, those answered from memory take none, and neither waits on
// the other (a view holding a slot while it waited for the generation read,
// held by a view waiting for a slot, stalled both until the deadline).
func TestScanCrowdWithWrites(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		_, user, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "人群合作社", RegionCode: "370686", Products: []string{"apple"}})
		u, err := a.Auth.GetUserByName(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		batch := func() string {
			b, err := a.Trace.CreateBatch(ctx, apptest.ActorOf(u), trace.NewBatch{ProductCode: "apple", Quantity: 10, Unit: "kg",
				ProducedAt: time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)})
			if err != nil {
				t.Fatal(err)
			}
			return b.TraceCode
		}
		var paths []string
		for range 12 {
			code := batch()
			paths = append(paths, "/q/"+code+"?v="+a.Trace.Token(code), "/q/"+code)
		}
		proxies, err := httpx.ParseTrustedProxies("127.0.0.1/32") // each viewer its own address (X-Forwarded-For)
		if err != nil {
			t.Fatal(err)
		}
		a.Config.TrustedProxies = proxies
		srv := apptest.Server(t, a).URL
		stop := make(chan struct{})
		var writes sync.WaitGroup
		writes.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
					batch()
				}
			}
		})
		const viewers, views = 32, 25
		bad := make(chan string, viewers*views)
		var wg sync.WaitGroup
		for v := range viewers {
			wg.Go(func() {
				for i := range views {
					p := paths[(v*7+i)%len(paths)]
					req, _ := http.NewRequest("GET", srv+p, nil)
					req.Header.Set("Accept-Encoding", "gzip")
					req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.0.%d.%d", v, i))
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						bad <- p + ": " + err.Error()
						continue
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						bad <- fmt.Sprintf("%s: %d", p, resp.StatusCode)
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		writes.Wait()
		close(bad)
		var failed []string
		for b := range bad {
			failed = append(failed, b)
		}
		if len(failed) > 0 {
			t.Fatalf("%d of %d views not answered 200, e.g. %v", len(failed), viewers*views, failed[:min(len(failed), 5)])
		}
	})
}
