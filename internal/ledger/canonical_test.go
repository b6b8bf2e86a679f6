package ledger_test

import (
	"encoding/json"
	"strings"
	"testing"

	. "agtrace/internal/ledger"
)

func TestCanonical(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{map[string]any{"b": 1, "a": "x"}, `{"a":"x","b":1}`},
		{json.RawMessage(`{ "z" : [1, 2.50, {"y":true,"x":null}], "a":"<苹果&>" }`), `{"a":"<苹果&>","z":[1,2.50,{"x":null,"y":true}]}`},
		{struct {
			Seq  int    `json:"seq"`
			Kind string `json:"kind"`
		}{3, "batch.create"}, `{"kind":"batch.create","seq":3}`},
		{"é\u2028", `"é\u2028` + "\""}, // U+2028/2029 stay escaped (JavaScript-safe)
	} {
		got, err := Canonical(c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("Canonical(%v) = %s (%v), want %s", c.in, got, err, c.want)
		}
	}
	if _, err := Canonical(json.RawMessage(`{bad`)); err == nil {
		t.Error("bad JSON accepted")
	}
}

// TestLeafBytes: a leaf's bytes, written directly for plain ASCII, are
// Canonical's, for every kind of leaf the platform writes and for strings
// that must be escaped (which take Canonical's way).
func TestLeafBytes(t *testing.T) {
	for _, l := range []Leaf{
		{Seq: 0, Kind: "batch.create", Subject: "trace_code:13706860000000000016", At: "2026-12-01T08:00:00.123456Z", Digest: "ab01"},
		{Seq: 1<<62 + 7, Kind: "operator.approve", Subject: "operator:42", At: "2026-01-01T00:00:00Z", Digest: strings.Repeat("f", 64)},
		{Seq: 3, Kind: "", Subject: "", At: "", Digest: ""},
		{Seq: 4, Kind: "a<b>&c", Subject: "x~y{}[]:,", At: " ", Digest: "!#$%'()*+-./;=?@^_`|"},
		{Seq: 5, Kind: `quote"d`, Subject: `back\slash`, At: "tab\there", Digest: "nl\n"},
		{Seq: 6, Kind: "批次.登记", Subject: "operator:栖霞", At: "\u2028", Digest: "\x7f"},
	} {
		want, err := Canonical(l)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.Bytes(); string(got) != string(want) {
			t.Errorf("leaf %d:\n got  %s\n want %s", l.Seq, got, want)
		}
	}
}
