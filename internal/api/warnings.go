package api

import (
	"context"
	"net/http"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/insight"
)

// warningRoutes: early warning (预警) — the warnings of a jurisdiction, one
// warning with its evidence, its handling, an evaluation on demand, and
// the rules' parameters per region.
func (s *Server) warningRoutes() {
	ins := s.svc.Insight
	route(s, Route{Method: "GET", Path: "/api/v1/warnings", Summary: "Early warnings of your jurisdiction, newest first",
		Tag: "warnings", Query: []Param{{Name: "region", Description: "a region in your jurisdiction (default: all of it)"},
			{Name: "status", Description: "open | acknowledged | closed | dismissed | active (open or acknowledged)"},
			{Name: "rule", Description: strings.Join(insight.RuleKeys(), " | ")}, {Name: "limit"}, {Name: "offset"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[insight.Warning], error) {
			limit, offset, err := pageArgs(r)
			if err != nil {
				return Items[insight.Warning]{}, err
			}
			q := r.URL.Query()
			return itemsOf(ins.Warnings(ctx, a, insight.WarningFilter{Region: q.Get("region"), Status: q.Get("status"), Rule: q.Get("rule"),
				Limit: limit, Offset: offset}))
		})
	route(s, Route{Method: "POST", Path: "/api/v1/warnings/evaluate", Summary: "Bring the figures up to date and evaluate the warning rules over your jurisdiction now (the job also runs every hour)",
		Tag: "warnings"},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, _ NoBody) (insight.WarnReport, error) {
			return ins.EvaluateWarnings(ctx, a)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/warnings/rules", Summary: "The warning rules and their parameters as they apply in a region",
		Tag: "warnings", Query: []Param{{Name: "region", Description: "a region in your jurisdiction (default: your jurisdiction; 000000 the national setting)"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) ([]insight.RuleSetting, error) {
			return ins.RuleSettings(ctx, a, r.URL.Query().Get("region"))
		})
	route(s, Route{Method: "PUT", Path: "/api/v1/warnings/rules", Summary: "Set one parameter of a warning rule for a region (administrators; supervisors in their jurisdiction)",
		Tag: "warnings"},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, in insight.RuleParamInput) (insight.RuleSetting, error) {
			return ins.SetRuleParam(ctx, a, in)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/warnings/{id}", Summary: "One warning: its evidence (series, baseline, threshold, statistic), the records' page and its handling",
		Tag: "warnings"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (insight.Warning, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return insight.Warning{}, err
			}
			return ins.Warning(ctx, a, id)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/warnings/{id}/status", Summary: "Acknowledge, close or dismiss a warning (closing and dismissing need a note); 409 when it moved on meanwhile",
		Tag: "warnings"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in insight.WarningStatusInput) (insight.Warning, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return insight.Warning{}, err
			}
			return ins.SetWarningStatus(ctx, a, id, in)
		})
}
