package api

import (
	"context"
	"fmt"
	"net/http"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/incident"
)

// incidentRoutes: emergency command (应急指挥) — incidents declared from a
// recall, a warning, a complaint or by hand, their affected batches, the
// tasks of county officials, and the situation report.
func (s *Server) incidentRoutes() {
	in := s.svc.Incidents
	route(s, Route{Method: "POST", Path: "/api/v1/incidents", Summary: "Declare an incident (officials commanding the region): the affected batches are the source batches and everything made or sold from them",
		Tag: "incidents", Status: http.StatusCreated},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, body incident.DeclareInput) (incident.Incident, error) {
			return in.Declare(ctx, a, body)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/incidents", Summary: "Incidents declared in or touching your jurisdiction, and those holding your tasks; open ones first",
		Tag: "incidents", Query: []Param{{Name: "status", Description: "open | resolved"}, {Name: "region", Description: "declared in or touching this region (in your jurisdiction)"},
			{Name: "mine", Description: "true: only incidents with tasks assigned to you"}, {Name: "limit"}, {Name: "offset"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[incident.Summary], error) {
			limit, offset, err := pageArgs(r)
			if err != nil {
				return Items[incident.Summary]{}, err
			}
			q := r.URL.Query()
			return itemsOf(in.List(ctx, a, incident.Filter{Status: q.Get("status"), Region: q.Get("region"), Mine: q.Get("mine") == "true", Limit: limit, Offset: offset}))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/incidents/{id}", Summary: "An incident: affected batches (holder, region, quantity, stock now, state), counties, tasks, timeline", Tag: "incidents"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (incident.Incident, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return incident.Incident{}, err
			}
			return in.Get(ctx, a, id)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/incidents/{id}/tasks", Summary: "Assign a task (check, seal, sample, report) to an official of your jurisdiction, with a due time",
		Tag: "incidents", Status: http.StatusCreated},
		func(ctx context.Context, a *auth.Actor, r *http.Request, body incident.TaskInput) (incident.Task, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return incident.Task{}, err
			}
			return in.AddTask(ctx, a, id, body)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/tasks/{id}/status", Summary: "Report an incident task's progress (its assignee, or an official commanding its region): in_progress, done (optionally with its batch's new state) or cannot_complete",
		Tag: "incidents"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, body incident.TaskStatusInput) (incident.Task, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return incident.Task{}, err
			}
			return in.SetTaskStatus(ctx, a, id, body)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/incidents/{id}/batches/{code}/state", Summary: "Record what became of an affected batch (officials commanding its region): sealed, destroyed, released or cleared",
		Tag: "incidents"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, body incident.BatchStateInput) (incident.Incident, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return incident.Incident{}, err
			}
			return in.SetBatchState(ctx, a, id, r.PathValue("code"), body)
		})
	raw(s, Route{Method: "GET", Path: "/api/v1/incidents/{id}/report.pdf", Summary: "The situation report (态势报告): facts, affected batches, tasks, timeline; SM2 fingerprint, QR to the incident",
		Tag: "incidents", Produces: "application/pdf"},
		func(w http.ResponseWriter, r *http.Request) error {
			id, err := pathID(r, "id")
			if err != nil {
				return err
			}
			b, name, err := in.ReportPDF(r.Context(), httpx.Actor(r), id)
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", "application/pdf")
			w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", name))
			w.Header().Set("Cache-Control", "no-store")
			_, err = w.Write(b)
			return err
		})
}
