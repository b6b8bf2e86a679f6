package codes

import "strings"

// NormalizeCode prepares a typed or scanned code for parsing: it removes
// spaces (including the ideographic space U+3000), tabs, hyphens and dashes
// (labels print codes in groups) and turns full-width digits and letters
// (typed with a Chinese input method) into ASCII. Letters are upper-cased.
// It does not validate anything.
func NormalizeCode(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u3000' || r == '\u00a0':
			continue
		case r == '-' || r == '\u2010' || r == '\u2011' || r == '\u2012' || r == '\u2013' || r == '\u2014' || r == '\uff0d':
			continue
		case r >= '\uff10' && r <= '\uff19': // full-width digits
			b.WriteByte(byte('0' + r - '\uff10'))
		case r >= '\uff21' && r <= '\uff3a': // full-width upper-case
			b.WriteByte(byte('A' + r - '\uff21'))
		case r >= '\uff41' && r <= '\uff5a': // full-width lower-case
			b.WriteByte(byte('A' + r - '\uff41'))
		case r >= 'a' && r <= 'z':
			b.WriteByte(byte(r - 'a' + 'A'))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// FormatGrouped prints a code in groups of 4 separated by single spaces, as
// on labels: "1370 1020 0000 0000 0019". The input is normalised first, so
// an already grouped code is regrouped; it is not validated.
func FormatGrouped(code string) string {
	c := NormalizeCode(code)
	if len(c) <= 4 {
		return c
	}
	var b strings.Builder
	b.Grow(len(c) + len(c)/4)
	for i := 0; i < len(c); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c[i:min(i+4, len(c))])
	}
	return b.String()
}

// firstNonDigit returns the index and the character of the first byte that
// is not an ASCII digit, or -1.
func firstNonDigit(s string) (int, string) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			r := []rune(s[i:])[0]
			return i, string(r)
		}
	}
	return -1, ""
}

func allDigits(s string) bool {
	i, _ := firstNonDigit(s)
	return i < 0
}

// gb2260Provinces are the first two digits of GB/T 2260 codes (provinces,
// autonomous regions, municipalities, Taiwan, Hong Kong, Macao).
var gb2260Provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true,
}

// ValidCounty reports whether s is six digits starting with a GB/T 2260
// province code. It does not check that the county exists (counties are
// renamed and merged; historic codes stay valid in old identifiers).
func ValidCounty(s string) bool {
	return len(s) == 6 && allDigits(s) && gb2260Provinces[s[:2]]
}
