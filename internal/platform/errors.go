package platform

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error so that every transport maps it the same way
// (HTTP status, CLI exit message) without knowing the feature that raised it.
type Kind int

const (
	KindInternal Kind = iota
	KindBadRequest
	KindUnauthorized
	KindForbidden
	KindNotFound
	KindConflict
	KindInvalid
	KindTooLarge
	KindUnsupported
	KindTooMany
)

// FieldError names one input field and why it was refused, in Chinese and English.
type FieldError struct {
	Field string `json:"field"`
	Code  string `json:"code"`
	ZH    string `json:"message_zh"`
	EN    string `json:"message"`
}

// Error is the one error type features return for expected failures.
// Anything else that reaches a transport is an internal error.
type Error struct {
	Kind   Kind
	ZH, EN string
	Fields []FieldError
	// Extra carries machine-readable facts a client may act on (e.g. "available": 12.5).
	Extra map[string]any
	// Type names the problem for clients that branch on it (the problem
	// document's type is urn:agtrace:problem:<Type>); "" = about:blank.
	Type string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.EN)
	if e.ZH != "" {
		fmt.Fprintf(&b, " (%s)", e.ZH)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.EN)
	}
	return b.String()
}

// Typed returns a copy of e whose problem type is typ.
func (e *Error) Typed(typ string) *Error {
	c := *e
	c.Type = typ
	return &c
}

// With returns a copy of e with an extra fact attached.
func (e *Error) With(key string, v any) *Error {
	c := *e
	c.Extra = map[string]any{}
	for k, x := range e.Extra {
		c.Extra[k] = x
	}
	c.Extra[key] = v
	return &c
}

func newErr(k Kind, zh, en string) *Error { return &Error{Kind: k, ZH: zh, EN: en} }

func NotFound(zh, en string) *Error     { return newErr(KindNotFound, zh, en) }
func Forbidden(zh, en string) *Error    { return newErr(KindForbidden, zh, en) }
func Conflict(zh, en string) *Error     { return newErr(KindConflict, zh, en) }
func BadRequest(zh, en string) *Error   { return newErr(KindBadRequest, zh, en) }
func Unauthorized(zh, en string) *Error { return newErr(KindUnauthorized, zh, en) }
func TooMany(zh, en string) *Error      { return newErr(KindTooMany, zh, en) }
func TooLarge(zh, en string) *Error     { return newErr(KindTooLarge, zh, en) }
func Unsupported(zh, en string) *Error  { return newErr(KindUnsupported, zh, en) }

// Invalid is a 422-style error listing the offending fields.
func Invalid(fields ...FieldError) *Error {
	return &Error{Kind: KindInvalid, ZH: "输入有误", EN: "invalid input", Fields: fields}
}

// KindOf reports the Kind of err (KindInternal for foreign errors).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// IsNotFound is a shortcut used by services that turn a missing row into a 404.
func IsNotFound(err error) bool { return KindOf(err) == KindNotFound }

// Validator collects field errors; Err returns nil when there were none.
type Validator struct{ fields []FieldError }

// Add records a refusal for a field.
func (v *Validator) Add(field, code, zh, en string) {
	v.fields = append(v.fields, FieldError{Field: field, Code: code, ZH: zh, EN: en})
}

// Require refuses an empty (after trimming) string.
func (v *Validator) Require(field, value string) bool {
	if strings.TrimSpace(value) == "" {
		v.Add(field, "required", "必填", "is required")
		return false
	}
	return true
}

// MaxLen refuses a string longer than n runes.
func (v *Validator) MaxLen(field, value string, n int) bool {
	if len([]rune(value)) > n {
		v.Add(field, "too_long", fmt.Sprintf("不能超过 %d 个字符", n), fmt.Sprintf("must be at most %d characters", n))
		return false
	}
	return true
}

// OneOf refuses a value outside the allowed set.
func (v *Validator) OneOf(field, value string, allowed ...string) bool {
	for _, a := range allowed {
		if value == a {
			return true
		}
	}
	v.Add(field, "not_allowed", "取值无效，可选："+strings.Join(allowed, " | "), "must be one of "+strings.Join(allowed, " | "))
	return false
}

// Check adds the field error when ok is false.
func (v *Validator) Check(ok bool, field, code, zh, en string) bool {
	if !ok {
		v.Add(field, code, zh, en)
	}
	return ok
}

// Fields returns what was collected so far.
func (v *Validator) Fields() []FieldError { return v.fields }

// Err is nil when no field was refused.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return Invalid(v.fields...)
}
