package api

import (
	"context"
	"net/http"

	"agtrace/internal/auth"
	"agtrace/internal/exchange"
)

// exchangeRoutes: where the node stands among province and national nodes
// (stream positions, lag, parked messages) and the retry of a parked
// message (docs/exchange.md).
func (s *Server) exchangeRoutes() {
	node := s.svc.Node
	route(s, Route{Method: "GET", Path: "/api/v1/exchange/status", Summary: "The node's place in the exchange: role, stream positions (last published sequence, consumer ack floor, pending), lag in messages and seconds, parked count (administrators)",
		Tag: "exchange"},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, _ NoBody) (exchange.Status, error) {
			return node.Status(ctx, a)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/exchange/parked", Summary: "Messages parked after failing validation MaxDeliver times, newest first (administrators)",
		Tag: "exchange", Query: []Param{{Name: "status", Description: "parked (default) | applied | all"}, {Name: "limit", Description: "at most 500 (default 100)"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[exchange.Parked], error) {
			limit, err := queryInt(r, "limit")
			if err != nil {
				return Items[exchange.Parked]{}, err
			}
			list, err := node.ParkedList(ctx, a, exchange.ParkedFilter{Status: r.URL.Query().Get("status"), Limit: limit})
			return itemsOf(list, err)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/exchange/parked/{id}", Summary: "One parked message with its body and error (administrators)", Tag: "exchange"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (exchange.Parked, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return exchange.Parked{}, err
			}
			return node.ParkedOne(ctx, a, id)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/exchange/parked/{id}/retry", Summary: "Apply a parked message again from its kept copy: applied (or found applied already), 422 naming the field that is still wrong, 409 if it was applied meanwhile (administrators)",
		Tag: "exchange"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (exchange.RetryResult, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return exchange.RetryResult{}, err
			}
			return node.Retry(ctx, a, id)
		})
}
