package printing

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var qrContents = []string{
	TraceURL(testBase, sampleTrace, testToken),
	OperatorURL(testBase+"/", sampleSeller), // trailing slash is trimmed
	"https://id.gs1.org/01/09506000134352/10/ABC123",
	"追溯码 13701020000000000019",
	strings.Repeat("A", 300),
}

func TestQRPNGDecodes(t *testing.T) {
	for _, content := range qrContents {
		for _, size := range []int{200, 333, 512} {
			name := fmt.Sprintf("%.20s/%d", content, size)
			t.Run(name, func(t *testing.T) {
				b, err := QRPNG(content, size)
				if err != nil {
					t.Fatal(err)
				}
				img, err := png.Decode(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				if got := img.Bounds().Size(); got != image.Pt(size, size) {
					t.Fatalf("PNG is %v, want %dx%d", got, size, size)
				}
				assertQuietZone(t, img, content)
				assertQR(t, img, content)
			})
		}
	}
}

// assertQuietZone checks that the dark modules of the symbol for content
// leave a white margin of at least four modules on every side.
func assertQuietZone(t *testing.T, img image.Image, content string) {
	t.Helper()
	q, err := encodeQR(content)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	minX, minY, maxX, maxY := b.Max.X, b.Max.Y, b.Min.X-1, b.Min.Y-1
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if dark(img.At(x, y)) {
				minX, minY = min(minX, x), min(minY, y)
				maxX, maxY = max(maxX, x), max(maxY, y)
			}
		}
	}
	module := float64(maxX-minX+1) / float64(q.Size())
	for _, margin := range []int{minX - b.Min.X, minY - b.Min.Y, b.Max.X - 1 - maxX, b.Max.Y - 1 - maxY} {
		if float64(margin) < 4*module-0.01 {
			t.Fatalf("quiet zone %d px, want ≥ 4 modules of %.1f px", margin, module)
		}
	}
}

func dark(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r+g+b < 3*0x8000
}

func TestQRPNGErrors(t *testing.T) {
	if _, err := QRPNG("", 200); err == nil {
		t.Error("empty content: want error")
	}
	if _, err := QRPNG(TraceURL(testBase, sampleTrace, testToken), 20); err == nil || !strings.Contains(err.Error(), "sizePx") {
		t.Errorf("tiny size: err = %v, want a sizePx error", err)
	}
	if _, err := QRPNG(strings.Repeat("x", 5000), 2000); err == nil {
		t.Error("content beyond QR capacity: want error")
	}
}

var (
	viewBoxRE = regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`)
	pathRE    = regexp.MustCompile(`<path[^>]* d="([^"]+)"`)
	cmdRE     = regexp.MustCompile(`[MHVLZ][^MHVLZ]*`)
)

// TestQRSVGDecodes parses the SVG, rasterises its even-odd path with a
// tiny scanline filler, and decodes the result.
func TestQRSVGDecodes(t *testing.T) {
	for _, content := range qrContents {
		t.Run(fmt.Sprintf("%.20s", content), func(t *testing.T) {
			svg, err := QRSVG(content)
			if err != nil {
				t.Fatal(err)
			}
			if err := xml.Unmarshal(svg, new(struct{})); err != nil {
				t.Fatalf("not well-formed XML: %v", err)
			}
			q, _ := encodeQR(content)
			m := viewBoxRE.FindSubmatch(svg)
			if m == nil {
				t.Fatalf("no viewBox in %.200s", svg)
			}
			n, _ := strconv.Atoi(string(m[1]))
			if want := q.Size() + 8; n != want {
				t.Fatalf("viewBox %d, want %d (symbol + 2 × 4 quiet-zone modules)", n, want)
			}
			pm := pathRE.FindSubmatch(svg)
			if pm == nil {
				t.Fatal("no path in SVG")
			}
			img := rasterPath(t, string(pm[1]), n, 8)
			assertQR(t, img, content)
		})
	}
}

// rasterPath fills an SVG path made of M/H/V/L/Z commands with integer
// coordinates (as the QR renderer writes) using the even-odd rule.
func rasterPath(t *testing.T, d string, n, scale int) image.Image {
	t.Helper()
	type pt struct{ x, y int }
	var polys [][]pt
	var cur []pt
	var x, y int
	num := func(s string) int {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			t.Fatalf("path number %q: %v", s, err)
		}
		return v
	}
	for _, c := range cmdRE.FindAllString(d, -1) {
		arg := c[1:]
		switch c[0] {
		case 'M':
			if len(cur) > 0 {
				polys = append(polys, cur)
			}
			xy := strings.Split(arg, ",")
			x, y = num(xy[0]), num(xy[1])
			cur = []pt{{x, y}}
		case 'L':
			xy := strings.Split(arg, ",")
			x, y = num(xy[0]), num(xy[1])
			cur = append(cur, pt{x, y})
		case 'H':
			x = num(arg)
			cur = append(cur, pt{x, y})
		case 'V':
			y = num(arg)
			cur = append(cur, pt{x, y})
		case 'Z':
		}
	}
	if len(cur) > 0 {
		polys = append(polys, cur)
	}
	img := image.NewGray(image.Rect(0, 0, n*scale, n*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for my := 0; my < n; my++ {
		for mx := 0; mx < n; mx++ {
			// Even-odd test for the module centre with a ray to +x.
			cx, cy := float64(mx)+0.5, float64(my)+0.5
			inside := false
			for _, poly := range polys {
				for i := range poly {
					a, b := poly[i], poly[(i+1)%len(poly)]
					if a.x == b.x && (float64(a.y) > cy) != (float64(b.y) > cy) && float64(a.x) > cx {
						inside = !inside
					}
				}
			}
			if inside {
				for dy := 0; dy < scale; dy++ {
					for dx := 0; dx < scale; dx++ {
						img.SetGray(mx*scale+dx, my*scale+dy, color.Gray{})
					}
				}
			}
		}
	}
	return img
}

func TestGroupDigits(t *testing.T) {
	for in, want := range map[string]string{
		"13701020000000000019": "1370 1020 0000 0000 0019",
		"037010200000000017":   "0370 1020 0000 0000 17",
		"1234":                 "1234",
		"":                     "",
	} {
		if got := GroupDigits(in); got != want {
			t.Errorf("GroupDigits(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckDigit(t *testing.T) {
	for _, ok := range []string{"13701020000000000019", "69435151530", sampleCirculation, sampleMarketEntry, sampleSeller, sampleBuyer} {
		if !mod1110Valid(ok) {
			t.Errorf("%s should be valid", ok)
		}
	}
	for _, bad := range []string{"13701020000000000018", "1370102000000000001x", "", "5"} {
		if mod1110Valid(bad) {
			t.Errorf("%s should be invalid", bad)
		}
	}
}

func TestURLs(t *testing.T) {
	if got := TraceURL("https://a.example/", "1", ""); got != "https://a.example/q/1" {
		t.Error(got)
	}
	if got := TraceURL("https://a.example/", "1", "AB12CD34"); got != "https://a.example/q/1?v=AB12CD34" {
		t.Error(got)
	}
	if got := OperatorURL("https://a.example", "2"); got != "https://a.example/o/2" {
		t.Error(got)
	}
}
