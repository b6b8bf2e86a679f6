package httpx

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// IntegrationClients applies each integration token's rate limit and logs
// every request such a token makes (docs/security.md, "Integration
// clients"). It runs after Authenticate. A refused request answers 429 with
// Retry-After and is logged too. The log is written by the auth service in
// batches (auth.Service.FlushCalls), never in the request's path.
func IntegrationClients(svc *auth.Service, next http.Handler) http.Handler {
	var limiters sync.Map // auth.ClientRate → *Limiter, keyed by token id
	limiter := func(rate auth.ClientRate) *Limiter {
		if l, ok := limiters.Load(rate); ok {
			return l.(*Limiter)
		}
		l, _ := limiters.LoadOrStore(rate, NewLimiter(Bucket{Rate: float64(rate.PerMinute) / 60, Burst: float64(rate.Burst)}, nil))
		return l.(*Limiter)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := Actor(r)
		if a == nil || a.TokenID == "" {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		note := &callNote{rows: -1}
		r = r.WithContext(context.WithValue(r.Context(), callNoteKey{}, note))
		sw := &callWriter{ResponseWriter: w}
		if ok, wait := limiter(a.Rate.OrDefault()).Allow(a.TokenID); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
			WriteProblem(sw, r, platform.TooMany("请求过于频繁，请稍后再试（接口令牌限速）", "too many requests for this token's rate limit; slow down"))
		} else {
			next.ServeHTTP(sw, r)
		}
		route := r.URL.Path
		if _, p, ok := strings.Cut(r.Pattern, " "); ok {
			route = p
		} else if r.Pattern != "" {
			route = r.Pattern
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		note.mu.Lock()
		rows, op := note.rows, note.operator
		note.mu.Unlock()
		svc.LogCall(auth.Call{UserID: a.UserID, TokenID: a.TokenID, At: start.UTC(), Method: r.Method, Route: route, Status: status,
			Rows: rows, Operator: op, Ms: int(time.Since(start).Milliseconds())})
	})
}

type callNoteKey struct{}

// callNote is what handlers tell the call log about a request.
type callNote struct {
	mu       sync.Mutex
	rows     int
	operator string
}

// NoteRows tells the call log how many items a list answered (nothing
// happens outside an integration client's request).
func NoteRows(ctx context.Context, n int) {
	if c, ok := ctx.Value(callNoteKey{}).(*callNote); ok {
		c.mu.Lock()
		c.rows = n
		c.mu.Unlock()
	}
}

// NotePush tells the call log which operator a push acted for.
func NotePush(ctx context.Context, operatorCode string) {
	if c, ok := ctx.Value(callNoteKey{}).(*callNote); ok {
		c.mu.Lock()
		c.operator = operatorCode
		c.mu.Unlock()
	}
}

// callWriter keeps the answer's status.
type callWriter struct {
	http.ResponseWriter
	status int
}

func (c *callWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *callWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.ResponseWriter.Write(b)
}

func (c *callWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
