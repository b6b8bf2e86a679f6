package codes

import "strconv"

// TraceCodeType is the first digit of a trace code.
type TraceCodeType int

// Trace code types.
const (
	Production  TraceCodeType = 1 // 生产批次码: a batch as produced
	Circulation TraceCodeType = 2 // 流通批次码: a batch sold to another registered operator
	MarketEntry TraceCodeType = 3 // 入市批次码: printed on the market-entry certificate
)

// Trace code layout.
const (
	TraceCodeLen    = 20
	TraceSerialMax  = 999_999_999_999 // 12 digits
	traceSerialLen  = 12
	countyLen       = 6
	traceSerialFrom = 1 + countyLen
)

// Valid reports whether t is one of the three defined types.
func (t TraceCodeType) Valid() bool { return t >= Production && t <= MarketEntry }

// String returns the API name: "production", "circulation", "market_entry".
func (t TraceCodeType) String() string {
	switch t {
	case Production:
		return "production"
	case Circulation:
		return "circulation"
	case MarketEntry:
		return "market_entry"
	}
	return "TraceCodeType(" + strconv.Itoa(int(t)) + ")"
}

// Label returns the Chinese name printed on labels and pages.
func (t TraceCodeType) Label() string {
	switch t {
	case Production:
		return "生产批次码"
	case Circulation:
		return "流通批次码"
	case MarketEntry:
		return "入市批次码"
	}
	return ""
}

// LabelEN returns the English name.
func (t TraceCodeType) LabelEN() string {
	switch t {
	case Production:
		return "production batch code"
	case Circulation:
		return "circulation batch code"
	case MarketEntry:
		return "market-entry batch code"
	}
	return ""
}

// TraceCode is a parsed trace code.
type TraceCode struct {
	Type   TraceCodeType
	County string // 6-digit GB/T 2260 code of the issuing operator's county
	Serial int64  // 1..TraceSerialMax, from the per-county sequence
	Code   string // the canonical 20-digit code (no spaces)
}

// String returns the canonical 20-digit code.
func (c TraceCode) String() string { return c.Code }

// NewTraceCode builds the 20-digit trace code type + county + 12-digit
// serial + MOD 11,10 check digit. county must be six digits with a GB/T 2260
// province prefix; serial must be in 1..TraceSerialMax.
func NewTraceCode(t TraceCodeType, county string, serial int64) (string, error) {
	if !t.Valid() {
		return "", newErr(ErrUnknownType, "追溯码类型必须为1、2或3", "trace code type must be 1, 2 or 3")
	}
	if !ValidCounty(county) {
		return "", regionErr(county)
	}
	if serial < 1 || serial > TraceSerialMax {
		return "", newErr(ErrRange, "追溯码序号必须在1到999999999999之间", "trace code serial must be between 1 and 999999999999")
	}
	body := strconv.Itoa(int(t)) + county + pad(serial, traceSerialLen)
	c, err := Mod1110(body)
	if err != nil {
		return "", err
	}
	return body + string(c), nil
}

// ParseTraceCode parses a trace code. Spaces and hyphens (as printed in
// groups on labels) and full-width digits are accepted. Errors are *Error
// values matching ErrFormat (ErrCharset, ErrLength, ErrUnknownType,
// ErrRegion) or ErrCheckDigit. The check digit is verified before the type
// and county, so a mistyped code is reported as a check-digit error.
func ParseTraceCode(s string) (TraceCode, error) {
	c := NormalizeCode(s)
	if c == "" {
		return TraceCode{}, newErr(ErrLength, "追溯码为空", "trace code is empty")
	}
	if i, ch := firstNonDigit(c); i >= 0 {
		return TraceCode{}, charsetErr("追溯码", "trace code", i, ch)
	}
	if len(c) != TraceCodeLen {
		zh := "追溯码应为20位数字，实际为" + itoa(len(c)) + "位"
		en := "trace code must be 20 digits, got " + itoa(len(c))
		if len(c) == OperatorCodeLen {
			zh += "（18位数字可能是主体编码）"
			en += " (an 18-digit number may be an operator code)"
		}
		return TraceCode{}, newErr(ErrLength, zh, en)
	}
	if !ValidMod1110(c) {
		return TraceCode{}, newErr(ErrCheckDigit, "追溯码校验位不符，请核对是否输错", "trace code check digit does not match; please check for a typo")
	}
	t := TraceCodeType(c[0] - '0')
	if !t.Valid() {
		return TraceCode{}, newErr(ErrUnknownType, "追溯码类型位“"+c[:1]+"”无效（应为1、2或3）", "unknown trace code type digit "+c[:1]+" (must be 1, 2 or 3)")
	}
	county := c[1:traceSerialFrom]
	if !ValidCounty(county) {
		return TraceCode{}, regionErr(county)
	}
	serial, _ := strconv.ParseInt(c[traceSerialFrom:TraceCodeLen-1], 10, 64)
	return TraceCode{Type: t, County: county, Serial: serial, Code: c}, nil
}

// ValidTraceCode reports whether s parses as a trace code.
func ValidTraceCode(s string) bool {
	_, err := ParseTraceCode(s)
	return err == nil
}

func regionErr(county string) *Error {
	return newErr(ErrRegion, "行政区划代码“"+county+"”无效", "invalid county code "+quote(county))
}
