package httpx

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"agtrace/internal/platform"
)

// Text at the edge. Every text that enters through a request — JSON string
// fields, form values, query parameters, the path — passes one check before
// any service sees it: valid UTF-8, no NUL, no C0 or C1 control characters
// other than tab, newline and carriage return, no bidirectional override or
// isolate characters (they make "ABC" display as "CBA" on a label or in a
// name), and a length limit. A refusal is a 422 naming the field.
const (
	// MaxTextLen bounds one JSON string or form value, in characters.
	MaxTextLen = 20000
	// MaxQueryLen bounds one query parameter value, in characters.
	MaxQueryLen = 1000
)

// TextProblem says why s is not acceptable text, or "" if it is.
func TextProblem(s string, max int) (code, zh, en string) {
	if !utf8.ValidString(s) {
		return "encoding", "不是有效的 UTF-8 文本", "is not valid UTF-8 text"
	}
	n := 0
	for _, r := range s {
		n++
		switch {
		case r == 0:
			return "control", "含有空字符（NUL）", "contains a NUL character"
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return "control", fmt.Sprintf("含有控制字符 U+%04X", r), fmt.Sprintf("contains the control character U+%04X", r)
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			return "bidi", fmt.Sprintf("含有文字方向控制字符 U+%04X", r), fmt.Sprintf("contains the bidirectional control character U+%04X", r)
		}
	}
	if max > 0 && n > max {
		return "too_long", fmt.Sprintf("不能超过 %d 个字符", max), fmt.Sprintf("must be at most %d characters", max)
	}
	return "", "", ""
}

func textError(field, code, zh, en string) error {
	e := platform.Invalid(platform.FieldError{Field: field, Code: code, ZH: zh, EN: en})
	return e
}

// CheckText validates one value for field.
func CheckText(field, s string, max int) error {
	if code, zh, en := TextProblem(s, max); code != "" {
		return textError(field, code, zh, en)
	}
	return nil
}

// checkValues validates every key and value of a query or form.
func checkValues(vals url.Values, max int) error {
	for k, vs := range vals {
		if code, zh, en := TextProblem(k, 200); code != "" {
			return textError("(parameter name)", code, zh, en)
		}
		for _, v := range vs {
			if err := CheckText(k, v, max); err != nil {
				return err
			}
		}
	}
	return nil
}

// StrictText refuses requests whose path, query or URL-encoded form carries
// text that TextProblem refuses (422 naming the parameter), before any
// handler runs. JSON bodies are checked by DecodeJSON; multipart uploads by
// their handlers' own field checks.
func StrictText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := CheckText("path", r.URL.Path, 2000); err != nil {
			WriteProblem(w, r, err)
			return
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			WriteProblem(w, r, platform.BadRequest("查询参数格式错误", "malformed query string"))
			return
		}
		if err := checkValues(q, MaxQueryLen); err != nil {
			WriteProblem(w, r, err)
			return
		}
		if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if mt == "application/x-www-form-urlencoded" {
				if err := r.ParseForm(); err != nil {
					WriteProblem(w, r, platform.BadRequest("表单格式错误", "malformed form"))
					return
				}
				if err := checkValues(r.PostForm, MaxTextLen); err != nil {
					WriteProblem(w, r, err)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// checkJSONText walks a decoded value and validates every string in it
// (struct fields by their JSON names, map keys and values, slice elements).
func checkJSONText(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkJSONText(v.Elem(), path)
	case reflect.String:
		return CheckText(fieldPath(path), v.String(), MaxTextLen)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := f.Name
			if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == "-" {
				continue
			} else if tag != "" {
				name = tag
			}
			p := path
			if !f.Anonymous {
				p = joinPath(path, name)
			}
			if err := checkJSONText(v.Field(i), p); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			if err := checkJSONText(v.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			k := fmt.Sprint(it.Key().Interface())
			if err := CheckText(fieldPath(joinPath(path, "(key)")), k, 200); err != nil {
				return err
			}
			if err := checkJSONText(it.Value(), joinPath(path, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func fieldPath(p string) string {
	if p == "" {
		return "(body)"
	}
	return p
}

// requireJSON refuses a body that does not say it is JSON (415).
func requireJSON(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return platform.Unsupported("请求体须为 JSON（Content-Type: application/json）", "the request body must be JSON (Content-Type: application/json)")
}
