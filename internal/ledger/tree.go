package ledger

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"math/bits"
	"sync"

	"github.com/emmansun/gmsm/sm3"
)

// The Merkle tree of RFC 6962 §2.1 / RFC 9162 §2.1: leaf hash =
// H(0x00 ‖ leaf), node hash = H(0x01 ‖ left ‖ right), the tree over n
// leaves split at the largest power of two below n. H is SM3 (GB/T 32905)
// or SHA-256, fixed when the log is created.

// Hash algorithms.
const (
	SM3    = "sm3"
	SHA256 = "sha256"
)

// Algorithms lists the hash algorithms a log may use.
var Algorithms = []string{SM3, SHA256}

func newHash(alg string) (func() hash.Hash, error) {
	switch alg {
	case SM3:
		return sm3.New, nil
	case SHA256:
		return sha256.New, nil
	}
	return nil, fmt.Errorf("ledger: unknown hash algorithm %q (want sm3 or sha256)", alg)
}

// Digest is a hash value (both algorithms give 32 bytes).
type Digest [32]byte

// Hasher computes the tree's leaf and node hashes.
type Hasher struct {
	alg string
	h   func() hash.Hash
}

// NewHasher returns the hasher of alg (sm3 | sha256).
func NewHasher(alg string) (Hasher, error) {
	h, err := newHash(alg)
	return Hasher{alg: alg, h: h}, err
}

// Algorithm names the hash.
func (x Hasher) Algorithm() string { return x.alg }

// Sum is H(b).
func (x Hasher) Sum(b []byte) Digest {
	h := x.h()
	h.Write(b)
	var d Digest
	copy(d[:], h.Sum(nil))
	return d
}

// Leaf is H(0x00 ‖ leaf).
func (x Hasher) Leaf(leaf []byte) Digest {
	h := x.h()
	h.Write([]byte{0})
	h.Write(leaf)
	var d Digest
	copy(d[:], h.Sum(nil))
	return d
}

// Node is H(0x01 ‖ left ‖ right).
func (x Hasher) Node(l, r Digest) Digest {
	h := x.h()
	h.Write([]byte{1})
	h.Write(l[:])
	h.Write(r[:])
	var d Digest
	copy(d[:], h.Sum(nil))
	return d
}

// Empty is the root of the empty tree, H() of nothing.
func (x Hasher) Empty() Digest { return x.Sum(nil) }

// Tree holds a log's leaf hashes and every complete aligned subtree's hash
// (levels[k][i] covers leaves [i·2^k, (i+1)·2^k)), so any subtree hash, root,
// inclusion or consistency proof costs O(log n) node hashes. Appends only.
type Tree struct {
	mu     sync.RWMutex
	hasher Hasher
	levels [][]Digest
}

// NewTree returns an empty tree.
func NewTree(h Hasher) *Tree { return &Tree{hasher: h, levels: [][]Digest{nil}} }

// Size is the number of leaves.
func (t *Tree) Size() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return uint64(len(t.levels[0]))
}

// AppendLeafHashes adds leaf hashes in order.
func (t *Tree) AppendLeafHashes(hs ...Digest) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range hs {
		t.levels[0] = append(t.levels[0], h)
		for k := 0; len(t.levels[k])%2 == 0; k++ {
			if k+1 == len(t.levels) {
				t.levels = append(t.levels, nil)
			}
			n := len(t.levels[k])
			t.levels[k+1] = append(t.levels[k+1], t.hasher.Node(t.levels[k][n-2], t.levels[k][n-1]))
		}
	}
}

// LeafHash returns leaf i's hash.
func (t *Tree) LeafHash(i uint64) (Digest, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if i >= uint64(len(t.levels[0])) {
		return Digest{}, ErrRange
	}
	return t.levels[0][i], nil
}

// ErrRange is a leaf index or tree size beyond the tree.
var ErrRange = errors.New("ledger: index or size beyond the tree")

// Root is MTH(D[0:n]) for n ≤ Size.
func (t *Tree) Root(n uint64) (Digest, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if n > uint64(len(t.levels[0])) {
		return Digest{}, ErrRange
	}
	if n == 0 {
		return t.hasher.Empty(), nil
	}
	return t.mth(0, n), nil
}

// mth is MTH(D[lo:hi]) (hi > lo); a complete aligned range is stored.
func (t *Tree) mth(lo, hi uint64) Digest {
	n := hi - lo
	if n&(n-1) == 0 && lo%n == 0 {
		k := bits.TrailingZeros64(n)
		return t.levels[k][lo>>k]
	}
	k := split(n)
	return t.hasher.Node(t.mth(lo, lo+k), t.mth(lo+k, hi))
}

// split is the largest power of two smaller than n (n ≥ 2).
func split(n uint64) uint64 { return 1 << (bits.Len64(n-1) - 1) }

// InclusionProof is PATH(m, D[0:n]) of RFC 6962 §2.1.1.
func (t *Tree) InclusionProof(m, n uint64) ([]Digest, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if n > uint64(len(t.levels[0])) || m >= n {
		return nil, ErrRange
	}
	return t.path(m, 0, n), nil
}

// path is PATH(m, D[lo:hi]) with m relative to lo.
func (t *Tree) path(m, lo, hi uint64) []Digest {
	n := hi - lo
	if n == 1 {
		return []Digest{}
	}
	k := split(n)
	if m < k {
		return append(t.path(m, lo, lo+k), t.mth(lo+k, hi))
	}
	return append(t.path(m-k, lo+k, hi), t.mth(lo, lo+k))
}

// ConsistencyProof is PROOF(m, D[0:n]) of RFC 6962 §2.1.2 (0 < m ≤ n).
func (t *Tree) ConsistencyProof(m, n uint64) ([]Digest, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if n > uint64(len(t.levels[0])) || m == 0 || m > n {
		return nil, ErrRange
	}
	return t.subproof(m, 0, n, true), nil
}

// subproof is SUBPROOF(m, D[lo:hi], b).
func (t *Tree) subproof(m, lo, hi uint64, b bool) []Digest {
	n := hi - lo
	if m == n {
		if b {
			return []Digest{}
		}
		return []Digest{t.mth(lo, hi)}
	}
	k := split(n)
	if m <= k {
		return append(t.subproof(m, lo, lo+k, b), t.mth(lo+k, hi))
	}
	return append(t.subproof(m-k, lo+k, hi, false), t.mth(lo, lo+k))
}
