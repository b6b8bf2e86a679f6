package api

import (
	"context"
	"fmt"
	"net/http"

	"agtrace/internal/assess"
	"agtrace/internal/auth"
	"agtrace/internal/httpx"
)

// assessmentRoutes: the pilot performance assessment (绩效考核) — the
// indicators and scoring sheets, assessments computed monthly and on
// demand, and their reports.
func (s *Server) assessmentRoutes() {
	as := s.svc.Assess
	route(s, Route{Method: "GET", Path: "/api/v1/assessment-indicators", Summary: "The indicators a scoring sheet may use: unit, direction, default target, data source and the sentence of the seed notice each answers",
		Tag: "assessment", Public: true},
		func(context.Context, *auth.Actor, *http.Request, NoBody) (Items[assess.IndicatorInfo], error) {
			return items(assess.IndicatorList()), nil
		})
	route(s, Route{Method: "GET", Path: "/api/v1/assessment-sheets", Summary: "The scoring sheets, one per level (province, prefecture, county): indicators, weights (summing to 100) and targets; published criteria",
		Tag: "assessment", Public: true},
		func(ctx context.Context, _ *auth.Actor, _ *http.Request, _ NoBody) (Items[assess.Sheet], error) {
			return itemsOf(as.Sheets(ctx))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/assessment-sheets/{id}", Summary: "One scoring sheet", Tag: "assessment", Public: true},
		func(ctx context.Context, _ *auth.Actor, r *http.Request, _ NoBody) (assess.Sheet, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return assess.Sheet{}, err
			}
			return as.Sheet(ctx, id)
		})
	route(s, Route{Method: "PUT", Path: "/api/v1/assessment-sheets/{id}", Summary: "Replace a sheet's indicators (administrators): unknown or repeated indicators, weights not summing to 100 and targets out of range are 422 naming the field, and nothing is saved; a stale version is 409",
		Tag: "assessment"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in assess.SheetInput) (assess.Sheet, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return assess.Sheet{}, err
			}
			return as.PutSheet(ctx, a, id, in)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/assessments", Summary: "Compute an assessment now: the regions of a level inside a jurisdiction (default yours) ranked for a month; computing the same level, month and jurisdiction again replaces it",
		Tag: "assessment"},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, in assess.Request) (assess.Assessment, error) {
			return as.Compute(ctx, a, in)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/assessments", Summary: "Assessments of your jurisdiction, newest month first (the monthly job's and those computed on demand)",
		Tag: "assessment", Query: []Param{{Name: "level", Description: "province | prefecture | county"}, {Name: "period", Description: "YYYY-MM"},
			{Name: "region", Description: "a region in your jurisdiction: assessments of it and below (default: your jurisdiction)"}, {Name: "limit"}, {Name: "offset"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[assess.Summary], error) {
			limit, offset, err := pageArgs(r)
			if err != nil {
				return Items[assess.Summary]{}, err
			}
			q := r.URL.Query()
			return itemsOf(as.List(ctx, a, assess.Filter{Level: q.Get("level"), Period: q.Get("period"), Region: q.Get("region"), Limit: limit, Offset: offset}))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/assessments/{id}", Summary: "One assessment: the sheet applied, the ranking, and each region's value, points and evidence per indicator",
		Tag: "assessment"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (assess.Assessment, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return assess.Assessment{}, err
			}
			return as.Get(ctx, a, id)
		})
	s.assessmentReportRoutes()
}

// assessmentReportRoutes: an assessment as a PDF report (ranking chart and
// table) or an Excel workbook.
func (s *Server) assessmentReportRoutes() {
	as := s.svc.Assess
	for _, f := range []struct{ ext, produces, summary string }{
		{"pdf", "application/pdf", "The assessment report (PDF): a bar chart of the totals, the ranking with each indicator's points, the indicators and their sources"},
		{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "The ranking as an Excel workbook: rank, region, total, each indicator's value and points"},
	} {
		raw(s, Route{Method: "GET", Path: "/api/v1/assessments/{id}/report." + f.ext, Summary: f.summary, Tag: "assessment", Produces: f.produces},
			func(w http.ResponseWriter, r *http.Request) error {
				id, err := pathID(r, "id")
				if err != nil {
					return err
				}
				var b []byte
				var a assess.Assessment
				if f.ext == "pdf" {
					b, a, err = as.ReportPDF(r.Context(), httpx.Actor(r), id)
				} else {
					b, a, err = as.ReportXLSX(r.Context(), httpx.Actor(r), id)
				}
				if err != nil {
					return err
				}
				w.Header().Set("Content-Type", f.produces)
				w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", assess.FileName(a, f.ext)))
				_, err = w.Write(b)
				return err
			})
	}
}
