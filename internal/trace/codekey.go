package trace

// codeKey holds a trace code inline, for maps with a key per code (the
// scan counter's, the page memory's): compared without reading a string
// elsewhere in memory (at a million codes scanned at random that read is a
// cache miss per lookup), and, with no pointer in it, nothing for the
// garbage collector to follow.
type codeKey struct {
	b [codeKeyMax]byte
	n uint8
}

// codeKeyMax bounds a code a codeKey holds: trace codes have 20 digits
// (codes.TraceCodeLen); longer strings are not codes.
const codeKeyMax = 32

// keyOf is code's key (ok false when code is too long to be a trace code).
func keyOf(code string) (codeKey, bool) {
	var k codeKey
	if len(code) > codeKeyMax {
		return k, false
	}
	k.n = uint8(copy(k.b[:], code))
	return k, true
}

func (k codeKey) String() string { return string(k.b[:k.n]) }
