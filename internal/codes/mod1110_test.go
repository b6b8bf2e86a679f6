package codes

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func TestMod1110Vectors(t *testing.T) {
	tests := []struct {
		digits string
		want   byte
	}{
		{"1370102000000000001", '9'}, // domain.md §5
		{"6943515153", '0'},          // Croatian OIB 69435151530
		{"03701020000000001", '7'},   // operator code 037010200000000017 (docs/coding-rules.md)
		{"0", '2'},                   // p: 10 -> s=10 -> p=9; (11-9) mod 10
		{"1", '9'},                   // s=1, p=2; (11-2) mod 10
		{"12", '3'},                  // s=1,p=2; s=4,p=8; (11-8) mod 10
	}
	for _, tc := range tests {
		got, err := Mod1110(tc.digits)
		if err != nil {
			t.Fatalf("Mod1110(%q): %v", tc.digits, err)
		}
		if got != tc.want {
			t.Errorf("Mod1110(%q) = %c, want %c", tc.digits, got, tc.want)
		}
		if !ValidMod1110(tc.digits + string(got)) {
			t.Errorf("ValidMod1110(%q) = false", tc.digits+string(got))
		}
	}
}

func TestMod1110Errors(t *testing.T) {
	tests := []struct {
		in   string
		want *Error
	}{
		{"", ErrLength},
		{"12a4", ErrCharset},
		{"１２", ErrCharset}, // full-width digits are normalised by the parsers, not here
		{"12 34", ErrCharset},
	}
	for _, tc := range tests {
		_, err := Mod1110(tc.in)
		if !errors.Is(err, tc.want) || !errors.Is(err, ErrFormat) {
			t.Errorf("Mod1110(%q) err = %v, want %s", tc.in, err, tc.want.Code)
		}
	}
}

func TestValidMod1110(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"13701020000000000019", true},
		{"69435151530", true},
		{"13701020000000000018", false},
		{"69435151531", false},
		{"", false},
		{"9", false},
		{"1370102000000000001X", false},
		{"a9", false},
	}
	for _, tc := range tests {
		if got := ValidMod1110(tc.in); got != tc.want {
			t.Errorf("ValidMod1110(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// Every single-digit substitution in every position of the 20-digit vector
// (19 data digits + check digit) must be caught.
func TestMod1110CatchesEverySubstitution(t *testing.T) {
	for _, valid := range []string{"13701020000000000019", "69435151530", "23301060001234567890"} {
		if !ValidMod1110(valid) {
			t.Fatalf("%s should be valid", valid)
		}
		n := 0
		for pos := 0; pos < len(valid); pos++ {
			for d := byte('0'); d <= '9'; d++ {
				if d == valid[pos] {
					continue
				}
				b := []byte(valid)
				b[pos] = d
				n++
				if ValidMod1110(string(b)) {
					t.Errorf("substitution not caught: %s -> %s (position %d)", valid, b, pos+1)
				}
			}
		}
		if n != len(valid)*9 {
			t.Fatalf("tested %d mutations, want %d", n, len(valid)*9)
		}
	}
}

// Adjacent transpositions: MOD 11,10 catches every one in the published
// vectors except those documented, and, over random codes, all except some
// swaps of digits whose values differ by 1 (0 and 9 included) — about 2%.
func TestMod1110AdjacentTranspositions(t *testing.T) {
	tests := []struct {
		valid  string
		missed []int // 0-based positions i where swapping i,i+1 is not caught
	}{
		{"13701020000000000019", []int{17}}, // "...0019" -> "...0109": 0/1 swap
		{"69435151530", nil},
		{"23301060001234567890", nil},
	}
	for _, tc := range tests {
		var missed []int
		for i := 0; i+1 < len(tc.valid); i++ {
			if tc.valid[i] == tc.valid[i+1] {
				continue
			}
			b := []byte(tc.valid)
			b[i], b[i+1] = b[i+1], b[i]
			if ValidMod1110(string(b)) {
				missed = append(missed, i)
			}
		}
		if len(missed) != len(tc.missed) {
			t.Errorf("%s: missed transpositions at %v, want %v", tc.valid, missed, tc.missed)
			continue
		}
		for i := range missed {
			if missed[i] != tc.missed[i] {
				t.Errorf("%s: missed transpositions at %v, want %v", tc.valid, missed, tc.missed)
			}
		}
	}

	rng := rand.New(rand.NewPCG(2260, 17710))
	total, caught := 0, 0
	for range 20000 {
		body := make([]byte, 19)
		for i := range body {
			body[i] = byte('0' + rng.IntN(10))
		}
		c, _ := Mod1110(string(body))
		full := append(body, c)
		i := rng.IntN(len(full) - 1)
		if full[i] == full[i+1] {
			continue
		}
		a, b := int(full[i]-'0'), int(full[i+1]-'0')
		full[i], full[i+1] = full[i+1], full[i]
		total++
		if !ValidMod1110(string(full)) {
			caught++
			continue
		}
		if d := (a - b + 10) % 10; d != 1 && d != 9 {
			t.Errorf("transposition of %d and %d not caught in %s (only neighbouring values may escape)", a, b, full)
		}
	}
	if rate := float64(caught) / float64(total); rate < 0.97 {
		t.Errorf("adjacent transposition detection rate %.4f < 0.97", rate)
	} else {
		t.Logf("adjacent transpositions caught: %d/%d (%.2f%%)", caught, total, 100*rate)
	}
}
