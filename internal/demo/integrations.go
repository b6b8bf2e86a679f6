package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/platform"
)

// clientsStep gives 荣成's provincial platform (its integration account)
// a token with a rate of its own (300 a minute, burst 30) and makes, with
// it, the calls such a platform makes, through the platform's own HTTP
// handler: it pulls the changes feed, pushes one turbot batch for the farm
// the import registered (header Agtrace-Operator), is refused a push
// without the header, and reads the batch's trace. So /admin/integrations
// shows real calls in its log.
func clientsStep(ctx context.Context, l *Loader) error {
	u, err := l.App.Auth.GetUserByName(ctx, "rongcheng-integration")
	if err != nil {
		return fmt.Errorf("demo integration: %w", err)
	}
	sys := auth.System()
	toks, err := l.App.Auth.ListTokens(ctx, sys, u.ID)
	if err != nil || len(toks) > 0 {
		return err // loaded before
	}
	sess, err := l.App.Auth.IssueClientToken(ctx, sys, u.ID, auth.TokenRequest{Name: "山东省追溯平台对接", Rate: auth.ClientRate{PerMinute: 300, Burst: 30}})
	if err != nil {
		return err
	}
	farm, err := l.App.Operators.ByCode(ctx, opCode(codes.Producer, "371082", 9000001))
	if err != nil {
		return fmt.Errorf("demo integration: the imported farm: %w", err)
	}
	h, err := l.App.Handler()
	if err != nil {
		return err
	}
	call := func(method, path string, body any, operatorCode string, want int) (map[string]any, error) {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		r := httptest.NewRequestWithContext(ctx, method, path, rd)
		r.RemoteAddr = "127.0.0.1:40000"
		r.Header.Set("Authorization", "Bearer "+sess.Token)
		r.Header.Set("Content-Type", "application/json")
		if operatorCode != "" {
			r.Header.Set("Agtrace-Operator", operatorCode)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			return nil, fmt.Errorf("demo integration: %s %s: %d, want %d: %s", method, path, w.Code, want, w.Body.String())
		}
		var out map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		return out, nil
	}
	if _, err := call("GET", "/api/v1/changes?after=0&limit=100", nil, "", http.StatusOK); err != nil {
		return err
	}
	batch := map[string]any{"product_code": "turbot", "quantity": 650, "unit": "kg", "produced_at": platform.Today(l.App.Clock.Now()),
		"origin": "荣成市石岛镇", "attributes": map[string]any{"tank": "2号车间", "harvest_size_g": 550.0}}
	if _, err := call("POST", "/api/v1/batches", batch, "", http.StatusForbidden); err != nil { // a push must name its operator
		return err
	}
	b, err := call("POST", "/api/v1/batches", batch, farm.Code, http.StatusCreated)
	if err != nil {
		return err
	}
	code, _ := b["trace_code"].(string)
	if _, err := call("GET", "/api/v1/trace/"+code, nil, "", http.StatusOK); err != nil {
		return err
	}
	return l.App.Auth.FlushCalls(ctx)
}
