package platform

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Content types the blob store recognises by their first bytes.
const (
	TypePDF  = "application/pdf"
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
)

// SniffType recognises the accepted types by their magic bytes ("" when none).
func SniffType(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return TypePDF
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return TypeJPEG
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG
	}
	return ""
}

// Blob is a stored file: its SHA-256 (the content address), size and type.
type Blob struct {
	SHA256      string
	Size        int64
	ContentType string
}

// BlobStore keeps uploaded files content-addressed under Dir:
// <Dir>/<sha256[0:2]>/<sha256>. The same content is stored once; a file is
// written before the database row that names it, so a rolled-back write
// leaves at most an unreferenced file, never a row without its content.
type BlobStore struct{ Dir string }

// BlobLimits says what Put accepts: the content types (by content, not by
// name) and the largest size, with the refusals' words.
type BlobLimits struct {
	Types       []string
	MaxBytes    int64
	TooLarge    *Error // 413
	Unsupported *Error // 415
	Empty       *Error // 422
}

// Put reads r into the store and returns the blob, or one of the limits'
// errors (nothing stored).
func (s BlobStore) Put(r io.Reader, lim BlobLimits) (Blob, error) {
	if err := os.MkdirAll(s.Dir, 0o750); err != nil {
		return Blob{}, err
	}
	head := make([]byte, 16)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Blob{}, readErr(err, lim)
	}
	if n == 0 {
		return Blob{}, lim.Empty
	}
	head = head[:n]
	ctype := SniffType(head)
	if ctype == "" || !slices.Contains(lim.Types, ctype) {
		return Blob{}, lim.Unsupported
	}
	tmp, err := os.CreateTemp(s.Dir, ".upload-*")
	if err != nil {
		return Blob{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(io.MultiReader(bytes.NewReader(head), r), lim.MaxBytes+1))
	if err != nil {
		return Blob{}, readErr(err, lim)
	}
	if size > lim.MaxBytes {
		return Blob{}, lim.TooLarge
	}
	if err := tmp.Close(); err != nil {
		return Blob{}, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	dir := filepath.Join(s.Dir, sum[:2])
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Blob{}, err
	}
	dst := filepath.Join(dir, sum)
	if _, err := os.Stat(dst); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(tmp.Name(), dst); err != nil {
			return Blob{}, err
		}
	}
	return Blob{SHA256: sum, Size: size, ContentType: ctype}, nil
}

// Open returns a stored blob's content.
func (s BlobStore) Open(sum string) (io.ReadCloser, error) {
	if len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("blob: bad address %q", sum)
	}
	return os.Open(filepath.Join(s.Dir, sum[:2], sum))
}

// readErr says why reading an upload failed: the transport's body limit
// reads as too large, anything else as an unreadable request.
func readErr(err error, lim BlobLimits) error {
	if strings.Contains(err.Error(), "too large") {
		return lim.TooLarge
	}
	return BadRequest("读取上传文件失败", "cannot read the uploaded file")
}

// CleanFilename keeps what of an uploader's file name displays safely:
// drops invalid UTF-8, control characters (a NUL would fail on PostgreSQL)
// and bidi overrides (they disguise "gpj.exe" as "exe.jpg"), keeps the base
// name and at most its last 120 characters.
func CleanFilename(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(name, ""))
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" {
		name = ""
	}
	r := []rune(name)
	if len(r) > 120 {
		r = r[len(r)-120:]
	}
	return string(r)
}
