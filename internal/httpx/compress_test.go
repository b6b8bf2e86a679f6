package httpx

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCompress(t *testing.T) {
	page := strings.Repeat("<p>苹果 apple</p>", 200)
	h := Compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, page)
		case "/png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write([]byte("\x89PNG\r\n\x1a\n...."))
		case "/stream":
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			_, _ = io.WriteString(w, "a,b\n")
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, "1,2\n")
		case "/nocontent":
			w.WriteHeader(http.StatusNoContent)
		case "/sniff":
			_, _ = io.WriteString(w, "<!doctype html><title>x</title>")
		}
	}))
	get := func(path, accept string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		if accept != "" {
			r.Header.Set("Accept-Encoding", accept)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	unzip := func(w *httptest.ResponseRecorder) string {
		t.Helper()
		zr, err := gzip.NewReader(w.Body)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	w := get("/html", "gzip, deflate, br")
	if w.Header().Get("Content-Encoding") != "gzip" || w.Body.Len() >= len(page)/4 {
		t.Fatalf("HTML: encoding %q, %d bytes for %d", w.Header().Get("Content-Encoding"), w.Body.Len(), len(page))
	}
	if got := unzip(w); got != page {
		t.Fatal("HTML does not decompress to the page")
	}
	if w := get("/html", ""); w.Header().Get("Content-Encoding") != "" || w.Body.String() != page {
		t.Error("a client without gzip got it compressed")
	}
	if w := get("/html", "gzip;q=0"); w.Header().Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 is a refusal")
	}
	if w := get("/png", "gzip"); w.Header().Get("Content-Encoding") != "" {
		t.Error("a PNG was compressed again")
	}
	if w := get("/stream", "gzip"); unzip(w) != "a,b\n1,2\n" {
		t.Error("a flushed stream lost rows")
	}
	if w := get("/nocontent", "gzip"); w.Code != 204 || w.Body.Len() != 0 || w.Header().Get("Content-Encoding") != "" {
		t.Errorf("204: %d, %d bytes, %q", w.Code, w.Body.Len(), w.Header().Get("Content-Encoding"))
	}
	if w := get("/sniff", "gzip"); w.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(unzip(w), "<title>") {
		t.Error("an answer without a Content-Type is sniffed and compressed")
	}
	for in, want := range map[string]bool{"gzip": true, "br, gzip;q=0.5": true, "gzip;q=0": false, "identity": false, "": false, "GZIP": true} {
		if acceptsGzip(in) != want {
			t.Errorf("acceptsGzip(%q) = %v", in, !want)
		}
	}
}
