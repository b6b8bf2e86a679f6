package printing

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestParseLabelSize(t *testing.T) {
	for in, want := range map[string]LabelSize{
		"40x30": Label40x30, "50X30": Label50x30, " 60×40 ": Label60x40, "60*40mm": Label60x40,
		"a4": LabelA4, "A4": LabelA4,
	} {
		got, err := ParseLabelSize(in)
		if err != nil || got != want {
			t.Errorf("ParseLabelSize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "40x40", "A5", "100x75", "x"} {
		if _, err := ParseLabelSize(bad); err == nil {
			t.Errorf("ParseLabelSize(%q): want error", bad)
		}
	}
}

// TestThermalLabels: one page of exactly the label size per copy, every
// page's QR decodes to the trace URL, and the texts are in the PDF.
func TestThermalLabels(t *testing.T) {
	want := TraceURL(testBase, sampleTrace, testToken)
	for _, z := range []LabelSize{Label40x30, Label50x30, Label60x40} {
		t.Run(string(z), func(t *testing.T) {
			doc := render(t, func(b *bytes.Buffer) error { return TraceLabels(b, sampleLabel(), z, 3) })
			w, h, _ := z.dims()
			assertPages(t, doc, 3, w, h)
			pages := rasterise(t, doc, 150)
			if len(pages) != 3 {
				t.Fatalf("rasterised %d pages, want 3", len(pages))
			}
			for _, img := range pages {
				assertQR(t, img, want)
			}
			text := pdfText(t, doc)
			assertContains(t, text, "烟台红富士苹果", "栖霞市苹果专业合作社", "2026-03-01",
				"1370 1020 0000 0000 0019", "扫码查询", "Scan to trace")
		})
	}
}

// TestA4Labels: 30 copies need two sheets of 3 × 8; every used cell
// decodes, the unused cells of the second sheet are blank.
func TestA4Labels(t *testing.T) {
	want := TraceURL(testBase, sampleTrace, testToken)
	doc := render(t, func(b *bytes.Buffer) error { return TraceLabels(b, sampleLabel(), LabelA4, 30) })
	assertPages(t, doc, 2, 210, 297)
	pages := rasterise(t, doc, 150)
	if len(pages) != 2 {
		t.Fatalf("rasterised %d pages, want 2", len(pages))
	}
	px := func(mm float64) int { return int(mm * 150 / 25.4) }
	cell := func(i int) image.Rectangle {
		x := sheetMargin + float64(i%sheetCols)*sheetCellW
		y := sheetTop + float64(i/sheetCols)*sheetCellH
		return image.Rect(px(x), px(y), px(x+sheetCellW), px(y+sheetCellH))
	}
	for i := 0; i < perSheet; i++ {
		assertQR(t, crop(pages[0], cell(i)), want)
	}
	for i := 0; i < perSheet; i++ {
		got, err := decodeQR(crop(pages[1], cell(i)))
		switch {
		case i < 6 && (err != nil || got != want):
			t.Errorf("sheet 2 cell %d: %q, %v; want %q", i, got, err, want)
		case i >= 6 && err == nil:
			t.Errorf("sheet 2 cell %d should be empty, decoded %q", i, got)
		}
	}
	text := pdfText(t, doc)
	if n := strings.Count(text, "1370 1020 0000 0000 0019"); n != 30 {
		t.Errorf("trace code printed %d times, want 30", n)
	}
}

func TestLabelCopiesLimits(t *testing.T) {
	doc := render(t, func(b *bytes.Buffer) error { return TraceLabels(b, sampleLabel(), Label40x30, MaxCopies) })
	assertPages(t, doc, MaxCopies, 40, 30)
	doc = render(t, func(b *bytes.Buffer) error { return TraceLabels(b, sampleLabel(), LabelA4, MaxCopies) })
	assertPages(t, doc, (MaxCopies+perSheet-1)/perSheet, 210, 297)
}

var bboxWordRE = regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)

type word struct {
	x0, y0, x1, y1 float64 // points
	s              string
}

// pdfWords returns the words of page 1 with their boxes (pdftotext -bbox).
func pdfWords(t *testing.T, doc []byte) []word {
	t.Helper()
	bin := poppler(t, "pdftotext")
	in := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(in, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-bbox", "-f", "1", "-l", "1", in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext -bbox: %v", err)
	}
	var ws []word
	for _, m := range bboxWordRE.FindAllSubmatch(out, -1) {
		f := func(i int) float64 { v, _ := strconv.ParseFloat(string(m[i]), 64); return v }
		ws = append(ws, word{f(1), f(2), f(3), f(4), string(m[5])})
	}
	return ws
}

// TestLabelLongTexts: very long names are shrunk and cut with "…", stay on
// the label and out of the QR code, which still decodes.
func TestLabelLongTexts(t *testing.T) {
	l := longLabel()
	want := TraceURL(testBase, sampleTrace, testToken)
	for _, z := range LabelSizes {
		t.Run(string(z), func(t *testing.T) {
			doc := render(t, func(b *bytes.Buffer) error { return TraceLabels(b, l, z, 1) })
			assertQR(t, rasterise(t, doc, 150)[0], want)
			text := pdfText(t, doc)
			assertContains(t, text, "…", "1370 1020 0000 0000 0019")
			w, h, _ := z.dims()
			ox, oy := 0.0, 0.0
			if z == LabelA4 {
				ox, oy = sheetMargin, sheetTop
			}
			pt := func(mm float64) float64 { return mm * 72 / 25.4 }
			for _, wd := range pdfWords(t, doc) {
				if wd.x0 < pt(ox)-0.01 || wd.x1 > pt(ox+w)+0.01 || wd.y0 < pt(oy)-0.01 || wd.y1 > pt(oy+h)+0.01 {
					t.Errorf("word %q at (%.1f,%.1f)-(%.1f,%.1f) pt leaves the %s label", wd.s, wd.x0, wd.y0, wd.x1, wd.y1, z)
				}
			}
		})
	}
}

// TestLabelsConcurrent renders documents in parallel: the parsed font is
// shared, so this is the test to run with -race.
func TestLabelsConcurrent(t *testing.T) {
	needFont(t)
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func(i int) {
			var b bytes.Buffer
			l := sampleLabel()
			l.ProductName = fmt.Sprintf("产品%d号", i)
			errs <- TraceLabels(&b, l, LabelSizes[i%len(LabelSizes)], 2)
		}(i)
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
