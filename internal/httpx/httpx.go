// Package httpx holds what both transports (api, ui) share: the actor of a
// request, RFC 7807 problem responses, JSON decoding with size limits, and
// the client address.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

type actorKey struct{}

// WithActor stores the authenticated actor (and the write origin) in ctx.
func WithActor(ctx context.Context, a *auth.Actor, addr string) context.Context {
	ctx = context.WithValue(ctx, actorKey{}, a)
	o := platform.Origin{Addr: addr}
	if a != nil {
		o.UserID, o.Username = a.UserID, a.Username
	}
	return platform.WithOrigin(ctx, o)
}

// Actor returns the request's actor, or nil for an anonymous request.
func Actor(r *http.Request) *auth.Actor {
	a, _ := r.Context().Value(actorKey{}).(*auth.Actor)
	return a
}

// ClientAddr is the client's IP address (without port); see TrustedProxies.
func ClientAddr(r *http.Request, proxies *TrustedProxies) string { return proxies.ClientAddr(r) }

// Problem is an RFC 7807 problem document with agtrace's extensions.
type Problem struct {
	Type     string                `json:"type"`
	Title    string                `json:"title"`
	Status   int                   `json:"status"`
	Detail   string                `json:"detail,omitempty"`
	DetailZH string                `json:"detail_zh,omitempty"`
	Instance string                `json:"instance,omitempty"`
	Errors   []platform.FieldError `json:"errors,omitempty"`
	Extra    map[string]any        `json:"-"`
}

var kindStatus = map[platform.Kind]int{
	platform.KindBadRequest: http.StatusBadRequest, platform.KindUnauthorized: http.StatusUnauthorized,
	platform.KindForbidden: http.StatusForbidden, platform.KindNotFound: http.StatusNotFound,
	platform.KindConflict: http.StatusConflict, platform.KindInvalid: http.StatusUnprocessableEntity,
	platform.KindTooLarge: http.StatusRequestEntityTooLarge, platform.KindUnsupported: http.StatusUnsupportedMediaType,
	platform.KindTooMany: http.StatusTooManyRequests,
}

// StatusClientClosed is recorded (never sent: nobody is listening) when the
// client disconnected before the answer (nginx's 499).
const StatusClientClosed = 499

// RetryAfterSeconds is what a 503 asks the client to wait.
const RetryAfterSeconds = 5

// StatusOf maps an error to its HTTP status (500 for unexpected errors).
func StatusOf(err error) int {
	if s, ok := kindStatus[platform.KindOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ProblemOf builds the problem document for err. Internal errors are logged
// and hidden behind a generic message.
func ProblemOf(r *http.Request, err error) Problem {
	status := StatusOf(err)
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Instance: r.URL.Path}
	var e *platform.Error
	switch {
	case status == http.StatusInternalServerError && platform.IsClientGone(r.Context(), err):
		// The client went away: not a server fault, nobody reads the answer.
		slog.DebugContext(r.Context(), "client gone", "path", r.URL.Path, "method", r.Method)
		p.Status, p.Title = StatusClientClosed, "Client Closed Request"
	case status == http.StatusInternalServerError && platform.IsUnavailable(err):
		slog.WarnContext(r.Context(), "database unavailable", "path", r.URL.Path, "method", r.Method, "err", err)
		p.Status, p.Title = http.StatusServiceUnavailable, http.StatusText(http.StatusServiceUnavailable)
		p.Detail, p.DetailZH = "the service is busy or briefly unavailable; please try again shortly", "服务繁忙或暂时不可用，请稍后再试"
		p.Extra = map[string]any{"retry_after_seconds": RetryAfterSeconds}
	case errors.As(err, &e):
		p.Detail, p.DetailZH, p.Errors, p.Extra = e.EN, e.ZH, FieldErrors(err), e.Extra
		if e.Type != "" {
			p.Type = ProblemTypePrefix + e.Type
		}
	default:
		slog.ErrorContext(r.Context(), "internal error", "path", r.URL.Path, "method", r.Method, "err", err)
		p.Detail, p.DetailZH = "internal error; it has been logged", "服务器内部错误，已记录"
	}
	return p
}

// ProblemTypePrefix begins the type of a named problem (RFC 9457 §3.1.1).
const ProblemTypePrefix = "urn:agtrace:problem:"

// FieldErrors lists the fields a platform error names: its field errors, or
// the one field of a conflict ("field" in Extra). Other errors name none.
func FieldErrors(err error) []platform.FieldError {
	var e *platform.Error
	if !errors.As(err, &e) {
		return nil
	}
	if f, ok := e.Extra["field"].(string); ok && len(e.Fields) == 0 {
		return []platform.FieldError{{Field: f, Code: "conflict", ZH: e.ZH, EN: e.EN}}
	}
	return e.Fields
}

// WriteProblem writes err as application/problem+json.
func WriteProblem(w http.ResponseWriter, r *http.Request, err error) {
	p := ProblemOf(r, err)
	body := map[string]any{"type": p.Type, "title": p.Title, "status": p.Status, "instance": p.Instance}
	if p.Detail != "" {
		body["detail"], body["detail_zh"] = p.Detail, p.DetailZH
	}
	if len(p.Errors) > 0 {
		body["errors"] = p.Errors
	}
	for k, v := range p.Extra {
		if _, taken := body[k]; !taken {
			body[k] = v
		}
	}
	if p.Status == http.StatusTooManyRequests || p.Status == http.StatusServiceUnavailable {
		if s, ok := p.Extra["retry_after_seconds"]; ok {
			w.Header().Set("Retry-After", fmt.Sprint(s))
		}
	}
	if wantsPage(r) {
		writeProblemPage(w, p)
		return
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(body)
}

// wantsPage: a browser asking for a page (not the API) gets the problem
// as a page, not as JSON — a crash, a busy database or a rate limit that
// the pages' own error page never saw.
func wantsPage(r *http.Request) bool {
	return r != nil && !strings.HasPrefix(r.URL.Path, "/api/") && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// problemPage is the small page for problems no page handled (the pages'
// stylesheet may be what failed, so it carries its own style).
var problemPage = template.Must(template.New("problem").Parse(`<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Status}} · 农产品追溯平台</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1d2b22}h1{font-size:1.3rem}
a{display:inline-block;margin-top:1rem;padding:.6rem 1rem;border:1px solid #1b6e3c;border-radius:6px;color:#1b6e3c;text-decoration:none}</style></head>
<body><h1>{{.ZH}}</h1><p>{{.EN}}</p>{{with .DetailZH}}<p>{{.}}</p>{{end}}<a href="/">返回首页 · Home</a></body></html>`))

func writeProblemPage(w http.ResponseWriter, p Problem) {
	zh, en := "出错了，请稍后再试", "Something went wrong; please try again later."
	switch {
	case p.Status == http.StatusTooManyRequests:
		zh, en = "请求太频繁，请稍后再试", "Too many requests; please wait a moment."
	case p.Status == http.StatusServiceUnavailable:
		zh, en = "系统繁忙，请稍后再试", "The service is busy; please try again shortly."
	case p.Status == http.StatusNotFound:
		zh, en = "页面不存在", "Page not found."
	case p.Status < 500:
		zh, en = p.DetailZH, p.Detail
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = problemPage.Execute(w, map[string]any{"Status": p.Status, "ZH": zh, "EN": en, "DetailZH": ""})
}

// WriteJSON writes v with the given status. Answers are not stored by
// caches unless the handler set its own Cache-Control (public answers).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// MaxJSONBody bounds JSON request bodies.
const MaxJSONBody = 1 << 20

// DecodeJSON reads one JSON object into dst. Malformed JSON, wrong types,
// unknown fields and trailing data are 400; an oversize body is 413.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if err := requireJSON(r); err != nil {
		return err
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxJSONBody))
	if err != nil {
		return decodeError(err)
	}
	// encoding/json would silently turn invalid UTF-8 into U+FFFD.
	if !utf8.Valid(raw) {
		return textError("(body)", "encoding", "请求体不是有效的 UTF-8 文本", "the request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return platform.BadRequest("请求体只能包含一个 JSON 对象", "request body must hold a single JSON object")
	}
	return checkJSONText(reflect.ValueOf(dst), "")
}

func decodeError(err error) error {
	var maxErr *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &maxErr):
		return platform.TooLarge(fmt.Sprintf("请求体超过 %d 字节", maxErr.Limit), fmt.Sprintf("request body exceeds %d bytes", maxErr.Limit))
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "(body)"
		}
		e := platform.BadRequest("字段类型错误："+field, fmt.Sprintf("field %s must be %s, not %s", field, typeErr.Type, typeErr.Value))
		e.Fields = []platform.FieldError{{Field: field, Code: "type", ZH: "类型错误，应为 " + typeErr.Type.String(), EN: "must be " + typeErr.Type.String()}}
		return e
	case errors.As(err, &syntaxErr):
		return platform.BadRequest(fmt.Sprintf("JSON 格式错误（第 %d 字节）", syntaxErr.Offset), fmt.Sprintf("malformed JSON at byte %d", syntaxErr.Offset))
	case errors.Is(err, io.EOF):
		return platform.BadRequest("请求体为空", "request body is empty")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		e := platform.BadRequest("未知字段："+f, "unknown field: "+f)
		e.Fields = []platform.FieldError{{Field: f, Code: "unknown", ZH: "未知字段", EN: "unknown field"}}
		return e
	default:
		return platform.BadRequest("无法解析请求体", "cannot parse request body: "+err.Error())
	}
}
