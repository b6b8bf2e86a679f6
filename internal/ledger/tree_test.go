package ledger_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/emmansun/gmsm/sm3"

	. "agtrace/internal/ledger"
)

// rfcLeaves are the eight leaves of the Certificate Transparency test
// vectors; rfcRoots their tree roots for sizes 1…8 with SHA-256 (also
// recomputed by a separate ten-line Python MTH while writing this test).
var rfcLeaves = [][]byte{{}, {0x00}, {0x10}, {0x20, 0x21}, {0x30, 0x31}, {0x40, 0x41, 0x42, 0x43},
	{0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57},
	{0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f}}

var rfcRoots = []string{
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

func TestTreeRootsRFCVectors(t *testing.T) {
	h, _ := NewHasher(SHA256)
	tr := NewTree(h)
	for i, l := range rfcLeaves {
		tr.AppendLeafHashes(h.Leaf(l))
		root, err := tr.Root(uint64(i + 1))
		if err != nil || hex.EncodeToString(root[:]) != rfcRoots[i] {
			t.Errorf("root of %d leaves = %x, want %s", i+1, root, rfcRoots[i])
		}
	}
	// earlier sizes stay answerable after appends
	for n := 1; n <= 8; n++ {
		if root, _ := tr.Root(uint64(n)); hex.EncodeToString(root[:]) != rfcRoots[n-1] {
			t.Errorf("root of the first %d leaves after appends = %x", n, root)
		}
	}
	if e := h.Empty(); hex.EncodeToString(e[:]) != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("empty root %x", e)
	}
}

// TestSM3Vector: GB/T 32905-2016 appendix A, example 1 ("abc").
func TestSM3Vector(t *testing.T) {
	h, _ := NewHasher(SM3)
	if d := h.Sum([]byte("abc")); hex.EncodeToString(d[:]) != "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" {
		t.Fatalf("SM3(abc) = %x", d)
	}
}

// The verifiers below are RFC 9162 §2.1.3.2 and §2.1.4.2 written out step
// by step, with their own hashing: an implementation independent of the
// proof generator under test.

func node(alg string, l, r []byte) []byte {
	var b []byte
	b = append(b, 1)
	b = append(b, l...)
	b = append(b, r...)
	return hashOf(alg, b)
}

func hashOf(alg string, b []byte) []byte {
	if alg == SM3 {
		s := sm3.Sum(b)
		return s[:]
	}
	s := sha256.Sum256(b)
	return s[:]
}

func verifyInclusion(alg string, leafIndex, treeSize uint64, leafHash []byte, path [][]byte, root []byte) bool {
	if leafIndex >= treeSize {
		return false
	}
	fn, sn := leafIndex, treeSize-1
	r := leafHash
	for _, p := range path {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			r = node(alg, p, r)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			r = node(alg, r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && bytes.Equal(r, root)
}

func verifyConsistency(alg string, first, second uint64, firstHash, secondHash []byte, path [][]byte) bool {
	if first == second {
		return len(path) == 0 && bytes.Equal(firstHash, secondHash)
	}
	if len(path) == 0 || first == 0 || first > second {
		return false
	}
	if first&(first-1) == 0 {
		path = append([][]byte{firstHash}, path...)
	}
	fn, sn := first-1, second-1
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	fr, sr := path[0], path[0]
	for _, c := range path[1:] {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			fr = node(alg, c, fr)
			sr = node(alg, c, sr)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			sr = node(alg, sr, c)
		}
		fn >>= 1
		sn >>= 1
	}
	return bytes.Equal(fr, firstHash) && bytes.Equal(sr, secondHash) && sn == 0
}

func toBytes(ds []Digest) [][]byte {
	out := make([][]byte, len(ds))
	for i := range ds {
		out[i] = append([]byte(nil), ds[i][:]...)
	}
	return out
}

// TestProofsAgainstRFCVerifier: every inclusion proof (m < n) and every
// consistency proof (m ≤ n) of trees up to 70 leaves, on both algorithms,
// passes the RFC verifier; a proof with one bit flipped, or checked
// against another leaf or size, fails.
func TestProofsAgainstRFCVerifier(t *testing.T) {
	for _, alg := range Algorithms {
		h, _ := NewHasher(alg)
		tr := NewTree(h)
		const max = 70
		for i := range max {
			tr.AppendLeafHashes(h.Leaf([]byte{byte(i), byte(i >> 8), 'x'}))
		}
		for n := uint64(1); n <= max; n++ {
			root, _ := tr.Root(n)
			for m := uint64(0); m < n; m++ {
				p, err := tr.InclusionProof(m, n)
				if err != nil {
					t.Fatal(err)
				}
				lh, _ := tr.LeafHash(m)
				if !verifyInclusion(alg, m, n, lh[:], toBytes(p), root[:]) {
					t.Fatalf("%s: inclusion of %d in %d does not verify", alg, m, n)
				}
				if len(p) > 0 {
					bad := toBytes(p)
					bad[len(bad)/2][5] ^= 1
					if verifyInclusion(alg, m, n, lh[:], bad, root[:]) {
						t.Fatalf("%s: a corrupted inclusion proof %d/%d verifies", alg, m, n)
					}
					if other, _ := tr.LeafHash((m + 1) % n); verifyInclusion(alg, m, n, other[:], toBytes(p), root[:]) {
						t.Fatalf("%s: the proof of %d verifies another leaf", alg, m)
					}
				}
			}
			for m := uint64(1); m <= n; m++ {
				p, err := tr.ConsistencyProof(m, n)
				if err != nil {
					t.Fatal(err)
				}
				old, _ := tr.Root(m)
				if !verifyConsistency(alg, m, n, old[:], root[:], toBytes(p)) {
					t.Fatalf("%s: consistency %d → %d does not verify", alg, m, n)
				}
				if m < n {
					if verifyConsistency(alg, m, n, root[:], root[:], toBytes(p)) {
						t.Fatalf("%s: consistency %d → %d verifies with a wrong old root", alg, m, n)
					}
				}
			}
		}
	}
}

func TestTreeRanges(t *testing.T) {
	h, _ := NewHasher(SM3)
	tr := NewTree(h)
	tr.AppendLeafHashes(h.Leaf([]byte("a")), h.Leaf([]byte("b")))
	for _, c := range []struct{ m, n uint64 }{{2, 2}, {0, 3}, {5, 1}} {
		if _, err := tr.InclusionProof(c.m, c.n); err != ErrRange {
			t.Errorf("inclusion %d/%d: %v", c.m, c.n, err)
		}
	}
	for _, c := range []struct{ m, n uint64 }{{0, 2}, {3, 2}, {1, 3}} {
		if _, err := tr.ConsistencyProof(c.m, c.n); err != ErrRange {
			t.Errorf("consistency %d/%d: %v", c.m, c.n, err)
		}
	}
	if _, err := NewHasher("md5"); err == nil {
		t.Error("md5 accepted")
	}
}
