package app

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"agtrace/internal/api"
	"agtrace/internal/httpx"
	"agtrace/internal/insight"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
	"agtrace/internal/ui"
)

// Handler builds the whole HTTP surface: API, pages, health and metrics,
// behind one middleware chain.
func (a *App) Handler() (http.Handler, error) {
	mux := http.NewServeMux()
	apiSrv := api.Register(mux, api.Services{Auth: a.Auth, Regions: a.Regions, Calendar: a.Calendar, Operators: a.Operators, Trace: a.Trace, Supervision: a.Supervision, Monitoring: a.Monitoring, DB: a.DB, Ledger: a.Ledger, Complaints: a.Complaints, Feedback: a.Feedback, Insight: a.Insight, Incidents: a.Incidents, Assess: a.Assess, Node: a.Node, Port: a.Port}, Version)
	if err := ui.Register(mux, ui.Services{Auth: a.Auth, Regions: a.Regions, Calendar: a.Calendar, Operators: a.Operators, Trace: a.Trace, Supervision: a.Supervision, Monitoring: a.Monitoring, Complaints: a.Complaints, Feedback: a.Feedback, Insight: a.Insight, Node: a.Node, Assess: a.Assess, Port: a.Port, Incidents: a.Incidents}, ui.Options{
		Version: Version, PublicURL: a.Config.PublicURL, SecureCookies: strings.HasPrefix(a.Config.PublicURL, "https://"),
	}); err != nil {
		return nil, err
	}
	_ = apiSrv

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := a.Ready(r.Context()); err != nil {
			reason := "not ready"
			var nr *NotReady
			if errors.As(err, &nr) {
				reason = nr.Reason
			}
			slog.Warn("not ready", "err", err)
			w.Header().Set("Retry-After", strconv.Itoa(httpx.RetryAfterSeconds))
			httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": reason})
			return
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready", "dialect": string(a.DB.Dialect())})
	})

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(a.DB.SQL(), "agtrace"))
	m := newMetrics(reg)
	registerPageMetrics(reg, a.Trace)
	metricsH := metricsGuard(a.Config.MetricsToken, a.Config.TrustedProxies, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	profileH := metricsGuard(a.Config.MetricsToken, a.Config.TrustedProxies, profiles())

	var h http.Handler = m.wrap(mux)
	h = rateLimitPublic(a.Config.TrustedProxies, h)
	h = httpx.IntegrationClients(a.Auth, h) // integration tokens: their rate limits and call log
	h = httpx.Authenticate(a.Auth, a.Config.TrustedProxies, h)
	h = metricsRoute(metricsH, profileH, h) // /metrics carries its own bearer token, not a user's: it skips Authenticate
	h = a.dbLimits(h)                       // request-class deadline and public slots (limits.go); covers Authenticate's lookup
	h = httpx.StrictText(h)
	h = limitBody(h)
	h = http.NewCrossOriginProtection().Handler(h)
	h = securityHeaders(a.Config.TrustedProxies, h)
	h = httpx.Compress(h) // text answers gzipped for clients that take it
	h = recoverer(h)
	h = accessLog(h)
	return h, nil
}

type metrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	observers sync.Map // route pattern → its latency histogram
	counters  sync.Map // routeStatus → its request counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "agtrace_http_requests_total", Help: "HTTP requests by route pattern and status."},
			[]string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "agtrace_http_request_duration_seconds", Help: "HTTP latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

func (m *metrics) wrap(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: 200}
		start := time.Now()
		mux.ServeHTTP(sw, r) // sets r.Pattern: the route is matched once
		pattern := r.Pattern
		if pattern == "" {
			pattern = "unmatched"
		}
		m.observer(pattern).Observe(time.Since(start).Seconds())
		m.counter(pattern, sw.status).Inc()
	})
}

// observer and counter are the route's series, looked up once each (the
// scan page answers tens of thousands of requests a second).
func (m *metrics) observer(pattern string) prometheus.Observer {
	if o, ok := m.observers.Load(pattern); ok {
		return o.(prometheus.Observer)
	}
	o := m.latency.WithLabelValues(pattern)
	m.observers.Store(pattern, o)
	return o
}

func (m *metrics) counter(pattern string, status int) prometheus.Counter {
	k := routeStatus{pattern, status}
	if c, ok := m.counters.Load(k); ok {
		return c.(prometheus.Counter)
	}
	code := http.StatusText(status)
	if status == httpx.StatusClientClosed {
		code = "Client Closed Request"
	}
	c := m.requests.WithLabelValues(pattern, code)
	m.counters.Store(k, c)
	return c
}

type routeStatus struct {
	pattern string
	status  int
}

// registerPageMetrics exports where scan pages are answered from
// (docs/operations.md, "Metrics"): memory, the page store, or built.
func registerPageMetrics(reg prometheus.Registerer, t *trace.Service) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "agtrace_scan_pages_memory_hits_total", Help: "Scan page views answered from pages kept in memory."},
			func() float64 { return float64(t.PageMemoryHits()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "agtrace_scan_pages_store_hits_total", Help: "Scan page views answered from the page store (one database read)."},
			func() float64 { return float64(t.PageStoreHits()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "agtrace_scan_pages_memory_pages", Help: "Scan pages kept in memory."},
			func() float64 { n, _ := t.PageMemoryUsage(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "agtrace_scan_pages_memory_bytes", Help: "Bytes of scan pages kept in memory (budget: --page-memory)."},
			func() float64 { _, b := t.PageMemoryUsage(); return float64(b) }),
	)
}

// metricsRoute sends GET /metrics to metrics, /debug/pprof/ to profiles
// (both behind metricsGuard) and everything else to next.
func metricsRoute(metrics, profiles, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
		case r.URL.Path == "/metrics":
			metrics.ServeHTTP(w, r)
			return
		case strings.HasPrefix(r.URL.Path, "/debug/pprof/"):
			profiles.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// profiles are Go's runtime profiles (docs/operations.md, "Profiles"):
// go tool pprof http://127.0.0.1:8080/debug/pprof/profile?seconds=20
func profiles() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// limitBody caps every request body; JSON and upload handlers set tighter or
// looser limits themselves (uploads allow 10 MB plus multipart overhead).
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := bodyLimit(r.URL.Path)
		if r.ContentLength > limit {
			httpx.WriteProblem(w, r, platform.TooLarge("请求体过大", "request body too large"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// Body limits: one 10 MB file plus multipart overhead; an inspection's
// form carries up to photosPerRequest photos at once.
const (
	defaultBodyLimit = 12 << 20
	photosPerRequest = 5
	photoBodyLimit   = photosPerRequest*10<<20 + 2<<20
)

// bodyLimit is the largest body a path accepts.
func bodyLimit(path string) int64 {
	if strings.HasPrefix(path, "/api/v1/inspections") || strings.HasPrefix(path, "/inspections") ||
		(strings.HasPrefix(path, "/operators/") && strings.HasSuffix(path, "/inspect")) {
		return photoBodyLimit
	}
	return defaultBodyLimit
}

func securityHeaders(proxies *httpx.TrustedProxies, next http.Handler) http.Handler {
	// the values are set as shared one-element slices: no allocation per
	// request (a header added later to one of them copies, len = cap = 1)
	fixed := map[string][]string{
		"X-Content-Type-Options":  {"nosniff"},
		"X-Frame-Options":         {"DENY"},
		"Referrer-Policy":         {"same-origin"},
		"Content-Security-Policy": {"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"},
		"Permissions-Policy":      {"camera=(self), geolocation=(self)"},
	}
	hsts := []string{"max-age=31536000"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range fixed {
			h[k] = v[:1:1]
		}
		if proxies.IsHTTPS(r) {
			h["Strict-Transport-Security"] = hsts[:1:1]
		}
		next.ServeHTTP(w, r)
	})
}

func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				slog.Error("panic", "path", r.URL.Path, "panic", p)
				httpx.WriteProblem(w, r, errors.New("panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		next.ServeHTTP(sw, r)
		took := time.Since(start)
		if quietScan(r, sw.status, took) {
			return
		}
		slog.Info("http", "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", float64(took.Microseconds())/1000)
	})
}

// quietScan: a scan answered normally (200 or 304 within a second) is not
// written to the access log — shoppers' views are the bulk of the traffic,
// a log line each would cost more than the answer, and they are counted in
// the metrics (agtrace_http_requests_total) and the scan statistics.
// Refusals, errors and slow answers are still logged.
func quietScan(r *http.Request, status int, took time.Duration) bool {
	p := r.URL.Path
	return r.Method == http.MethodGet && (status == http.StatusOK || status == http.StatusNotModified) && took < time.Second &&
		(strings.HasPrefix(p, "/q/") || strings.HasPrefix(p, "/api/v1/public/trace/"))
}

// Rate limits per client address (docs/security.md, "Rate limits"). The
// scan page is what a crowd behind one carrier-grade NAT address uses: a
// market's shoppers each scan a few labels a minute, so the public bucket
// lets one address make 20 requests a second sustained with a burst of 400
// (a page is one request: no scripts, styles inline); a scraper at that
// rate is still bounded, and guessing codes is stopped separately by the
// miss allowance (404s, then 429). Expensive lookups (a code's every ledger
// proof, consistency proofs) and writes from anonymous clients (login,
// registration) and complaints get stricter buckets of their own; logins
// are also locked per account after repeated failures (shared through the
// database).
var (
	PublicBucket    = httpx.Bucket{Rate: 20, Burst: 400}
	ExpensiveBucket = httpx.Bucket{Rate: 2, Burst: 30}
	WriteBucket     = httpx.Bucket{Rate: 2, Burst: 120}
	ReportBucket    = httpx.Bucket{Rate: 10.0 / 60, Burst: 10}
)

// limitClass is the bucket a request draws on ("" when it is not limited).
func limitClass(r *http.Request) string {
	p := r.URL.Path
	switch {
	case r.Method == http.MethodPost && (p == "/api/v1/public/reports" || p == "/report"):
		return "report"
	case r.Method == http.MethodPost && (p == "/api/v1/session" || p == "/login" || p == "/api/v1/operators" || p == "/register"):
		return "write"
	case strings.HasPrefix(p, "/api/v1/ledger/") && (r.URL.Query().Has("code") || strings.HasSuffix(p, "/consistency")):
		return "expensive"
	case strings.HasPrefix(p, "/q/"), p == "/q", strings.HasPrefix(p, "/o/"), strings.HasPrefix(p, "/api/v1/public/"), strings.HasPrefix(p, "/ledger/"),
		strings.HasPrefix(p, "/api/v1/ledger/"), p == "/report", strings.HasPrefix(p, "/report/"):
		return "public"
	}
	return ""
}

// rateLimitPublic applies the per-address token buckets (per replica; login
// lockout itself is shared through the database). A refusal is 429 with
// Retry-After in whole seconds.
func rateLimitPublic(proxies *httpx.TrustedProxies, next http.Handler) http.Handler {
	buckets := map[string]*httpx.Limiter{"public": httpx.NewLimiter(PublicBucket, nil), "expensive": httpx.NewLimiter(ExpensiveBucket, nil),
		"write": httpx.NewLimiter(WriteBucket, nil), "report": httpx.NewLimiter(ReportBucket, nil)}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := limitClass(r); c != "" {
			addr := platform.OriginFrom(r.Context()).Addr // Authenticate found it
			if addr == "" {
				addr = proxies.ClientAddr(r)
			}
			if ok, wait := buckets[c].Allow(addr); !ok {
				w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
				httpx.WriteProblem(w, r, platform.TooMany("请求过于频繁，请稍后再试", "too many requests; slow down"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Serve runs the HTTP server until ctx is cancelled, then lets in-flight
// requests finish (up to 15 s) before returning.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	h, err := a.Handler()
	if err != nil {
		return err
	}
	// the exchange (province relay, national apply; nothing when standalone)
	if err := a.Node.Start(ctx); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      max(120*time.Second, a.Config.Timeouts.Long+10*time.Second), // outlives the longest request class
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if a.Config.MonitorEvery > 0 {
		go a.monitorLoop(ctx, a.Config.MonitorEvery)
	}
	go every(ctx, CheckpointEvery, func() { // a signed checkpoint when the ledger has grown
		if _, err := a.Ledger.Checkpoint(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("ledger checkpoint failed", "err", err)
		}
	})
	go func() { // stored scan pages of an earlier release are never served again
		if n, err := a.Trace.PrunePages(ctx, ui.ScanPageVersion()); err != nil && ctx.Err() == nil {
			a.Log.Warn("old stored scan pages not pruned", "err", err)
		} else if n > 0 {
			a.Log.Info("old stored scan pages pruned", "pages", n)
		}
	}()
	go every(ctx, trace.ScanFlushEvery, func() { // the counted public views (trace.ScanCounter) and rendered pages (trace.StoredPage)
		if err := a.Trace.LogScans(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("scan counts not written; kept for the next flush", "err", err)
		}
		if err := a.Trace.FlushPages(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("rendered scan pages not stored; rendered again when viewed", "err", err)
		}
	})
	go every(ctx, time.Second, func() { // integration clients' call log (auth.Service.LogCall)
		if err := a.Auth.FlushCalls(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("integration call log not written; kept for the next flush", "err", err)
		}
	})
	go every(ctx, trace.ScanFoldEvery, func() { // the scan log into trace_scans (trace/scans.go)
		if err := a.Trace.FoldScans(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("scan log not folded; folded next time", "err", err)
		}
	})
	go every(ctx, insight.Every, func() { // the dashboards' aggregates (docs/insight.md)
		if _, err := a.Insight.Update(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("dashboard figures not updated; retried next run", "err", err)
		}
	})
	go a.warningLoop(ctx)
	go a.assessLoop(ctx) // the monthly performance assessment (docs/insight.md)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := a.Auth.FlushCalls(shutdownCtx); err != nil {
		a.Log.Warn("integration call log not written at shutdown", "err", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// metricsGuard keeps /metrics from the public: with a token, only requests
// bearing it are answered; without one, only direct loopback peers (a
// Prometheus agent on the same host) — a request relayed by a trusted proxy
// on loopback is not direct and is refused.
func metricsGuard(token string, proxies *httpx.TrustedProxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
				next.ServeHTTP(w, r)
				return
			}
		} else if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			if ip, err := netip.ParseAddr(host); err == nil && ip.Unmap().IsLoopback() && !proxies.Trusts(ip.Unmap()) {
				next.ServeHTTP(w, r)
				return
			}
		}
		httpx.WriteProblem(w, r, platform.NotFound("未找到", "not found"))
	})
}

// monitorLoop tries the online-monitoring job every period; with several
// replicas on one database, the job's lease lets one of them run it.
func (a *App) monitorLoop(ctx context.Context, every time.Duration) {
	host, _ := os.Hostname()
	holder := fmt.Sprintf("%s:%d", host, os.Getpid())
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rep, err := a.Supervision.RunMonitor(ctx, holder, every)
		switch {
		case err != nil && ctx.Err() == nil:
			a.Log.Error("monitoring run failed", "err", err)
		case rep.Ran:
			a.Log.Info("monitoring run", "raised", rep.Raised, "ms", rep.Duration.Milliseconds())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// warningLoop evaluates the early-warning rules every insight.WarnEvery
// (docs/insight.md); with several replicas, the job's lease lets one run.
func (a *App) warningLoop(ctx context.Context) {
	host, _ := os.Hostname()
	holder := fmt.Sprintf("%s:%d", host, os.Getpid())
	every(ctx, insight.WarnEvery, func() {
		rep, err := a.Insight.RunWarnings(ctx, holder, insight.WarnEvery)
		switch {
		case err != nil && ctx.Err() == nil:
			a.Log.Error("warning evaluation failed", "err", err)
		case rep.Ran:
			a.Log.Info("warning evaluation", "raised", rep.Raised, "ms", rep.Duration.Milliseconds())
		}
	})
}

// CheckpointEvery is how often Serve signs a ledger checkpoint when the log
// has grown (checkpoints are also signed on demand, docs/ledger.md).
const CheckpointEvery = time.Minute

// every runs fn each period until ctx ends (the first run after one period).
func every(ctx context.Context, period time.Duration, fn func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}
}
