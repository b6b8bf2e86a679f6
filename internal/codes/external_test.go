package codes

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var usccValid = []string{"9144030071526726XG", "91330100799655058B", "914403001922038216", "91350100M000100Y43"}

func TestValidateUSCC(t *testing.T) {
	tests := []struct {
		in   string
		want *Error
	}{
		{"9144030071526726XG", nil},
		{"91330100799655058B", nil},
		{"914403001922038216", nil},
		{"91350100M000100Y43", nil},
		{"91350100m000100y43", nil},       // lower case accepted
		{" 9135 0100 M000 100Y 43 ", nil}, // spaces stripped
		{"９１３５０１００Ｍ０００１００Ｙ４３", nil},       // full width
		{"", ErrLength},
		{"9144030071526726X", ErrLength},
		{"9144030071526726XGG", ErrLength},
		{"9144030071526726IG", ErrCharset}, // I is not in the alphabet
		{"9144030071526726XO", ErrCharset},
		{"91440300715267260G", ErrCheckDigit},
		{"9144030071526726XH", ErrCheckDigit},
		{"91440300715267261R", ErrOrgCheckDigit}, // outer check recomputed, inner check wrong
		{"91350100M000100Y56", ErrOrgCheckDigit},
		{"9144030071526726Ｘ中", ErrCharset},
	}
	for _, tc := range tests {
		err := ValidateUSCC(tc.in)
		wantErr(t, "ValidateUSCC("+tc.in+")", err, tc.want)
		if tc.want == ErrCheckDigit && errors.Is(err, ErrOrgCheckDigit) {
			t.Errorf("ValidateUSCC(%q): outer check error must be distinct from the inner one", tc.in)
		}
	}
}

// Every single-character substitution of a valid USCC is rejected.
func TestValidateUSCCSubstitutions(t *testing.T) {
	for _, v := range usccValid {
		for pos := range len(v) {
			for i := range len(USCCAlphabet) {
				c := USCCAlphabet[i]
				if c == v[pos] {
					continue
				}
				b := []byte(v)
				b[pos] = c
				if ValidateUSCC(string(b)) == nil {
					t.Errorf("mutation %s of %s accepted", b, v)
				}
			}
		}
	}
}

func TestUSCCSuggestedKind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"9144030071526726XG", "enterprise"},
		{"92370102MA3C000000", "individual"},
		{"93370102MA3C000000", "cooperative"},
		{"12100000400000000X", ""},
		{"9", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := USCCSuggestedKind(tc.in); got != tc.want {
			t.Errorf("USCCSuggestedKind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestValidateResidentID(t *testing.T) {
	today := time.Date(2026, 3, 1, 23, 0, 0, 0, time.FixedZone("CST", 8*3600))
	tests := []struct {
		in   string
		want *Error
	}{
		{"11010519491231002X", nil},
		{"11010519491231002x", nil},
		{"1101 0519 4912 3100 2x", nil},
		{"370102198002290012", nil}, // 1980 is a leap year
		{"110105202603010020", nil}, // born today
		{"110105190001010028", nil}, // 1900-01-01
		{"830000199001011234", nil}, // Taiwan residents' residence permit
		{"931156199001011236", nil}, // foreigner's permanent residence ID (2023)
		{"", ErrLength},
		{"110105491231002", ErrLength}, // first-generation 15 digits
		{"11010519491231002XX", ErrLength},
		{"11010519491231002Y", ErrCharset},
		{"1101051949123100X2", ErrCharset},
		{"11010519491231中02X", ErrCharset},
		{"110105194912310021", ErrCheckDigit},
		{"11010519491231003X", ErrCheckDigit},
		{"000000194912310027", ErrRegion},
		{"990101194912310028", ErrRegion},
		{"110105194902310026", ErrDate}, // 31 February
		{"37010219810229001X", ErrDate}, // 1981 not a leap year
		{"110105190002290025", ErrDate}, // 1900 not a leap year
		{"110105194913010029", ErrDate}, // month 13
		{"110105194912000021", ErrDate}, // day 0
		{"110105189912310023", ErrDate}, // before 1900
		{"110105202603020026", ErrDate}, // tomorrow
	}
	for _, tc := range tests {
		wantErr(t, "ValidateResidentID("+tc.in+")", ValidateResidentID(tc.in, today), tc.want)
	}
	if err := ValidateResidentID("110105194912310021", today); !strings.Contains(err.(*Error).ZH, "校验位") {
		t.Errorf("check-digit error should say 校验位: %v", err)
	}
	// Every single-character change is caught by the check character.
	v := "11010519491231002X"
	for pos := range len(v) {
		for _, c := range "0123456789X" {
			if byte(c) == v[pos] {
				continue
			}
			b := []byte(v)
			b[pos] = byte(c)
			if ValidateResidentID(string(b), today) == nil {
				t.Errorf("mutation %s accepted", b)
			}
		}
	}
}

func TestNormalizeResidentID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"11010519491231002x", "11010519491231002X"},
		{" 110105 19491231 002X ", "11010519491231002X"},
		{"１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := NormalizeResidentID(tc.in); got != tc.want {
			t.Errorf("NormalizeResidentID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestValidGTIN(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"96385074", true},       // GTIN-8
		{"036000291452", true},   // GTIN-12 (UPC-A)
		{"4006381333931", true},  // GTIN-13
		{"6901234567892", true},  // GTIN-13, China prefix 690
		{"00012345600012", true}, // GTIN-14
		{"10614141000415", true}, // GTIN-14 with indicator 1
		{"4006381333932", false},
		{"036000291453", false},
		{"4006381333913", false}, // adjacent transposition
		{"400638133393", false},  // 12 digits, wrong check as UPC
		{"40063813339", false},   // 11 digits
		{"400638133393a", false},
		{"4006 381333931", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := ValidGTIN(tc.in); got != tc.want {
			t.Errorf("ValidGTIN(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestEarTag(t *testing.T) {
	tests := []struct {
		in      string
		species Species
		county  string
		want    *Error
	}{
		{"137010212345678", Pig, "370102", nil},
		{"2 330106 00000001", Cattle, "330106", nil},
		{"3-650102-99999999", Sheep, "650102", nil},
		{"", 0, "", ErrLength},
		{"13701021234567", 0, "", ErrLength},
		{"1370102123456789", 0, "", ErrLength},
		{"13701021234567A", 0, "", ErrCharset},
		{"037010212345678", 0, "", ErrUnknownType},
		{"437010212345678", 0, "", ErrUnknownType},
		{"100000012345678", 0, "", ErrRegion},
	}
	for _, tc := range tests {
		wantErr(t, "ValidEarTag("+tc.in+")", ValidEarTag(tc.in), tc.want)
		got, err := ParseEarTag(tc.in)
		if err == nil && (got.Species != tc.species || got.County != tc.county || len(got.Serial) != 8 || len(got.Code) != 15) {
			t.Errorf("ParseEarTag(%q) = %+v", tc.in, got)
		}
	}
	for _, sp := range []struct {
		s      Species
		en, zh string
	}{{Pig, "pig", "猪"}, {Cattle, "cattle", "牛"}, {Sheep, "sheep", "羊"}, {7, "Species(7)", ""}} {
		if sp.s.String() != sp.en || sp.s.Label() != sp.zh {
			t.Errorf("Species %d: %q %q", sp.s, sp.s.String(), sp.s.Label())
		}
	}
}
