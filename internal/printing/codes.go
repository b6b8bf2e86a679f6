package printing

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Code lengths from the domain brief §5: every platform code is numeric and
// ends with a GB/T 17710 hybrid MOD 11,10 check digit.
const (
	traceCodeLen    = 20
	operatorCodeLen = 18
)

// TraceURL is the QR content for a trace code (or market-entry code):
// baseURL + "/q/" + code, plus "?v=" + token when token is given (the
// code's verification token, docs/coding-rules.md "Verification token").
func TraceURL(baseURL, code, token string) string {
	u := strings.TrimRight(baseURL, "/") + "/q/" + code
	if token != "" {
		u += "?v=" + token
	}
	return u
}

// maxTokenLen bounds a verification token (letters and digits only).
const maxTokenLen = 16

// OperatorURL is the QR content of an operator e-ID card:
// baseURL + "/o/" + operator code.
func OperatorURL(baseURL, code string) string {
	return strings.TrimRight(baseURL, "/") + "/o/" + code
}

// GroupDigits splits a code into groups of four from the left, separated by
// single spaces ("13701020000000000019" → "1370 1020 0000 0000 0019").
func GroupDigits(code string) string {
	var b strings.Builder
	n := 0
	for _, r := range code {
		if n > 0 && n%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// mod1110Valid reports whether the last digit of s is the GB/T 17710
// (ISO/IEC 7064) hybrid MOD 11,10 check digit of the others.
func mod1110Valid(s string) bool {
	if len(s) < 2 {
		return false
	}
	p := 10
	for i := 0; i < len(s)-1; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		v := (p + int(c-'0')) % 10
		if v == 0 {
			v = 10
		}
		p = (2 * v) % 11
	}
	last := s[len(s)-1]
	if last < '0' || last > '9' {
		return false
	}
	return (11-p)%10 == int(last-'0')
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// validator collects the first input error, naming the offending field.
type validator struct {
	fn  string // public function name, for the message
	err error
}

func (v *validator) fail(field, format string, args ...any) {
	if v.err == nil {
		v.err = fmt.Errorf("printing: %s: %s %s", v.fn, field, fmt.Sprintf(format, args...))
	}
}

func (v *validator) required(field, value string) bool {
	if strings.TrimSpace(value) == "" {
		v.fail(field, "is required")
		return false
	}
	if !utf8.ValidString(value) {
		v.fail(field, "is not valid UTF-8")
		return false
	}
	return true
}

// verification checks a signed document's footer: the absolute http(s)
// URL its QR code opens (VerifyURL) and the base64 signature (Signature,
// optional).
func (v *validator) verification(verifyURL, signature string) {
	if v.required("VerifyURL", verifyURL) {
		u, err := url.Parse(verifyURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(verifyURL) > caseMaxURL {
			v.fail("VerifyURL", "must be an absolute http(s) URL of at most %d bytes, got %q", caseMaxURL, verifyURL)
		}
	}
	if signature != "" {
		if _, err := base64.StdEncoding.DecodeString(signature); err != nil {
			v.fail("Signature", "is not valid base64: %v", err)
		}
	}
}

func (v *validator) date(field string, t time.Time) {
	if t.IsZero() {
		v.fail(field, "is required")
	}
}

// traceCode checks a 20-digit trace code; types lists the allowed first
// digits (1 production, 2 circulation, 3 market-entry).
func (v *validator) traceCode(field, code string, types string) {
	if !v.required(field, code) {
		return
	}
	switch {
	case len(code) != traceCodeLen || !allDigits(code):
		v.fail(field, "must be %d digits, got %q", traceCodeLen, code)
	case !strings.ContainsRune(types, rune(code[0])):
		v.fail(field, "must start with one of %s, got %q", strings.Join(strings.Split(types, ""), "/"), code)
	case !mod1110Valid(code):
		v.fail(field, "has a wrong check digit: %q", code)
	}
}

// token checks an optional verification token: up to 16 ASCII letters and
// digits (it goes into a URL query unescaped).
func (v *validator) token(field, s string) {
	if s == "" {
		return
	}
	ok := len(s) <= maxTokenLen
	for i := 0; i < len(s) && ok; i++ {
		c := s[i]
		ok = c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
	}
	if !ok {
		v.fail(field, "must be at most %d letters and digits, got %q", maxTokenLen, s)
	}
}

func (v *validator) operatorCode(field, code string) {
	if !v.required(field, code) {
		return
	}
	switch {
	case len(code) != operatorCodeLen || !allDigits(code):
		v.fail(field, "must be %d digits, got %q", operatorCodeLen, code)
	case !mod1110Valid(code):
		v.fail(field, "has a wrong check digit: %q", code)
	}
}

func (v *validator) baseURL(field, s string) {
	if !v.required(field, s) {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		v.fail(field, "must be an absolute http(s) URL without query, got %q", s)
	}
}

func (v *validator) quantity(field string, q float64, unitField, unit string) {
	if !(q > 0) || q > 1e12 {
		v.fail(field, "must be a positive number, got %v", q)
	}
	v.required(unitField, unit)
}

func formatDate(t time.Time) string { return t.Format("2006-01-02") }

// formatDateCN renders a date as 2026年03月01日.
func formatDateCN(t time.Time) string { return t.Format("2006年01月02日") }

func formatQuantity(q float64, unit string) string {
	return strconv.FormatFloat(q, 'f', -1, 64) + " " + unit
}
