package httpx

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"sync"
	"sync/atomic"
)

// A page that is the same for every view except a few words (the public
// scan page and its scan count) is compressed once, in parts, and each view
// writes a gzip member made of the stored parts with the words between them
// as a stored DEFLATE block: no compression per view, and the words are
// always current. RFC 1951 allows it: each part is compressed from an empty
// window (no reference reaches into another part) and ends byte-aligned
// with a sync flush, so the parts are whole blocks; RFC 1952's trailer needs
// the CRC-32 of the whole text, combined from the parts' (crc32Combine).

// Deflated is a part of a text compressed as raw DEFLATE blocks ending in a
// sync flush (byte-aligned, not final), with the CRC-32 and length of its
// text.
type Deflated struct {
	Data []byte
	CRC  uint32
	Len  int64
}

var deflaters = sync.Pool{New: func() any { w, _ := flate.NewWriter(io.Discard, flate.DefaultCompression); return w }}

// Deflate compresses text as one part.
func Deflate(text []byte) Deflated {
	var b bytes.Buffer
	zw := deflaters.Get().(*flate.Writer)
	zw.Reset(&b)
	_, _ = zw.Write(text)
	_ = zw.Flush() // sync flush: byte-aligned, not final
	deflaters.Put(zw)
	return Deflated{Data: b.Bytes(), CRC: crc32.ChecksumIEEE(text), Len: int64(len(text))}
}

// gzipHeader: magic, CM=8 (deflate), no flags, no mtime, XFL 0, OS 255 (unknown).
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

// finalBlock is an empty final stored block: the end of the DEFLATE stream.
var finalBlock = []byte{1, 0, 0, 0xff, 0xff}

// maxStored is the most a stored block can hold.
const maxStored = 65535

// WriteSplicedGzip writes one gzip member whose text is
// parts[0] + words[0] + parts[1] + words[1] + … (words may be shorter than
// parts by one; each word at most 64 KiB).
func WriteSplicedGzip(w io.Writer, parts []Deflated, words [][]byte) error {
	var crc uint32
	var n int64
	add := func(c uint32, l int64) {
		if n == 0 { // the first part's CRC is the text's so far
			crc, n = c, l
			return
		}
		crc, n = crc32Combine(crc, c, l), n+l
	}
	buf := make([]byte, 0, 64)
	buf = append(buf, gzipHeader...)
	if _, err := w.Write(buf); err != nil {
		return err
	}
	for i, p := range parts {
		if _, err := w.Write(p.Data); err != nil {
			return err
		}
		add(p.CRC, p.Len)
		if i >= len(words) || len(words[i]) == 0 {
			continue
		}
		word := words[i]
		if len(word) > maxStored {
			return errors.New("gzsplice: word longer than a stored block")
		}
		hdr := []byte{0, byte(len(word)), byte(len(word) >> 8), ^byte(len(word)), ^byte(len(word) >> 8)}
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		if _, err := w.Write(word); err != nil {
			return err
		}
		crc, n = crc32.Update(crc, crc32.IEEETable, word), n+int64(len(word)) // the words continue the CRC
	}
	buf = append(buf[:0], finalBlock...)
	buf = binary.LittleEndian.AppendUint32(buf, crc)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(n))
	_, err := w.Write(buf)
	return err
}

// Inflate is the text of parts and words as WriteSplicedGzip joins them
// (for the rare client that does not accept gzip).
func Inflate(parts []Deflated, words [][]byte) ([]byte, error) {
	var out bytes.Buffer
	for i, p := range parts {
		zr := flate.NewReader(bytes.NewReader(p.Data))
		_, err := io.Copy(&out, zr)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, err
		}
		if i < len(words) {
			out.Write(words[i])
		}
	}
	return out.Bytes(), nil
}

// crc32Combine is the CRC-32 (IEEE) of A+B from crc(A), crc(B) and len(B):
// crc(A) times x^(8·len(B)) modulo the CRC polynomial, plus crc(B) — zlib's
// crc32_combine (1.2.12 and later), in O(log len(B)) products.
func crc32Combine(crc1, crc2 uint32, len2 int64) uint32 {
	if len2 <= 0 {
		return crc1 // B is empty
	}
	return multModP(shiftOf(len2), crc1) ^ crc2
}

// shifts memoizes x^(8·n) modulo the polynomial for the lengths of page
// parts (a page's parts are served again and again; 0: not computed yet,
// as x^k mod P never is).
var shifts [1 << 16]atomic.Uint32

func shiftOf(n int64) uint32 {
	if n >= int64(len(shifts)) {
		return x2nModP(n, 3)
	}
	if v := shifts[n].Load(); v != 0 {
		return v
	}
	v := x2nModP(n, 3)
	shifts[n].Store(v)
	return v
}

// crcPoly is the reflected CRC-32 (IEEE) polynomial.
const crcPoly = 0xedb88320

// multModP is a·b modulo the polynomial (reflected: x^0 is the top bit).
func multModP(a, b uint32) uint32 {
	m, p := uint32(1)<<31, uint32(0)
	for {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				return p
			}
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ crcPoly
		} else {
			b >>= 1
		}
	}
}

// x2nTable[k] is x^(2^k) modulo the polynomial.
var x2nTable = func() (t [32]uint32) {
	p := uint32(1) << 30 // x^1
	t[0] = p
	for n := 1; n < 32; n++ {
		p = multModP(p, p)
		t[n] = p
	}
	return t
}()

// x2nModP is x^(n·2^k) modulo the polynomial.
func x2nModP(n int64, k uint) uint32 {
	p := uint32(1) << 31 // x^0
	for n != 0 {
		if n&1 != 0 {
			p = multModP(x2nTable[k&31], p)
		}
		n >>= 1
		k++
	}
	return p
}
