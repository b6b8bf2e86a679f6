package ui

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/complaints"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
)

// errUpload: the form's photos could not be read (too large for the form).
var errUpload = platform.TooLarge("照片过大：每张不超过 10 MB，最多 5 张", "photos too large: at most 10 MB each, 5 in all")

// complaintPages: the public's report form and ticket page (public
// layout, no script), and the officials' list and handling pages.
type complaintPages struct{ *Server }

func (s complaintPages) routes() []route {
	return []route{
		{"GET /report", anyone, s.form},
		{"POST /report", anyone, s.file},
		{"GET /report/{ticket}", anyone, s.ticket},
		{"GET /complaints", loggedIn, s.list},
		{"GET /complaints/{id}", loggedIn, s.view},
		{"POST /complaints/{id}/steps", loggedIn, s.step},
		{"GET /complaints/{id}/photos/{sha}", loggedIn, s.photo},
	}
}

type cpFormData struct{ Categories []string }

func (s complaintPages) form(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "cp.report.title", cpFormData{Categories: complaints.Categories})
	if p.Form == nil {
		p.Form = r.URL.Query()
	}
	s.render(w, r, "cp_report", p)
}

// file takes the form (multipart, photos optional) and shows the ticket.
func (s complaintPages) file(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(2 << 20); err != nil && err != http.ErrNotMultipart {
		s.refuse(w, r, errUpload, s.form, "/report")
		return
	}
	f := r.Form
	in := complaints.Input{Category: f.Get("category"), Description: f.Get("description"), Code: f.Get("code"), Region: f.Get("region"), Contact: f.Get("contact")}
	var photos []complaints.Photo
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
		for _, h := range r.MultipartForm.File["photo"] {
			if h.Size == 0 && h.Filename == "" {
				continue // the empty file input of a form sent without a photo
			}
			fh, err := h.Open()
			if err != nil {
				s.refuse(w, r, errUpload, s.form, "/report")
				return
			}
			defer fh.Close()
			photos = append(photos, complaints.Photo{Filename: h.Filename, Body: fh})
		}
	}
	t, err := s.svc.Complaints.File(r.Context(), in, photos)
	if err != nil {
		s.refuse(w, r, err, s.form, "/report")
		return
	}
	redirect(w, r, "/report/"+url.PathEscape(t.Ticket), "cp.filed")
}

func (s complaintPages) ticket(w http.ResponseWriter, r *http.Request) {
	t, err := s.svc.Complaints.Follow(r.Context(), r.PathValue("ticket"))
	if err != nil {
		s.render(w, r, "cp_ticket", s.page(r, "cp.ticket.unknown", nil), httpx.StatusOf(err))
		return
	}
	s.render(w, r, "cp_ticket", s.page(r, "cp.ticket.title", t))
}

type cpListData struct {
	Items  []complaints.Complaint
	Status string
}

func (s complaintPages) list(w http.ResponseWriter, r *http.Request) {
	st := r.URL.Query().Get("status")
	list, err := s.svc.Complaints.List(r.Context(), httpx.Actor(r), complaints.Filter{Status: st, Limit: 100})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "cp_list", s.page(r, "cp.list", cpListData{Items: list, Status: st}))
}

type cpViewData struct {
	C         complaints.Complaint
	CanHandle bool
	CanCase   bool
	CaseLink  string
}

func (s complaintPages) view(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	c, err := s.svc.Complaints.Get(r.Context(), a, pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := cpViewData{C: c, CanHandle: a.Can(auth.ActComplaintHandle) && len(c.Next) > 0, CanCase: a.Can(auth.ActCaseWrite) && c.CaseID == 0}
	q := url.Values{"source": {"complaint"}, "source_id": {c.Ticket}, "summary": {c.Description}}
	if c.OperatorCode != "" {
		q.Set("operator_code", c.OperatorCode)
	}
	d.CaseLink = "/cases/new?" + q.Encode()
	s.render(w, r, "cp_view", s.page(r, "cp.view", d))
}

func (s complaintPages) step(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id := pathInt(r, "id")
	in := complaints.StepInput{Step: r.PostForm.Get("step"), Assignee: strings.TrimSpace(r.PostForm.Get("assignee")), Reply: r.PostForm.Get("reply")}
	to := fmt.Sprintf("/complaints/%d", id)
	if _, err := s.svc.Complaints.Step(r.Context(), httpx.Actor(r), id, in); err != nil {
		s.refuse(w, r, err, s.view, to)
		return
	}
	redirect(w, r, to, "cp.stepped")
}

// photo serves a complaint's photo to the officials who may see it.
func (s complaintPages) photo(w http.ResponseWriter, r *http.Request) {
	rc, ctype, err := s.svc.Complaints.Photo(r.Context(), httpx.Actor(r), pathInt(r, "id"), r.PathValue("sha"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, _ = io.Copy(w, rc)
}
