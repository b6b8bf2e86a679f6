package httpx

import "strings"

// ETagMatches reports whether an If-None-Match header matches etag (weak
// comparison, RFC 9110 §13.1.2: W/ prefixes are ignored; "*" matches).
func ETagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == want {
			return true
		}
	}
	return false
}
