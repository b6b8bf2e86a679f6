package printing

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

const testBase = "https://zs.example.gov.cn"

// testToken is a sample verification token printed with the codes.
const testToken = "K7QW2M4X"

// needFont fails the test with the package's own message when the CJK font
// was not copied in (CI runs `make test`, which copies it).
func needFont(t *testing.T) {
	t.Helper()
	if _, err := loadFont(); err != nil {
		t.Fatal(err)
	}
}

// poppler returns the path of a poppler-utils tool, waiting a little while
// apt/dpkg is running (it may be installing the package right now), and
// skips the test when it is not installed.
func poppler(t *testing.T, tool string) string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if p, err := exec.LookPath(tool); err == nil {
			return p
		}
		if !aptRunning() || time.Now().After(deadline) {
			t.Skipf("%s not found: apt-get install poppler-utils", tool)
		}
		time.Sleep(2 * time.Second)
	}
}

func aptRunning() bool {
	comms, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, c := range comms {
		b, err := os.ReadFile(c)
		if err != nil {
			continue
		}
		switch strings.TrimSpace(string(b)) {
		case "apt", "apt-get", "dpkg", "unattended-upgr":
			return true
		}
	}
	return false
}

// rasterise renders every page of doc at dpi and returns the page images.
func rasterise(t *testing.T, doc []byte, dpi int) []image.Image {
	t.Helper()
	bin := poppler(t, "pdftoppm")
	dir := t.TempDir()
	in := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(in, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-r", strconv.Itoa(dpi), "-png", in, filepath.Join(dir, "page")).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	sort.Strings(files) // pdftoppm zero-pads page numbers
	var imgs []image.Image
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	if len(imgs) == 0 {
		t.Fatal("pdftoppm produced no pages")
	}
	return imgs
}

// decodeQR decodes the single QR code in img with gozxing.
func decodeQR(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

func crop(img image.Image, r image.Rectangle) image.Image {
	type subImager interface {
		SubImage(image.Rectangle) image.Image
	}
	if s, ok := img.(subImager); ok {
		return s.SubImage(r.Add(img.Bounds().Min))
	}
	return img
}

// assertQR decodes the QR code on a rendered page and compares it to want.
func assertQR(t *testing.T, img image.Image, want string) {
	t.Helper()
	got, err := decodeQR(img)
	if err != nil {
		t.Fatalf("decode QR from page (%v): %v", img.Bounds().Size(), err)
	}
	if got != want {
		t.Fatalf("QR = %q, want %q", got, want)
	}
}

type pageInfo struct {
	pages int
	wmm   []float64 // per page
	hmm   []float64
}

var pageSizeRE = regexp.MustCompile(`(?m)^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts`)

// pdfInfo reads the page count and sizes with pdfinfo.
func pdfInfo(t *testing.T, doc []byte) pageInfo {
	t.Helper()
	bin := poppler(t, "pdfinfo")
	in := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(in, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-f", "1", "-l", "100000", in).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	var pi pageInfo
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo: no page count in\n%s", out)
	}
	pi.pages, _ = strconv.Atoi(string(m[1]))
	for _, s := range pageSizeRE.FindAllSubmatch(out, -1) {
		w, _ := strconv.ParseFloat(string(s[1]), 64)
		h, _ := strconv.ParseFloat(string(s[2]), 64)
		pi.wmm = append(pi.wmm, w/72*25.4)
		pi.hmm = append(pi.hmm, h/72*25.4)
	}
	return pi
}

// assertPages checks the page count and that every page is w × h mm.
func assertPages(t *testing.T, doc []byte, n int, w, h float64) {
	t.Helper()
	pi := pdfInfo(t, doc)
	if pi.pages != n {
		t.Fatalf("pages = %d, want %d", pi.pages, n)
	}
	if len(pi.wmm) != n {
		t.Fatalf("pdfinfo listed %d page sizes, want %d", len(pi.wmm), n)
	}
	for i := range pi.wmm {
		if abs(pi.wmm[i]-w) > 0.1 || abs(pi.hmm[i]-h) > 0.1 {
			t.Fatalf("page %d is %.2f × %.2f mm, want %.1f × %.1f", i+1, pi.wmm[i], pi.hmm[i], w, h)
		}
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// pdfText extracts the text with pdftotext (reading order as laid out).
func pdfText(t *testing.T, doc []byte) string {
	t.Helper()
	bin := poppler(t, "pdftotext")
	in := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(in, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("pdftotext: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// assertContains checks that the PDF text contains every want, either
// verbatim or (for text wrapped over lines) ignoring white space.
func assertContains(t *testing.T, text string, wants ...string) {
	t.Helper()
	compact := stripSpace(text)
	for _, w := range wants {
		if !strings.Contains(text, w) && !strings.Contains(compact, stripSpace(w)) {
			t.Errorf("PDF text does not contain %q; got:\n%s", w, text)
		}
	}
}

// writePreview saves the pages of doc as PNGs in $PRINTING_PREVIEW (if set)
// so that a person can look at them.
func writePreview(t *testing.T, name string, doc []byte) {
	t.Helper()
	dir := os.Getenv("PRINTING_PREVIEW")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, name+"-[0-9]*.png"))
	for _, f := range old {
		os.Remove(f)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pdf"), doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(poppler(t, "pdftoppm"), "-r", "150", "-png", filepath.Join(dir, name+".pdf"), filepath.Join(dir, name)).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}
