package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"agtrace/internal/codes"
	"agtrace/internal/httpx"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/region"
	"agtrace/internal/trace"
)

// operatorPublicPages: the public e-ID page a scanned operator code opens.
type operatorPublicPages struct{ *Server }

func (s operatorPublicPages) routes() []route {
	return []route{
		{"GET /o/{code}", anyone, s.operator},
	}
}

// opPublicData is the public e-ID page.
type opPublicData struct {
	Op      operator.Public
	Code    string
	Invalid bool
	Credit  string // the credit level in force ("" when not known)
}

func (s operatorPublicPages) operator(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("code")
	if _, err := codes.ParseOperatorCode(raw); err != nil {
		p := s.page(r, "op.invalid", opPublicData{Code: raw, Invalid: true})
		var ce *codes.Error
		if errors.As(err, &ce) {
			p.Error = ce.ZH
			if p.Lang == "en" {
				p.Error = ce.EN
			}
		}
		s.render(w, r, "op_public", p, http.StatusUnprocessableEntity)
		return
	}
	ctx := r.Context()
	o, err := s.svc.Operators.ByCode(ctx, raw)
	if err != nil && !platform.IsNotFound(err) {
		s.fail(w, r, err) // an outage is not "no such operator"
		return
	}
	if err != nil {
		p := s.page(r, "op.notfound", opPublicData{Code: raw})
		p.Error = p.T("op.notfound")
		s.render(w, r, "op_public", p, httpx.StatusOf(err))
		return
	}
	if a := httpx.Actor(r); a != nil {
		if _, err := s.svc.Operators.Get(ctx, a, o.ID); err == nil {
			http.Redirect(w, r, fmt.Sprintf("/operators/%d", o.ID), http.StatusSeeOther)
			return
		}
	}
	pub, err := s.svc.Operators.PublicByCode(ctx, raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := opPublicData{Op: pub, Code: pub.Code}
	if s.svc.Supervision != nil {
		if d.Credit, err = s.svc.Supervision.PublicLevel(ctx, o.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, "op_public", s.page(r, "op.public.title", d))
}

// tracePublicPages: the public page a scanned trace code opens.
type tracePublicPages struct{ *Server }

func (s tracePublicPages) routes() []route {
	return []route{
		{"GET /q/{code}", anyone, s.code},
		{"GET /q", anyone, s.search},
	}
}

type trPublicData struct {
	Code      string
	Invalid   bool
	Found     bool
	P         trace.PublicTrace
	Token     string          // the label's verification token (verified pages: the share form keeps it)
	Shared    bool            // the viewer just shared their province
	Provinces []region.Region // the share form's choices
}

// search sends a typed code to its page (the form on every scan page).
func (s tracePublicPages) search(w http.ResponseWriter, r *http.Request) {
	input := strings.TrimSpace(r.URL.Query().Get("code"))
	if input == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	code, err := s.svc.Trace.PublicCode(r.Context(), input)
	if err != nil {
		s.codeProblem(w, r, input, err)
		return
	}
	http.Redirect(w, r, "/q/"+url.PathEscape(code), http.StatusSeeOther)
}

// codeProblem answers a scan or search that names no batch: the invalid
// page (400) for a malformed code, the possible-counterfeit page (404) for
// a well-formed one that names nothing, 429 with Retry-After when this
// address has missed too often.
func (s tracePublicPages) codeProblem(w http.ResponseWriter, r *http.Request, input string, err error) {
	d := trPublicData{Code: input}
	if len(input) > 64 {
		d.Code = input[:64] + "…"
	}
	switch httpx.StatusOf(err) {
	case http.StatusBadRequest:
		d.Invalid = true
		s.render(w, r, "tr_public", s.page(r, "tr.public.invalid", d), http.StatusBadRequest)
		return
	case http.StatusNotFound:
		s.render(w, r, "tr_public", s.page(r, "tr.public.notfound", d), http.StatusNotFound)
		return
	case http.StatusTooManyRequests:
		var pe *platform.Error
		if errors.As(err, &pe) {
			if secs, ok := pe.Extra["retry_after_seconds"].(int); ok {
				w.Header().Set("Retry-After", strconv.Itoa(secs))
			}
		}
	}
	s.fail(w, r, err)
}

func (s tracePublicPages) code(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("code")
	code, err := s.svc.Trace.PublicCode(r.Context(), raw)
	if err != nil {
		s.codeProblem(w, r, raw, err)
		return
	}
	q := r.URL.Query() // parsed once
	token, lang := q.Get("v"), langOf(r)
	verified := s.svc.Trace.VerifyToken(code, token)
	view := trace.ScanView{Client: trace.ClientClass(r.UserAgent()), Region: trace.SharedProvince(q.Get("r"))}
	shared := view.Region != ""
	variant, storable := s.variants.storedVariant(r, q, code, lang, verified)
	var pub trace.PublicTrace
	cached := false
	key := "" // the rendered-page cache's key, for pages not stored
	if !storable {
		key = lang + " " + r.URL.RequestURI()
	}
	if storable {
		// 1. the stored page, when current: from memory, else one read
		sp, st, found, err := s.svc.Trace.StoredPage(r.Context(), code, variant)
		if err != nil {
			s.codeProblem(w, r, code, err)
			return
		}
		if page, ok := s.heads.fromStore(lang, sp); found && ok {
			s.svc.Trace.CountScan(code, view)
			if s.scanHeaders(w, r, page.etag, lang, false) {
				page.write(w, r, lang, st)
			}
			return
		}
	} else {
		// 2. a page that is not stored (an alias, a share): the facts in
		// memory (nothing written since they were read) and the page as
		// rendered in memory
		if pub, cached, err = s.svc.Trace.PublicCached(r.Context(), code, verified); err != nil {
			s.codeProblem(w, r, code, err)
			return
		}
		if page, ok := s.scanPages.get(key, pub.ETag); ok && cached {
			s.svc.Trace.CountScan(code, view)
			if s.scanHeaders(w, r, pub.ETag, lang, shared) {
				page.write(w, r, lang, pub.Scans)
			}
			return
		}
	}
	// 3. built from the database and rendered
	if !cached {
		if pub, err = s.svc.Trace.PublicVerified(r.Context(), code, verified); err != nil {
			s.codeProblem(w, r, code, err)
			return
		}
	}
	s.svc.Trace.CountScan(code, view)
	if !s.scanHeaders(w, r, pub.ETag, lang, shared) {
		return
	}
	page, err := s.renderScanPage(r, code, token, lang, pub, shared)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if sp, ok := page.stored(code, variant, pub.Stamp()); ok && storable {
		s.svc.Trace.KeepPage(sp, pub.Scans)
	} else {
		s.scanPages.put(key, page)
	}
	page.write(w, r, lang, pub.Scans)
}

// renderScanPage renders a found code's page into its parts.
func (s tracePublicPages) renderScanPage(r *http.Request, code, token, lang string, pub trace.PublicTrace, shared bool) (*scanPage, error) {
	d := trPublicData{Code: code, Found: true, P: pub, Shared: shared}
	if pub.Verified {
		d.Token = token
	}
	var err error
	if d.Provinces, err = s.provinces.get(r.Context(), s.svc.Regions); err != nil {
		return nil, err
	}
	text, err := s.renderBytes("tr_public", s.page(r, "tr.public.title", d))
	if err != nil {
		return nil, err
	}
	return s.heads.newScanPage(lang, pub.ETag, text), nil
}

// varyEncodingCookie is a scan page's Vary after httpx.Compress set its own.
var varyEncodingCookie = []string{"Accept-Encoding", "Cookie"}

// scanCacheControl is every scan page's cache lifetime.
var scanCacheControl = []string{fmt.Sprintf("public, max-age=%d, stale-while-revalidate=%d", trace.PublicMaxAge, trace.PublicStale)}

// scanHeaders sets a scan page's validators and cache lifetime and answers
// a matching conditional request with 304 (false: nothing more to send).
func (s tracePublicPages) scanHeaders(w http.ResponseWriter, r *http.Request, facts, lang string, shared bool) bool {
	etag := `W/"` + facts + "-" + lang + `"`
	if shared {
		etag = `W/"` + facts + "-" + lang + `-s"`
	}
	// set in canonical form, constants as shared slices: the scan page is
	// the hottest answer (len = cap: a later Add copies)
	h := w.Header()
	h["Etag"] = []string{etag}
	h["Cache-Control"] = scanCacheControl[:1:1]
	if v := h["Vary"]; len(v) == 1 && v[0] == varyEncodingCookie[0] { // the language is a cookie
		h["Vary"] = varyEncodingCookie[:2:2] // shared: no allocation per view
	} else {
		h["Vary"] = append(v, "Cookie")
	}
	if httpx.ETagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return false
	}
	return true
}

// provinces are the share form's choices, read once (region data does not
// change while the platform runs; a failed read is tried again).
type provinceList struct {
	mu   sync.Mutex
	list []region.Region
}

func (p *provinceList) get(ctx context.Context, rs *region.Service) ([]region.Region, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.list != nil {
		return p.list, nil
	}
	list, err := rs.Children(ctx, "")
	if err == nil && len(list) > 0 {
		p.list = list
	}
	return list, err
}
