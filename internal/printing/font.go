package printing

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/signintech/gopdf"
)

// The CJK font is not committed: `make assets` copies it from npm into
// font/ (see font.mk). font/README.md is committed so that the embed pattern
// always matches something and the package builds without the font.
//
//go:embed all:font
var fontFS embed.FS

const (
	fontPath   = "font/NotoSansSC_400Regular.ttf"
	fontFamily = "NotoSansSC"
)

// ErrFontMissing is returned by every PDF function when the CJK font was not
// copied into the package before building.
var ErrFontMissing = errors.New(`printing: CJK font not built; run "make assets"`)

var (
	fontOnce      sync.Once
	fontContainer *gopdf.FontContainer
	fontErr       error
)

// loadFont parses the embedded font once; every document then takes a fresh
// subset of it from the container.
func loadFont() (*gopdf.FontContainer, error) {
	fontOnce.Do(func() { fontContainer, fontErr = parseFont(fontFS) })
	return fontContainer, fontErr
}

func parseFont(fsys fs.FS) (*gopdf.FontContainer, error) {
	data, err := fs.ReadFile(fsys, fontPath)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(data) == 0) {
		return nil, ErrFontMissing
	}
	if err != nil {
		return nil, fmt.Errorf("printing: read embedded font: %w", err)
	}
	fc := &gopdf.FontContainer{}
	if err := fc.AddTTFFontData(fontFamily, data); err != nil {
		return nil, fmt.Errorf("printing: parse embedded font: %w", err)
	}
	return fc, nil
}
