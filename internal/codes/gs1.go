package codes

import "strconv"

// ValidGTIN reports whether s is a GTIN-8, GTIN-12 (UPC-A), GTIN-13 (EAN-13)
// or GTIN-14 with a correct GS1 mod-10 check digit: from the rightmost data
// digit leftwards, weights 3, 1, 3, 1 …; check = (10 − Σ mod 10) mod 10.
// Only ASCII digits are accepted (barcode scanners send digits).
func ValidGTIN(s string) bool {
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return false
	}
	if !allDigits(s) {
		return false
	}
	sum := 0
	w := 3
	for i := len(s) - 2; i >= 0; i-- {
		sum += int(s[i]-'0') * w
		w = 4 - w
	}
	return int(s[len(s)-1]-'0') == (10-sum%10)%10
}

// Species is the first digit of a livestock ear tag.
type Species int

// Ear tag species (农业部令第67号).
const (
	Pig    Species = 1 // 猪
	Cattle Species = 2 // 牛
	Sheep  Species = 3 // 羊
)

// String returns "pig", "cattle" or "sheep".
func (s Species) String() string {
	switch s {
	case Pig:
		return "pig"
	case Cattle:
		return "cattle"
	case Sheep:
		return "sheep"
	}
	return "Species(" + strconv.Itoa(int(s)) + ")"
}

// Label returns the Chinese name.
func (s Species) Label() string {
	switch s {
	case Pig:
		return "猪"
	case Cattle:
		return "牛"
	case Sheep:
		return "羊"
	}
	return ""
}

// EarTag is a parsed livestock ear-tag number.
type EarTag struct {
	Species Species
	County  string
	Serial  string // 8 digits
	Code    string // canonical 15 digits
}

// ParseEarTag parses a 15-digit livestock ear-tag number: species (1 pig,
// 2 cattle, 3 sheep) + 6-digit county + 8-digit serial. There is no check
// digit, so a typo that keeps the layout cannot be detected. Spaces and
// hyphens are removed first.
func ParseEarTag(s string) (EarTag, error) {
	c := NormalizeCode(s)
	if i, ch := firstNonDigit(c); i >= 0 {
		return EarTag{}, charsetErr("耳标号", "ear tag number", i, ch)
	}
	if len(c) != 15 {
		return EarTag{}, newErr(ErrLength, "耳标号应为15位数字，实际为"+itoa(len(c))+"位", "ear tag number must be 15 digits, got "+itoa(len(c)))
	}
	sp := Species(c[0] - '0')
	if sp < Pig || sp > Sheep {
		return EarTag{}, newErr(ErrUnknownType, "耳标号畜种位“"+c[:1]+"”无效（1猪、2牛、3羊）", "unknown species digit "+c[:1]+" in ear tag number (1 pig, 2 cattle, 3 sheep)")
	}
	if !ValidCounty(c[1:7]) {
		return EarTag{}, regionErr(c[1:7])
	}
	return EarTag{Species: sp, County: c[1:7], Serial: c[7:], Code: c}, nil
}

// ValidEarTag validates a livestock ear-tag number (see ParseEarTag).
func ValidEarTag(s string) error {
	_, err := ParseEarTag(s)
	return err
}
