// Package codes builds and checks the identifiers the platform issues
// (trace codes, operator codes) and validates the external identifiers it
// records (USCC, resident ID, livestock ear tag, GTIN). Everything here is
// pure computation: a code can be answered "invalid" before any database
// lookup. The layouts are specified in docs/coding-rules.md.
package codes

import "strings"

// Error is a validation error with a machine code and messages in Chinese
// and English, so a caller can put ZH/EN into a field-level API error.
//
// Codes form a dotted hierarchy: "format.length" is a kind of "format", so
// errors.Is(err, ErrFormat) holds for every format error and
// errors.Is(err, ErrCheckDigit) for every check-digit error.
type Error struct {
	Code string
	ZH   string
	EN   string
}

// Error returns "EN (ZH)".
func (e *Error) Error() string { return e.EN + " (" + e.ZH + ")" }

// Is reports whether e is target or a more specific kind of it
// (same Code, or Code starting with target.Code + ".").
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t == nil || e == nil {
		return false
	}
	return e.Code == t.Code || strings.HasPrefix(e.Code, t.Code+".")
}

// Sentinel errors. Functions return fresh *Error values with specific
// messages; compare them with errors.Is against these.
var (
	// ErrFormat: the input cannot be this kind of identifier (length,
	// characters, type digit, region, date ...).
	ErrFormat = &Error{Code: "format", ZH: "格式错误", EN: "invalid format"}
	// ErrLength: wrong number of characters.
	ErrLength = &Error{Code: "format.length", ZH: "长度错误", EN: "wrong length"}
	// ErrCharset: a character outside the allowed set.
	ErrCharset = &Error{Code: "format.charset", ZH: "含有非法字符", EN: "invalid character"}
	// ErrUnknownType: unknown code type, operator category or species digit.
	ErrUnknownType = &Error{Code: "format.type", ZH: "类型位无效", EN: "unknown type digit"}
	// ErrRegion: the 6-digit administrative-division part is not plausible.
	ErrRegion = &Error{Code: "format.region", ZH: "行政区划代码无效", EN: "invalid administrative division code"}
	// ErrDate: an embedded date is not a real date or out of range.
	ErrDate = &Error{Code: "format.date", ZH: "日期无效", EN: "invalid date"}
	// ErrRange: a value passed to a constructor is out of range.
	ErrRange = &Error{Code: "format.range", ZH: "数值超出范围", EN: "value out of range"}

	// ErrCheckDigit: the check character does not match (typically a typo).
	ErrCheckDigit = &Error{Code: "check_digit", ZH: "校验位错误", EN: "check digit mismatch"}
	// ErrOrgCheckDigit: the inner GB 11714 organisation-code check of a USCC
	// does not match.
	ErrOrgCheckDigit = &Error{Code: "check_digit.org", ZH: "组织机构代码校验位错误", EN: "organisation code check digit mismatch"}
)

func newErr(parent *Error, zh, en string) *Error {
	return &Error{Code: parent.Code, ZH: zh, EN: en}
}
