package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/supervision"
)

// casePages: enforcement cases (执法办案) — the list with overdue steps,
// filing a case (from an inspection, a finding or by hand), a case's steps
// and its documents.
type casePages struct{ *Server }

func (s casePages) routes() []route {
	return []route{
		{"GET /cases", loggedIn, s.list},
		{"GET /cases/new", loggedIn, s.newForm},
		{"POST /cases", loggedIn, s.file},
		{"GET /cases/{id}", loggedIn, s.view},
		{"POST /cases/{id}/steps", loggedIn, s.step},
		{"GET /cases/{id}/documents/{doc}", loggedIn, s.document},
	}
}

type svCasesData struct {
	Items    []supervision.Case
	Statuses []string
	Status   string
	CanFile  bool
	Export   string
}

func (s casePages) list(w http.ResponseWriter, r *http.Request) {
	a, q := httpx.Actor(r), r.URL.Query()
	status := q.Get("status")
	if !q.Has("status") {
		status = "open"
	}
	filter := status
	if filter == "all" {
		filter = ""
	}
	offset, fetch, pg := listPage(r)
	list, err := s.svc.Supervision.Cases(r.Context(), a, supervision.CaseFilter{Region: q.Get("region"), Status: filter,
		Overdue: q.Get("overdue") == "true", Violation: q.Get("violation"), Limit: fetch, Offset: offset})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := svCasesData{Items: list[:pg.more(len(list))], Statuses: append(append([]string{"open"}, supervision.CaseStatuses...), "all"),
		Status: status, CanFile: a.Can(auth.ActCaseWrite),
		Export: "/api/v1/cases/export.csv?" + url.Values{"region": {q.Get("region")}, "status": {filter}, "overdue": {q.Get("overdue")}}.Encode()}
	p := s.page(r, "sv.cases", d)
	p.Pager = pg
	s.render(w, r, "sv_cases", p)
}

type svCaseFormData struct {
	Sources    []string
	Violations []string
}

func (s casePages) newForm(w http.ResponseWriter, r *http.Request) {
	if err := auth.Authorize(httpx.Actor(r), auth.ActCaseWrite, auth.Resource{}); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "sv.case.new", svCaseFormData{Sources: supervision.CaseSources, Violations: supervision.Violations})
	if p.Form == nil { // prefilled from the record the case comes from
		p.Form = url.Values{}
		for _, k := range []string{"source", "source_id", "operator_code", "violation"} {
			p.Form.Set(k, r.URL.Query().Get(k))
		}
	}
	s.render(w, r, "sv_case_new", p)
}

// caseInput reads the filing form.
func caseInput(r *http.Request) supervision.CaseInput {
	f := r.PostForm
	in := supervision.CaseInput{Source: f.Get("source"), SourceID: f.Get("source_id"), Violation: f.Get("violation"), Summary: f.Get("summary")}
	in.OperatorCodes = f["operator_code"] // blanks kept: a refusal names the box by its index
	for _, line := range strings.Split(f.Get("evidence_batches"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			in.Evidence = append(in.Evidence, supervision.Evidence{Kind: "batch", Ref: line})
		}
	}
	if n := strings.TrimSpace(f.Get("evidence_note")); n != "" {
		in.Evidence = append(in.Evidence, supervision.Evidence{Kind: "note", Note: n})
	}
	if in.Source == supervision.SourceInspection && in.SourceID != "" {
		in.Evidence = append([]supervision.Evidence{{Kind: "inspection", Ref: in.SourceID}}, in.Evidence...)
	}
	return in
}

func (s casePages) file(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	c, err := s.svc.Supervision.FileCase(r.Context(), httpx.Actor(r), caseInput(r))
	if err != nil {
		s.refuse(w, r, err, s.newForm, "/cases/new")
		return
	}
	redirect(w, r, fmt.Sprintf("/cases/%d", c.ID), "sv.case.filed")
}

type svCaseData struct {
	C         supervision.Case
	CanStep   bool
	Decisions []string
	Documents []string
}

func (s casePages) view(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	c, err := s.svc.Supervision.Case(r.Context(), a, pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := svCaseData{C: c, CanStep: auth.Authorize(a, auth.ActCaseWrite, auth.Resource{Region: c.RegionCode}) == nil && len(c.Next) > 0,
		Decisions: supervision.Decisions, Documents: supervision.CaseDocuments(c)}
	s.render(w, r, "sv_case", s.page(r, "sv.case", d))
}

// stepInput reads the step form.
func stepInput(r *http.Request) supervision.StepInput {
	f := r.PostForm
	in := supervision.StepInput{Step: f.Get("step"), Note: f.Get("note")}
	if in.Step == supervision.StepDecision {
		in.Decision, in.LegalBasis = f.Get("decision"), f.Get("legal_basis")
		in.RectifyDays = formInt(f.Get("rectify_days"))
		if v := strings.TrimSpace(f.Get("penalty_amount")); v != "" {
			amount, err := strconv.ParseFloat(v, 64)
			if err != nil {
				amount = -1
			}
			in.PenaltyAmount = amount
		}
	}
	if in.Step == supervision.StepFollowUp && f.Get("rectified") != "" {
		done := f.Get("rectified") == "yes"
		in.Rectified = &done
	}
	return in
}

func (s casePages) step(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	to := fmt.Sprintf("/cases/%d", pathInt(r, "id"))
	if _, err := s.svc.Supervision.TakeStep(r.Context(), httpx.Actor(r), pathInt(r, "id"), stepInput(r)); err != nil {
		s.refuse(w, r, err, s.view, to)
		return
	}
	redirect(w, r, to, "sv.case.stepped")
}

func (s casePages) document(w http.ResponseWriter, r *http.Request) {
	b, name, err := s.svc.Supervision.CaseDocumentPDF(r.Context(), httpx.Actor(r), pathInt(r, "id"), strings.TrimSuffix(r.PathValue("doc"), ".pdf"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", name))
	_, _ = w.Write(b)
}
