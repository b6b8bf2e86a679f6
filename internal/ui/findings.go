package ui

import (
	"net/http"
	"net/url"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/trace"
)

// findingPages: what the records reveal in a jurisdiction, and handling it
// (take up with a due date, close with a note, reopen).
type findingPages struct{ *Server }

func (s findingPages) routes() []route {
	return []route{
		{"GET /findings", loggedIn, s.list},
		{"POST /findings/{id}/actions", loggedIn, s.act},
	}
}

type trFindingsData struct {
	Items     []trace.Finding
	Kinds     []string
	Statuses  []string
	Status    string // the status filter shown ("active" by default)
	CanHandle bool
	Back      string // the list's query, for the forms to come back to
	Today     string
}

func (s findingPages) list(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	q := r.URL.Query()
	status := q.Get("status")
	if !q.Has("status") {
		status = "active" // what still needs someone
	}
	filter := status
	if filter == "all" {
		filter = ""
	}
	list, err := s.svc.Trace.Findings(r.Context(), a, trace.FindingFilter{Region: q.Get("region"), Kind: q.Get("kind"), Status: filter})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	back := url.Values{}
	for k, v := range q {
		if k != "msg" { // the flash of the last step is not part of the list
			back[k] = v
		}
	}
	d := trFindingsData{Items: list, Kinds: trace.FindingKinds, Statuses: append([]string{"active"}, append(trace.FindingStatuses, "all")...),
		Status: status, CanHandle: a.Can(auth.ActFindingHandle), Back: back.Encode(), Today: s.svc.Trace.Today()}
	s.render(w, r, "tr_findings", s.page(r, "tr.findings", d))
}

// act takes one step of a finding's handling; a refusal comes back to the
// list the form was on, the message next to that finding's form.
func (s findingPages) act(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	back := "/findings"
	if q, err := url.ParseQuery(f.Get("back")); err == nil && len(q) > 0 {
		back += "?" + q.Encode()
	}
	_, err := s.svc.Trace.HandleFinding(r.Context(), httpx.Actor(r), pathInt(r, "id"), trace.FindingAction{Action: f.Get("action"),
		DueOn: strings.TrimSpace(f.Get("due_on")), Note: f.Get("note")})
	if err != nil {
		s.refuse(w, r, err, s.list, back)
		return
	}
	redirect(w, r, back, "tr.finding.handled."+f.Get("action"))
}
