package app

import (
	"context"
	"mime"
	"net/http"
	"strings"
	"time"

	"agtrace/internal/httpx"
	"agtrace/internal/platform"
)

// Timeouts are how long a request of each class may take in the database
// (docs/operations.md, "Timeouts and connection pools"). A request past its
// deadline is answered 503 with Retry-After instead of waiting on a lock.
type Timeouts struct {
	Public  time.Duration // anonymous scans and lookups; default 2 s
	Default time.Duration // logged-in users' pages and API calls; default 10 s
	Long    time.Duration // imports, exports and uploads; default 120 s (also PostgreSQL's statement_timeout)
}

// Default request-class timeouts.
const (
	DefaultPublicTimeout = 2 * time.Second
	DefaultUserTimeout   = 10 * time.Second
	DefaultLongTimeout   = platform.DefaultStatementTimeout
)

func (t Timeouts) withDefaults() Timeouts {
	if t.Public <= 0 {
		t.Public = DefaultPublicTimeout
	}
	if t.Default <= 0 {
		t.Default = DefaultUserTimeout
	}
	if t.Long <= 0 {
		t.Long = DefaultLongTimeout
	}
	return t
}

func (t Timeouts) of(c platform.Class) time.Duration {
	switch c {
	case platform.ClassPublic:
		return t.Public
	case platform.ClassLong:
		return t.Long
	}
	return t.Default
}

// Classify puts a request in its class by path: public entry points (the
// label scan pages, the public API, health checks) are ClassPublic; imports,
// exports (paths naming "import" or "export", .xlsx and .csv downloads) and
// multipart uploads are ClassLong; everything else is ClassDefault.
func Classify(r *http.Request) platform.Class {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/q/"), strings.HasPrefix(p, "/o/"), strings.HasPrefix(p, "/api/v1/public/"), isHealth(p):
		return platform.ClassPublic
	case strings.Contains(p, "import"), strings.Contains(p, "export"),
		strings.HasSuffix(p, ".xlsx"), strings.HasSuffix(p, ".csv"):
		return platform.ClassLong
	}
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && ct == "multipart/form-data" {
		return platform.ClassLong // a 10 MB upload on a slow line
	}
	return platform.ClassDefault
}

func isHealth(p string) bool { return p == "/healthz" || p == "/readyz" }

// dbLimits gives every request its class's deadline and, for public
// requests, one of the database's public slots (platform/limits.go), so
// scans can never take the connections logged-in users need. Health checks
// take no slot: a busy public side must not take the instance out of the
// load balancer. A request that cannot get a slot before its deadline is
// answered 503 with Retry-After.
func (a *App) dbLimits(next http.Handler) http.Handler {
	t := a.Config.Timeouts.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := Classify(r)
		ctx, cancel := context.WithTimeout(platform.WithClass(r.Context(), c), t.of(c))
		defer cancel()
		r = r.WithContext(ctx)
		if c == platform.ClassPublic && !isHealth(r.URL.Path) {
			release, err := a.DB.AcquirePublic(ctx)
			if err != nil {
				httpx.WriteProblem(w, r, err)
				return
			}
			defer release()
		}
		next.ServeHTTP(w, r)
	})
}
