package api

import (
	"context"
	"net/http"
	"strconv"

	"agtrace/internal/auth"
)

// rateInput sets an integration token's rate limit.
type rateInput struct {
	PerMinute int `json:"per_minute" doc:"requests a minute, 1–60000; 0 goes back to the default (600)"`
	Burst     int `json:"burst,omitempty" doc:"requests at once, 1–10000; default a tenth of per_minute"`
}

// clientRoutes: integration clients' rate limits and call logs
// (docs/security.md, "Integration clients").
func (s *Server) clientRoutes() {
	route(s, Route{Method: "PUT", Path: "/api/v1/tokens/{id}/rate", Summary: "Set an integration token's rate limit: requests a minute and burst (admin; audited)", Tag: "admin"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in rateInput) (auth.Token, error) {
			return s.svc.Auth.SetTokenRate(ctx, a, r.PathValue("id"), auth.ClientRate{PerMinute: in.PerMinute, Burst: in.Burst})
		})
	route(s, Route{Method: "GET", Path: "/api/v1/users/{id}/calls", Summary: "An integration account's latest requests, newest first: token, method, route, status, rows, pushed-for operator (admin, or the account itself)", Tag: "admin",
		Query: []Param{{Name: "limit", Description: "1–1000, default 100"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[auth.Call], error) {
			id, err := pathID(r, "id")
			if err != nil {
				return Items[auth.Call]{}, err
			}
			limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
			return itemsOf(s.svc.Auth.Calls(ctx, a, id, limit))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/users/{id}/calls/daily", Summary: "An integration account's requests counted per day (China time) and route, newest day first (admin, or the account itself)", Tag: "admin",
		Query: []Param{{Name: "days", Description: "1–90, default 14"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[auth.RouteCount], error) {
			id, err := pathID(r, "id")
			if err != nil {
				return Items[auth.RouteCount]{}, err
			}
			days, _ := strconv.Atoi(r.URL.Query().Get("days"))
			return itemsOf(s.svc.Auth.CallCounts(ctx, a, id, days))
		})
}
