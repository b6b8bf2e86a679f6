package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"agtrace/internal/httpx"
	"agtrace/internal/trace"
)

// A scan page is kept compressed in three parts: the layout's head (the
// same for every page of a language, compressed once), the body up to the
// scan count, and the rest. Each view joins them around the scan count
// (httpx.WriteSplicedGzip), so the count is current and no view compresses
// anything. The two body parts are what the page store keeps per code
// (trace.StoredPage).

// scanMarkOpen and scanMarkClose enclose the scan count in tr_public.html.
var (
	scanMarkOpen  = []byte(`<p class="meta" id="scans">`)
	scanMarkClose = []byte(`</p>`)
	headEnd       = []byte(`</head>`)
)

// ScanPageVersion names this release's scan pages (see scanPageVersion):
// stored pages of other versions may be deleted (trace.Service.PrunePages).
func ScanPageVersion() string { return scanPageVersion() }

// scanPageVersion fingerprints what a stored scan page is made of — the
// page and layout templates and the words — so a new release never serves
// a page stored by an old one.
func scanPageVersion() string {
	h := sha256.New()
	for _, f := range []string{"templates/pages/tr_public.html", "templates/layout/public.html"} {
		b, _ := templateFS.ReadFile(f)
		h.Write(b)
	}
	for _, f := range []string{"messages/zh-CN.json", "messages/en.json"} {
		b, _ := messageFS.ReadFile(f)
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}

// scanPage is a rendered page in parts.
type scanPage struct {
	etag       string // the facts' fingerprint
	head       *httpx.Deflated
	body, tail httpx.Deflated
}

// layoutHeads keeps each language's compressed layout head.
type layoutHeads struct {
	mu sync.Mutex
	m  map[string]*layoutHead
}

type layoutHead struct {
	text []byte
	part httpx.Deflated
}

// get is lang's compressed head for text (ok false when text differs from
// the head already kept: such a page is not split there).
func (h *layoutHeads) get(lang string, text []byte) (*httpx.Deflated, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string]*layoutHead{}
	}
	e, ok := h.m[lang]
	if !ok {
		e = &layoutHead{text: bytes.Clone(text), part: httpx.Deflate(text)}
		h.m[lang] = e
	}
	return &e.part, bytes.Equal(e.text, text)
}

// split cuts a rendered page into its parts (ok false: the page has no
// scan count or an unusual head, and is served whole).
func (h *layoutHeads) split(lang string, page []byte) (head *httpx.Deflated, body, tail []byte, ok bool) {
	i := bytes.Index(page, headEnd)
	if i < 0 {
		return nil, nil, nil, false
	}
	i += len(headEnd)
	j := bytes.Index(page[i:], scanMarkOpen)
	if j < 0 {
		return nil, nil, nil, false
	}
	j += i + len(scanMarkOpen)
	k := bytes.Index(page[j:], scanMarkClose)
	if k < 0 {
		return nil, nil, nil, false
	}
	head, ok = h.get(lang, page[:i])
	if !ok {
		return nil, nil, nil, false
	}
	return head, page[i:j], page[j+k:], true
}

// newScanPage compresses a rendered page into parts (a page that cannot be
// split is one part, its count as rendered).
func (h *layoutHeads) newScanPage(lang, etag string, page []byte) *scanPage {
	head, body, tail, ok := h.split(lang, page)
	if !ok {
		return &scanPage{etag: etag, body: httpx.Deflate(page)}
	}
	return &scanPage{etag: etag, head: head, body: httpx.Deflate(body), tail: httpx.Deflate(tail)}
}

// stored is the page as the store keeps it (ok false when it is whole).
func (p *scanPage) stored(code, variant string, stamp trace.PageStamp) (trace.StoredPage, bool) {
	if p.head == nil {
		return trace.StoredPage{}, false
	}
	return trace.StoredPage{Code: code, Variant: variant, Rev: stamp.Rev, Epoch: stamp.Epoch, Gen: stamp.Gen, ETag: p.etag,
		Head: trace.PagePart(p.body), Tail: trace.PagePart(p.tail)}, true
}

// fromStore is a stored page with lang's layout head (ok false before this
// process rendered a page in lang: the stored body needs its head).
func (h *layoutHeads) fromStore(lang string, sp trace.StoredPage) (*scanPage, bool) {
	h.mu.Lock()
	e, ok := h.m[lang]
	h.mu.Unlock()
	if !ok {
		return nil, false
	}
	return &scanPage{etag: sp.ETag, head: &e.part, body: httpx.Deflated(sp.Head), tail: httpx.Deflated(sp.Tail)}, true
}

// scanWords is the scan count's sentence in lang, as HTML.
func scanWords(lang string, st trace.ScanStats) []byte {
	if st.FirstAt == "" {
		return []byte(html.EscapeString(translate(lang, "tr.public.scans.first")))
	}
	// every view: the message split once at its %d and %s, then appended
	// (fmt.Sprintf was 1.5 % of a loaded server's samples)
	parts, ok := scanWordParts()[lang]
	if !ok {
		return []byte(html.EscapeString(translate(lang, "tr.public.scans", st.Count, st.FirstAt)))
	}
	b := make([]byte, 0, len(parts[0])+len(parts[1])+len(parts[2])+32)
	b = append(b, parts[0]...)
	b = strconv.AppendInt(b, st.Count, 10)
	b = append(b, parts[1]...)
	b = append(b, html.EscapeString(st.FirstAt)...)
	return append(b, parts[2]...)
}

// scanWordParts is, per language, tr.public.scans escaped and split
// around its %d and %s (read from the catalogues once).
var scanWordParts = sync.OnceValue(func() map[string][3]string {
	m := map[string][3]string{}
	for _, lang := range []string{"zh", "en"} {
		msg := html.EscapeString(translate(lang, "tr.public.scans"))
		d := strings.Index(msg, "%d")
		sIdx := strings.Index(msg, "%s")
		if d < 0 || sIdx < d || strings.Count(msg, "%") != 2 {
			continue // an unexpected shape: scanWords falls back to Sprintf
		}
		m[lang] = [3]string{msg[:d], msg[d+2 : sIdx], msg[sIdx+2:]}
	}
	return m
})

// write sends the page with the scan count: gzip when the client takes it
// (almost every browser), the joined text otherwise.
func (p *scanPage) write(w http.ResponseWriter, r *http.Request, lang string, st trace.ScanStats) {
	parts, words := []httpx.Deflated{p.body}, [][]byte(nil)
	if p.head != nil {
		parts, words = []httpx.Deflated{*p.head, p.body, p.tail}, [][]byte{nil, scanWords(lang, st)}
	}
	h := w.Header()
	h["Content-Type"] = htmlType[:1:1]
	if httpx.AcceptsGzip(r) {
		// one write with its length: no chunked encoding, one syscall
		buf := responseBuffers.Get().(*bytes.Buffer)
		buf.Reset()
		defer responseBuffers.Put(buf)
		_ = httpx.WriteSplicedGzip(buf, parts, words)
		h["Content-Encoding"] = gzipEncoding[:1:1]
		h["Content-Length"] = []string{strconv.Itoa(buf.Len())}
		_, _ = w.Write(buf.Bytes())
		return
	}
	text, err := httpx.Inflate(parts, words)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(text)
}

// Header values shared by every scan answer (set with len = cap 1).
var (
	htmlType     = []string{"text/html; charset=utf-8"}
	gzipEncoding = []string{"gzip"}
)

// responseBuffers hold gzip answers while they are joined.
var responseBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// storedVariant names the stored page a request may be answered with: the
// canonical path (not an alias, whose links differ), and no query but the
// label's valid token (a share, a flash or a wrong token is rendered live).
func (v scanVariants) storedVariant(r *http.Request, q url.Values, code, lang string, verified bool) (string, bool) {
	if r.PathValue("code") != code {
		return "", false
	}
	switch {
	case len(q) == 0 && !verified:
		return v.name(lang, false), true
	case len(q) == 1 && len(q["v"]) == 1 && verified:
		return v.name(lang, true), true
	}
	return "", false
}

// scanVariants names this release's stored scan pages: per language, the
// page opened without the label's token (".u") and with it (".v"), then
// the page version. Built once: the names are not concatenated per view.
type scanVariants struct {
	version string
	names   map[string][2]string
}

func newScanVariants(version string) scanVariants {
	v := scanVariants{version: version, names: map[string][2]string{}}
	for _, lang := range []string{"zh", "en"} {
		v.names[lang] = [2]string{lang + ".u." + version, lang + ".v." + version}
	}
	return v
}

func (v scanVariants) name(lang string, verified bool) string {
	n, ok := v.names[lang]
	switch {
	case !ok && verified:
		return lang + ".v." + v.version
	case !ok:
		return lang + ".u." + v.version
	case verified:
		return n[1]
	}
	return n[0]
}

// renderedPages keeps each scan page as rendered, in parts, for
// trace.PublicMaxAge seconds while its facts' ETag is unchanged.
type renderedPages struct {
	mu sync.Mutex
	m  map[string]*renderedPage
}

type renderedPage struct {
	*scanPage
	at time.Time
}

const maxRenderedPages = 20_000

func (c *renderedPages) get(key, etag string) (*scanPage, bool) {
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && e.etag == etag && time.Since(e.at) < trace.PublicMaxAge*time.Second {
		return e.scanPage, true
	}
	return nil, false
}

func (c *renderedPages) put(key string, p *scanPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxRenderedPages {
		c.m = map[string]*renderedPage{}
	}
	c.m[key] = &renderedPage{scanPage: p, at: time.Now()}
}
