package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"agtrace/internal/httpx"
	"agtrace/internal/platform"
)

// Idempotency-Key: every POST of a logged-in account may carry one (1–200
// visible ASCII characters, e.g. a UUID the client made when the person
// pressed the button). The first request with a key is done; a retry with
// the same key and the same request gets the first answer again (with
// Idempotent-Replayed: true) instead of doing it twice; the same key with
// another request is refused (422); a retry while the first is still
// running, or whose answer was lost, gets 409. The offline queue of the
// operator pages relies on it: a write queued on a phone is sent until it
// is answered, and never lands twice. Keys live 24 hours.

const (
	idemHeader     = "Idempotency-Key"
	idemReplayed   = "Idempotent-Replayed"
	idemMaxKey     = 200
	idemMaxStored  = 1 << 20 // answers above 1 MB are not kept (a retry gets 409)
	idemMaxHashing = 16 << 20
)

var errIdemKey = platform.Invalid(platform.FieldError{Field: "Idempotency-Key", Code: "format",
	ZH: "Idempotency-Key 应为 1–200 个可见 ASCII 字符", EN: "Idempotency-Key must be 1–200 visible ASCII characters"})

var errIdemReused = platform.Invalid(platform.FieldError{Field: "Idempotency-Key", Code: "reused",
	ZH: "这个 Idempotency-Key 已用于另一个请求", EN: "this Idempotency-Key was used for another request"})

// idempotent wraps a POST route's handler.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, h HandlerFunc) error {
	key := r.Header.Get(idemHeader)
	a := httpx.Actor(r)
	if key == "" || a == nil || a.UserID == 0 || s.svc.DB == nil {
		return h(w, r)
	}
	if len(key) > idemMaxKey || strings.IndexFunc(key, func(c rune) bool { return c < 0x21 || c > 0x7e }) >= 0 {
		return errIdemKey
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, idemMaxHashing))
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.New()
	io.WriteString(sum, r.Method+" "+r.URL.RequestURI()+"\n")
	if op := r.Header.Get(operatorHeader); op != "" { // a push for another operator is another request
		io.WriteString(sum, operatorHeader+": "+op+"\n")
	}
	sum.Write(body)
	k := &platform.IdemKey{Actor: a.UserID, Key: key, Method: r.Method, Path: r.URL.Path, Hash: hex.EncodeToString(sum.Sum(nil))}

	prev, ok, err := s.svc.DB.LookupKey(r.Context(), k.Actor, key)
	if err != nil {
		return err
	}
	if ok {
		switch {
		case prev.Hash != k.Hash:
			return errIdemReused
		case prev.Status == 0:
			return platform.ErrIdempotencyInFlight
		}
		w.Header().Set(idemReplayed, "true")
		if prev.ContentType != "" {
			w.Header().Set("Content-Type", prev.ContentType)
		}
		w.WriteHeader(prev.Status)
		_, _ = io.WriteString(w, prev.Body)
		return nil
	}

	rec := &recordingWriter{ResponseWriter: w}
	r = r.WithContext(platform.WithIdempotency(r.Context(), k))
	if err := h(rec, r); err != nil {
		// a refusal writes nothing, so it is not kept: a retry is judged afresh
		return err
	}
	if k.Claimed() && rec.status < 500 {
		body := rec.buf.String()
		if rec.buf.Len() > idemMaxStored || !utf8.ValidString(body) {
			return nil // too big or binary to keep: a retry gets 409
		}
		if err := s.svc.DB.StoreAnswer(r.Context(), k, rec.status, rec.Header().Get("Content-Type"), body); err != nil {
			slog.Warn("api: storing an idempotent answer", "path", r.URL.Path, "err", err)
		}
	}
	return nil
}

// recordingWriter passes an answer through and keeps a copy of it.
type recordingWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (w *recordingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.buf.Len() <= idemMaxStored {
		w.buf.Write(b)
	}
	return w.ResponseWriter.Write(b)
}
