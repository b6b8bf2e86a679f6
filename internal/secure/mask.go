package secure

import "strings"

// MaskIDNumber masks an identity-document number for display, keeping the
// first 4 and last 4 characters: "11010519491231002X" → "1101**********002X".
// Input of 8 characters or fewer is masked entirely.
func MaskIDNumber(s string) string {
	return maskKeep(strings.TrimSpace(s), 4, 4)
}

// MaskPhone masks a phone number, keeping the first 3 and last 4 digits:
// "13812345678" → "138****5678". Spaces and hyphens are removed first;
// input of 7 characters or fewer is masked entirely.
func MaskPhone(s string) string {
	s = strings.NewReplacer(" ", "", "-", "", "\u3000", "").Replace(strings.TrimSpace(s))
	return maskKeep(s, 3, 4)
}

// MaskName keeps the first character of a name and masks the rest, one
// asterisk per character: "张三丰" → "张**". A one-character name is
// masked entirely.
func MaskName(s string) string {
	return maskKeep(strings.TrimSpace(s), 1, 0)
}

// maskKeep replaces every rune of s except the first head and last tail runes
// with '*'. If nothing would be masked, everything is masked.
func maskKeep(s string, head, tail int) string {
	r := []rune(s)
	n := len(r)
	if n == 0 {
		return ""
	}
	if n <= head+tail {
		return strings.Repeat("*", n)
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(string(r[:head]))
	b.WriteString(strings.Repeat("*", n-head-tail))
	b.WriteString(string(r[n-tail:]))
	return b.String()
}
