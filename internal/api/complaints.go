package api

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"

	"agtrace/internal/auth"
	"agtrace/internal/complaints"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
)

// complaintRoutes: the public files and follows reports (举报); officials
// of the jurisdiction handle them.
func (s *Server) complaintRoutes() {
	cs := s.svc.Complaints
	route(s, Route{Method: "POST", Path: "/api/v1/public/reports", Summary: "Report a problem (举报) — JSON, or multipart with the same fields and up to 5 photos (field photo, JPEG/PNG by content, ≤ 10 MB); answers the ticket to follow it",
		Tag: "public", Public: true, CORS: true, Status: http.StatusCreated,
		Form: []Param{{Name: "category"}, {Name: "description"}, {Name: "code"}, {Name: "region"}, {Name: "contact"}, {Name: "photo", Description: "a JPEG or PNG photo; repeat for several"}}},
		func(ctx context.Context, _ *auth.Actor, r *http.Request, _ Multipart) (complaints.Ticket, error) {
			in, photos, done, err := readReport(r)
			if err != nil {
				return complaints.Ticket{}, err
			}
			defer done()
			return cs.File(ctx, in, photos)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/public/reports/{ticket}", Summary: "Follow a report by its ticket (status and reply; nothing personal)", Tag: "public", Public: true, CORS: true},
		func(ctx context.Context, _ *auth.Actor, r *http.Request, _ NoBody) (complaints.Ticket, error) {
			return cs.Follow(ctx, r.PathValue("ticket"))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/complaints", Summary: "Complaints routed to your jurisdiction, newest first", Tag: "complaints",
		Query: []Param{{Name: "region"}, {Name: "status", Description: "received | assigned | replied | closed | all (default: not closed)"}, {Name: "limit"}, {Name: "offset"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[complaints.Complaint], error) {
			limit, offset, err := pageArgs(r)
			if err != nil {
				return Items[complaints.Complaint]{}, err
			}
			return itemsOf(cs.List(ctx, a, complaints.Filter{Region: r.URL.Query().Get("region"), Status: r.URL.Query().Get("status"), Limit: limit, Offset: offset}))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/complaints/{id}", Summary: "A complaint (contact masked)", Tag: "complaints"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (complaints.Complaint, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return complaints.Complaint{}, err
			}
			return cs.Get(ctx, a, id)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/complaints/{id}/steps", Summary: "Assign, reply to or close a complaint (the reporter reads the reply by ticket); file a case from it with POST /api/v1/cases source complaint",
		Tag: "complaints"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in complaints.StepInput) (complaints.Complaint, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return complaints.Complaint{}, err
			}
			return cs.Step(ctx, a, id, in)
		})
}

// readReport reads a report as JSON or as a multipart form with photos.
func readReport(r *http.Request) (complaints.Input, []complaints.Photo, func(), error) {
	var in complaints.Input
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
		err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, httpx.MaxJSONBody)).Decode(&in)
		if err != nil {
			return in, nil, func() {}, platform.BadRequest("请求体不是有效的 JSON", "the body is not valid JSON")
		}
		return in, nil, func() {}, nil
	}
	uploads, done, err := multipartPhotos(r, "photo")
	if err != nil {
		return in, nil, done, err
	}
	f := r.MultipartForm.Value
	get := func(k string) string {
		if v := f[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	in = complaints.Input{Category: get("category"), Description: get("description"), Code: get("code"), Region: get("region"), Contact: get("contact")}
	photos := make([]complaints.Photo, len(uploads))
	for i, u := range uploads {
		photos[i] = complaints.Photo{Filename: u.Filename, Body: u.Body}
	}
	return in, photos, done, nil
}
