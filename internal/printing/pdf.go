// Package printing renders what the traceability platform prints: trace
// labels (thermal stock or A4 sheets), compliance certificates
// (承诺达标合格证), trace and market-entry certificates (追溯凭证,
// 入市追溯凭证), operator e-ID cards (主体身份码) and traceability agreements
// (追溯协议), as PDF with real millimetre dimensions, plus stand-alone QR
// codes as PNG or SVG.
//
// Inputs are plain structs; every function validates them and returns an
// error naming the offending field. Chinese text is set in Noto Sans SC,
// embedded at build time (`make assets` copies it from npm into font/);
// without it the PDF functions return ErrFontMissing. Every QR code uses
// error-correction level M and a quiet zone of four modules, and encodes a
// URL on the platform's host: BaseURL + "/q/<trace code>" or
// BaseURL + "/o/<operator code>".
package printing

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	goqr "github.com/piglig/go-qr"
	"github.com/signintech/gopdf"
)

// Font metrics of Noto Sans SC (units per em 1000): typographic ascender
// 880, descender -120.
const (
	ascent  = 0.88
	mmPerPt = 25.4 / 72
)

// PlatformName is printed on every document.
const PlatformName = "国家农产品质量安全追溯管理信息平台"

type rgb struct{ r, g, b uint8 }

var (
	black    = rgb{0, 0, 0}
	ink      = rgb{0x1a, 0x1a, 0x1a}
	grey     = rgb{0x55, 0x55, 0x55}
	light    = rgb{0x99, 0x99, 0x99}
	rule     = rgb{0xb0, 0xb0, 0xb0}
	white    = rgb{0xff, 0xff, 0xff}
	green    = rgb{0x1b, 0x5e, 0x20}
	paleGrn  = rgb{0xe8, 0xf3, 0xe9}
	titleRed = rgb{0xb7, 0x1c, 0x1c}
)

type align int

const (
	alignLeft align = iota
	alignCenter
	alignRight
)

// pdf wraps gopdf with millimetre coordinates, one CJK font, text placed by
// the top of its em box, and a sticky error.
type pdf struct {
	gp  *gopdf.GoPdf
	pt  float64 // current font size in points
	err error
	w   map[string]float64 // width cache for the current size
}

func newPDF(title string) (*pdf, error) {
	fc, err := loadFont()
	if err != nil {
		return nil, err
	}
	gp := &gopdf.GoPdf{}
	gp.Start(gopdf.Config{Unit: gopdf.UnitMM, PageSize: gopdf.Rect{W: 210, H: 297}})
	gp.SetInfo(gopdf.PdfInfo{
		Title:        title,
		Subject:      title,
		Creator:      "agtrace",
		Producer:     "agtrace " + PlatformName,
		CreationDate: time.Now(),
	})
	if err := gp.AddTTFFontFromFontContainer(fontFamily, fc); err != nil {
		return nil, fmt.Errorf("printing: add font: %w", err)
	}
	p := &pdf{gp: gp}
	p.font(10)
	return p, p.err
}

func (p *pdf) setErr(err error) {
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("printing: render: %w", err)
	}
}

// page starts a new page of w × h millimetres.
func (p *pdf) page(w, h float64) {
	p.gp.AddPageWithOption(gopdf.PageOption{PageSize: &gopdf.Rect{W: w, H: h}})
	// A new page resets gopdf's graphics state: set the font again.
	p.font(p.pt)
}

func (p *pdf) font(pt float64) {
	if pt != p.pt {
		p.w = map[string]float64{}
	}
	p.pt = pt
	p.setErr(p.gp.SetFont(fontFamily, "", pt))
}

// em is the current font size in millimetres.
func (p *pdf) em() float64 { return p.pt * mmPerPt }

func (p *pdf) textColor(c rgb) { p.gp.SetTextColor(c.r, c.g, c.b) }
func (p *pdf) fillColor(c rgb) { p.gp.SetFillColor(c.r, c.g, c.b) }
func (p *pdf) strokeColor(c rgb) {
	p.gp.SetStrokeColor(c.r, c.g, c.b)
}

// width measures s at the current size, in millimetres.
func (p *pdf) width(s string) float64 {
	if s == "" {
		return 0
	}
	if w, ok := p.w[s]; ok {
		return w
	}
	w, err := p.gp.MeasureTextWidth(s)
	p.setErr(err)
	p.w[s] = w
	return w
}

// text draws s with the top of its em box at top.
func (p *pdf) text(x, top float64, s string) {
	if s == "" {
		return
	}
	p.gp.SetXY(x, top+ascent*p.em())
	p.setErr(p.gp.Text(s))
}

// textIn draws s aligned inside [x, x+w].
func (p *pdf) textIn(x, top, w float64, s string, a align) {
	switch a {
	case alignCenter:
		x += (w - p.width(s)) / 2
	case alignRight:
		x += w - p.width(s)
	}
	p.text(x, top, s)
}

// truncate returns s if it fits w, else the longest prefix of s that fits
// w followed by "…".
func (p *pdf) truncate(s string, w float64) string {
	if p.width(s) <= w {
		return s
	}
	return p.ellipsize(s, w)
}

// ellipsize always ends the text with "…", shortening it until it fits w.
func (p *pdf) ellipsize(s string, w float64) string {
	runes := []rune(strings.TrimSpace(s))
	lo, hi := 0, len(runes)
	for lo < hi { // largest n with width(prefix(n)+"…") <= w
		mid := (lo + hi + 1) / 2
		if p.width(strings.TrimRight(string(runes[:mid]), " ")+"…") <= w {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 {
		return ""
	}
	return strings.TrimRight(string(runes[:lo]), " ") + "…"
}

// fitLine chooses the largest size in [minPt, maxPt] at which one of the
// candidates (tried in order, preferred first) fits w; if none fits even at
// minPt, the last candidate is truncated with "…". It leaves the font at the
// chosen size and returns the text to draw.
func (p *pdf) fitLine(w, maxPt, minPt float64, candidates ...string) string {
	for _, s := range candidates {
		for pt := maxPt; pt >= minPt-1e-9; pt -= 0.25 {
			p.font(pt)
			if p.width(s) <= w {
				return s
			}
		}
	}
	p.font(minPt)
	return p.truncate(candidates[len(candidates)-1], w)
}

// fitBlock wraps s into at most maxLines lines of width w, using the largest
// size in [minPt, maxPt] at which it fits; at minPt the overflow is cut with
// "…". It leaves the font at the chosen size.
func (p *pdf) fitBlock(s string, w float64, maxLines int, maxPt, minPt float64) []string {
	for pt := maxPt; pt >= minPt-1e-9; pt -= 0.25 {
		p.font(pt)
		if lines := p.wrap(s, w); len(lines) <= maxLines {
			return lines
		}
	}
	p.font(minPt)
	lines := p.wrap(s, w)
	if len(lines) > maxLines {
		a, b := lines[maxLines-1], lines[maxLines]
		if !isCJK(lastRune(a)) && !isCJK(firstRune(b)) {
			a += " "
		}
		lines = append(lines[:maxLines-1], p.ellipsize(a+b, w))
	}
	return lines
}

// ---- line breaking -------------------------------------------------------

// isCJK reports characters after (and before) which a line may break:
// ideographs, kana, hangul, CJK and full-width punctuation.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		(r >= 0x3000 && r <= 0x303F) || // CJK symbols and punctuation
		(r >= 0xFF00 && r <= 0xFFEF) || // full-width forms
		(r >= 0x2010 && r <= 0x2027) || // dashes, quotes, ellipsis
		(r >= 0x25A0 && r <= 0x27BF) // boxes, ticks
}

// noStart are characters that must not begin a line (GB/T 15834 usage).
const noStart = "，。、；：？！）》」』】〕〉”’…—·%,.;:?!)]}" + "\u00a0"

// noEnd are characters that must not end a line.
const noEnd = "（《「『【〔〈“‘([{"

type token struct {
	s     string
	space bool
}

func tokenize(s string) []token {
	var toks []token
	var word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			toks = append(toks, token{s: word.String()})
			word.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) && r != '\u00a0':
			flush()
			if len(toks) == 0 || !toks[len(toks)-1].space {
				toks = append(toks, token{s: " ", space: true})
			}
		case isCJK(r):
			flush()
			toks = append(toks, token{s: string(r)})
		default:
			// Latin punctuation attaches to the word before it; an opening
			// bracket starts a new word only at a space, which is fine.
			word.WriteRune(r)
		}
	}
	flush()
	return toks
}

func firstRune(s string) rune { r, _ := utf8.DecodeRuneInString(s); return r }
func lastRune(s string) rune  { r, _ := utf8.DecodeLastRuneInString(s); return r }

// wrap breaks one paragraph (newlines are treated as paragraph breaks) into
// lines no wider than w at the current size. CJK text breaks between any two
// characters, Latin words only at spaces (a word wider than a whole line is
// split by character), and the usual Chinese rules are kept: no closing
// punctuation at the start of a line, no opening bracket at its end.
func (p *pdf) wrap(s string, w float64) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		out = append(out, p.wrapPara(para, w, w)...)
	}
	return out
}

// wrapPara breaks one paragraph; the first line is firstW wide (for a
// first-line indent), the others w.
func (p *pdf) wrapPara(s string, firstW, w float64) []string {
	toks := tokenize(s)
	var lines []string
	var line []token
	lineW := 0.0
	limit := firstW
	emit := func() {
		for len(line) > 0 && line[len(line)-1].space {
			line = line[:len(line)-1]
		}
		var b strings.Builder
		for _, t := range line {
			b.WriteString(t.s)
		}
		lines = append(lines, b.String())
		line, lineW, limit = nil, 0, w
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.space && len(line) == 0 {
			continue // no leading space on a wrapped line
		}
		tw := p.width(t.s)
		if lineW+tw <= limit+1e-9 || t.space {
			line = append(line, t)
			lineW += tw
			continue
		}
		// t does not fit.
		if len(line) == 0 {
			// A single word wider than the line: split it by character.
			head, rest := p.splitWord(t.s, limit)
			line = append(line, token{s: head})
			emit()
			toks[i].s = rest
			i--
			continue
		}
		// Keep closing punctuation off the start of the next line and
		// opening brackets off the end of this one by carrying the last
		// character over.
		var carry []token
		if strings.ContainsRune(noStart, firstRune(t.s)) {
			// Carry back over a run of closing punctuation ("）》") and
			// the character before it, as long as something stays.
			for countText(line) > 1 {
				for line[len(line)-1].space {
					line = line[:len(line)-1]
				}
				last := line[len(line)-1]
				carry = append([]token{last}, carry...)
				line = line[:len(line)-1]
				if !strings.ContainsRune(noStart, firstRune(last.s)) {
					break
				}
			}
			if countText(line) == 0 { // all closing punctuation: give up
				line, carry = append(line, carry...), nil
			}
		}
		for len(line) > 1 && !line[len(line)-1].space && strings.ContainsRune(noEnd, lastRune(line[len(line)-1].s)) {
			carry = append([]token{line[len(line)-1]}, carry...)
			line = line[:len(line)-1]
		}
		emit()
		for _, c := range carry {
			line = append(line, c)
			lineW += p.width(c.s)
		}
		i--
	}
	if len(line) > 0 || len(lines) == 0 {
		emit()
	}
	return lines
}

func countText(line []token) int {
	n := 0
	for _, t := range line {
		if !t.space {
			n++
		}
	}
	return n
}

// splitWord cuts the longest prefix (at least one character) of a word that
// fits w.
func (p *pdf) splitWord(s string, w float64) (string, string) {
	runes := []rune(s)
	n := 1
	for n < len(runes) && p.width(string(runes[:n+1])) <= w {
		n++
	}
	for n > 1 && n < len(runes) && strings.ContainsRune(noStart, runes[n]) {
		n-- // do not start the rest with closing punctuation
	}
	return string(runes[:n]), string(runes[n:])
}

// ---- drawing -------------------------------------------------------------

func (p *pdf) rect(x, y, w, h float64, c rgb) {
	p.fillColor(c)
	p.gp.RectFromUpperLeftWithStyle(x, y, w, h, "F")
}

func (p *pdf) frame(x, y, w, h, lw float64, c rgb) {
	p.strokeColor(c)
	p.gp.SetLineWidth(lw)
	p.gp.SetLineType("solid")
	p.gp.RectFromUpperLeftWithStyle(x, y, w, h, "D")
}

func (p *pdf) line(x1, y1, x2, y2, lw float64, c rgb) {
	p.strokeColor(c)
	p.gp.SetLineWidth(lw)
	p.gp.SetLineType("solid")
	p.gp.Line(x1, y1, x2, y2)
}

func (p *pdf) dashed(x1, y1, x2, y2, lw float64, c rgb) {
	p.strokeColor(c)
	p.gp.SetLineWidth(lw)
	p.gp.SetCustomLineType([]float64{1, 1}, 0)
	p.gp.Line(x1, y1, x2, y2)
	p.gp.SetLineType("solid")
}

// checkbox draws a square box of side s with its top-left corner at (x, y),
// ticked if checked.
func (p *pdf) checkbox(x, y, s float64, checked bool) {
	p.frame(x, y, s, s, math.Max(0.2, s/16), ink)
	if checked {
		p.strokeColor(black)
		p.gp.SetLineWidth(s / 7)
		p.gp.Line(x+0.18*s, y+0.52*s, x+0.42*s, y+0.76*s)
		p.gp.Line(x+0.42*s, y+0.76*s, x+0.84*s, y+0.22*s)
	}
}

// qr draws the symbol inside a square of side `side` (quiet zone included)
// with its top-left corner at (x, y) and returns the module size. Modules
// are drawn as row runs that overlap the next row slightly so that
// rasterisers leave no hairline gaps between rows.
func (p *pdf) qr(x, y, side float64, q *goqr.QrCode) float64 {
	n := q.Size()
	m := side / float64(n+2*quietZone)
	p.rect(x, y, side, side, white)
	p.fillColor(black)
	ox, oy := x+quietZone*m, y+quietZone*m
	const overlap = 0.02
	for r := 0; r < n; r++ {
		h := m
		if r < n-1 {
			h += overlap
		}
		for c := 0; c < n; {
			if !q.Module(c, r) {
				c++
				continue
			}
			start := c
			for c < n && q.Module(c, r) {
				c++
			}
			p.gp.RectFromUpperLeftWithStyle(ox+float64(start)*m, oy+float64(r)*m, float64(c-start)*m, h, "F")
		}
	}
	return m
}

func (p *pdf) finish(w io.Writer) error {
	if p.err != nil {
		return p.err
	}
	if _, err := p.gp.WriteTo(w); err != nil {
		return fmt.Errorf("printing: write PDF: %w", err)
	}
	return nil
}

// ---- form helpers ----------------------------------------------------------

// field is one "label: value" row of a form.
type field struct {
	label    string
	value    string
	maxLines int // value lines before it is shrunk and cut (0 = 1)
}

// formStyle describes how fields are drawn.
type formStyle struct {
	labelW   float64 // width of the label column, mm
	labelPt  float64
	valuePt  float64 // preferred value size
	minPt    float64 // smallest value size before cutting
	vpad     float64 // space above and below the text in a row, mm
	rules    bool    // hairline under every row
	boxed    bool    // full table grid with a shaded label column
	leading  float64 // line height as a multiple of the em (default 1.25)
	labelCol rgb
}

type fieldRow struct {
	f     field
	lines []string
	pt    float64 // value size
	h     float64 // row height
}

// layoutFields fits the values of fs into the value column and returns the
// rows and their total height, without drawing anything.
func (p *pdf) layoutFields(w float64, st formStyle, fs []field) ([]fieldRow, float64) {
	if st.leading == 0 {
		st.leading = 1.25
	}
	vw := w - st.labelW - 2*st.cellPad()
	var rows []fieldRow
	total := 0.0
	for _, f := range fs {
		n := max(f.maxLines, 1)
		lines := p.fitBlock(f.value, vw, n, st.valuePt, st.minPt)
		h := float64(len(lines))*p.em()*st.leading + 2*st.vpad
		rows = append(rows, fieldRow{f, lines, p.pt, h})
		total += h
	}
	return rows, total
}

func (st formStyle) cellPad() float64 {
	if st.boxed {
		return 1.8
	}
	return 0
}

// fields draws rows of labelled values starting at y in [x, x+w] and
// returns the y below the last row.
func (p *pdf) fields(x, y, w float64, st formStyle, fs []field) float64 {
	if st.leading == 0 {
		st.leading = 1.25
	}
	rows, total := p.layoutFields(w, st, fs)
	lpad := st.cellPad()
	vx := x + st.labelW + lpad
	if st.boxed { // fills first, so that no fill covers a rule
		p.rect(x, y, st.labelW, total, paleGrn)
	}
	top := y
	for _, r := range rows {
		p.font(r.pt)
		vEm := p.em()
		lh := vEm * st.leading
		p.textColor(black)
		for i, ln := range r.lines {
			p.text(vx, y+st.vpad+float64(i)*lh+(lh-vEm)/2, ln)
		}
		// Label, on the baseline of the first value line.
		baseline := y + st.vpad + (lh-vEm)/2 + ascent*vEm
		p.font(st.labelPt)
		p.textColor(st.labelCol)
		p.text(x+lpad, baseline-ascent*p.em(), p.truncate(r.f.label, st.labelW-lpad*2))
		y += r.h
		switch {
		case st.boxed && y < top+total-0.01:
			p.line(x, y, x+w, y, 0.15, grey)
		case st.rules:
			p.line(x, y, x+w, y, 0.1, rule)
		}
	}
	if st.boxed {
		p.line(x+st.labelW, top, x+st.labelW, y, 0.15, grey)
		p.frame(x, top, w, y-top, 0.3, ink)
	}
	p.textColor(black)
	return y
}

// checkItem draws a checkbox followed by text wrapped in the remaining
// width, at the current size, and returns the y below it.
func (p *pdf) checkItem(x, y, w float64, checked bool, text string, leading float64) float64 {
	em := p.em()
	lh := em * leading
	s := em * 0.8
	p.checkbox(x, y+(lh-s)/2, s, checked)
	tx := x + s + em*0.4
	for _, ln := range p.wrap(text, x+w-tx) {
		p.text(tx, y+(lh-em)/2, ln)
		y += lh
	}
	return y
}

// checkRow draws options (checkbox + label) in a row, wrapping to a new row
// when needed, and returns the y below it.
func (p *pdf) checkRow(x, y, w float64, opts []string, checked int, leading float64) float64 {
	em := p.em()
	lh := em * leading
	s := em * 0.8
	cx := x
	for i, o := range opts {
		ow := s + em*0.4 + p.width(o)
		if cx > x && cx+ow > x+w {
			cx = x
			y += lh
		}
		p.checkbox(cx, y+(lh-s)/2, s, i == checked)
		p.text(cx+s+em*0.4, y+(lh-em)/2, o)
		cx += ow + em*1.2
	}
	return y + lh
}
