package httpx

import (
	"bytes"
	"compress/gzip"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestCRC32Combine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 7, 64, 1000, 65537} {
		for _, m := range []int{0, 1, 5, 33, 4096, 100000} {
			a, b := make([]byte, n), make([]byte, m)
			for i := range a {
				a[i] = byte(r.Uint32())
			}
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			want := crc32.ChecksumIEEE(append(append([]byte{}, a...), b...))
			if got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(m)); got != want {
				t.Fatalf("combine(%d,%d) = %08x, want %08x", n, m, got, want)
			}
		}
	}
}

// The spliced member must decode with a standard gzip reader (which checks
// the CRC and length) to exactly the joined text.
func TestWriteSplicedGzip(t *testing.T) {
	page := strings.Repeat("<li>苹果 红富士 · 山东省烟台市</li>\n", 40)
	cases := []struct {
		name  string
		parts []string
		words []string
	}{
		{"one part", []string{page}, nil},
		{"two parts, a word", []string{"<p id=scans>", "</p>" + page}, []string{"已扫码 12 次，首次 2026-11-30"}},
		{"three parts, two words", []string{"<head>", page, "</p>"}, []string{"", "scanned 3 times"}},
		{"empty parts", []string{"", ""}, []string{"only the word"}},
		{"word of 64 KiB", []string{"a", "b"}, []string{strings.Repeat("x", 65535)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var parts []Deflated
			var words [][]byte
			want := ""
			for i, p := range c.parts {
				parts = append(parts, Deflate([]byte(p)))
				want += p
				if i < len(c.words) {
					words = append(words, []byte(c.words[i]))
					want += c.words[i]
				}
			}
			var b bytes.Buffer
			if err := WriteSplicedGzip(&b, parts, words); err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(&b)
			if err != nil {
				t.Fatal(err)
			}
			zr.Multistream(false)
			got, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if string(got) != want {
				t.Fatalf("got %d bytes, want %d", len(got), len(want))
			}
			plain, err := Inflate(parts, words)
			if err != nil || string(plain) != want {
				t.Fatalf("Inflate: %v (%d bytes, want %d)", err, len(plain), len(want))
			}
		})
	}
	var b bytes.Buffer
	if err := WriteSplicedGzip(&b, []Deflated{Deflate(nil), Deflate(nil)}, [][]byte{make([]byte, 65536)}); err == nil {
		t.Fatal("a word longer than a stored block was accepted")
	}
}
