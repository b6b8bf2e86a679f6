package httpx

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"agtrace/internal/platform"
)

func TestProblemStatus(t *testing.T) {
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name       string
		ctx        context.Context
		err        error
		status     int
		retryAfter string
	}{
		{"platform not found", context.Background(), platform.NotFound("没有", "none"), 404, ""},
		{"plain error", context.Background(), fmt.Errorf("boom"), 500, ""},
		{"client gone", gone, fmt.Errorf("query: %w", context.Canceled), StatusClientClosed, ""},
		{"canceled but client still there", context.Background(), context.Canceled, 500, ""},
		{"connection refused", context.Background(), fmt.Errorf("dial: %w", syscall.ECONNREFUSED), 503, "5"},
		{"pg connect error", context.Background(), &pgconn.ConnectError{}, 503, "5"},
		{"pg admin shutdown", context.Background(), &pgconn.PgError{Code: "57P01"}, 503, "5"},
		{"pg statement timeout", context.Background(), &pgconn.PgError{Code: "57014"}, 503, "5"},
		{"pg too many connections", context.Background(), &pgconn.PgError{Code: "53300"}, 503, "5"},
		{"pg unique violation is a bug, not an outage", context.Background(), &pgconn.PgError{Code: "23505"}, 500, ""},
		{"deadline", context.Background(), fmt.Errorf("scan: %w", context.DeadlineExceeded), 503, "5"},
		{"throttled", context.Background(), platform.TooMany("慢", "slow").With("retry_after_seconds", 7), 429, "7"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/q/1", nil).WithContext(c.ctx)
		w := httptest.NewRecorder()
		WriteProblem(w, r, c.err)
		if w.Code != c.status {
			t.Errorf("%s: status %d, want %d", c.name, w.Code, c.status)
		}
		if got := w.Header().Get("Retry-After"); got != c.retryAfter {
			t.Errorf("%s: Retry-After %q, want %q", c.name, got, c.retryAfter)
		}
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Errorf("%s: body %q: %v", c.name, w.Body.String(), err)
		}
		if c.status == http.StatusServiceUnavailable && body["detail_zh"] != "服务繁忙或暂时不可用，请稍后再试" {
			t.Errorf("%s: 503 body %v", c.name, body)
		}
	}
}
