// Package ui serves the server-rendered pages (zh-CN first, English switch).
// Handlers are thin: read the form, call a feature service, render a template.
// Pages work without JavaScript; static/*.js only enhances.
package ui

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"agtrace/internal/assess"
	"agtrace/internal/auth"
	"agtrace/internal/complaints"
	"agtrace/internal/exchange"
	"agtrace/internal/exchange/port"
	"agtrace/internal/feedback"
	"agtrace/internal/httpx"
	"agtrace/internal/incident"
	"agtrace/internal/insight"
	"agtrace/internal/monitoring"
	"agtrace/internal/operator"
	"agtrace/internal/region"
	"agtrace/internal/supervision"
	"agtrace/internal/trace"
)

//go:embed templates
var templateFS embed.FS

//go:embed all:static
var staticFS embed.FS

// Services are the feature services pages call.
type Services struct {
	Auth      *auth.Service
	Regions   *region.Service
	Calendar  *region.Calendar
	Operators *operator.Service
	Trace     *trace.Service
	// Supervision: inspections, draws, cases, credit, monitoring (nil: pages not served)
	Supervision *supervision.Service
	// Monitoring: residue limits (nil: pages not served)
	Monitoring *monitoring.Service
	// Complaints: the public's reports (nil: pages not served)
	Complaints *complaints.Service
	// Feedback: users' reports about the platform (nil: pages not served)
	Feedback *feedback.Service
	// Insight: the dashboards (nil: pages not served)
	Insight *insight.Service
	// Assess: the performance assessment (nil: pages not served)
	Assess *assess.Service
	// Node: the province ↔ national exchange (nil: pages not served)
	Node *exchange.Node
	// Port: the standard import/export (nil: pages not served)
	Port *port.Service
	// Incidents: emergency command (nil: pages not served)
	Incidents *incident.Service
}

// Options configure the pages.
type Options struct {
	Version       string
	PublicURL     string
	SecureCookies bool
}

// Server renders pages.
type Server struct {
	svc       Services
	opts      Options
	pages     map[string]*template.Template
	scanPages *renderedPages // the public scan pages as rendered (public_scan.go)
	provinces *provinceList  // the scan page's share form (public_scan.go)
	heads     *layoutHeads   // the scan pages' compressed layout heads (public_scan_page.go)
	// variants name the stored scan pages by the page's templates and
	// words: stored pages of another version are never served
	// (public_scan_page.go)
	variants scanVariants
}

// access says who may reach a route.
type access int

const (
	anyone   access = iota // public pages (and pages that adapt to a visitor)
	loggedIn               // redirects to the login page without an actor
)

// route is one page route: a ServeMux pattern and its handler.
type route struct {
	pattern string
	access  access
	handler http.HandlerFunc
}

// pageGroup is the pages of one file with their small route table.
type pageGroup interface {
	routes() []route
}

// Register parses the templates and adds every page route to mux.
func Register(mux *http.ServeMux, svc Services, opts Options) error {
	s := &Server{svc: svc, opts: opts, scanPages: &renderedPages{}, provinces: &provinceList{}, heads: &layoutHeads{}, variants: newScanVariants(scanPageVersion())}
	if _, err := loadCatalogues(); err != nil {
		return err
	}
	if err := s.parse(); err != nil {
		return err
	}
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	for _, g := range s.groups() {
		for _, rt := range g.routes() {
			h := rt.handler
			if rt.access == loggedIn {
				h = s.requireLogin(h)
			}
			mux.HandleFunc(rt.pattern, h)
		}
	}
	return nil
}

// groups lists the page groups whose services are present.
func (s *Server) groups() []pageGroup {
	gs := []pageGroup{homePages{s}, sessionPages{s}, accountPages{s}, adminUserPages{s}, adminCalendarPages{s}, adminAuditPages{s}, helpPages{s}, integrationPages{s}}
	if s.svc.Operators != nil {
		gs = append(gs, registerPages{s}, operatorPages{s}, reviewPages{s}, staffPages{s}, rosterPages{s}, agreementPages{s}, operatorPublicPages{s})
	}
	if s.svc.Trace != nil {
		gs = append(gs, batchPages{s}, transferPages{s}, combinePages{s}, smallholderPages{s}, marketPages{s}, tracePages{s}, findingPages{s}, marketPlacePages{s}, tracePublicPages{s})
	}
	if s.svc.Supervision != nil {
		gs = append(gs, inspectionPages{s}, drawPages{s}, casePages{s}, monitorPages{s})
	}
	if s.svc.Monitoring != nil {
		gs = append(gs, limitPages{s}, samplePages{s})
	}
	if s.svc.Complaints != nil {
		gs = append(gs, complaintPages{s})
	}
	if s.svc.Feedback != nil {
		gs = append(gs, feedbackPages{s})
	}
	if s.svc.Insight != nil {
		gs = append(gs, dashboardPages{s}, warningPages{s})
	}
	if s.svc.Incidents != nil {
		gs = append(gs, incidentPages{s})
	}
	if s.svc.Assess != nil {
		gs = append(gs, assessPages{s})
	}
	if s.svc.Node != nil {
		gs = append(gs, exchangePages{s})
	}
	if s.svc.Port != nil {
		gs = append(gs, portPages{s})
	}
	return gs
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// parse builds one template set per page: the layout and partials plus the page.
func (s *Server) parse() error {
	s.pages = map[string]*template.Template{}
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout/*.html")
	if err != nil {
		return fmt.Errorf("ui: layout templates: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return err
	}
	for _, f := range files {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return fmt.Errorf("ui: %s: %w", f, err)
		}
		s.pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return nil
}

// Page is what every template receives.
type Page struct {
	Lang    string
	Title   string
	Actor   *auth.Actor
	Path    string
	Query   url.Values
	Flash   string
	Error   string
	Fields  map[string]string // field → message, for forms re-rendered after a refusal
	Form    url.Values        // submitted values, to refill a form
	FormID  string            // the refused form's "_form" name, on pages with several forms
	Pager   *pager            // a list's page links (lists.go)
	Version string
	Data    any
	status  int // the answer's status when no render call names one (a refusal's)
	regions func(code string) string
}

// Region is a region's full name (山东省烟台市栖霞市), for lists and forms
// that hold a code; the code itself when it is unknown.
func (p *Page) Region(code string) string {
	if p.regions == nil || code == "" {
		return code
	}
	return p.regions(code)
}

// Here is the page's path with its query (what a language switch returns to).
func (p *Page) Here() string {
	if q := p.Query.Encode(); q != "" {
		return p.Path + "?" + q
	}
	return p.Path
}

// T translates key into the page's language.
func (p *Page) T(key string, args ...any) string { return translate(p.Lang, key, args...) }

// DetailName is the localized name of a finding's detail field ("tr.fd."
// + field), or the field itself when the catalogues do not name it yet.
func (p *Page) DetailName(field string) string {
	if s := p.T("tr.fd." + field); s != "tr.fd."+field {
		return s
	}
	return field
}

// FieldName is the localized name of a form field as a refusal names it:
// "quantity" → 数量, "market.name" → 市场名称, "inputs[0].interval_days" →
// 投入品 1 · 间隔期（天）. Each part is the catalogue's "field." text (a
// finding detail's, else the part itself); list items count from 1.
func (p *Page) FieldName(field string) string {
	if s := p.T("field." + field); s != "field."+field {
		return s
	}
	var parts []string
	for _, seg := range strings.Split(field, ".") {
		name, index := seg, ""
		if i := strings.Index(seg, "["); i > 0 && strings.HasSuffix(seg, "]") {
			name = seg[:i]
			if n, err := strconv.Atoi(seg[i+1 : len(seg)-1]); err == nil {
				index = " " + strconv.Itoa(n+1)
			}
		}
		label := p.T("field." + name)
		if label == "field."+name {
			label = p.DetailName(name)
		}
		parts = append(parts, label+index)
	}
	return strings.Join(parts, " · ")
}

// Other returns the language the switch link leads to.
func (p *Page) Other() string {
	if p.Lang == "en" {
		return "zh"
	}
	return "en"
}

// FormValue returns a submitted value (to refill forms).
func (p *Page) FormValue(k string) string {
	if p.Form == nil {
		return ""
	}
	return p.Form.Get(k)
}

// Refused reports whether form (its "_form" name) is the one refused: it
// shows its field messages and refills what was typed; the other forms of
// the page start empty.
func (p *Page) Refused(form string) bool { return p.Form != nil && p.FormID == form }

// In returns a submitted value of form only if that form was the refused
// one (pages with several forms sharing field names).
func (p *Page) In(form, k string) string {
	if !p.Refused(form) {
		return ""
	}
	return p.Form.Get(k)
}

// RoleName is the localized role name.
func (p *Page) RoleName(role auth.Role) string { return translate(p.Lang, "role."+string(role)) }

// Can reports whether the actor may do an action (menus).
func (p *Page) Can(act string) bool { return p.Actor.Can(auth.Action(act)) }

func langOf(r *http.Request) string {
	if c, err := r.Cookie("lang"); err == nil && c.Value == "en" {
		return "en"
	}
	return "zh"
}

func (s *Server) page(r *http.Request, titleKey string, data any) *Page {
	p := &Page{Lang: langOf(r), Actor: httpx.Actor(r), Path: r.URL.Path, Query: r.URL.Query(), Version: s.opts.Version, Data: data}
	p.Title = p.T(titleKey)
	p.regions = func(code string) string { return s.regionName(r, code) }
	if m := r.URL.Query().Get("msg"); m != "" {
		p.Flash = p.T(m)
	}
	if ref, ok := r.Context().Value(refusalKey{}).(*refusal); ok {
		p.status = formError(p, ref.r, ref.err)
		p.FormID = ref.r.PostForm.Get("_form")
	}
	return p
}

// refusal is a refused form post on its way back to the page that holds
// the form (Server.refuse).
type refusal struct {
	r   *http.Request // the POST, its form parsed
	err error
}

type refusalKey struct{}

// refuse answers a refused POST with the page that holds the form, never a
// dead end: show (that page's GET handler) renders it again as if page (its
// path and query) had been asked for, and every Page it builds carries the reason on top, each
// field's message next to its field and what was typed (Page.Form, FormID),
// under the refusal's status. A refusal no form can fix — not logged in,
// forbidden, not found, the service unavailable — gets the error page.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error, show http.HandlerFunc, page string) {
	switch st := httpx.StatusOf(err); {
	case st == http.StatusUnauthorized, st == http.StatusForbidden, st == http.StatusNotFound, st >= http.StatusInternalServerError:
		s.fail(w, r, err)
		return
	}
	if r.PostForm == nil {
		_ = r.ParseForm()
	}
	g := r.Clone(context.WithValue(r.Context(), refusalKey{}, &refusal{r: r, err: err}))
	g.Method = http.MethodGet
	u := *r.URL
	u.Path, u.RawQuery, _ = strings.Cut(page, "?")
	g.URL = &u
	show(w, g)
}

// render writes a page with status 200 (or status if given).
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, p *Page, status ...int) {
	b, err := s.renderBytes(name, p)
	if err != nil {
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if w.Header().Get("Cache-Control") == "" { // a public page sets its own
		w.Header().Set("Cache-Control", "no-store")
	}
	if len(status) > 0 {
		w.WriteHeader(status[0])
	} else if p.status != 0 {
		w.WriteHeader(p.status)
	}
	_, _ = w.Write(b)
}

// renderBytes executes a page into bytes (logged when it fails).
func (s *Server) renderBytes(name string, p *Page) ([]byte, error) {
	t, ok := s.pages[name]
	if !ok {
		slog.Error("ui: unknown page", "page", name)
		return nil, fmt.Errorf("ui: unknown page %s", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		slog.Error("ui: render", "page", name, "err", err)
		return nil, err
	}
	return buf.Bytes(), nil
}

// fail renders the error page for err (or the login page when unauthenticated).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	st := httpx.StatusOf(err)
	if st == http.StatusUnauthorized {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	prob := httpx.ProblemOf(r, err)
	if prob.Status == httpx.StatusClientClosed {
		return // nobody is waiting for the page
	}
	p := s.page(r, "common.error", nil)
	p.Error = prob.Detail
	if p.Lang == "zh" && prob.DetailZH != "" {
		p.Error = prob.DetailZH
	}
	if prob.Status == http.StatusServiceUnavailable {
		// An outage is never shown as "not found": say the service is busy.
		w.Header().Set("Retry-After", strconv.Itoa(httpx.RetryAfterSeconds))
		p.Title = p.T("common.busy")
	}
	p.Fields = fieldMap(p.Lang, err)
	p.Data = errorBack(r)
	s.render(w, r, "error", p, prob.Status)
}

// errorBack is where the error page's back link leads: the page the request
// came from when it is one of ours, else the home page.
func errorBack(r *http.Request) string {
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Host != r.Host || ref.Path == r.URL.Path {
		return "/"
	}
	back := ref.Path
	if ref.RawQuery != "" {
		back += "?" + ref.RawQuery
	}
	return safeNext(back)
}

// fieldMap turns a validation error into field → localized message.
func fieldMap(lang string, err error) map[string]string {
	fields := httpx.FieldErrors(err)
	if len(fields) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, f := range fields {
		msg := f.EN
		if lang == "zh" {
			msg = f.ZH
		}
		if old, ok := m[f.Field]; ok {
			msg = old + "；" + msg
		}
		m[f.Field] = msg
	}
	return m
}

// formError fills p with the refusal so the same form can be shown again.
func formError(p *Page, r *http.Request, err error) int {
	prob := httpx.ProblemOf(r, err)
	p.Error = prob.Detail
	if p.Lang == "zh" && prob.DetailZH != "" {
		p.Error = prob.DetailZH
	}
	p.Fields = fieldMap(p.Lang, err)
	p.Form = r.PostForm
	return prob.Status
}

// requireLogin wraps a page handler that needs an actor.
func (s *Server) requireLogin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if httpx.Actor(r) == nil {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(w, r)
	}
}

// redirect after a successful POST (PRG), with an optional flash message key.
func redirect(w http.ResponseWriter, r *http.Request, to, msg string) {
	if msg != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "msg=" + url.QueryEscape(msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// safeNext keeps a redirect target from the request only if it is a
// same-origin path (httpx.SafeRedirect, the one check for every redirect).
func safeNext(next string) string { return httpx.SafeRedirect(next) }

// setSession gives the browser its session cookie.
func (s *Server) setSession(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: httpx.SessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode, Expires: expires})
}

// regionName is the full name of a region code ("全国" for the root).
func (s *Server) regionName(r *http.Request, code string) string {
	if code == "" || code == "000000" {
		return translate(langOf(r), "region.national")
	}
	n, err := s.svc.Regions.FullName(r.Context(), code)
	if err != nil {
		return code
	}
	return n
}

// pathInt is an integer path value (0 if it is not one).
func pathInt(r *http.Request, name string) int64 {
	id, _ := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id
}
