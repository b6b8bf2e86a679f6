package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/monitoring"
)

// limitRoutes registers the residue limits (monitoring, issue 11 part 1).
func (s *Server) limitRoutes() {
	m := s.svc.Monitoring
	route(s, Route{Method: "GET", Path: "/api/v1/limits", Summary: "Residue limits; with food and date: those that apply to the food that day (its own, else its nearest category's, in the edition then in force)",
		Tag: "monitoring", Public: true, CORS: true, Query: []Param{{Name: "food", Description: "a product or category code"},
			{Name: "substance", Description: "a substance code, or text in its names"}, {Name: "date", Description: "YYYY-MM-DD"}, {Name: "limit"}, {Name: "offset"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[monitoring.Limit], error) {
			q := r.URL.Query()
			limit, offset, err := pageArgs(r)
			if err != nil {
				return Items[monitoring.Limit]{}, err
			}
			return itemsOf(m.Limits(ctx, a, monitoring.LimitFilter{Food: strings.TrimSpace(q.Get("food")), Substance: strings.TrimSpace(q.Get("substance")),
				Date: strings.TrimSpace(q.Get("date")), Limit: limit, Offset: offset}))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/limits/{id}/history", Summary: "A limit's earlier versions", Tag: "monitoring", Public: true, CORS: true},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[monitoring.LimitHistory], error) {
			id, err := pathID(r, "id")
			if err != nil {
				return Items[monitoring.LimitHistory]{}, err
			}
			return itemsOf(m.History(ctx, a, id))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/substances", Summary: "Substances tested for, by code, name, CAS number or synonym", Tag: "monitoring", Public: true, CORS: true,
		Query: []Param{{Name: "q"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[monitoring.Substance], error) {
			return itemsOf(m.Substances(ctx, a, r.URL.Query().Get("q")))
		})
	route(s, Route{Method: "POST", Path: "/api/v1/limits", Summary: "Add a limit or change it (same substance, food, standard and edition); the previous version is kept", Tag: "monitoring"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in monitoring.LimitInput) (monitoring.Limit, error) {
			return m.SaveLimit(ctx, a, in)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/limits/import", Summary: "Import limits from CSV (multipart, field file; header " + strings.Join(monitoring.ImportColumns, ",") + "); a file with any bad row is refused whole, each error naming its row",
		Tag: "monitoring", Form: []Param{{Name: "file", Description: "UTF-8 CSV"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ Multipart) (monitoring.ImportReport, error) {
			f, _, err := multipartFile(r)
			if err != nil {
				return monitoring.ImportReport{}, err
			}
			defer f.Close()
			return m.ImportLimits(ctx, a, f)
		})
}

// sampleRoutes registers sampling tests and recalls (monitoring, issue 11 part 2).
func (s *Server) sampleRoutes() {
	m := s.svc.Monitoring
	route(s, Route{Method: "POST", Path: "/api/v1/samples", Summary: "Record a sampling test; judged by the limits in force on the sampling date; a failed test holds the batch and everything downstream under a recall, in the same transaction",
		Tag: "monitoring", Status: http.StatusCreated},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in monitoring.SampleInput) (monitoring.Sample, error) {
			return m.RecordSample(ctx, a, in)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/samples/{id}", Summary: "A sampling test with its verdict per item (and its recall)", Tag: "monitoring"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (monitoring.Sample, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return monitoring.Sample{}, err
			}
			return m.Sample(ctx, a, id)
		})
	raw(s, Route{Method: "GET", Path: "/api/v1/samples/{id}/report.pdf", Summary: "The test report: verdict per item, the standard and edition applied, SM2 fingerprint, QR", Tag: "monitoring", Produces: "application/pdf"},
		func(w http.ResponseWriter, r *http.Request) error {
			id, err := pathID(r, "id")
			if err != nil {
				return err
			}
			b, name, err := m.SampleReportPDF(r.Context(), httpx.Actor(r), id)
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", "application/pdf")
			w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", name))
			_, err = w.Write(b)
			return err
		})
	route(s, Route{Method: "GET", Path: "/api/v1/recalls/{id}", Summary: "A recall: its scope (every held batch with holder, region, quantity, stock, disposition), suspects upstream, progress", Tag: "monitoring"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (monitoring.Recall, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return monitoring.Recall{}, err
			}
			return m.Recall(ctx, a, id)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/recalls/{id}/confirm", Summary: "Confirm a recall (supervisors of a county in its scope)", Tag: "monitoring"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (monitoring.Recall, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return monitoring.Recall{}, err
			}
			return m.Confirm(ctx, a, id)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/recalls/{id}/release", Summary: "Release a recall's holds, with a reason (422 without)", Tag: "monitoring"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in releaseInput) (monitoring.Recall, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return monitoring.Recall{}, err
			}
			return m.Release(ctx, a, id, in.Reason)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/batches/{code}/disposition", Summary: "The holder records what it did with a held batch (destroyed | returned | retested); the recall closes when every batch is accounted for",
		Tag: "monitoring"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in monitoring.DispositionInput) (monitoring.Recall, error) {
			return m.Dispose(ctx, a, r.PathValue("code"), in)
		})
}

type releaseInput struct {
	Reason string `json:"reason" doc:"why the hold is released (required)"`
}
