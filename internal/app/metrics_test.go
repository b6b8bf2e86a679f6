package app_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"agtrace/internal/apptest"
)

// TestMetricsToken: through the whole handler, /metrics answers the
// configured bearer token (which is not a user's API token) and nothing
// else, local or not; so do the runtime profiles.
func TestMetricsToken(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	a.Config.MetricsToken = "scrape-2026"
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		peer, auth string
		want       int
	}{
		{"203.0.113.9:9000", "Bearer scrape-2026", 200},
		{"127.0.0.1:9000", "Bearer scrape-2026", 200},
		{"127.0.0.1:9000", "Bearer wrong", 404},
		{"127.0.0.1:9000", "", 404},
	} {
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.RemoteAddr = c.peer
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want || c.want == 200 && !strings.Contains(w.Body.String(), "agtrace_scan_pages_memory_bytes") {
			t.Errorf("%s %q: %d, want %d\n%.300s", c.peer, c.auth, w.Code, c.want, w.Body.String())
		}
		// the runtime profiles answer the same, and only the same, requests
		r = httptest.NewRequest("GET", "/debug/pprof/cmdline", nil)
		r.RemoteAddr = c.peer
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("profiles, %s %q: %d, want %d", c.peer, c.auth, w.Code, c.want)
		}
	}
}
