package httpx

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestTextProblem(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		code string
	}{
		{"栖霞市苹果专业合作社", 0, ""},
		{"Fuji 富士 #3, 10 kg", 0, ""},
		{"第一行\n第二行\r\n\t缩进", 0, ""},
		{"emoji 🍎 ok", 0, ""},
		{"a\x00b", 0, "control"},
		{"a\x01b", 0, "control"},
		{"a\x1bb", 0, "control"},
		{"a\x7fb", 0, "control"},
		{"a\u0085b", 0, "control"},
		{"a\u009fb", 0, "control"},
		{"ABC\u202eCBA", 0, "bidi"},
		{"x\u2066y", 0, "bidi"},
		{"x\u2069y", 0, "bidi"},
		{"\xff\xfe", 0, "encoding"},
		{"ok\xc3", 0, "encoding"},
		{"一二三", 3, ""},
		{"一二三四", 3, "too_long"},
	}
	for _, c := range cases {
		code, zh, en := TextProblem(c.in, c.max)
		if code != c.code {
			t.Errorf("TextProblem(%q) = %q, want %q", c.in, code, c.code)
		}
		if code != "" && (zh == "" || en == "") {
			t.Errorf("TextProblem(%q): missing message", c.in)
		}
	}
}

func problemField(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var p struct {
		Errors []struct{ Field, Code string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || len(p.Errors) == 0 {
		t.Fatalf("no field error in %s", w.Body.String())
	}
	return p.Errors[0].Field + ":" + p.Errors[0].Code
}

func TestStrictText(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.WriteHeader(200)
	})
	h := StrictText(ok)
	cases := []struct {
		name, method, target, form string
		status                     int
		field                      string
	}{
		{"plain query", "GET", "/api/v1/batches?q=%E8%8B%B9%E6%9E%9C", "", 200, ""},
		{"NUL in query", "GET", "/api/v1/batches?q=a%00b", "", 422, "q:control"},
		{"control in query", "GET", "/api/v1/operators?q=%1b%5b31m", "", 422, "q:control"},
		{"bidi in query", "GET", "/api/v1/operators?q=%E2%80%AE", "", 422, "q:bidi"},
		{"invalid UTF-8 in query", "GET", "/api/v1/operators?q=%ff", "", 422, "q:encoding"},
		{"NUL in path", "GET", "/q/1370%00", "", 422, "path:control"},
		{"overlong query", "GET", "/api/v1/operators?q=" + strings.Repeat("a", MaxQueryLen+1), "", 422, "q:too_long"},
		{"NUL in form", "POST", "/login", "username=ad%00min&password=x", 422, "username:control"},
		{"newline in form", "POST", "/transfers/1/reject", "reason=%E5%9D%8F%E6%9E%9C%0D%0A%E5%A4%AA%E5%A4%9A", 200, ""},
		{"bidi in form", "POST", "/batches", "origin=%E2%80%AEevil", 422, "origin:bidi"},
	}
	for _, c := range cases {
		var r *http.Request
		if c.method == "POST" {
			r = httptest.NewRequest("POST", c.target, strings.NewReader(c.form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			r = httptest.NewRequest("GET", "/", nil)
			u, _ := r.URL.Parse(c.target)
			r.URL = u
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.status {
			t.Errorf("%s: %d, want %d (%s)", c.name, w.Code, c.status, w.Body.String())
			continue
		}
		if c.field != "" {
			if got := problemField(t, w); got != c.field {
				t.Errorf("%s: field %q, want %q", c.name, got, c.field)
			}
		}
	}
}

func TestDecodeJSONText(t *testing.T) {
	type input struct {
		Name string `json:"name"`
	}
	type body struct {
		Reason string            `json:"reason"`
		Inputs []input           `json:"inputs"`
		Attrs  map[string]any    `json:"attributes"`
		Extra  map[string]string `json:"extra,omitempty"`
	}
	cases := []struct {
		name, ctype, body string
		status            int
		field             string
	}{
		{"good", "application/json", `{"reason":"坏果\n太多","inputs":[{"name":"富士"}],"attributes":{"variety":"红富士"}}`, 0, ""},
		{"charset", "application/json; charset=utf-8", `{"reason":"ok"}`, 0, ""},
		{"problem+json", "application/merge-patch+json", `{"reason":"ok"}`, 0, ""},
		{"no content type", "", `{"reason":"ok"}`, 415, ""},
		{"form content type", "application/x-www-form-urlencoded", `{"reason":"ok"}`, 415, ""},
		{"text/plain", "text/plain", `{"reason":"ok"}`, 415, ""},
		{"NUL escape", "application/json", `{"reason":"a\u0000b"}`, 422, "reason:control"},
		{"nested control", "application/json", `{"inputs":[{"name":"ok"},{"name":"x\u001b"}]}`, 422, "inputs[1].name:control"},
		{"map value bidi", "application/json", `{"attributes":{"variety":"\u202e富士"}}`, 422, "attributes.variety:bidi"},
		{"map key NUL", "application/json", `{"attributes":{"a\u0000":"x"}}`, 422, "attributes.(key):control"},
		{"nested map in map", "application/json", `{"attributes":{"tests":[{"item":"\u0085"}]}}`, 422, "attributes.tests[0].item:control"},
		{"invalid UTF-8", "application/json", "{\"reason\":\"\xff\"}", 422, "(body):encoding"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/api/v1/x", strings.NewReader(c.body))
		if c.ctype != "" {
			r.Header.Set("Content-Type", c.ctype)
		}
		var dst body
		err := DecodeJSON(httptest.NewRecorder(), r, &dst)
		if c.status == 0 {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		w := httptest.NewRecorder()
		WriteProblem(w, r, err)
		if w.Code != c.status {
			t.Errorf("%s: %d, want %d (%v)", c.name, w.Code, c.status, err)
			continue
		}
		if c.field != "" {
			if got := problemField(t, w); got != c.field {
				t.Errorf("%s: field %q, want %q", c.name, got, c.field)
			}
		}
	}
}
