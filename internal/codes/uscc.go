package codes

import "strings"

// USCCAlphabet is the character set of the 统一社会信用代码 (GB 32100):
// digits and upper-case letters without I, O, S, V, Z.
const USCCAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

var orgCodeWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// NormalizeUSCC trims spaces and hyphens, converts full-width characters
// and upper-cases letters.
func NormalizeUSCC(s string) string { return NormalizeCode(s) }

// ValidateUSCC checks a unified social credit code (GB 32100): 18
// characters over USCCAlphabet, the outer check character (weights
// 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28, mod 31), and the inner
// GB 11714 organisation-code check of characters 9–17. The input is
// normalised first (NormalizeUSCC), so lower case is accepted.
// Errors: ErrLength, ErrCharset (both ErrFormat), ErrCheckDigit for the
// outer check, ErrOrgCheckDigit for the inner one.
func ValidateUSCC(s string) error {
	c := NormalizeUSCC(s)
	if n := len([]rune(c)); n != 18 {
		return newErr(ErrLength, "统一社会信用代码应为18位，实际为"+itoa(n)+"位", "unified social credit code must be 18 characters, got "+itoa(n))
	}
	// 18 runes: any multi-byte rune is reported below at its own position,
	// which equals its byte index because everything before it is ASCII.
	sum := 0
	for i := 0; i < 18; i++ {
		v := strings.IndexByte(USCCAlphabet, c[i])
		if v < 0 {
			ch := []rune(c[i:])[0]
			return charsetErr("统一社会信用代码", "unified social credit code", i, string(ch))
		}
		if i < 17 {
			sum += v * usccWeights[i]
		}
	}
	if want := USCCAlphabet[(31-sum%31)%31]; c[17] != want {
		return newErr(ErrCheckDigit, "统一社会信用代码校验位不符，请核对是否输错", "unified social credit code check character does not match; please check for a typo")
	}
	if !validOrgCode(c[8:17]) {
		return newErr(ErrOrgCheckDigit, "统一社会信用代码第9–17位（组织机构代码）校验位不符", "characters 9–17 of the unified social credit code (organisation code) fail the GB 11714 check")
	}
	return nil
}

// validOrgCode checks a 9-character GB 11714 organisation code: weights
// 3 7 9 10 5 8 4 2 over the first 8 (digits 0–9, letters A=10 … Z=35),
// r = 11 − Σ mod 11, r == 10 → 'X', r == 11 → '0'.
func validOrgCode(s string) bool {
	if len(s) != 9 {
		return false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		ch := s[i]
		var v int
		switch {
		case ch >= '0' && ch <= '9':
			v = int(ch - '0')
		case ch >= 'A' && ch <= 'Z':
			v = int(ch-'A') + 10
		default:
			return false
		}
		sum += v * orgCodeWeights[i]
	}
	var want byte
	switch r := 11 - sum%11; r {
	case 10:
		want = 'X'
	case 11:
		want = '0'
	default:
		want = byte('0' + r)
	}
	return s[8] == want
}

// USCCSuggestedKind returns the organisation kind suggested by the first two
// characters of a USCC: "91" → "enterprise", "92" → "individual"
// (个体工商户), "93" → "cooperative" (农民专业合作社), else "". It does not
// validate the code.
func USCCSuggestedKind(s string) string {
	c := NormalizeUSCC(s)
	if len(c) < 2 {
		return ""
	}
	switch c[:2] {
	case "91":
		return "enterprise"
	case "92":
		return "individual"
	case "93":
		return "cooperative"
	}
	return ""
}
