package httpx

import (
	"net/url"
	"strings"
	"unicode"
)

// SafeRedirect returns target if it is a same-origin absolute path, and "/"
// otherwise. It is the one check for every redirect target that comes from a
// request (?next=, ?back=, form fields). Refused: anything not starting with
// a single "/", "//" and "/\" (protocol-relative to browsers), backslashes
// anywhere (browsers read them as "/"), control and whitespace characters
// (browsers strip tab and newline, turning "/\t/evil" into "//evil"), and
// anything whose percent-decoding or parsing yields a scheme or host.
func SafeRedirect(target string) string {
	if !isLocalPath(target) {
		return "/"
	}
	return target
}

func isLocalPath(s string) bool {
	if s == "" || s[0] != '/' || len(s) > 2048 {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	for _, r := range s {
		if r == '\\' || r == unicode.ReplacementChar || unicode.IsControl(r) || unicode.IsSpace(r) ||
			unicode.Is(unicode.Bidi_Control, r) {
			return false
		}
	}
	// A decoded form must be just as harmless: "/%2F%2Fevil" and "/%09/evil"
	// become dangerous if anything downstream decodes them once more.
	if dec, err := url.PathUnescape(s); err != nil || (dec != s && !isLocalPath(dec)) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return false
	}
	return strings.HasPrefix(u.Path, "/") || u.Path == ""
}
