package ui

import (
	"fmt"
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
	// CanFileCase: an enforcer turns a finding into a case in one step
	CanFileCase bool
	Back        string // the list's query, for the forms to come back to
	Export      string // the list as CSV, with the filters shown
	Today       string
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
	offset, fetch, pg := listPage(r)
	list, err := s.svc.Trace.Findings(r.Context(), a, trace.FindingFilter{Region: q.Get("region"), Kind: q.Get("kind"), Status: filter,
		Limit: fetch, Offset: offset})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recorded := 0 // the page counts recorded findings; unconfirmed transfers come on the first page
	for _, f := range list {
		if f.ID != 0 {
			recorded++
		}
	}
	if pg.more(recorded) < recorded {
		list = trimRecorded(list, pageSize)
	}
	back := url.Values{}
	for k, v := range q {
		if k != "msg" { // the flash of the last step is not part of the list
			back[k] = v
		}
	}
	d := trFindingsData{Items: list, Kinds: trace.FindingKinds, Statuses: append([]string{"active"}, append(trace.FindingStatuses, "all")...),
		Status: status, CanHandle: a.Can(auth.ActFindingHandle), CanFileCase: a.Can(auth.ActCaseWrite), Back: back.Encode(), Today: s.svc.Trace.Today(),
		Export: "/api/v1/findings/export.csv?" + url.Values{"kind": {q.Get("kind")}, "region": {q.Get("region")}, "status": {filter}}.Encode()}
	p := s.page(r, "tr.findings", d)
	p.Pager = pg
	s.render(w, r, "tr_findings", p)
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

// trimRecorded keeps the computed findings and the first n recorded ones.
func trimRecorded(list []trace.Finding, n int) []trace.Finding {
	out := list[:0:0]
	for _, f := range list {
		if f.ID == 0 || n > 0 {
			out = append(out, f)
			if f.ID != 0 {
				n--
			}
		}
	}
	return out
}

// FindingLink is where a finding's code leads: the batch for the trace
// core's kinds, the record for a rectification, the operator for the
// monitoring rules about operators ("" when nothing to open).
func (p *Page) FindingLink(f trace.Finding) string {
	switch f.Kind {
	case trace.FindingRectifyOverdue:
		if f.Detail["record"] == "case" {
			return "/cases?status=all"
		}
		return "/inspections"
	case trace.FindingRecallHold:
		return fmt.Sprintf("/recalls/%v", f.Detail["recall_id"])
	case trace.FindingReviewOverdue, trace.FindingReviewEscalated:
		return "/operators/" + url.PathEscape(f.Code)
	case trace.FindingNoRecentBatch, trace.FindingRepeatedOverShip, trace.FindingNeverInspected, trace.FindingKeyNoAgreement:
		return "/o/" + url.PathEscape(f.OperatorCode)
	}
	return "/batches/" + url.PathEscape(f.Code)
}

// FindingIsBatch reports whether a finding's code is a trace code.
func (p *Page) FindingIsBatch(f trace.Finding) bool {
	return strings.HasPrefix(p.FindingLink(f), "/batches/")
}
