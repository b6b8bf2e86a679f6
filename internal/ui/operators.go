package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// operatorPages: the operator record (list, page, details form, documents,
// submission for review).
type operatorPages struct{ *Server }

func (s operatorPages) routes() []route {
	return []route{
		{"GET /my/operator", loggedIn, s.myOperator},
		{"GET /operators", loggedIn, s.list},
		{"GET /operators/{id}", loggedIn, s.view},
		{"GET /operators/{id}/edit", loggedIn, s.editForm},
		{"POST /operators/{id}/edit", loggedIn, s.editSubmit},
		{"GET /operators/{id}/change", loggedIn, s.changeForm},
		{"POST /operators/{id}/change", loggedIn, s.changeSubmit},
		{"POST /operators/{id}/documents", loggedIn, s.upload},
		{"POST /operators/{id}/submit", loggedIn, s.submit},
	}
}

// errNoOperator answers pages that need the actor's operator when there is none.
var errNoOperator = platform.NotFound("您的账号未关联生产经营主体", "your account is not linked to an operator")

func (s operatorPages) myOperator(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	if a.OperatorID == 0 {
		s.fail(w, r, errNoOperator)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/operators/%d", a.OperatorID), http.StatusSeeOther)
}

func (s operatorPages) submit(w http.ResponseWriter, r *http.Request) {
	id := pathInt(r, "id")
	_, err := s.svc.Operators.Submit(r.Context(), httpx.Actor(r), id)
	s.afterAction(w, r, err, fmt.Sprintf("/operators/%d", id), "op.submitted")
}

// opOperatorData is what the operator page shows.
type opOperatorData struct {
	Op          operator.Operator
	RegionName  string
	Documents   []operator.Document
	Decisions   []operator.Decision
	Changes     []operator.Change
	Agreements  []operator.Agreement
	Choices     opFormChoices
	Own         bool // the actor's own operator
	CanEdit     bool
	CanSubmit   bool
	CanReview   bool
	CanSuspend  bool
	CanIssue    bool
	CanStaff    bool
	CanChange   bool
	ShowDocs    bool
	Verified    map[int64]bool
	PendingDiff bool
	Supervision *opSupervisionData // inspections, cases, credit (nil: not shown)
}

func (s operatorPages) view(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	ctx := r.Context()
	ops := s.svc.Operators
	o, err := ops.Get(ctx, a, pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res := auth.Resource{Region: o.RegionCode, OperatorID: o.ID}
	d := opOperatorData{Op: o, RegionName: s.regionName(r, o.RegionCode), Choices: opChoices("", ""), Own: a.OperatorID == o.ID, Verified: map[int64]bool{}}
	mainAccount := auth.Authorize(a, auth.ActOperatorEdit, res) == nil
	d.CanEdit = mainAccount && (o.Status == operator.StatusDraft || o.Status == operator.StatusRejected)
	d.CanSubmit = d.CanEdit
	d.CanChange = mainAccount && (o.Status == operator.StatusApproved || o.Status == operator.StatusSuspended)
	d.CanStaff = auth.Authorize(a, auth.ActStaffManage, res) == nil
	d.CanReview = auth.Authorize(a, auth.ActOperatorReview, res) == nil
	d.CanSuspend = auth.Authorize(a, auth.ActOperatorSuspend, res) == nil
	d.CanIssue = auth.Authorize(a, auth.ActAgreementIssue, res) == nil && o.Status == operator.StatusApproved
	if auth.Authorize(a, auth.ActDocumentRead, res) == nil {
		d.ShowDocs = true
		if d.Documents, err = ops.Documents(ctx, a, o.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if d.Decisions, err = ops.Decisions(ctx, a, o.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, dec := range d.Decisions {
		if dec.Signature != "" {
			d.Verified[dec.ID] = ops.VerifyDecision(dec)
		}
	}
	if d.Changes, err = ops.Changes(ctx, a, o.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, c := range d.Changes {
		d.PendingDiff = d.PendingDiff || c.Status == "pending"
	}
	if auth.Authorize(a, auth.ActAgreementRead, res) == nil {
		f := operator.AgreementFilter{OperatorID: o.ID, Region: o.RegionCode}
		if list, err := ops.Agreements(ctx, a, f); err == nil {
			d.Agreements = list
		}
		if d.CanIssue {
			if t, err := ops.TemplateFor(ctx, o.RegionCode); err == nil {
				for _, ag := range d.Agreements {
					if ag.Status == "issued" || ag.TemplateID == t.ID {
						d.CanIssue = false
					}
				}
			}
		}
	}
	if d.Supervision, err = s.operatorSupervision(r, o); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "op_view", s.page(r, "op.page", &d))
}

func (s operatorPages) editForm(w http.ResponseWriter, r *http.Request) { s.showEditForm(w, r, false) }

func (s operatorPages) changeForm(w http.ResponseWriter, r *http.Request) { s.showEditForm(w, r, true) }

// showEditForm shows the details form: editing a draft, or requesting a
// change of an approved operator.
func (s operatorPages) showEditForm(w http.ResponseWriter, r *http.Request, change bool) {
	a := httpx.Actor(r)
	id := pathInt(r, "id")
	o, err := s.svc.Operators.Get(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.svc.Operators.Editable(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ch := opChoices("", r.URL.Path)
	ch.Change = change
	ch.Operator = &o
	title := "op.edit"
	if ch.Change {
		title = "op.change.request"
	}
	p := s.page(r, title, ch)
	p.Form = opFormFromDetails(d)
	s.render(w, r, "op_edit", p)
}

func (s operatorPages) editSubmit(w http.ResponseWriter, r *http.Request) { s.saveDetails(w, r, false) }

func (s operatorPages) changeSubmit(w http.ResponseWriter, r *http.Request) {
	s.saveDetails(w, r, true)
}

// saveDetails saves a draft's details, or files a change request.
func (s operatorPages) saveDetails(w http.ResponseWriter, r *http.Request, change bool) {
	_ = r.ParseForm()
	a := httpx.Actor(r)
	id := pathInt(r, "id")
	d := opDetailsFromForm(r.PostForm)
	var err error
	msg := "common.saved"
	if change {
		_, err = s.svc.Operators.RequestChange(r.Context(), a, id, d)
		msg = "op.change.sent"
	} else {
		_, err = s.svc.Operators.Update(r.Context(), a, id, d)
	}
	if err != nil {
		if httpx.StatusOf(err) == http.StatusNotFound || httpx.StatusOf(err) == http.StatusForbidden {
			s.fail(w, r, err)
			return
		}
		o, _ := s.svc.Operators.Get(r.Context(), a, id)
		ch := opChoices("", r.URL.Path)
		ch.Change, ch.Operator = change, &o
		title := "op.edit"
		if change {
			title = "op.change.request"
		}
		p := s.page(r, title, ch)
		st := formError(p, r, err)
		s.render(w, r, "op_edit", p, st)
		return
	}
	redirect(w, r, fmt.Sprintf("/operators/%d", id), msg)
}

func (s operatorPages) upload(w http.ResponseWriter, r *http.Request) {
	id := pathInt(r, "id")
	page := fmt.Sprintf("/operators/%d", id)
	if err := r.ParseMultipartForm(2 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = operator.ErrDocumentTooLarge
		} else {
			err = errNoFile
		}
		s.refuse(w, r, err, s.view, page)
		return
	}
	defer r.MultipartForm.RemoveAll()
	f, hdr, err := r.FormFile("file")
	if err != nil {
		s.refuse(w, r, errNoFile, s.view, page)
		return
	}
	defer f.Close()
	if _, err := s.svc.Operators.AddDocument(r.Context(), httpx.Actor(r), id, r.FormValue("kind"), hdr.Filename, f); err != nil {
		s.refuse(w, r, err, s.view, page)
		return
	}
	redirect(w, r, page, "op.doc.uploaded")
}

// errNoFile refuses an upload that carries no file (or an empty one).
var errNoFile = platform.Invalid(platform.FieldError{Field: "file", Code: "required", ZH: "请选择要上传的文件", EN: "choose a file to upload"})

type opListData struct {
	Operators []operator.Operator
	Statuses  []string
	Kinds     []string
	Flags     []string
	Export    string
	CanExport bool
}

func (s operatorPages) list(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	q := r.URL.Query()
	offset, fetch, pg := listPage(r)
	f := operator.ListFilter{Region: q.Get("region"), Status: q.Get("status"), Q: q.Get("q"), Kind: q.Get("kind"), Product: q.Get("product"), Flag: q.Get("flag"),
		Limit: fetch, Offset: offset}
	list, err := s.svc.Operators.List(r.Context(), a, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list = list[:pg.more(len(list))]
	eq := url.Values{}
	for k, v := range q {
		if k != "page" && k != "msg" {
			eq[k] = v
		}
	}
	p := s.page(r, "op.list", opListData{Operators: list, Statuses: operator.Statuses, Kinds: operator.Kinds,
		Flags: []string{"key", "leading", "demo", "certified"}, Export: "/api/v1/operators/export.xlsx?" + eq.Encode(), CanExport: a.Can(auth.ActOperatorExport)})
	p.Pager = pg
	s.render(w, r, "op_list", p)
}

// afterAction ends a button's POST on an operator's page: on success to
// the page to (or the review queue the reviewer came from), with a flash; on
// a refusal the operator's page again, the form's errors next to its fields.
func (s *Server) afterAction(w http.ResponseWriter, r *http.Request, err error, to, msg string) {
	if err != nil {
		s.refuse(w, r, err, operatorPages{s}.view, to)
		return
	}
	_ = r.ParseForm()
	if r.PostForm.Get("back") == "reviews" {
		to = "/reviews"
	}
	redirect(w, r, to, msg)
}
