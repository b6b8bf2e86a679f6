package ui

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

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
	pub, err := s.svc.Trace.Public(r.Context(), code, r.URL.Query().Get("v"))
	if err != nil {
		s.codeProblem(w, r, code, err)
		return
	}
	d := trPublicData{Code: code}
	view := trace.ScanView{Client: trace.ClientClass(r.UserAgent()), Region: trace.SharedProvince(r.URL.Query().Get("r"))}
	s.svc.Trace.CountScan(code, view)
	p := s.page(r, "tr.public.title", nil)
	etag := `W/"` + pub.ETag + "-" + p.Lang + `"`
	if view.Region != "" {
		etag = `W/"` + pub.ETag + "-" + p.Lang + `-s"`
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d, stale-while-revalidate=%d", trace.PublicMaxAge, trace.PublicStale))
	w.Header().Add("Vary", "Cookie") // the language is a cookie
	if httpx.ETagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	d.Found, d.P, d.Shared = true, pub, view.Region != ""
	if pub.Verified {
		d.Token = r.URL.Query().Get("v")
	}
	key := code + "|" + strconv.FormatBool(pub.Verified) + "|" + strconv.FormatBool(d.Shared) + "|" + p.Lang
	page, err := s.scanPages.get(key, etag, func() ([]byte, error) {
		if d.Provinces, err = s.provinces.get(r.Context(), s.svc.Regions); err != nil {
			return nil, err
		}
		p.Data = d
		return s.renderBytes("tr_public", p)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if httpx.AcceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(page.gz)
		return
	}
	_, _ = w.Write(page.plain)
}

// renderedPages keeps each scan page as rendered (and gzipped) for
// trace.PublicMaxAge seconds while its facts' ETag is unchanged: the template and
// the compression run once per code and language every ten seconds, not
// per view. The scan count on a kept page is as of its rendering — no
// staler than what a shared cache may show under Cache-Control.
type renderedPages struct {
	mu sync.Mutex
	m  map[string]*renderedPage
}

type renderedPage struct {
	etag      string
	at        time.Time
	plain, gz []byte
}

const maxRenderedPages = 20_000

// scanGzip reuses compressors (each holds ~1 MB of state); the default
// level compresses a 4 KB page to within a few bytes of the best at a
// fraction of the cost, which matters when most views are a code's first.
var scanGzip = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression); return w }}

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

func (c *renderedPages) get(key, etag string, render func() ([]byte, error)) (*renderedPage, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && e.etag == etag && now.Sub(e.at) < trace.PublicMaxAge*time.Second {
		return e, nil
	}
	plain, err := render()
	if err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw := scanGzip.Get().(*gzip.Writer)
	zw.Reset(&gz)
	_, _ = zw.Write(plain)
	_ = zw.Close()
	scanGzip.Put(zw)
	e = &renderedPage{etag: etag, at: now, plain: plain, gz: gz.Bytes()}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxRenderedPages {
		c.m = map[string]*renderedPage{}
	}
	c.m[key] = e
	c.mu.Unlock()
	return e, nil
}
