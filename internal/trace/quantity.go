package trace

import (
	"math"
	"strconv"
	"strings"

	"agtrace/internal/platform"
)

// Quantities are stored as int64 thousandths of their unit (exact sums);
// the API speaks decimal numbers with at most three decimals.

// maxMilli bounds a single quantity (10^12 units), far above any batch.
const maxMilli = int64(1e15)

// toMilli converts an API quantity in unit. It refuses zero, negative,
// non-finite, too large and over-precise values, and fractions of a count
// unit (head, bird, piece, box), with a field error naming field. unit ""
// means the unit is not known yet: the caller checks wholeUnits once it is.
func toMilli(v *platform.Validator, name string, q float64, unit string) (int64, bool) {
	if math.IsNaN(q) || math.IsInf(q, 0) {
		v.Add(name, "format", "请填写数字，如 200 或 12.5", "must be a number, such as 200 or 12.5")
		return 0, false
	}
	if q <= 0 {
		v.Add(name, "positive", "数量必须大于 0", "must be greater than 0")
		return 0, false
	}
	m := q * 1000
	r := math.Round(m)
	if math.Abs(m-r) > 1e-6*math.Max(1, math.Abs(m)) {
		v.Add(name, "precision", "数量最多保留 3 位小数", "must have at most 3 decimals")
		return 0, false
	}
	if r > float64(maxMilli) {
		v.Add(name, "range", "数量过大", "is too large")
		return 0, false
	}
	if r < 1 {
		v.Add(name, "positive", "数量必须大于 0", "must be greater than 0")
		return 0, false
	}
	return int64(r), wholeUnits(v, name, unit, int64(r))
}

// wholeUnits refuses a fraction of a count unit (1.5 head of live pig).
func wholeUnits(v *platform.Validator, name, unit string, m int64) bool {
	if u, ok := Units[unit]; ok && u.Count && m%1000 != 0 {
		v.Add(name, "integer", "以“"+u.Name+"”计的数量必须是整数", "must be a whole number of "+u.NameEN)
		return false
	}
	return true
}

// checkWhole is wholeUnits for a quantity validated before its unit was
// known (the unit comes from the code it applies to): a 422 error or nil.
func checkWhole(name, unit string, m int64) error {
	var v platform.Validator
	wholeUnits(&v, name, unit, m)
	return v.Err()
}

// fromMilli converts stored thousandths to an API number.
func fromMilli(m int64) float64 { return float64(m) / 1000 }

// FormatMilli prints thousandths as a decimal without trailing zeros.
func FormatMilli(m int64) string {
	neg := m < 0
	if neg {
		m = -m
	}
	s := strconv.FormatInt(m/1000, 10)
	if f := m % 1000; f != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(1000+f, 10)[1:], "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// FormatQty prints an API quantity the same way.
func FormatQty(q float64) string { return FormatMilli(int64(math.Round(q * 1000))) }

// ParseQty parses a decimal typed in a form or a query parameter ("12.5";
// "12，5" is refused). Only plain decimals are numbers here: no sign, no
// exponent (1e3), no hex float (0x1p3), no NaN / Inf, no underscores.
// An empty string is 0 (the service then says the field is required).
func ParseQty(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	return ParseDecimal(s)
}

// ParseDecimal parses a plain unsigned decimal ("12", "12.5", ".5"), the only
// textual number form quantities accept.
func ParseDecimal(s string) (float64, bool) {
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || len(s) > 40 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}
