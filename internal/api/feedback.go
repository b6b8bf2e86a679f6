package api

import (
	"context"
	"fmt"
	"net/http"
	"reflect"

	"agtrace/internal/auth"
	"agtrace/internal/feedback"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
)

// feedbackRoutes: logged-in users of every role report problems with the
// platform and follow them (问题反馈); administrators triage them and read
// the monthly summary.
func (s *Server) feedbackRoutes() {
	fs := s.svc.Feedback
	route(s, Route{Method: "POST", Path: "/api/v1/feedback", Summary: "Report a problem with the platform or make a suggestion (any account); it starts open",
		Tag: "feedback", Status: http.StatusCreated},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, in feedback.Input) (feedback.Feedback, error) {
			return fs.File(ctx, a, in)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/feedback", Summary: "Feedback, newest first: your own; an administrator's list holds everyone's",
		Tag: "feedback", Query: []Param{{Name: "status", Description: "open | in_progress | answered | closed"},
			{Name: "category", Description: "bug | usability | data | suggestion | other"},
			{Name: "region", Description: "a region subtree of the authors' regions"}, {Name: "month", Description: "YYYY-MM: filed in that month"},
			{Name: "mine", Description: "true: only your own (administrators)"}, {Name: "limit"}, {Name: "offset"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[feedback.Feedback], error) {
			limit, offset, err := pageArgs(r)
			if err != nil {
				return Items[feedback.Feedback]{}, err
			}
			q := r.URL.Query()
			return itemsOf(fs.List(ctx, a, feedback.Filter{Mine: q.Get("mine") == "true", Status: q.Get("status"), Category: q.Get("category"),
				Region: q.Get("region"), Month: q.Get("month"), Limit: limit, Offset: offset}))
		})
	s.feedbackSummaryRoute()
	route(s, Route{Method: "GET", Path: "/api/v1/feedback/{id}", Summary: "One piece of feedback (your own; any for an administrator)", Tag: "feedback"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (feedback.Feedback, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return feedback.Feedback{}, err
			}
			return fs.Get(ctx, a, id)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/feedback/{id}/triage", Summary: "Triage feedback (administrators): set its status (one of its next), category and the reply its author reads",
		Tag: "feedback"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in feedback.TriageInput) (feedback.Feedback, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return feedback.Feedback{}, err
			}
			return fs.Triage(ctx, a, id, in)
		})
}

// feedbackSummaryRoute: the month's counts by category × province, as JSON
// or, with format, as a CSV or xlsx file.
func (s *Server) feedbackSummaryRoute() {
	raw(s, Route{Method: "GET", Path: "/api/v1/feedback/summary", Summary: "The month's feedback by category × province of the authors, with totals (administrators); format=csv or xlsx downloads it as a file",
		Tag: "feedback", Produces: "application/json",
		Query: []Param{{Name: "month", Description: "YYYY-MM (default: this month, China time)"}, {Name: "format", Description: "json (default) | csv | xlsx"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			format := q.Get("format")
			if format != "" && format != "json" && format != feedback.FormatCSV && format != feedback.FormatXLSX {
				return platform.Invalid(platform.FieldError{Field: "format", Code: "not_allowed", ZH: "格式应为 json、csv 或 xlsx", EN: "format must be json, csv or xlsx"})
			}
			sum, err := s.svc.Feedback.Summary(r.Context(), httpx.Actor(r), q.Get("month"))
			if err != nil {
				return err
			}
			if format == "" || format == "json" {
				httpx.WriteJSON(w, http.StatusOK, sum)
				return nil
			}
			w.Header().Set("Content-Type", feedback.ContentType(format))
			w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", feedback.FileName(sum.Month, format)))
			return feedback.WriteSummary(w, sum, format)
		})
	// its default answer is JSON: document the Summary schema (the files are
	// the format parameter's)
	last := &s.routes[len(s.routes)-1]
	last.Produces, last.response = "", reflect.TypeFor[feedback.Summary]()
}
