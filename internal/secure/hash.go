package secure

import (
	"encoding/hex"

	"github.com/emmansun/gmsm/sm3"
)

// Hasher computes a digest for integrity checks (record hashes, hash
// chains of the tamper-evident log).
type Hasher interface {
	Sum(data []byte) []byte
}

// SM3Hasher is the SM3 (GB/T 32905) Hasher; its digests are 32 bytes.
type SM3Hasher struct{}

// Sum returns the SM3 digest of data.
func (SM3Hasher) Sum(data []byte) []byte {
	d := sm3.Sum(data)
	return d[:]
}

// SM3Hex returns the SM3 digest of data as 64 lower-case hex characters.
func SM3Hex(data []byte) string {
	d := sm3.Sum(data)
	return hex.EncodeToString(d[:])
}
