package app

import (
	"net/http"
	"net/http/httptest"
	"testing"

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
