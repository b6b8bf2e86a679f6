package trace

import (
	"math"
	"testing"

	"agtrace/internal/platform"
)

func TestRegionRange(t *testing.T) {
	for _, tc := range []struct{ prefix, lo, hi string }{
		{"37", "37", "38"},
		{"3706", "3706", "3707"},
		{"370686", "370686", "370687"},
		{"37069", "37069", "3707"},
		{"3799", "3799", "38"},
		{"99", "99", ""},
	} {
		lo, hi := regionRange(tc.prefix)
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("regionRange(%q) = [%q, %q), want [%q, %q)", tc.prefix, lo, hi, tc.lo, tc.hi)
		}
		for _, code := range []string{tc.prefix, tc.prefix + "001", tc.prefix + "999"} {
			if code < lo || (hi != "" && code >= hi) {
				t.Errorf("%s is outside the range of %s", code, tc.prefix)
			}
		}
	}
}

func TestQuantities(t *testing.T) {
	for _, tc := range []struct {
		in    float64
		milli int64
		ok    bool
		code  string
	}{
		{1, 1000, true, ""},
		{0.1, 100, true, ""},
		{12.345, 12345, true, ""},
		{92.5, 92500, true, ""},
		{1e9, 1e12, true, ""},
		{0, 0, false, "positive"},
		{-3, 0, false, "positive"},
		{0.0004, 0, false, "precision"},
		{1.0005, 0, false, "precision"},
		{2e12, 0, false, "range"},
		{math.NaN(), 0, false, "format"},
		{math.Inf(1), 0, false, "format"},
	} {
		var v platform.Validator
		m, ok := toMilli(&v, "q", tc.in, "kg")
		if ok != tc.ok || m != tc.milli {
			t.Errorf("toMilli(%v) = %d, %v; want %d, %v", tc.in, m, ok, tc.milli, tc.ok)
		}
		if !tc.ok && (len(v.Fields()) != 1 || v.Fields()[0].Code != tc.code || v.Fields()[0].Field != "q") {
			t.Errorf("toMilli(%v) field errors %+v, want code %s", tc.in, v.Fields(), tc.code)
		}
	}
	// count units take whole numbers; weights and volumes do not
	for _, tc := range []struct {
		q    float64
		unit string
		ok   bool
	}{{3, "head", true}, {1.5, "head", false}, {0.5, "bird", false}, {2.001, "piece", false}, {7, "box", true}, {1.5, "box", false},
		{1.5, "kg", true}, {0.001, "t", true}, {2.5, "L", true}, {1.5, "", true}} {
		var v platform.Validator
		_, ok := toMilli(&v, "q", tc.q, tc.unit)
		if ok != tc.ok || (!ok && v.Fields()[0].Code != "integer") {
			t.Errorf("toMilli(%v %s) ok = %v, want %v (%+v)", tc.q, tc.unit, ok, tc.ok, v.Fields())
		}
	}
	if err := checkWhole("q", "head", 1500); err == nil {
		t.Error("checkWhole(1.5 head) passed")
	}
	for m, want := range map[int64]string{0: "0", 1: "0.001", 1500: "1.5", 92500: "92.5", 1000: "1", -2250: "-2.25", 12345678: "12345.678"} {
		if got := FormatMilli(m); got != want {
			t.Errorf("FormatMilli(%d) = %q, want %q", m, got, want)
		}
	}
}

func TestGS1(t *testing.T) {
	for _, tc := range []struct{ in, gtin, lot string }{
		{"06901234567892/L1", "06901234567892", "L1"},
		{"6901234567892/L1", "06901234567892", "L1"},
		{"(01)06901234567892(10)ABC-1", "06901234567892", "ABC-1"},
		{"https://id.example.com/01/06901234567892/10/L%2F7?17=270101", "06901234567892", "L/7"},
	} {
		g, lot, ok := parseGS1(tc.in)
		if !ok || g != tc.gtin || lot != tc.lot {
			t.Errorf("parseGS1(%q) = %q, %q, %v", tc.in, g, lot, ok)
		}
	}
	for _, bad := range []string{"06901234567890/L1", "06901234567892/", "x/y"} {
		if _, _, ok := parseGS1(bad); ok {
			t.Errorf("parseGS1(%q) accepted", bad)
		}
	}
}
