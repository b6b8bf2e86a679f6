package printing

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// Sample inputs; all codes carry valid GB/T 17710 check digits.
const (
	sampleTrace       = "13701020000000000019" // production batch (brief §5 test vector)
	sampleCirculation = "23701020000000000014"
	sampleMarketEntry = "33701020000000000010"
	sampleSeller      = "037010200000000017"
	sampleBuyer       = "137010200000000014"
)

var (
	day1 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local)
	day5 = time.Date(2026, 3, 5, 0, 0, 0, 0, time.Local)
)

func sampleLabel() Label {
	return Label{
		TraceCode:      sampleTrace,
		BaseURL:        testBase,
		Token:          testToken,
		ProductName:    "烟台红富士苹果",
		OperatorName:   "栖霞市苹果专业合作社",
		ProductionDate: day1,
	}
}

// longLabel has names far too long for any label.
func longLabel() Label {
	l := sampleLabel()
	l.ProductName = strings.Repeat("山东烟台栖霞特级红富士苹果礼盒装", 4)
	l.OperatorName = "Qixia City Red Fuji Apple Professional Farmers Cooperative " + strings.Repeat("栖霞市苹果专业合作社", 3)
	return l
}

func sampleCert() Certificate {
	return Certificate{
		Number:        "HGZ-370102-20260301-0007",
		TraceCode:     sampleTrace,
		BaseURL:       testBase,
		Token:         testToken,
		ProductName:   "烟台红富士苹果",
		Quantity:      1250.5,
		Unit:          "千克",
		ProducerName:  "栖霞市苹果专业合作社",
		ContactPhone:  "138****5678",
		Origin:        "山东省烟台市栖霞市松山街道",
		IssueDate:     day1,
		Basis:         BasisSelfTest,
		TestReference: "ZJ-2026-0301-12",
		Scope:         ScopeVehicle,
		VehiclePlate:  "鲁F·12345",
	}
}

func sampleTraceCert() TraceCert {
	return TraceCert{
		Number:             "PZ-2026-000123",
		TraceCode:          sampleCirculation,
		BaseURL:            testBase,
		Token:              testToken,
		ProductName:        "烟台红富士苹果（一级果 80#）",
		Quantity:           360,
		Unit:               "千克",
		SellerName:         "栖霞市苹果专业合作社",
		SellerCode:         sampleSeller,
		BuyerName:          "烟台鲜果商贸有限公司",
		BuyerCode:          sampleBuyer,
		Date:               day5,
		MarketName:         "济南堤口果品批发市场",
		MarketKind:         MarketWholesale,
		MarketEntryCode:    sampleMarketEntry,
		OriginOperatorName: "栖霞市苹果专业合作社",
		OriginBatchCode:    sampleTrace,
		ProductionDate:     day1,
	}
}

func sampleCard() Card {
	return Card{
		OperatorCode: sampleSeller,
		BaseURL:      testBase,
		OperatorName: "栖霞市苹果专业合作社",
		Kind:         "cooperative",
		RegionName:   "山东省烟台市栖霞市",
		Status:       "active",
		IssueDate:    time.Date(2026, 1, 12, 0, 0, 0, 0, time.Local),
	}
}

const sampleSig = "8NqmvUq1a8f7d8g61yo69JhQf2lPjjL/gu1InsMqb69ZW12RV1sXpqzFJ74iyaPq9PmQnZtkFbB2uxsSV/aalHAL0DBiZTs="

func sampleAgreement(t *testing.T) Agreement {
	t.Helper()
	text, err := os.ReadFile("testdata/agreement.txt")
	if err != nil {
		t.Fatal(err)
	}
	return Agreement{
		Number:          "XY-370102-2026-0042",
		TemplateVersion: "2026.1",
		Department:      "济南市历下区农业农村局",
		OperatorName:    "栖霞市苹果专业合作社",
		OperatorCode:    sampleSeller,
		Text:            string(text),
		SignedAt:        time.Date(2026, 3, 2, 10, 23, 45, 0, time.FixedZone("CST", 8*3600)),
		SM3Hash:         "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
		SM2Signature:    sampleSig,
	}
}

// render runs one generator into a buffer and fails the test on error.
func render(t *testing.T, f func(*bytes.Buffer) error) []byte {
	t.Helper()
	needFont(t)
	var buf bytes.Buffer
	if err := f(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("output is not a PDF: %q", buf.Bytes()[:min(20, buf.Len())])
	}
	return buf.Bytes()
}

// TestPreview renders one example of every document; with
// PRINTING_PREVIEW=/some/dir the pages are also written there as PNG
// (150 dpi) for a person to look at.
func TestPreview(t *testing.T) {
	docs := map[string]func(*bytes.Buffer) error{
		"label-40x30":      func(b *bytes.Buffer) error { return TraceLabels(b, sampleLabel(), Label40x30, 1) },
		"label-50x30":      func(b *bytes.Buffer) error { return TraceLabels(b, sampleLabel(), Label50x30, 1) },
		"label-60x40":      func(b *bytes.Buffer) error { return TraceLabels(b, sampleLabel(), Label60x40, 1) },
		"label-A4":         func(b *bytes.Buffer) error { return TraceLabels(b, sampleLabel(), LabelA4, 24) },
		"label-40x30-long": func(b *bytes.Buffer) error { return TraceLabels(b, longLabel(), Label40x30, 1) },
		"label-A4-long":    func(b *bytes.Buffer) error { return TraceLabels(b, longLabel(), LabelA4, 3) },
		"cert-A6":          func(b *bytes.Buffer) error { return ComplianceCertificate(b, sampleCert()) },
		"cert-100x75": func(b *bytes.Buffer) error {
			c := sampleCert()
			c.Size = Cert100x75
			return ComplianceCertificate(b, c)
		},
		"tracecert":    func(b *bytes.Buffer) error { return TraceCertificate(b, sampleTraceCert()) },
		"marketentry":  func(b *bytes.Buffer) error { return MarketEntryCertificate(b, sampleTraceCert()) },
		"card-85.6x54": func(b *bytes.Buffer) error { return OperatorCard(b, sampleCard()) },
		"card-90x60": func(b *bytes.Buffer) error {
			c := sampleCard()
			c.Size = Card90x60
			return OperatorCard(b, c)
		},
		"agreement": func(b *bytes.Buffer) error { return AgreementPDF(b, sampleAgreement(t)) },
		"agreement-unsigned": func(b *bytes.Buffer) error {
			a := sampleAgreement(t)
			a.SignedAt, a.SM2Signature = time.Time{}, ""
			return AgreementPDF(b, a)
		},
	}
	for name, f := range docs {
		writePreview(t, name, render(t, f))
	}
}
