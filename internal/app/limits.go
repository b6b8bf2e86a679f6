package app

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
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
	case strings.HasPrefix(p, "/q/"), strings.HasPrefix(p, "/o/"), strings.HasPrefix(p, "/api/v1/public/"), isHealth(p),
		strings.HasPrefix(p, "/ledger/"), strings.HasPrefix(p, "/api/v1/ledger/"):
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

// isScanPage: a label's public page, answered from memory when it can be.
func isScanPage(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/q/")
}

// MaxPublicInFlight bounds the public requests one instance holds at once
// (running or waiting for a database slot); beyond it they are shed with
// 503 at once. Sized so that a full queue drains within the public timeout
// at the page's measured rate (docs/benchmarks.md).
const MaxPublicInFlight = 512

// errShed answers a public request past MaxPublicInFlight (an "unavailable"
// error: 503 with Retry-After).
var errShed = fmt.Errorf("more than %d public requests in flight: %w", MaxPublicInFlight, context.DeadlineExceeded)

// dbLimits gives every request its class's deadline and, for public
// requests, one of the database's public slots (platform/limits.go; a scan
// page takes it only when it needs the database), so scans can never take
// the connections logged-in users need. Health checks take no slot: a busy public side must not take
// the instance out of the load balancer. A request that cannot get a slot
// before its deadline fails its query with the deadline: 503 with
// Retry-After.
func (a *App) dbLimits(next http.Handler) http.Handler {
	t := a.Config.Timeouts.withDefaults()
	var inFlight atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := Classify(r)
		if c == platform.ClassPublic && !isHealth(r.URL.Path) {
			// shed at once rather than queue without end: past MaxPublicInFlight
			// waiting or running public requests, answer 503 + Retry-After
			if inFlight.Add(1) > MaxPublicInFlight {
				inFlight.Add(-1)
				httpx.WriteProblem(w, r, errShed) // 503 + Retry-After
				return
			}
			defer inFlight.Add(-1)
		}
		var slots *platform.DB // public requests but health checks: a deferred public slot
		if c == platform.ClassPublic && !isHealth(r.URL.Path) {
			slots = a.DB
		}
		// the class's deadline (its timer made only if the request reaches
		// the database: platform/request.go)
		ctx, end := platform.WithRequest(r.Context(), c, t.of(c), slots)
		defer end()
		if slots != nil {
			// a scan page takes its slot when it misses the pages in memory
			// (trace.StoredPage); other public requests take theirs now
			if !isScanPage(r) {
				if err := a.DB.TakeSlot(ctx); err != nil {
					httpx.WriteProblem(w, r, err)
					return
				}
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
