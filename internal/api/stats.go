package api

import (
	"context"
	"net/http"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/insight"
)

// statsRoutes: the dashboards' figures (分析决策), read from the
// pre-aggregated tables for the actor's jurisdiction.
func (s *Server) statsRoutes() {
	ins := s.svc.Insight
	params := []Param{{Name: "region", Description: "a region in your jurisdiction (default: your jurisdiction; 000000 the nation)"},
		{Name: "product", Description: "a catalogue product code"},
		{Name: "from", Description: "YYYY-MM-DD, inclusive (default: the first day of the month eleven months before to's; all time for registrations, coverage and reviews)"},
		{Name: "to", Description: "YYYY-MM-DD, inclusive (default: today); at most 3 years after from"}}
	route(s, Route{Method: "GET", Path: "/api/v1/stats/map", Summary: "A figure per child region (nation → provinces, province → prefectures, prefecture → counties) or per county of the region (level=county), for a choropleth map",
		Tag: "stats", Query: append([]Param{{Name: "figure", Description: "a figure name (default batches): " + strings.Join(insight.Names(), ", ")},
			{Name: "key", Description: "only this key of the figure (e.g. coverage: registered)"},
			{Name: "level", Description: "county: one value per county of the region (a province's map by county); default the child regions"}}, params...)},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (insight.MapAnswer, error) {
			q := r.URL.Query()
			fig := q.Get("figure")
			if fig == "" {
				fig = "batches"
			}
			sq := statsQuery(r)
			sq.By, sq.Level = "", q.Get("level")
			return ins.Map(ctx, a, fig, sq)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/stats/{figure}", Summary: "A dashboard figure: one series per key (status, result …) along the by dimension; no record is counted twice",
		Tag: "stats", Query: append([]Param{{Name: "by", Description: "day (default) | month | region (child regions) | county (every county of the region) | product | kind"}}, params...)},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (insight.Answer, error) {
			return ins.Stats(ctx, a, r.PathValue("figure"), statsQuery(r))
		})
	route(s, Route{Method: "POST", Path: "/api/v1/stats/update", Summary: "Bring the figures up to date now (the incremental job; it also runs every minute)", Tag: "stats"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (insight.Report, error) {
			return ins.UpdateNow(ctx, a)
		})
}

func statsQuery(r *http.Request) insight.Query {
	q := r.URL.Query()
	return insight.Query{Region: q.Get("region"), Product: q.Get("product"), From: q.Get("from"), To: q.Get("to"), By: q.Get("by"), Key: q.Get("key")}
}
