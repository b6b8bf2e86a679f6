package codes

import (
	"strconv"
	"strings"
)

// OperatorCategory is the first digit of an operator code.
type OperatorCategory int

// Operator categories.
const (
	Producer       OperatorCategory = 0 // 生产者
	Trader         OperatorCategory = 1 // 经营者
	ProducerTrader OperatorCategory = 2 // 生产经营者
	InputSupplier  OperatorCategory = 3 // 农资经营者
	Temporary      OperatorCategory = 4 // 临时主体: unregistered smallholder
)

// Operator code layout.
const (
	OperatorCodeLen   = 18
	OperatorSerialMax = 9_999_999_999 // 10 digits
	operatorSerialLen = 10
)

var operatorCategoryNames = [...]string{"producer", "trader", "producer_trader", "input_supplier", "temporary"}
var operatorCategoryLabels = [...]string{"生产者", "经营者", "生产经营者", "农资经营者", "临时主体"}

// Valid reports whether c is one of the five defined categories.
func (c OperatorCategory) Valid() bool { return c >= Producer && c <= Temporary }

// String returns the API name: producer, trader, producer_trader,
// input_supplier or temporary.
func (c OperatorCategory) String() string {
	if c.Valid() {
		return operatorCategoryNames[c]
	}
	return "OperatorCategory(" + strconv.Itoa(int(c)) + ")"
}

// Label returns the Chinese name.
func (c OperatorCategory) Label() string {
	if c.Valid() {
		return operatorCategoryLabels[c]
	}
	return ""
}

// ParseOperatorCategory maps an API string (producer|trader|
// producer_trader|input_supplier|temporary) to its category.
func ParseOperatorCategory(s string) (OperatorCategory, error) {
	for i, n := range operatorCategoryNames {
		if s == n {
			return OperatorCategory(i), nil
		}
	}
	return 0, newErr(ErrUnknownType,
		"主体类别“"+s+"”无效（应为producer、trader、producer_trader、input_supplier或temporary）",
		"unknown operator category "+quote(s)+" (must be producer, trader, producer_trader, input_supplier or temporary)")
}

// OperatorCode is a parsed operator code.
type OperatorCode struct {
	Category OperatorCategory
	County   string // 6-digit GB/T 2260 code of the registering county
	Serial   int64  // 1..OperatorSerialMax, from the per-county sequence
	Code     string // the canonical 18-digit code
}

// String returns the canonical 18-digit code.
func (c OperatorCode) String() string { return c.Code }

// NewOperatorCode builds the 18-digit operator code category + county +
// 10-digit serial + MOD 11,10 check digit.
func NewOperatorCode(cat OperatorCategory, county string, serial int64) (string, error) {
	if !cat.Valid() {
		return "", newErr(ErrUnknownType, "主体类别位必须为0到4", "operator category must be 0 to 4")
	}
	if !ValidCounty(county) {
		return "", regionErr(county)
	}
	if serial < 1 || serial > OperatorSerialMax {
		return "", newErr(ErrRange, "主体编码序号必须在1到9999999999之间", "operator code serial must be between 1 and 9999999999")
	}
	body := strconv.Itoa(int(cat)) + county + pad(serial, operatorSerialLen)
	c, err := Mod1110(body)
	if err != nil {
		return "", err
	}
	return body + string(c), nil
}

// ParseOperatorCode parses an operator code, accepting the same input
// forms and returning the same error kinds as ParseTraceCode.
func ParseOperatorCode(s string) (OperatorCode, error) {
	c := NormalizeCode(s)
	if c == "" {
		return OperatorCode{}, newErr(ErrLength, "主体编码为空", "operator code is empty")
	}
	if i, ch := firstNonDigit(c); i >= 0 {
		return OperatorCode{}, charsetErr("主体编码", "operator code", i, ch)
	}
	if len(c) != OperatorCodeLen {
		zh := "主体编码应为18位数字，实际为" + itoa(len(c)) + "位"
		en := "operator code must be 18 digits, got " + itoa(len(c))
		if len(c) == TraceCodeLen {
			zh += "（20位数字可能是追溯码）"
			en += " (a 20-digit number may be a trace code)"
		}
		return OperatorCode{}, newErr(ErrLength, zh, en)
	}
	if !ValidMod1110(c) {
		return OperatorCode{}, newErr(ErrCheckDigit, "主体编码校验位不符，请核对是否输错", "operator code check digit does not match; please check for a typo")
	}
	cat := OperatorCategory(c[0] - '0')
	if !cat.Valid() {
		return OperatorCode{}, newErr(ErrUnknownType, "主体类别位“"+c[:1]+"”无效（应为0到4）", "unknown operator category digit "+c[:1]+" (must be 0 to 4)")
	}
	county := c[1:7]
	if !ValidCounty(county) {
		return OperatorCode{}, regionErr(county)
	}
	serial, _ := strconv.ParseInt(c[7:OperatorCodeLen-1], 10, 64)
	return OperatorCode{Category: cat, County: county, Serial: serial, Code: c}, nil
}

// ValidOperatorCode reports whether s parses as an operator code.
func ValidOperatorCode(s string) bool {
	_, err := ParseOperatorCode(s)
	return err == nil
}

// OperatorCodeFromScan takes the operator code out of what a scanner read:
// the e-ID's URL (…/o/<code>[?…]) or the code itself (returned as given).
func OperatorCodeFromScan(v string) string {
	if i := strings.LastIndex(v, "/o/"); i >= 0 {
		v = v[i+3:]
		if j := strings.IndexAny(v, "?#/"); j >= 0 {
			v = v[:j]
		}
	}
	return v
}
