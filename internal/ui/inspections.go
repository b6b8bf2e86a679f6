package ui

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/supervision"
)

// inspectionPages: the inspector's phone form reached from an operator's
// scanned e-ID, the list of inspections and tasks, one inspection.
type inspectionPages struct{ *Server }

func (s inspectionPages) routes() []route {
	return []route{
		{"GET /inspections", loggedIn, s.list},
		{"GET /operators/{id}/inspect", loggedIn, s.form},
		{"POST /operators/{id}/inspect", loggedIn, s.record},
		{"GET /inspections/{id}", loggedIn, s.view},
		{"POST /inspections/{id}/photos", loggedIn, s.addPhotos},
		{"GET /inspections/{id}/photos/{photo}", loggedIn, s.photo},
	}
}

type svInspectionsData struct {
	Items   []supervision.Inspection
	Tasks   []supervision.Task
	Results []string
	Kinds   []string
	Export  string
}

func (s inspectionPages) list(w http.ResponseWriter, r *http.Request) {
	a, q := httpx.Actor(r), r.URL.Query()
	offset, fetch, pg := listPage(r)
	list, err := s.svc.Supervision.Inspections(r.Context(), a, supervision.InspectionFilter{Region: q.Get("region"), Result: q.Get("result"),
		Kind: q.Get("kind"), Inspector: q.Get("inspector"), Limit: fetch, Offset: offset})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := svInspectionsData{Items: list[:pg.more(len(list))], Results: supervision.InspectionResults, Kinds: supervision.InspectionKinds,
		Export: "/api/v1/inspections/export.csv?" + url.Values{"region": {q.Get("region")}, "result": {q.Get("result")}, "kind": {q.Get("kind")}}.Encode()}
	if a.Can(auth.ActInspect) && offset == 0 {
		if d.Tasks, err = s.svc.Supervision.MyTasks(r.Context(), a, supervision.TaskPending); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	p := s.page(r, "sv.inspections", d)
	p.Pager = pg
	s.render(w, r, "sv_inspections", p)
}

// svInspectData is the inspection form.
type svInspectData struct {
	Op        operator.Operator
	Credit    supervision.Credit
	Items     []supervision.CheckItem
	Tasks     []supervision.Task
	Kinds     []string
	Results   []string
	ItemField map[string]string // item key → the field a refusal names for its note
	MaxPhotos int
}

func (s inspectionPages) form(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	ctx := r.Context()
	o, err := s.svc.Operators.Get(ctx, a, pathInt(r, "id"))
	if err == nil {
		err = auth.Authorize(a, auth.ActInspect, auth.Resource{Region: o.RegionCode, OperatorID: o.ID})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := svInspectData{Op: o, Items: s.svc.Supervision.Checklist(ctx, o), Kinds: supervision.InspectionKinds,
		Results: supervision.InspectionResults, ItemField: map[string]string{}, MaxPhotos: 5}
	if d.Credit, err = s.svc.Supervision.Credit(ctx, a, o.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Tasks, err = s.svc.Supervision.PendingTasks(ctx, a, o.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "sv.inspect", &d)
	if p.Form != nil { // a refusal names checklist fields by their position in what was sent
		for i, it := range answeredItems(p.Form, d.Items) {
			d.ItemField[it] = fmt.Sprintf("checklist[%d]", i)
		}
	}
	s.render(w, r, "sv_inspect", p)
}

// answeredItems are the checklist keys answered in a form, in list order.
func answeredItems(f url.Values, items []supervision.CheckItem) []string {
	var out []string
	for _, it := range items {
		if v := f.Get("check." + it.Key); v == "ok" || v == "fail" {
			out = append(out, it.Key)
		}
	}
	return out
}

// inspectionInput reads the form into the service's input.
func (s inspectionPages) inspectionInput(r *http.Request, o operator.Operator) supervision.InspectionInput {
	f := r.PostForm
	in := supervision.InspectionInput{OperatorCode: o.Code, Kind: f.Get("kind"), Result: f.Get("result"), Notes: f.Get("notes")}
	in.RectifyDays, _ = strconv.Atoi(strings.TrimSpace(f.Get("rectify_days")))
	if in.Result == supervision.ResultRectify && in.RectifyDays == 0 && strings.TrimSpace(f.Get("rectify_days")) != "" {
		in.RectifyDays = -1 // "很多" is not a number: refused on the field
	}
	in.TaskID, _ = strconv.ParseInt(f.Get("task_id"), 10, 64)
	in.BatchCodes = f["batch_code"] // blanks kept: a refusal names the box by its index (the service skips them)
	for _, key := range answeredItems(f, s.svc.Supervision.Checklist(r.Context(), o)) {
		in.Checklist = append(in.Checklist, supervision.CheckResult{Item: key, OK: f.Get("check."+key) == "ok", Note: f.Get("note." + key)})
	}
	in.Lat, in.Lng, in.AccuracyM = optFloat(f.Get("lat")), optFloat(f.Get("lng")), optFloat(f.Get("accuracy_m"))
	return in
}

func optFloat(s string) *float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return nil
	}
	return &v
}

func (s inspectionPages) record(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	back := fmt.Sprintf("/operators/%d/inspect", pathInt(r, "id"))
	photos, done, err := formPhotos(r)
	defer done()
	if err != nil {
		s.refuse(w, r, err, s.form, back)
		return
	}
	o, err := s.svc.Operators.Get(r.Context(), a, pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	x, err := s.svc.Supervision.RecordInspection(r.Context(), a, s.inspectionInput(r, o), photos...)
	if err != nil {
		s.refuse(w, r, err, s.form, back)
		return
	}
	redirect(w, r, fmt.Sprintf("/inspections/%d", x.ID), "sv.inspection.recorded")
}

// formPhotos reads the "photos" files of a multipart form (none is fine).
func formPhotos(r *http.Request) ([]supervision.PhotoUpload, func(), error) {
	none := func() {}
	if err := r.ParseMultipartForm(2 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, none, platform.TooLarge("照片总大小超出限制：每张不超过 10 MB，每次最多 5 张", "photos too large: at most 10 MB each, 5 at a time")
		}
		if err := r.ParseForm(); err != nil {
			return nil, none, platform.BadRequest("无法读取表单", "cannot read the form")
		}
		return nil, none, nil
	}
	var out []supervision.PhotoUpload
	var closers []func() error
	done := func() {
		for _, c := range closers {
			_ = c()
		}
		_ = r.MultipartForm.RemoveAll()
	}
	for _, h := range r.MultipartForm.File["photos"] {
		if h.Size == 0 && h.Filename == "" {
			continue // the empty file input of a form sent without photos
		}
		f, err := h.Open()
		if err != nil {
			return nil, done, platform.BadRequest("读取上传文件失败", "cannot read the uploaded file")
		}
		closers = append(closers, f.Close)
		out = append(out, supervision.PhotoUpload{Filename: h.Filename, Body: f})
	}
	return out, done, nil
}

type svInspectionData struct {
	X           supervision.Inspection
	Verified    bool
	CanAddPhoto bool
	CanFileCase bool
}

func (s inspectionPages) view(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	x, err := s.svc.Supervision.Inspection(r.Context(), a, pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := svInspectionData{X: x, Verified: s.svc.Supervision.VerifyInspection(x),
		CanAddPhoto: x.InspectorLogin == a.Username && len(x.Photos) < supervision.MaxPhotos,
		CanFileCase: auth.Authorize(a, auth.ActCaseWrite, auth.Resource{Region: x.RegionCode}) == nil && x.Result != supervision.ResultPass}
	s.render(w, r, "sv_inspection", s.page(r, "sv.inspection", d))
}

func (s inspectionPages) addPhotos(w http.ResponseWriter, r *http.Request) {
	to := fmt.Sprintf("/inspections/%d", pathInt(r, "id"))
	photos, done, err := formPhotos(r)
	defer done()
	if err == nil {
		_, err = s.svc.Supervision.AddPhotos(r.Context(), httpx.Actor(r), pathInt(r, "id"), photos...)
	}
	if err != nil {
		s.refuse(w, r, err, s.view, to)
		return
	}
	redirect(w, r, to, "sv.photos.added")
}

func (s inspectionPages) photo(w http.ResponseWriter, r *http.Request) {
	p, f, err := s.svc.Supervision.OpenPhoto(r.Context(), httpx.Actor(r), pathInt(r, "id"), pathInt(r, "photo"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", p.ContentType)
	w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.Copy(w, f)
}

// opSupervisionData is what an operator's page shows of supervision to
// officials with jurisdiction and to the operator itself.
type opSupervisionData struct {
	Credit      *supervision.Credit
	Inspections []supervision.Inspection
	Cases       []supervision.Case
	CanInspect  bool
	CanFileCase bool
}

// operatorSupervision reads the supervision section of an operator's page
// (nil parts when the actor may not see them).
func (s *Server) operatorSupervision(r *http.Request, o operator.Operator) (*opSupervisionData, error) {
	if s.svc.Supervision == nil {
		return nil, nil
	}
	a, ctx := httpx.Actor(r), r.Context()
	res := auth.Resource{Region: o.RegionCode, OperatorID: o.ID}
	d := &opSupervisionData{CanInspect: auth.Authorize(a, auth.ActInspect, res) == nil && o.Code != "",
		CanFileCase: auth.Authorize(a, auth.ActCaseWrite, res) == nil && o.Code != ""}
	if auth.Authorize(a, auth.ActCreditRead, res) == nil {
		c, err := s.svc.Supervision.Credit(ctx, a, o.ID)
		if err != nil {
			return nil, err
		}
		d.Credit = &c
	}
	var err error
	if auth.Authorize(a, auth.ActInspectionRead, res) == nil {
		if d.Inspections, err = s.svc.Supervision.Inspections(ctx, a, supervision.InspectionFilter{OperatorID: o.ID, Limit: 20}); err != nil {
			return nil, err
		}
	}
	if auth.Authorize(a, auth.ActCaseRead, res) == nil {
		if d.Cases, err = s.svc.Supervision.Cases(ctx, a, supervision.CaseFilter{OperatorID: o.ID, Limit: 20}); err != nil {
			return nil, err
		}
	}
	return d, nil
}
