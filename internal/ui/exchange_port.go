package ui

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/exchange/port"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
)

// portPages: the standard import and export (数据交换 · 导入导出) for
// administrators and integration accounts: the export form (kind, region,
// dates, format), the import form (file, mode), the job list with live
// progress, and a job's page with its refused rows.
type portPages struct{ *Server }

func (s portPages) routes() []route {
	return []route{
		{"GET /admin/exchange/port", loggedIn, s.show},
		{"GET /admin/exchange/port/export", loggedIn, s.export},
		{"POST /admin/exchange/port/import", loggedIn, s.upload},
		{"GET /admin/exchange/port/jobs/{id}", loggedIn, s.job},
		{"GET /admin/exchange/port/jobs/{id}/progress", loggedIn, s.progress},
	}
}

type portData struct {
	Kinds, Modes []string
	Jobs         []port.Job
	CanExport    bool
}

// show is the page: the two forms and the actor's jobs (everyone's for an administrator).
func (s portPages) show(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	if err := auth.Authorize(a, auth.ActExchangeImport, auth.Resource{}); err != nil {
		s.fail(w, r, err)
		return
	}
	offset, fetch, pg := listPage(r)
	jobs, err := s.svc.Port.Jobs(r.Context(), a, fetch, offset)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "xp.title", portData{Kinds: port.Kinds, Modes: port.Modes, Jobs: jobs[:pg.more(len(jobs))], CanExport: a.Can(auth.ActExchangeExport)})
	p.Pager = pg
	s.render(w, r, "exchange_port", p)
}

// export streams the chosen export as a download (the API's export).
func (s portPages) export(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ex, err := s.svc.Port.Export(r.Context(), httpx.Actor(r), port.ExportQuery{Kind: q.Get("kind"), Region: strings.TrimSpace(q.Get("region")),
		From: q.Get("from"), To: q.Get("to"), Format: q.Get("format")})
	if err != nil {
		s.refuseGet(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ex.ContentType())
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", ex.FileName()))
	w.Header().Set("Cache-Control", "no-store")
	if err := ex.WriteTo(r.Context(), w); err != nil {
		slog.Warn("ui: export interrupted", "file", ex.FileName(), "err", err)
	}
}

// refuseGet shows a refused export on the page, its form refilled.
func (s portPages) refuseGet(w http.ResponseWriter, r *http.Request, err error) {
	g := r.Clone(r.Context())
	g.Method = http.MethodPost
	g.PostForm = r.URL.Query()
	g.PostForm.Set("_form", "export")
	s.refuse(w, g, err, s.show, "/admin/exchange/port")
}

// upload starts an import: small files are done when the job page opens,
// larger ones show their progress there.
func (s portPages) upload(w http.ResponseWriter, r *http.Request) {
	in, err := s.uploaded(r)
	if err == nil {
		var j port.Job
		if j, err = s.svc.Port.Import(r.Context(), httpx.Actor(r), in); err == nil {
			redirect(w, r, fmt.Sprintf("/admin/exchange/port/jobs/%d", j.ID), "xp.started")
			return
		}
	}
	if r.PostForm == nil {
		r.PostForm = url.Values{}
	}
	r.PostForm.Set("_form", "import")
	s.refuse(w, r, err, s.show, "/admin/exchange/port")
}

func (s portPages) uploaded(r *http.Request) (port.ImportInput, error) {
	if err := r.ParseMultipartForm(2 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return port.ImportInput{}, platform.TooLarge("文件过大（最大 10 MB）", "file too large (at most 10 MB)")
		}
		return port.ImportInput{}, platform.BadRequest("请选择要导入的文件", "choose a file to import")
	}
	r.PostForm = r.MultipartForm.Value
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return port.ImportInput{}, platform.Invalid(platform.FieldError{Field: "file", Code: "required", ZH: "请选择文件", EN: "a file is required"})
	}
	defer f.Close()
	defer r.MultipartForm.RemoveAll()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(f, port.MaxFileBytes+1)); err != nil {
		return port.ImportInput{}, platform.BadRequest("无法读取上传的文件", "cannot read the upload")
	}
	return port.ImportInput{Kind: r.FormValue("kind"), Mode: r.FormValue("mode"), FileName: hdr.Filename, Body: buf.Bytes()}, nil
}

// job is one job's page: its counts, progress and refused rows.
func (s portPages) job(w http.ResponseWriter, r *http.Request) {
	j, err := s.svc.Port.Job(r.Context(), httpx.Actor(r), pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "exchange_port_job", s.page(r, "xp.job", j))
}

// progress is a running job's progress panel alone, which static/port.js
// fetches every second or two until the job ends.
func (s portPages) progress(w http.ResponseWriter, r *http.Request) {
	j, err := s.svc.Port.Job(r.Context(), httpx.Actor(r), pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, ok := s.pages["exchange_port_job"]
	if !ok {
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "xp_job", s.page(r, "xp.job", j)); err != nil {
		slog.Error("ui: render", "page", "xp_job", "err", err)
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}
