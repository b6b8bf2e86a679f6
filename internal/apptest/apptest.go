// Package apptest starts real agtrace instances for tests: on SQLite in a
// temporary directory and, when a PostgreSQL server is available (see
// PostgresURL), on a fresh PostgreSQL database that is dropped afterwards.
// Nothing is mocked.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for creating/dropping test databases

	"agtrace/internal/app"
)

// PilotProvinces are seeded in tests (the whole country is seeded in production).
var PilotProvinces = []string{"37", "44", "51"}

// DefaultPostgresURL is where tests look for PostgreSQL when
// AGTRACE_TEST_POSTGRES is unset (the local server CI and developers run).
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var (
	pgOnce   sync.Once
	pgURL    string
	pgReason string // why PostgreSQL tests are skipped, when pgURL is ""
)

// PostgresURL returns the server tests create their PostgreSQL databases on,
// or "" when PostgreSQL tests are skipped:
//   - AGTRACE_TEST_POSTGRES=off disables them;
//   - AGTRACE_TEST_POSTGRES=<url> uses that server (a failure to reach it is
//     then a test failure, not a skip);
//   - unset: DefaultPostgresURL is probed once per process (short timeout)
//     and used if it answers.
func PostgresURL() string {
	pgOnce.Do(func() {
		pgURL, pgReason = resolvePostgres(os.Getenv("AGTRACE_TEST_POSTGRES"), probePostgres)
	})
	return pgURL
}

// resolvePostgres decides PostgresURL from the variable's value; probe is
// called (at most once) only when the variable is unset.
func resolvePostgres(env string, probe func(url string) error) (url, skipReason string) {
	switch v := strings.TrimSpace(env); {
	case strings.EqualFold(v, "off"):
		return "", "PostgreSQL tests disabled by AGTRACE_TEST_POSTGRES=off"
	case v != "":
		return v, ""
	}
	if err := probe(DefaultPostgresURL); err != nil {
		return "", fmt.Sprintf("PostgreSQL tests skipped: no server answers on %s (%s); start one or set AGTRACE_TEST_POSTGRES=<url>",
			DefaultPostgresURL, strings.SplitN(err.Error(), "\n", 2)[0])
	}
	return DefaultPostgresURL, ""
}

func probePostgres(u string) error {
	db, err := sql.Open("pgx", u)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// Engines lists the engines to run against: "sqlite" always, "postgres" when
// PostgresURL finds a server.
func Engines() []string {
	if PostgresURL() != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

var skipNoted bool

// ForEachEngine runs fn as a subtest per engine, each with a fresh app.
func ForEachEngine(t *testing.T, fn func(t *testing.T, a *app.App)) {
	t.Helper()
	if PostgresURL() == "" && !skipNoted {
		skipNoted = true
		t.Log(pgReason)
	}
	for _, e := range Engines() {
		t.Run(e, func(t *testing.T) { fn(t, NewApp(t, e)) })
	}
}

// NewApp opens a fresh, migrated platform on engine ("sqlite" or "postgres").
func NewApp(t testing.TB, engine string) *app.App {
	t.Helper()
	cfg := app.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", PublicURL: "http://trace.test", SeedProvinces: PilotProvinces,
		// Generous request deadlines: test suites share two CPUs with each
		// other; the tests of the limits themselves set their own.
		Timeouts: app.Timeouts{Public: 30 * time.Second, Default: 60 * time.Second, Long: 120 * time.Second}}
	if engine == "postgres" {
		cfg.DBURL = FreshPostgres(t)
	}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open app (%s): %v", engine, err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// FreshPostgres creates an empty database on the PostgresURL server and
// drops it when the test ends. It returns the new database's URL.
func FreshPostgres(t testing.TB) string {
	t.Helper()
	base := PostgresURL()
	if base == "" {
		t.Skip(pgReason)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("AGTRACE_TEST_POSTGRES: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "agtrace_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Server serves a's full HTTP handler on a loopback test server.
func Server(t testing.TB, a *app.App) *httptest.Server {
	t.Helper()
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// Client calls the JSON API as one user.
type Client struct {
	T     testing.TB
	Base  string
	Token string
	HTTP  *http.Client
}

// NewClient returns an anonymous client for srv.
func NewClient(t testing.TB, srv *httptest.Server) *Client {
	return &Client{T: t, Base: srv.URL, HTTP: srv.Client()}
}

// Response is a decoded API answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// Str returns a top-level (or dotted path) string field, e.g. "user.username".
func (r *Response) Str(path string) string {
	v := r.Get(path)
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Get returns the value at a dotted path ("items.0.name").
func (r *Response) Get(path string) any {
	var cur any = r.JSON
	for _, p := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			var i int
			if _, err := fmt.Sscan(p, &i); err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// Do sends a request with an optional JSON body (any value, or a raw string).
func (c *Client) Do(method, path string, body any) *Response {
	c.T.Helper()
	return c.DoHeader(method, path, body, nil)
}

// DoHeader is Do with extra request headers (Idempotency-Key, say).
func (c *Client) DoHeader(method, path string, body any, header map[string]string) *Response {
	c.T.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		case []byte:
			rd = bytes.NewReader(b)
		default:
			raw, err := json.Marshal(b)
			if err != nil {
				c.T.Fatal(err)
			}
			rd = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		c.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return c.send(req)
}

// Upload posts a multipart form with one file field "file" and extra fields.
func (c *Client) Upload(path, filename string, content []byte, fields map[string]string) *Response {
	c.T.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		c.T.Fatal(err)
	}
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, err := http.NewRequest("POST", c.Base+path, &buf)
	if err != nil {
		c.T.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.send(req)
}

// DoRequest sends a request built by the caller (with the client's session).
func (c *Client) DoRequest(req *http.Request) *Response {
	c.T.Helper()
	return c.send(req)
}

func (c *Client) send(req *http.Request) *Response {
	c.T.Helper()
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.T.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	if ct := resp.Header.Get("Content-Type"); strings.Contains(ct, "json") && len(raw) > 0 {
		_ = json.Unmarshal(raw, &r.JSON)
	}
	return r
}

// Login logs in through the API and returns a client carrying the token.
func (c *Client) Login(username, password string) *Client {
	c.T.Helper()
	r := c.Do("POST", "/api/v1/session", map[string]string{"username": username, "password": password})
	if r.Status != http.StatusOK {
		c.T.Fatalf("login %s: %d %s", username, r.Status, r.Body)
	}
	return &Client{T: c.T, Base: c.Base, HTTP: c.HTTP, Token: r.Str("token")}
}

// Expect fails the test unless the response has the wanted status.
func (r *Response) Expect(t testing.TB, status int) *Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

func init() {
	// Request logs drown test output; AGTRACE_TEST_LOG=1 brings them back.
	if os.Getenv("AGTRACE_TEST_LOG") == "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
}
