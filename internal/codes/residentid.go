package codes

import (
	"strings"
	"time"
)

var residentIDWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const residentIDChecks = "10X98765432"

// NormalizeResidentID trims spaces, converts full-width characters and
// upper-cases a trailing x. It does not validate. Store and compare the
// normalised form (encrypted: it is personal information).
func NormalizeResidentID(s string) string {
	c := NormalizeCode(s)
	return strings.ToUpper(c)
}

// ValidateResidentID checks an 18-character resident identity number
// (GB 11643): 6-digit address code, birth date YYYYMMDD (a real date, not
// before 1900-01-01 and not after today in today's location), 3-digit
// sequence and the check character "10X98765432"[Σ mod 11]. A lower-case x
// is accepted. First-generation 15-digit numbers are rejected.
//
// The address code must start with a GB/T 2260 province code, 83 (Taiwan
// residents' residence permit) or 9 followed by a province code
// (foreigner's permanent residence ID, 2023 format); all use the same check.
func ValidateResidentID(s string, today time.Time) error {
	c := NormalizeResidentID(s)
	if n := len([]rune(c)); n != 18 {
		zh, en := "身份证号码应为18位，实际为"+itoa(n)+"位", "resident ID number must be 18 characters, got "+itoa(n)
		if n == 15 && allDigits(c) {
			zh += "（不接受15位一代身份证号码）"
			en += " (15-digit first-generation numbers are not accepted)"
		}
		return newErr(ErrLength, zh, en)
	}
	// 18 runes; a multi-byte rune is found at its own (= byte) position.
	if i, ch := firstNonDigit(c); i >= 0 && !(i == 17 && len(c) == 18 && c[17] == 'X') {
		return charsetErr("身份证号码", "resident ID number", i, ch)
	}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(c[i]-'0') * residentIDWeights[i]
	}
	if c[17] != residentIDChecks[sum%11] {
		return newErr(ErrCheckDigit, "身份证号码校验位不符，请核对是否输错", "resident ID number check character does not match; please check for a typo")
	}
	if !(gb2260Provinces[c[:2]] || c[:2] == "83" || (c[0] == '9' && gb2260Provinces[c[1:3]])) {
		return newErr(ErrRegion, "身份证号码前6位地址码无效", "invalid address code in the first 6 digits of the resident ID number")
	}
	birth, err := time.ParseInLocation("20060102", c[6:14], time.UTC)
	if err != nil || birth.Format("20060102") != c[6:14] {
		return newErr(ErrDate, "身份证号码中的出生日期“"+c[6:14]+"”不是有效日期", "birth date "+c[6:14]+" in the resident ID number is not a real date")
	}
	if birth.Year() < 1900 {
		return newErr(ErrDate, "身份证号码中的出生日期早于1900年", "birth date in the resident ID number is before 1900")
	}
	y, m, d := today.Date()
	if birth.After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) {
		return newErr(ErrDate, "身份证号码中的出生日期晚于今天", "birth date in the resident ID number is in the future")
	}
	return nil
}
