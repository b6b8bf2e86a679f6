package httpx

import "testing"

func TestETagMatches(t *testing.T) {
	for _, c := range []struct {
		header, etag string
		want         bool
	}{
		{``, `W/"a"`, false},
		{`W/"a"`, `W/"a"`, true},
		{`"a"`, `W/"a"`, true},
		{`"b", W/"a"`, `W/"a"`, true},
		{`"b"`, `W/"a"`, false},
		{`*`, `W/"a"`, true},
		{`W/"a-zh"`, `W/"a-en"`, false},
	} {
		if got := ETagMatches(c.header, c.etag); got != c.want {
			t.Errorf("ETagMatches(%q, %q) = %v", c.header, c.etag, got)
		}
	}
}
