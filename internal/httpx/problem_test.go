package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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

// TestProblemAsPage: a browser asking for a page gets a problem nobody
// handled (a crash, a rate limit) as a small page in Chinese and English;
// the API and other clients keep the problem document.
func TestProblemAsPage(t *testing.T) {
	for _, c := range []struct {
		path, accept string
		err          error
		page         bool
		want         string
	}{
		{"/batches", "text/html,application/xhtml+xml", errors.New("boom"), true, "出错了"},
		{"/q/1", "text/html", platform.TooMany("请求过多", "too many"), true, "请求太频繁"},
		{"/api/v1/batches", "text/html", errors.New("boom"), false, `"status":500`},
		{"/batches", "", errors.New("boom"), false, `"status":500`},
	} {
		r := httptest.NewRequest("GET", c.path, nil)
		if c.accept != "" {
			r.Header.Set("Accept", c.accept)
		}
		w := httptest.NewRecorder()
		WriteProblem(w, r, c.err)
		isPage := strings.HasPrefix(w.Header().Get("Content-Type"), "text/html")
		if isPage != c.page || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("%s (%q): page %v, body %.120q", c.path, c.accept, isPage, w.Body.String())
		}
	}
}
