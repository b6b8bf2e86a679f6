package trace

import (
	"strings"
	"testing"
)

func TestCodeKey(t *testing.T) {
	for _, tc := range []struct {
		code string
		ok   bool
	}{
		{"13706860000000000016", true},
		{"", true},
		{strings.Repeat("9", codeKeyMax), true},
		{strings.Repeat("9", codeKeyMax+1), false},
	} {
		k, ok := keyOf(tc.code)
		if ok != tc.ok {
			t.Fatalf("%q: ok %v", tc.code, ok)
		}
		if ok && k.String() != tc.code {
			t.Fatalf("%q: round trip %q", tc.code, k.String())
		}
	}
	a, _ := keyOf("13706860000000000016")
	b, _ := keyOf("1370686000000000001")
	c, _ := keyOf("13706860000000000016")
	if a == b || a != c {
		t.Fatal("keys compare by their codes")
	}
}
