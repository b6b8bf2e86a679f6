package printing

import (
	"bytes"
	"errors"
	"image"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestComplianceCertificate(t *testing.T) {
	want := TraceURL(testBase, sampleTrace, testToken)
	for _, tc := range []struct {
		size CertSize
		w, h float64
	}{{"", 105, 148}, {CertA6, 105, 148}, {Cert100x75, 100, 75}} {
		t.Run(string(tc.size), func(t *testing.T) {
			c := sampleCert()
			c.Size = tc.size
			doc := render(t, func(b *bytes.Buffer) error { return ComplianceCertificate(b, c) })
			assertPages(t, doc, 1, tc.w, tc.h)
			assertQR(t, rasterise(t, doc, 150)[0], want)
			assertContains(t, pdfText(t, doc),
				"承诺达标合格证", "HGZ-370102-20260301-0007", "烟台红富士苹果", "1250.5 千克",
				"栖霞市苹果专业合作社", "138****5678", "山东省烟台市栖霞市松山街道", "2026年03月01日",
				promiseLead, promiseItems[0], promiseItems[1], promiseItems[2],
				"承诺依据", "质量控制", "自行检测", "委托检测", "ZJ-2026-0301-12",
				"一车一证", "鲁F·12345", "1370 1020 0000 0000 0019", "扫码查询")
		})
	}
}

// TestComplianceCertificateBasis checks on the rendered page that the three
// promise boxes and exactly the chosen basis box are ticked: the centre of a
// ticked box has ink, the centre of an empty one has none.
func TestComplianceCertificateBasis(t *testing.T) {
	const dpi = 300
	for _, size := range []CertSize{CertA6, Cert100x75} {
		for bi, b := range bases {
			c := sampleCert()
			c.Size, c.Basis, c.Scope, c.VehiclePlate, c.TestReference = size, b.b, ScopeBatch, "", ""
			doc := render(t, func(w *bytes.Buffer) error { return ComplianceCertificate(w, c) })
			text := pdfText(t, doc)
			assertContains(t, text, "一批一证")
			if strings.Contains(text, "检测报告") {
				t.Errorf("%s/%s: test reference line printed without a reference", size, b.b)
			}
			img := rasterise(t, doc, dpi)[0]
			words := pdfWords(t, doc)
			for _, it := range promiseItems {
				if !tickedBefore(t, img, words, it, dpi) {
					t.Errorf("%s/%s: promise %q not ticked", size, b.b, it)
				}
			}
			for j, o := range bases {
				if got := tickedBefore(t, img, words, o.label, dpi); got != (j == bi) {
					t.Errorf("%s/%s: box %q ticked = %v", size, b.b, o.label, got)
				}
			}
		}
	}
}

// tickedBefore finds the word on the page and reports whether the checkbox
// drawn just left of it has ink in its centre. Geometry: the box (side
// 0.8 em) ends 0.4 em before the text and is centred on the em box; the
// pdftotext word box spans the font's win ascent/descent (1.16 + 0.288 em).
func tickedBefore(t *testing.T, img image.Image, words []word, label string, dpi float64) bool {
	t.Helper()
	for _, w := range words {
		if w.s != label {
			continue
		}
		em := (w.y1 - w.y0) / 1.448
		cx, cy := w.x0-0.8*em, w.y0+0.78*em
		px := func(pt float64) int { return int(pt / 72 * dpi) }
		r := image.Rect(px(cx-0.2*em), px(cy-0.2*em), px(cx+0.2*em), px(cy+0.2*em))
		inked, total := 0, 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				total++
				if dark(img.At(x, y)) {
					inked++
				}
			}
		}
		return inked*20 > total // more than 5 % ink
	}
	t.Fatalf("word %q not on the page", label)
	return false
}

func TestTraceCertificate(t *testing.T) {
	tc := sampleTraceCert()
	doc := render(t, func(b *bytes.Buffer) error { return TraceCertificate(b, tc) })
	assertPages(t, doc, 1, 148, 210)
	assertQR(t, rasterise(t, doc, 150)[0], TraceURL(testBase, sampleCirculation, testToken))
	assertContains(t, pdfText(t, doc),
		"追溯凭证", "2370 1020 0000 0000 0014", "烟台红富士苹果（一级果 80#）", "360 千克",
		"栖霞市苹果专业合作社", "0370 1020 0000 0000 17", "烟台鲜果商贸有限公司", "1370 1020 0000 0000 14",
		"2026年03月05日", PlatformName, "PZ-2026-000123")

	// Without a buyer, no buyer rows.
	tc.BuyerName, tc.BuyerCode, tc.Number = "", "", ""
	doc = render(t, func(b *bytes.Buffer) error { return TraceCertificate(b, tc) })
	text := pdfText(t, doc)
	if strings.Contains(text, "购买方") {
		t.Error("buyer row printed without a buyer")
	}
	assertQR(t, rasterise(t, doc, 150)[0], TraceURL(testBase, sampleCirculation, testToken))
}

func TestMarketEntryCertificate(t *testing.T) {
	for _, kind := range []MarketKind{MarketWholesale, MarketRetail, MarketProcessor} {
		tc := sampleTraceCert()
		tc.MarketKind = kind
		doc := render(t, func(b *bytes.Buffer) error { return MarketEntryCertificate(b, tc) })
		assertPages(t, doc, 1, 148, 210)
		assertQR(t, rasterise(t, doc, 150)[0], TraceURL(testBase, sampleMarketEntry, testToken))
		assertContains(t, pdfText(t, doc),
			"入市追溯凭证", "3370 1020 0000 0000 0010", kind.Label(), "济南堤口果品批发市场",
			"产地溯源", "产地主体", "1370 1020 0000 0000 0019", "2026年03月01日", "2026年03月05日",
			"上游追溯码", "2370 1020 0000 0000 0014", "0370 1020 0000 0000 17")
	}
}

func TestOperatorCard(t *testing.T) {
	for _, tc := range []struct {
		size CardSize
		w, h float64
	}{{"", 85.6, 54}, {Card90x60, 90, 60}} {
		c := sampleCard()
		c.Size = tc.size
		doc := render(t, func(b *bytes.Buffer) error { return OperatorCard(b, c) })
		assertPages(t, doc, 1, tc.w, tc.h)
		assertQR(t, rasterise(t, doc, 150)[0], OperatorURL(testBase, sampleSeller))
		assertContains(t, pdfText(t, doc), "主体身份码", "栖霞市苹果专业合作社", "农民专业合作社",
			"山东省烟台市栖霞市", "正常", "2026-01-12", "0370 1020 0000 0000 17", PlatformName)
	}
	// Unknown kinds and statuses are printed as given.
	c := sampleCard()
	c.Kind, c.Status = "家庭农场（示范）", "整改中"
	assertContains(t, pdfText(t, render(t, func(b *bytes.Buffer) error { return OperatorCard(b, c) })), "家庭农场（示范）", "整改中")
}

var pageFooterRE = regexp.MustCompile(`第\d+页/共\d+页`)

// TestAgreement: several A4 pages, every paragraph of the text present in
// order once page headers and footers are taken out, and the signature
// block.
func TestAgreement(t *testing.T) {
	a := sampleAgreement(t)
	doc := render(t, func(b *bytes.Buffer) error { return AgreementPDF(b, a) })
	pi := pdfInfo(t, doc)
	if pi.pages < 2 {
		t.Fatalf("pages = %d, want the long text over several pages", pi.pages)
	}
	assertPages(t, doc, pi.pages, 210, 297)
	text := pdfText(t, doc)
	assertContains(t, text, defaultAgreementTitle, "2026.1", "济南市历下区农业农村局",
		"栖霞市苹果专业合作社", "0370 1020 0000 0000 17", "2026-03-02 10:23:45 +08:00",
		a.SM3Hash, "签署信息")
	if strings.Contains(text, "未签署") {
		t.Error("signed agreement says 未签署")
	}
	// The body, without footers, is the whole text in order.
	body := stripSpace(text)
	for _, f := range []string{"农产品质量安全追溯协议（模板2026.1）", "乙方037010200000000017"} {
		body = strings.ReplaceAll(body, f, "")
	}
	body = pageFooterRE.ReplaceAllString(body, "")
	pos := 0
	for _, para := range strings.Split(a.Text, "\n") {
		p := stripSpace(para)
		if p == "" {
			continue
		}
		i := strings.Index(body[pos:], p)
		if i < 0 {
			t.Fatalf("paragraph missing or out of order: %q", para)
		}
		pos += i + len(p)
	}
	// The base64 signature is wrapped but complete.
	if !strings.Contains(body, sampleSig) {
		t.Error("SM2 signature not found in full")
	}
	// Footer "第 n 页 / 共 N 页" on every page.
	for n := 1; n <= pi.pages; n++ {
		assertContains(t, text, "第 "+strconv.Itoa(n)+" 页 / 共 "+strconv.Itoa(pi.pages)+" 页")
	}
}

func TestAgreementUnsigned(t *testing.T) {
	a := sampleAgreement(t)
	a.SignedAt, a.SM2Signature = time.Time{}, ""
	text := pdfText(t, render(t, func(b *bytes.Buffer) error { return AgreementPDF(b, a) }))
	assertContains(t, text, "未签署 Not signed", a.SM3Hash)
	if strings.Contains(text, "电子签名（SM2）") || strings.Contains(text, "10:23:45") || strings.Contains(stripSpace(text), sampleSig[:20]) {
		t.Error("unsigned agreement shows signature fields")
	}
	// Short text, custom title, no hash: one page.
	a.Text, a.SM3Hash, a.Title = "本协议自签署之日起生效。", "", "追溯协议（简版）"
	doc := render(t, func(b *bytes.Buffer) error { return AgreementPDF(b, a) })
	assertPages(t, doc, 1, 210, 297)
	assertContains(t, pdfText(t, doc), "追溯协议（简版）", "本协议自签署之日起生效。", "未签署 Not signed", "第 1 页 / 共 1 页")
}

func TestFontMissing(t *testing.T) {
	_, err := parseFont(fstest.MapFS{"font/README.md": {Data: []byte("x")}})
	if !errors.Is(err, ErrFontMissing) {
		t.Fatalf("err = %v, want ErrFontMissing", err)
	}
	if want := `printing: CJK font not built; run "make assets"`; err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
}
