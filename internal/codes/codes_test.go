package codes

import (
	"errors"
	"strings"
	"testing"
)

// wantErr asserts that err is an *Error of kind want (nil: no error) with
// both messages filled in.
func wantErr(t *testing.T, what string, err error, want *Error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%s: unexpected error %v", what, err)
		}
		return
	}
	if err == nil {
		t.Errorf("%s: no error, want %s", what, want.Code)
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("%s: error %T is not *codes.Error", what, err)
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: error %q (%s), want kind %s", what, err, e.Code, want.Code)
	}
	if e.ZH == "" || e.EN == "" || e.Code == "" {
		t.Errorf("%s: incomplete error %#v", what, e)
	}
	if err.Error() != e.EN+" ("+e.ZH+")" {
		t.Errorf("%s: Error() = %q", what, err.Error())
	}
}

func TestErrorHierarchy(t *testing.T) {
	for _, e := range []*Error{ErrLength, ErrCharset, ErrUnknownType, ErrRegion, ErrDate, ErrRange} {
		if !errors.Is(e, ErrFormat) || errors.Is(e, ErrCheckDigit) {
			t.Errorf("%s should be a format error only", e.Code)
		}
	}
	if !errors.Is(ErrOrgCheckDigit, ErrCheckDigit) || errors.Is(ErrOrgCheckDigit, ErrFormat) {
		t.Error("ErrOrgCheckDigit should be a check-digit error only")
	}
	if errors.Is(ErrCheckDigit, ErrOrgCheckDigit) {
		t.Error("an outer check-digit error must not match ErrOrgCheckDigit")
	}
	if errors.Is(ErrFormat, ErrLength) {
		t.Error("the general kind must not match the specific one")
	}
	if errors.Is(ErrFormat, errors.New("format")) {
		t.Error("must not match foreign errors")
	}
	if got := ErrCheckDigit.Error(); got != "check digit mismatch (校验位错误)" {
		t.Errorf("Error() = %q", got)
	}
}

func TestNormalizeAndGroup(t *testing.T) {
	tests := []struct{ in, norm, grouped string }{
		{"1370 1020 0000 0000 0019", "13701020000000000019", "1370 1020 0000 0000 0019"},
		{"1370-1020-0000-0000-0019", "13701020000000000019", "1370 1020 0000 0000 0019"},
		{" 13701020000000000019\n", "13701020000000000019", "1370 1020 0000 0000 0019"},
		{"１３７０　１０２０－００００ ００００ ００１９", "13701020000000000019", "1370 1020 0000 0000 0019"},
		{"037010200000000017", "037010200000000017", "0370 1020 0000 0000 17"},
		{"9144030071526726xg", "9144030071526726XG", "9144 0300 7152 6726 XG"},
		{"", "", ""},
		{"12", "12", "12"},
		{"1234", "1234", "1234"},
		{"12345", "12345", "1234 5"},
	}
	for _, tc := range tests {
		if got := NormalizeCode(tc.in); got != tc.norm {
			t.Errorf("NormalizeCode(%q) = %q, want %q", tc.in, got, tc.norm)
		}
		if got := FormatGrouped(tc.in); got != tc.grouped {
			t.Errorf("FormatGrouped(%q) = %q, want %q", tc.in, got, tc.grouped)
		}
	}
}

func TestValidCounty(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"370102", true}, {"110105", true}, {"810000", true}, {"650102", true},
		{"000000", false}, {"990101", false}, {"37010", false}, {"3701020", false}, {"37010a", false}, {"", false},
	}
	for _, tc := range tests {
		if got := ValidCounty(tc.in); got != tc.want {
			t.Errorf("ValidCounty(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// The vectors published in docs/coding-rules.md.
var traceVectors = []struct {
	typ    TraceCodeType
	county string
	serial int64
	code   string
}{
	{Production, "370102", 1, "13701020000000000019"},
	{Circulation, "330106", 123456789, "23301060001234567890"},
	{MarketEntry, "440304", 42, "34403040000000000423"},
	{Production, "650102", TraceSerialMax, "16501029999999999994"},
}

var operatorVectors = []struct {
	cat    OperatorCategory
	county string
	serial int64
	code   string
}{
	{Producer, "370102", 1, "037010200000000017"},
	{Temporary, "330106", 2024, "433010600000020245"},
	{ProducerTrader, "510114", 987654, "251011400009876543"},
	{InputSupplier, "110105", OperatorSerialMax, "311010599999999997"},
}

func TestNewTraceCode(t *testing.T) {
	for _, v := range traceVectors {
		got, err := NewTraceCode(v.typ, v.county, v.serial)
		if err != nil || got != v.code {
			t.Errorf("NewTraceCode(%v, %q, %d) = %q, %v; want %q", v.typ, v.county, v.serial, got, err, v.code)
		}
		if !ValidMod1110(got) {
			t.Errorf("%s fails MOD 11,10", got)
		}
	}
	bad := []struct {
		typ    TraceCodeType
		county string
		serial int64
		want   *Error
	}{
		{0, "370102", 1, ErrUnknownType},
		{4, "370102", 1, ErrUnknownType},
		{Production, "37010", 1, ErrRegion},
		{Production, "000000", 1, ErrRegion},
		{Production, "37010x", 1, ErrRegion},
		{Production, "370102", 0, ErrRange},
		{Production, "370102", -5, ErrRange},
		{Production, "370102", TraceSerialMax + 1, ErrRange},
	}
	for _, tc := range bad {
		got, err := NewTraceCode(tc.typ, tc.county, tc.serial)
		wantErr(t, "NewTraceCode("+tc.county+")", err, tc.want)
		if got != "" {
			t.Errorf("NewTraceCode returned %q with an error", got)
		}
	}
}

func TestParseTraceCode(t *testing.T) {
	for _, v := range traceVectors {
		for _, in := range []string{v.code, FormatGrouped(v.code), strings.ReplaceAll(FormatGrouped(v.code), " ", "-")} {
			got, err := ParseTraceCode(in)
			if err != nil {
				t.Errorf("ParseTraceCode(%q): %v", in, err)
				continue
			}
			want := TraceCode{Type: v.typ, County: v.county, Serial: v.serial, Code: v.code}
			if got != want {
				t.Errorf("ParseTraceCode(%q) = %+v, want %+v", in, got, want)
			}
			if got.String() != v.code || !ValidTraceCode(in) {
				t.Errorf("String/ValidTraceCode mismatch for %q", in)
			}
		}
	}
	bad := []struct {
		in   string
		want *Error
	}{
		{"", ErrLength},
		{"  ", ErrLength},
		{"1370102000000000001", ErrLength},    // 19 digits
		{"137010200000000000190", ErrLength},  // 21 digits
		{"037010200000000017", ErrLength},     // an operator code
		{"1370102000000000001X", ErrCharset},  // letter
		{"13701020000000000O19", ErrCharset},  // letter O for zero
		{"1370102000000000001９x", ErrCharset}, // full-width 9 normalised, x not
		{"13701020000000000018", ErrCheckDigit},
		{"13701020000000000109", ErrCheckDigit}, // ... but see the transposition test for 0/1
		{"43701020000000000018", ErrUnknownType},
		{"03701020000000000011", ErrUnknownType},
		{"10000000000000000013", ErrRegion},
		{"19901010000000000016", ErrRegion},
	}
	for _, tc := range bad {
		if tc.want != ErrCheckDigit && tc.want != ErrLength && tc.want != ErrCharset && !ValidMod1110(tc.in) {
			t.Fatalf("test vector %q must pass MOD 11,10 to reach the %s check", tc.in, tc.want.Code)
		}
		got, err := ParseTraceCode(tc.in)
		if tc.in == "13701020000000000109" {
			// 0/1 swap with the check digit is one of the transpositions
			// MOD 11,10 misses: it parses, as a different serial.
			if err != nil || got.Serial != 10 {
				t.Errorf("ParseTraceCode(%q) = %+v, %v", tc.in, got, err)
			}
			continue
		}
		wantErr(t, "ParseTraceCode("+tc.in+")", err, tc.want)
		if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrCheckDigit) {
			t.Errorf("ParseTraceCode(%q): error must be ErrFormat or ErrCheckDigit", tc.in)
		}
		if got != (TraceCode{}) {
			t.Errorf("ParseTraceCode(%q) returned %+v with an error", tc.in, got)
		}
	}
	_, err := ParseTraceCode("037010200000000017")
	if e := err.(*Error); !strings.Contains(e.EN, "operator code") || !strings.Contains(e.ZH, "主体编码") {
		t.Errorf("an 18-digit input should hint at operator codes: %v", err)
	}
}

func TestTraceCodeType(t *testing.T) {
	tests := []struct {
		typ          TraceCodeType
		name, zh, en string
		valid        bool
	}{
		{Production, "production", "生产批次码", "production batch code", true},
		{Circulation, "circulation", "流通批次码", "circulation batch code", true},
		{MarketEntry, "market_entry", "入市批次码", "market-entry batch code", true},
		{0, "TraceCodeType(0)", "", "", false},
		{9, "TraceCodeType(9)", "", "", false},
	}
	for _, tc := range tests {
		if tc.typ.String() != tc.name || tc.typ.Label() != tc.zh || tc.typ.LabelEN() != tc.en || tc.typ.Valid() != tc.valid {
			t.Errorf("%d: %q %q %q %v", int(tc.typ), tc.typ.String(), tc.typ.Label(), tc.typ.LabelEN(), tc.typ.Valid())
		}
	}
}

func TestOperatorCategory(t *testing.T) {
	tests := []struct {
		cat      OperatorCategory
		name, zh string
	}{
		{Producer, "producer", "生产者"},
		{Trader, "trader", "经营者"},
		{ProducerTrader, "producer_trader", "生产经营者"},
		{InputSupplier, "input_supplier", "农资经营者"},
		{Temporary, "temporary", "临时主体"},
	}
	for i, tc := range tests {
		if int(tc.cat) != i {
			t.Errorf("%s = %d, want %d", tc.name, tc.cat, i)
		}
		if tc.cat.String() != tc.name || tc.cat.Label() != tc.zh || !tc.cat.Valid() {
			t.Errorf("%d: %q %q", tc.cat, tc.cat.String(), tc.cat.Label())
		}
		got, err := ParseOperatorCategory(tc.name)
		if err != nil || got != tc.cat {
			t.Errorf("ParseOperatorCategory(%q) = %v, %v", tc.name, got, err)
		}
	}
	for _, s := range []string{"", "Producer", "farmer", "0", "producer "} {
		_, err := ParseOperatorCategory(s)
		wantErr(t, "ParseOperatorCategory("+s+")", err, ErrUnknownType)
	}
	if c := OperatorCategory(5); c.Valid() || c.Label() != "" || c.String() != "OperatorCategory(5)" {
		t.Errorf("OperatorCategory(5): %v %q %q", c.Valid(), c.Label(), c.String())
	}
}

func TestNewOperatorCode(t *testing.T) {
	for _, v := range operatorVectors {
		got, err := NewOperatorCode(v.cat, v.county, v.serial)
		if err != nil || got != v.code {
			t.Errorf("NewOperatorCode(%v, %q, %d) = %q, %v; want %q", v.cat, v.county, v.serial, got, err, v.code)
		}
	}
	bad := []struct {
		cat    OperatorCategory
		county string
		serial int64
		want   *Error
	}{
		{-1, "370102", 1, ErrUnknownType},
		{5, "370102", 1, ErrUnknownType},
		{Producer, "990102", 1, ErrRegion},
		{Producer, "370102", 0, ErrRange},
		{Producer, "370102", OperatorSerialMax + 1, ErrRange},
	}
	for _, tc := range bad {
		_, err := NewOperatorCode(tc.cat, tc.county, tc.serial)
		wantErr(t, "NewOperatorCode", err, tc.want)
	}
}

func TestParseOperatorCode(t *testing.T) {
	for _, v := range operatorVectors {
		for _, in := range []string{v.code, FormatGrouped(v.code)} {
			got, err := ParseOperatorCode(in)
			want := OperatorCode{Category: v.cat, County: v.county, Serial: v.serial, Code: v.code}
			if err != nil || got != want {
				t.Errorf("ParseOperatorCode(%q) = %+v, %v; want %+v", in, got, err, want)
			}
			if !ValidOperatorCode(in) || got.String() != v.code {
				t.Errorf("ValidOperatorCode/String mismatch for %q", in)
			}
		}
	}
	bad := []struct {
		in   string
		want *Error
	}{
		{"", ErrLength},
		{"03701020000000001", ErrLength},
		{"13701020000000000019", ErrLength}, // a trace code
		{"0370102000000000A7", ErrCharset},
		{"037010200000000018", ErrCheckDigit},
		{"537010200000000019", ErrUnknownType},
		{"000000000000000015", ErrRegion},
	}
	for _, tc := range bad {
		if (tc.want == ErrUnknownType || tc.want == ErrRegion) && !ValidMod1110(tc.in) {
			t.Fatalf("test vector %q must pass MOD 11,10", tc.in)
		}
		got, err := ParseOperatorCode(tc.in)
		wantErr(t, "ParseOperatorCode("+tc.in+")", err, tc.want)
		if got != (OperatorCode{}) {
			t.Errorf("ParseOperatorCode(%q) returned %+v with an error", tc.in, got)
		}
	}
	_, err := ParseOperatorCode("13701020000000000019")
	if e := err.(*Error); !strings.Contains(e.EN, "trace code") {
		t.Errorf("a 20-digit input should hint at trace codes: %v", err)
	}
	// Every single-digit change of an operator code is rejected.
	for _, v := range operatorVectors {
		for pos := range len(v.code) {
			for d := byte('0'); d <= '9'; d++ {
				if d == v.code[pos] {
					continue
				}
				b := []byte(v.code)
				b[pos] = d
				if ValidOperatorCode(string(b)) {
					t.Errorf("mutation %s of %s accepted", b, v.code)
				}
			}
		}
	}
}

// FuzzParseTraceCode: parsing never panics, anything accepted is canonical
// and rebuilds to itself, and NewTraceCode -> ParseTraceCode round-trips.
func FuzzParseTraceCode(f *testing.F) {
	for _, v := range traceVectors {
		f.Add(v.code, int(v.typ), v.county, v.serial)
		f.Add(FormatGrouped(v.code), int(v.typ)+1, "000000", -v.serial)
	}
	f.Add("", 0, "", int64(0))
	f.Add("１３７０　１０２０－００００ ００００ ００１９", 3, "810000", int64(1))
	f.Add("\xff\xfe13701020000000000019", 2, "37010\xff", int64(9))
	f.Fuzz(func(t *testing.T, s string, typ int, county string, serial int64) {
		tc, err := ParseTraceCode(s)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrCheckDigit) {
				t.Fatalf("ParseTraceCode(%q): unexpected error kind %v", s, err)
			}
			if tc != (TraceCode{}) {
				t.Fatalf("ParseTraceCode(%q): non-zero result with error", s)
			}
		} else {
			if len(tc.Code) != TraceCodeLen || tc.Code != NormalizeCode(s) {
				t.Fatalf("ParseTraceCode(%q).Code = %q", s, tc.Code)
			}
			if tc.Serial >= 1 {
				again, err := NewTraceCode(tc.Type, tc.County, tc.Serial)
				if err != nil || again != tc.Code {
					t.Fatalf("rebuild of %q = %q, %v", tc.Code, again, err)
				}
			}
		}

		code, err := NewTraceCode(TraceCodeType(typ), county, serial)
		if err != nil {
			if code != "" {
				t.Fatalf("NewTraceCode returned %q with error %v", code, err)
			}
			return
		}
		back, err := ParseTraceCode(code)
		if err != nil {
			t.Fatalf("ParseTraceCode(NewTraceCode(%d, %q, %d) = %q): %v", typ, county, serial, code, err)
		}
		if back.Type != TraceCodeType(typ) || back.County != county || back.Serial != serial || back.Code != code {
			t.Fatalf("round trip: %+v from (%d, %q, %d)", back, typ, county, serial)
		}
		if back2, err := ParseTraceCode(FormatGrouped(code)); err != nil || back2 != back {
			t.Fatalf("grouped round trip of %q: %+v, %v", code, back2, err)
		}
	})
}
