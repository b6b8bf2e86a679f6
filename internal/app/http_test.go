package app

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"agtrace/internal/httpx"
)

func TestMetricsGuard(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	lb, _ := httpx.ParseTrustedProxies("127.0.0.1")
	cases := []struct {
		name    string
		token   string
		proxies *httpx.TrustedProxies
		peer    string
		auth    string
		want    int
	}{
		{"no token, local agent", "", nil, "127.0.0.1:9000", "", 200},
		{"no token, IPv6 loopback", "", nil, "[::1]:9000", "", 200},
		{"no token, remote", "", nil, "203.0.113.9:9000", "", 404},
		{"no token, relayed by a local proxy", "", lb, "127.0.0.1:9000", "", 404},
		{"token, right", "s3cret", nil, "203.0.113.9:9000", "Bearer s3cret", 200},
		{"token, wrong", "s3cret", nil, "203.0.113.9:9000", "Bearer s3cre", 404},
		{"token, missing even locally", "s3cret", nil, "127.0.0.1:9000", "", 404},
		{"token, not bearer", "s3cret", nil, "127.0.0.1:9000", "s3cret", 404},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.RemoteAddr = c.peer
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		w := httptest.NewRecorder()
		metricsGuard(c.token, c.proxies, ok).ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("%s: %d, want %d", c.name, w.Code, c.want)
		}
	}
}

func TestQuietScan(t *testing.T) {
	for _, c := range []struct {
		method, path string
		status       int
		took         time.Duration
		quiet        bool
	}{
		{"GET", "/q/13706860000000000016", 200, time.Millisecond, true},
		{"GET", "/q/13706860000000000016", 304, time.Millisecond, true},
		{"GET", "/api/v1/public/trace/13706860000000000016", 200, time.Millisecond, true},
		{"GET", "/q/13706860000000000016", 404, time.Millisecond, false}, // a possible counterfeit: logged
		{"GET", "/q/13706860000000000016", 429, time.Millisecond, false},
		{"GET", "/q/13706860000000000016", 503, time.Millisecond, false},
		{"GET", "/q/13706860000000000016", 200, 2 * time.Second, false}, // slow: logged
		{"GET", "/q", 303, time.Millisecond, false},
		{"POST", "/report", 200, time.Millisecond, false},
		{"GET", "/batches/13706860000000000016", 200, time.Millisecond, false},
	} {
		r := httptest.NewRequest(c.method, c.path, nil)
		if got := quietScan(r, c.status, c.took); got != c.quiet {
			t.Errorf("%s %s %d %v: quiet %v, want %v", c.method, c.path, c.status, c.took, got, c.quiet)
		}
	}
}
