package httpx

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Compress gzips text answers (HTML, CSS, JavaScript, JSON, CSV, SVG) for
// clients that accept it: a page is a quarter of its size on the wire,
// which is what a farmer on a 3G phone waits for. Images, PDFs and
// spreadsheets are compressed already and pass as they are; so do answers
// that set their own Content-Encoding, HEAD requests and byte ranges. A
// streamed answer (CSV exports) stays streamed: Flush flushes the gzip
// stream too.
func Compress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := w.Header(); h["Vary"] == nil {
			h["Vary"] = varyEncoding[:1:1] // shared, no allocation (an Add copies: len = cap)
		} else {
			h.Add("Vary", "Accept-Encoding")
		}
		if r.Method == http.MethodHead || r.Header.Get("Range") != "" || !acceptsGzip(r.Header.Get("Accept-Encoding")) {
			next.ServeHTTP(w, r)
			return
		}
		cw := &compressWriter{ResponseWriter: w}
		defer cw.close()
		next.ServeHTTP(cw, r)
	})
}

// AcceptsGzip reports whether a request takes gzip (a handler that serves
// pre-compressed bytes asks it).
func AcceptsGzip(r *http.Request) bool {
	return r.Method != http.MethodHead && r.Header.Get("Range") == "" && acceptsGzip(r.Header.Get("Accept-Encoding"))
}

var varyEncoding = []string{"Accept-Encoding"}

// acceptsGzip reads Accept-Encoding ("gzip", "gzip;q=0" refuses it).
func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			return !strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") || strings.Contains(params, "q=0.")
		}
	}
	return false
}

// compressible reports whether a Content-Type is text worth compressing.
func compressible(ct string) bool {
	ct, _, _ = strings.Cut(ct, ";")
	switch strings.TrimSpace(strings.ToLower(ct)) {
	case "text/html", "text/css", "text/javascript", "application/javascript", "application/json", "application/problem+json",
		"text/csv", "image/svg+xml", "text/plain", "application/xml", "text/xml":
		return true
	}
	return false
}

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression); return w }}

type compressWriter struct {
	http.ResponseWriter
	gz      *gzip.Writer
	decided bool
}

// decide chooses, at the first header write, whether to compress.
func (c *compressWriter) decide(status int) {
	if c.decided {
		return
	}
	c.decided = true
	h := c.Header()
	if status < 200 || status == http.StatusNoContent || status == http.StatusNotModified || h.Get("Content-Encoding") != "" ||
		!compressible(h.Get("Content-Type")) {
		return
	}
	h.Del("Content-Length")
	h.Set("Content-Encoding", "gzip")
	c.gz = gzipPool.Get().(*gzip.Writer)
	c.gz.Reset(c.ResponseWriter)
}

func (c *compressWriter) WriteHeader(status int) {
	c.decide(status)
	c.ResponseWriter.WriteHeader(status)
}

func (c *compressWriter) Write(b []byte) (int, error) {
	if !c.decided {
		if c.Header().Get("Content-Type") == "" {
			c.Header().Set("Content-Type", http.DetectContentType(b))
		}
		c.WriteHeader(http.StatusOK)
	}
	if c.gz != nil {
		return c.gz.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

// Flush sends what was written so far (a streamed export's rows).
func (c *compressWriter) Flush() {
	if c.gz != nil {
		_ = c.gz.Flush()
	}
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (c *compressWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *compressWriter) close() {
	if c.gz != nil {
		_ = c.gz.Close()
		c.gz.Reset(io.Discard)
		gzipPool.Put(c.gz)
		c.gz = nil
	}
}
