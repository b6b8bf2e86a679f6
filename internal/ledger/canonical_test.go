package ledger_test

import (
	"encoding/json"
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
