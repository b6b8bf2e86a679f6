package printing

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"

	goqr "github.com/piglig/go-qr"
)

// quietZone is the light border around every QR code, in modules (ISO/IEC
// 18004 requires 4).
const quietZone = 4

// encodeQR encodes content with medium error correction (15 % recoverable),
// which survives the scuffs of a thermal label without making it too dense.
func encodeQR(content string) (*goqr.QrCode, error) {
	if content == "" {
		return nil, errors.New("printing: QR content is required")
	}
	qr, err := goqr.EncodeText(content, goqr.Medium)
	if err != nil {
		return nil, fmt.Errorf("printing: encode QR: %w", err)
	}
	return qr, nil
}

// QRPNG renders content as a black-on-white PNG of exactly sizePx × sizePx
// pixels with a quiet zone of at least 4 modules. Every module is a whole
// number of pixels (no blur); the pixels left over when sizePx is not a
// multiple of the symbol width widen the quiet zone. sizePx must leave at
// least one pixel per module.
func QRPNG(content string, sizePx int) ([]byte, error) {
	qr, err := encodeQR(content)
	if err != nil {
		return nil, err
	}
	total := qr.Size() + 2*quietZone
	if sizePx < total || sizePx > 10000 {
		return nil, fmt.Errorf("printing: QRPNG: sizePx must be between %d (one pixel per module) and 10000, got %d", total, sizePx)
	}
	scale := sizePx / total
	offset := (sizePx - qr.Size()*scale) / 2
	img := image.NewPaletted(image.Rect(0, 0, sizePx, sizePx), color.Palette{color.White, color.Black})
	for y := 0; y < qr.Size(); y++ {
		for x := 0; x < qr.Size(); x++ {
			if !qr.Module(x, y) {
				continue
			}
			for dy := 0; dy < scale; dy++ {
				row := img.Pix[(offset+y*scale+dy)*img.Stride:]
				for dx := 0; dx < scale; dx++ {
					row[offset+x*scale+dx] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("printing: QRPNG: %w", err)
	}
	return buf.Bytes(), nil
}

// QRSVG renders content as a scalable SVG (one path, 1 unit per module,
// quiet zone 4 modules). Size it with CSS; it has a viewBox.
func QRSVG(content string) ([]byte, error) {
	qr, err := encodeQR(content)
	if err != nil {
		return nil, err
	}
	svg, err := qr.ToSVGBytes(goqr.NewQrCodeImgConfig(1, quietZone, goqr.WithOptimalSVG()))
	if err != nil {
		return nil, fmt.Errorf("printing: QRSVG: %w", err)
	}
	return svg, nil
}
