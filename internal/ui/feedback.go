package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/feedback"
	"agtrace/internal/httpx"
)

// feedbackPages: every account's feedback about the platform (问题反馈) —
// its own list with the form, linked from every page — and the
// administrators' triage list, triage form and monthly summary.
type feedbackPages struct{ *Server }

func (s feedbackPages) routes() []route {
	return []route{
		{"GET /feedback", loggedIn, s.mine},
		{"POST /feedback", loggedIn, s.file},
		{"GET /feedback/{id}", loggedIn, s.view},
		{"POST /feedback/{id}/triage", loggedIn, s.triage},
		{"GET /admin/feedback", loggedIn, s.list},
		{"GET /admin/feedback/summary", loggedIn, s.summary},
		{"GET /admin/feedback/summary.csv", loggedIn, s.download},
		{"GET /admin/feedback/summary.xlsx", loggedIn, s.download},
	}
}

type fbMineData struct {
	Items      []feedback.Feedback
	Categories []feedback.Category
	CanTriage  bool
}

// mine is the actor's own feedback and the form; ?from= (the page the
// layout's link was on) fills in the page field.
func (s feedbackPages) mine(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	offset, fetch, pg := listPage(r)
	list, err := s.svc.Feedback.List(r.Context(), a, feedback.Filter{Mine: true, Limit: fetch, Offset: offset})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "fb.mine", fbMineData{Items: list[:pg.more(len(list))], Categories: feedback.Categories, CanTriage: a.Can(auth.ActFeedbackTriage)})
	p.Pager = pg
	if from := r.URL.Query().Get("from"); p.Form == nil && safeNext(from) == from && !strings.HasPrefix(from, "/feedback") {
		p.Form = url.Values{"page": {from}}
	}
	s.render(w, r, "fb_mine", p)
}

func (s feedbackPages) file(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	fb, err := s.svc.Feedback.File(r.Context(), httpx.Actor(r), feedback.Input{Category: f.Get("category"), Title: f.Get("title"), Body: f.Get("body"), Page: f.Get("page")})
	if err != nil {
		s.refuse(w, r, err, s.mine, "/feedback")
		return
	}
	redirect(w, r, fmt.Sprintf("/feedback/%d", fb.ID), "fb.filed")
}

type fbViewData struct {
	F          feedback.Feedback
	Lines      []string // the body's lines
	CanTriage  bool
	Categories []feedback.Category
}

func (s feedbackPages) view(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	f, err := s.svc.Feedback.Get(r.Context(), a, pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := fbViewData{F: f, Lines: strings.Split(f.Body, "\n"), CanTriage: a.Can(auth.ActFeedbackTriage) && len(f.Next) > 0, Categories: feedback.Categories}
	s.render(w, r, "fb_view", s.page(r, "fb.view", d))
}

func (s feedbackPages) triage(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id := pathInt(r, "id")
	to := fmt.Sprintf("/feedback/%d", id)
	in := feedback.TriageInput{Status: r.PostForm.Get("status"), Category: r.PostForm.Get("category"), Reply: r.PostForm.Get("reply")}
	if _, err := s.svc.Feedback.Triage(r.Context(), httpx.Actor(r), id, in); err != nil {
		s.refuse(w, r, err, s.view, to)
		return
	}
	redirect(w, r, to, "fb.triaged")
}

type fbListData struct {
	Items      []feedback.Feedback
	Statuses   []feedback.Status
	Categories []feedback.Category
	Summary    string // the summary of the month filtered (or of this month)
}

// list is the administrators' triage list: everyone's feedback, filtered
// by status, category, the authors' region and month.
func (s feedbackPages) list(w http.ResponseWriter, r *http.Request) {
	a, q := httpx.Actor(r), r.URL.Query()
	if err := auth.Authorize(a, auth.ActFeedbackTriage, auth.Resource{}); err != nil {
		s.fail(w, r, err)
		return
	}
	offset, fetch, pg := listPage(r)
	list, err := s.svc.Feedback.List(r.Context(), a, feedback.Filter{Status: q.Get("status"), Category: q.Get("category"),
		Region: strings.TrimSpace(q.Get("region")), Month: q.Get("month"), Limit: fetch, Offset: offset})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := fbListData{Items: list[:pg.more(len(list))], Statuses: feedback.Statuses, Categories: feedback.Categories, Summary: "/admin/feedback/summary"}
	if m := q.Get("month"); m != "" {
		d.Summary += "?" + url.Values{"month": {m}}.Encode()
	}
	p := s.page(r, "fb.admin", d)
	p.Pager = pg
	s.render(w, r, "fb_admin", p)
}

type fbSummaryData struct {
	Sum        feedback.Summary
	Prev, Next string // the neighbouring months
	CSV, XLSX  string
}

func (s feedbackPages) summary(w http.ResponseWriter, r *http.Request) {
	sum, err := s.svc.Feedback.Summary(r.Context(), httpx.Actor(r), r.URL.Query().Get("month"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := fbSummaryData{Sum: sum}
	if t, err := time.Parse("2006-01", sum.Month); err == nil {
		d.Prev, d.Next = t.AddDate(0, -1, 0).Format("2006-01"), t.AddDate(0, 1, 0).Format("2006-01")
	}
	q := url.Values{"month": {sum.Month}}.Encode()
	d.CSV, d.XLSX = "/admin/feedback/summary.csv?"+q, "/admin/feedback/summary.xlsx?"+q
	s.render(w, r, "fb_summary", s.page(r, "fb.summary", d))
}

// download is the summary as a file: the format is the path's extension.
func (s feedbackPages) download(w http.ResponseWriter, r *http.Request) {
	format := feedback.FormatXLSX
	if strings.HasSuffix(r.URL.Path, ".csv") {
		format = feedback.FormatCSV
	}
	sum, err := s.svc.Feedback.Summary(r.Context(), httpx.Actor(r), r.URL.Query().Get("month"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", feedback.ContentType(format))
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", feedback.FileName(sum.Month, format)))
	w.Header().Set("Cache-Control", "no-store")
	_ = feedback.WriteSummary(w, sum, format)
}
