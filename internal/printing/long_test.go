package printing

import (
	"bytes"
	"strings"
	"testing"
)

var (
	longCN  = strings.Repeat("山东省烟台市栖霞市松山街道苹果产业园区", 6)
	longMix = "Yantai Qixia Premium Red Fuji Apple Export Cooperative " + strings.Repeat("栖霞市苹果专业合作社", 5)
)

// TestLongInputsStayOnPage fills every free-text field with far too much
// text: each document still has every word inside its page, cut texts end
// with "…", and the QR code decodes.
func TestLongInputsStayOnPage(t *testing.T) {
	cert := sampleCert()
	cert.Number = strings.Repeat("HGZ-370102-", 8)
	cert.ProductName, cert.ProducerName, cert.Origin = longCN, longMix, longCN
	cert.ContactPhone = strings.Repeat("0535-1234567 ", 6)
	cert.Unit = "箱（每箱 20 千克，共计若干托盘装运）"
	cert.TestReference = strings.Repeat("ZJ-2026-0301-12/", 8)
	cert.VehiclePlate = strings.Repeat("鲁F·12345 ", 4)
	small := cert
	small.Size = Cert100x75

	tc := sampleTraceCert()
	tc.Number = strings.Repeat("PZ-2026-000123-", 6)
	tc.ProductName, tc.SellerName, tc.BuyerName, tc.MarketName = longCN, longMix, longMix, longCN
	tc.OriginOperatorName, tc.OriginBatchCode = longMix, strings.Repeat("BATCH-2026-03-01-", 6)
	tc.Unit = "箱（每箱 20 千克）"
	tc.PlatformNote = strings.Repeat("本凭证随货同行，请妥善保存，扫码可查询产品来源。", 8)

	card := sampleCard()
	card.OperatorName, card.RegionName, card.Kind, card.Status = longMix, longCN, longCN, longCN

	docs := []struct {
		name string
		w, h float64
		url  string
		f    func(*bytes.Buffer) error
	}{
		{"cert-A6", 105, 148, TraceURL(testBase, sampleTrace, testToken), func(b *bytes.Buffer) error { return ComplianceCertificate(b, cert) }},
		{"cert-100x75", 100, 75, TraceURL(testBase, sampleTrace, testToken), func(b *bytes.Buffer) error { return ComplianceCertificate(b, small) }},
		{"tracecert", 148, 210, TraceURL(testBase, sampleCirculation, testToken), func(b *bytes.Buffer) error { return TraceCertificate(b, tc) }},
		{"marketentry", 148, 210, TraceURL(testBase, sampleMarketEntry, testToken), func(b *bytes.Buffer) error { return MarketEntryCertificate(b, tc) }},
		{"card", 85.6, 54, OperatorURL(testBase, sampleSeller), func(b *bytes.Buffer) error { return OperatorCard(b, card) }},
	}
	for _, d := range docs {
		t.Run(d.name, func(t *testing.T) {
			doc := render(t, d.f)
			writePreview(t, "long-"+d.name, doc)
			assertPages(t, doc, 1, d.w, d.h)
			assertQR(t, rasterise(t, doc, 150)[0], d.url)
			assertContains(t, pdfText(t, doc), "…")
			pt := func(mm float64) float64 { return mm * 72 / 25.4 }
			for _, wd := range pdfWords(t, doc) {
				if wd.x0 < -0.01 || wd.y0 < -0.01 || wd.x1 > pt(d.w)+0.01 || wd.y1 > pt(d.h)+0.01 {
					t.Errorf("word %q at (%.1f,%.1f)-(%.1f,%.1f) pt leaves the page", wd.s, wd.x0, wd.y0, wd.x1, wd.y1)
				}
			}
		})
	}
}
