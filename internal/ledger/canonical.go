package ledger

import (
	"bytes"
	"encoding/json"
)

// Canonical returns v's canonical JSON: object keys sorted by their UTF-8
// bytes, no insignificant whitespace, strings in UTF-8 with only the escapes
// JSON requires plus \u2028 and \u2029 (no \u003c for <), numbers as they
// were written. It is what
// leaves and record digests are computed over (docs/ledger.md).
func Canonical(v any) ([]byte, error) {
	raw, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
