package printing

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	goqr "github.com/piglig/go-qr"
)

// LabelSize is the stock a trace label is printed on.
type LabelSize string

// Label stocks: thermal rolls print one label per page of exactly the label
// size (width × height, landscape); A4 prints a sheet of 3 × 8 labels of
// 60 × 35 mm with crop marks.
const (
	Label40x30 LabelSize = "40x30"
	Label50x30 LabelSize = "50x30"
	Label60x40 LabelSize = "60x40"
	LabelA4    LabelSize = "A4"
)

// LabelSizes lists the supported stocks, smallest first.
var LabelSizes = []LabelSize{Label40x30, Label50x30, Label60x40, LabelA4}

// MaxCopies is the largest number of labels one TraceLabels call prints.
const MaxCopies = 500

// A4 sheet geometry.
const (
	sheetCols   = 3
	sheetRows   = 8
	sheetCellW  = 60.0
	sheetCellH  = 35.0
	sheetW      = 210.0
	sheetH      = 297.0
	perSheet    = sheetCols * sheetRows
	sheetMargin = (sheetW - sheetCols*sheetCellW) / 2 // 15 mm left and right
	sheetTop    = (sheetH - sheetRows*sheetCellH) / 2 // 8.5 mm top and bottom
)

// ParseLabelSize accepts "40x30", "50x30", "60x40" and "A4" (case
// insensitive, "×" or "*" accepted for "x", surrounding spaces ignored).
func ParseLabelSize(s string) (LabelSize, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	n = strings.NewReplacer("×", "x", "*", "x", " ", "", "mm", "").Replace(n)
	for _, z := range LabelSizes {
		if n == strings.ToLower(string(z)) {
			return z, nil
		}
	}
	return "", fmt.Errorf("printing: unknown label size %q (want 40x30, 50x30, 60x40 or A4)", s)
}

// dims returns the size of one label in millimetres.
func (z LabelSize) dims() (w, h float64, ok bool) {
	switch z {
	case Label40x30:
		return 40, 30, true
	case Label50x30:
		return 50, 30, true
	case Label60x40:
		return 60, 40, true
	case LabelA4:
		return sheetCellW, sheetCellH, true
	}
	return 0, 0, false
}

// Label is the content of a trace label (追溯标识).
type Label struct {
	TraceCode      string    // 20-digit trace code (type 1, 2 or 3) with check digit; printed grouped by 4
	BaseURL        string    // platform origin, e.g. "https://zs.example.gov.cn"; the QR encodes BaseURL + "/q/" + TraceCode + "?v=" + Token
	Token          string    // optional verification token of TraceCode (letters and digits)
	ProductName    string    // product name, e.g. "红富士苹果"; shrunk or cut with "…" to fit
	OperatorName   string    // producer/operator name
	ProductionDate time.Time // production (harvest, slaughter) date; only the date is printed
}

func (l Label) validate(fn string) error {
	v := validator{fn: fn}
	v.traceCode("TraceCode", l.TraceCode, "123")
	v.baseURL("BaseURL", l.BaseURL)
	v.token("Token", l.Token)
	v.required("ProductName", l.ProductName)
	v.required("OperatorName", l.OperatorName)
	v.date("ProductionDate", l.ProductionDate)
	return v.err
}

// TraceLabels writes a PDF with copies identical trace labels: one page per
// label of exactly the label size for thermal stock, or A4 sheets of 3 × 8
// labels (as many sheets as needed) for LabelA4. copies must be 1…500.
func TraceLabels(w io.Writer, l Label, size LabelSize, copies int) error {
	if _, _, ok := size.dims(); !ok {
		return fmt.Errorf("printing: TraceLabels: unknown label size %q (want 40x30, 50x30, 60x40 or A4)", size)
	}
	if copies < 1 || copies > MaxCopies {
		return fmt.Errorf("printing: TraceLabels: copies must be between 1 and %d, got %d", MaxCopies, copies)
	}
	if err := l.validate("TraceLabels"); err != nil {
		return err
	}
	q, err := encodeQR(TraceURL(l.BaseURL, l.TraceCode, l.Token))
	if err != nil {
		return err
	}
	p, err := newPDF("追溯标识 " + l.TraceCode)
	if err != nil {
		return err
	}
	if size == LabelA4 {
		for first := 0; first < copies; first += perSheet {
			p.page(sheetW, sheetH)
			n := min(perSheet, copies-first)
			drawSheetGuides(p, n)
			for i := 0; i < n; i++ {
				x := sheetMargin + float64(i%sheetCols)*sheetCellW
				y := sheetTop + float64(i/sheetCols)*sheetCellH
				drawLabel(p, x, y, sheetCellW, sheetCellH, 2.5, 1.5, l, q)
			}
		}
	} else {
		lw, lh, _ := size.dims()
		for i := 0; i < copies; i++ {
			p.page(lw, lh)
			drawLabel(p, 0, 0, lw, lh, 1.5, 0.75, l, q)
		}
	}
	return p.finish(w)
}

// drawSheetGuides draws hairline dashed cut lines around the n used cells
// of an A4 sheet and crop marks in the margins.
func drawSheetGuides(p *pdf, n int) {
	rows := (n + sheetCols - 1) / sheetCols
	for i := 0; i < n; i++ {
		x := sheetMargin + float64(i%sheetCols)*sheetCellW
		y := sheetTop + float64(i/sheetCols)*sheetCellH
		p.dashed(x, y, x+sheetCellW, y, 0.1, rule)
		p.dashed(x, y, x, y+sheetCellH, 0.1, rule)
		p.dashed(x+sheetCellW, y, x+sheetCellW, y+sheetCellH, 0.1, rule)
		p.dashed(x, y+sheetCellH, x+sheetCellW, y+sheetCellH, 0.1, rule)
	}
	// Crop marks: 5 mm ticks in the margins, 1.5 mm away from the grid.
	const gap, tick = 1.5, 5.0
	bottom := sheetTop + float64(rows)*sheetCellH
	for c := 0; c <= sheetCols; c++ {
		x := sheetMargin + float64(c)*sheetCellW
		p.line(x, sheetTop-gap-tick, x, sheetTop-gap, 0.15, grey)
		p.line(x, bottom+gap, x, bottom+gap+tick, 0.15, grey)
	}
	right := sheetMargin + sheetCols*sheetCellW
	for r := 0; r <= rows; r++ {
		y := sheetTop + float64(r)*sheetCellH
		p.line(sheetMargin-gap-tick, y, sheetMargin-gap, y, 0.15, grey)
		p.line(right+gap, y, right+gap+tick, y, 0.15, grey)
	}
}

// drawLabel lays out one label in the box (x, y, w, h): QR top left, texts
// to its right, the grouped trace code across the bottom. pad keeps text
// away from the edges (cut or die-cut tolerance); qpad is the gap between
// the edge and the QR quiet zone, which itself is white.
func drawLabel(p *pdf, x, y, w, h, pad, qpad float64, l Label, q *goqr.QrCode) {
	scale := h / 30 // type sizes are tuned for 30 mm high stock

	// Bottom: the trace code, as large as fits the full width.
	code := GroupDigits(l.TraceCode)
	p.textColor(black)
	code = p.fitLine(w-2*pad, math.Min(9.5*scale, 11), 5, code)
	codeEm := p.em()
	codeTop := y + h - pad - codeEm
	p.textIn(x+pad, codeTop, w-2*pad, code, alignCenter)

	// Left: the QR, at most about half the width.
	side := math.Min(codeTop-1-(y+qpad), 0.5*w+1-qpad)
	p.qr(x+qpad, y+qpad, side, q)

	// Right column.
	cx := x + qpad + side + 0.6
	cw := x + w - pad - cx
	top := y + pad
	bottom := y + qpad + side // align the caption with the bottom of the QR

	// Shrink all right-hand texts together until they fit (from 100 % down
	// to 40 %, where they are drawn anyway: each is already limited to two
	// lines at its minimum size, which fits every supported stock).
	const steps = 12
	for i := 0; i <= steps; i++ {
		s := 1 - 0.05*float64(i)
		if layoutLabelText(p, cx, top, cw, bottom, scale*s, l, i == steps) {
			return
		}
	}
}

// layoutLabelText draws the right-hand texts at type scale s if they fit
// between top and bottom (or unconditionally when force is set) and reports
// whether it drew them.
func layoutLabelText(p *pdf, x, top, w, bottom, s float64, l Label, force bool) bool {
	type block struct {
		lines []string
		pt    float64
		lh    float64
		c     rgb
	}
	mk := func(text string, maxLines int, maxPt, minPt float64, c rgb) block {
		lines := p.fitBlock(text, w, maxLines, math.Max(maxPt, minPt), minPt)
		return block{lines, p.pt, p.em() * 1.18, c}
	}
	// Prefer one line at a slightly smaller size to two lines.
	mk1 := func(text string, maxPt, minPt float64, c rgb) block {
		if one := p.fitLine(w, maxPt, math.Max(maxPt*0.75, minPt), text); one == text {
			return block{[]string{one}, p.pt, p.em() * 1.18, c}
		}
		return mk(text, 2, maxPt, minPt, c)
	}
	prod := mk1(l.ProductName, 10*s, 5.5, black)
	op := mk1(l.OperatorName, 6.5*s, 4.5, ink)
	date := mk1("生产日期 "+formatDate(l.ProductionDate), 6*s, 4.5, ink)
	capt := mk1("扫码查询 Scan to trace", 5.5*s, 4, grey)
	if len(capt.lines) > 1 {
		capt = mk("扫码查询\nScan to trace", 2, 5.5*s, 4, grey)
	}

	height := func(b block) float64 { return float64(len(b.lines)) * b.lh }
	const gap = 0.7
	need := height(prod) + gap + height(op) + gap*0.5 + height(date) + gap + height(capt)
	if need > bottom-top && !force {
		return false
	}
	draw := func(b block, y float64) float64 {
		p.font(b.pt)
		p.textColor(b.c)
		for _, ln := range b.lines {
			p.text(x, y+(b.lh-p.em())/2, ln)
			y += b.lh
		}
		return y
	}
	y := draw(prod, top) + gap
	y = draw(op, y) + gap*0.5
	draw(date, y)
	draw(capt, math.Max(bottom-height(capt), y+height(date)+gap))
	p.textColor(black)
	return true
}
