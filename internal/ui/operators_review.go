package ui

import (
	"fmt"
	"net/http"

	"agtrace/internal/httpx"
	"agtrace/internal/operator"
)

// reviewPages: the county's review queue and its decisions (registrations,
// changes, suspension).
type reviewPages struct{ *Server }

func (s reviewPages) routes() []route {
	return []route{
		{"GET /reviews", loggedIn, s.queue},
		{"POST /operators/{id}/approve", loggedIn, s.approve},
		{"POST /operators/{id}/reject", loggedIn, s.reject},
		{"POST /operators/{id}/status", loggedIn, s.setStatus},
		{"POST /changes/{id}/decide", loggedIn, s.decideChange},
	}
}

type opReviewData struct {
	Items []operator.QueueItem
}

func (s reviewPages) queue(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.Operators.Queue(r.Context(), httpx.Actor(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "op_reviews", s.page(r, "op.reviews", opReviewData{Items: list}))
}

func (s reviewPages) approve(w http.ResponseWriter, r *http.Request) {
	id := pathInt(r, "id")
	_, err := s.svc.Operators.Approve(r.Context(), httpx.Actor(r), id)
	s.afterAction(w, r, err, fmt.Sprintf("/operators/%d", id), "op.approved")
}

func (s reviewPages) reject(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id := pathInt(r, "id")
	_, err := s.svc.Operators.Reject(r.Context(), httpx.Actor(r), id, r.PostForm.Get("reason"))
	s.afterAction(w, r, err, fmt.Sprintf("/operators/%d", id), "op.rejected")
}

func (s reviewPages) setStatus(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id := pathInt(r, "id")
	_, err := s.svc.Operators.SetStatus(r.Context(), httpx.Actor(r), id, r.PostForm.Get("action"), r.PostForm.Get("reason"))
	s.afterAction(w, r, err, fmt.Sprintf("/operators/%d", id), "op.statuschanged")
}

func (s reviewPages) decideChange(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	o, err := s.svc.Operators.DecideChange(r.Context(), httpx.Actor(r), pathInt(r, "id"), r.PostForm.Get("decision") == "approve", r.PostForm.Get("reason"))
	if err != nil {
		// the form is on the operator's page, which names the operator
		op := r.PostForm.Get("operator_id")
		r.SetPathValue("id", op)
		s.refuse(w, r, err, operatorPages{s.Server}.view, "/operators/"+op)
		return
	}
	redirect(w, r, fmt.Sprintf("/operators/%d", o.ID), "op.change.decided")
}
