package printing

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestValidation: every public function rejects bad input with an error
// that names the field (or the argument), before touching the font.
func TestValidation(t *testing.T) {
	label := func(f func(*Label)) func() error {
		return func() error {
			l := sampleLabel()
			f(&l)
			return TraceLabels(new(bytes.Buffer), l, Label40x30, 1)
		}
	}
	cert := func(f func(*Certificate)) func() error {
		return func() error {
			c := sampleCert()
			f(&c)
			return ComplianceCertificate(new(bytes.Buffer), c)
		}
	}
	slip := func(f func(*TraceCert)) func() error {
		return func() error {
			c := sampleTraceCert()
			f(&c)
			return TraceCertificate(new(bytes.Buffer), c)
		}
	}
	entry := func(f func(*TraceCert)) func() error {
		return func() error {
			c := sampleTraceCert()
			f(&c)
			return MarketEntryCertificate(new(bytes.Buffer), c)
		}
	}
	card := func(f func(*Card)) func() error {
		return func() error {
			c := sampleCard()
			f(&c)
			return OperatorCard(new(bytes.Buffer), c)
		}
	}
	agree := func(f func(*Agreement)) func() error {
		return func() error {
			a := sampleAgreement(t)
			f(&a)
			return AgreementPDF(new(bytes.Buffer), a)
		}
	}
	cases := []struct {
		name string
		run  func() error
		want string // substring of the error
	}{
		{"label bad size", func() error { return TraceLabels(new(bytes.Buffer), sampleLabel(), "45x30", 1) }, "label size"},
		{"label empty size", func() error { return TraceLabels(new(bytes.Buffer), sampleLabel(), "", 1) }, "label size"},
		{"label copies 0", func() error { return TraceLabels(new(bytes.Buffer), sampleLabel(), Label40x30, 0) }, "copies"},
		{"label copies 501", func() error { return TraceLabels(new(bytes.Buffer), sampleLabel(), LabelA4, 501) }, "copies"},
		{"label copies -1", func() error { return TraceLabels(new(bytes.Buffer), sampleLabel(), Label60x40, -1) }, "copies"},
		{"label empty product", label(func(l *Label) { l.ProductName = "" }), "ProductName"},
		{"label blank product", label(func(l *Label) { l.ProductName = "  \t" }), "ProductName"},
		{"label empty operator", label(func(l *Label) { l.OperatorName = "" }), "OperatorName"},
		{"label no date", label(func(l *Label) { l.ProductionDate = time.Time{} }), "ProductionDate"},
		{"label empty code", label(func(l *Label) { l.TraceCode = "" }), "TraceCode"},
		{"label short code", label(func(l *Label) { l.TraceCode = "1370102000000000001" }), "TraceCode"},
		{"label bad check digit", label(func(l *Label) { l.TraceCode = "13701020000000000018" }), "check digit"},
		{"label bad code type", label(func(l *Label) { l.TraceCode = "93701020000000000014" }), "TraceCode"},
		{"label letters in code", label(func(l *Label) { l.TraceCode = "1370102000000000001A" }), "TraceCode"},
		{"label empty base", label(func(l *Label) { l.BaseURL = "" }), "BaseURL"},
		{"label relative base", label(func(l *Label) { l.BaseURL = "zs.example.gov.cn" }), "BaseURL"},
		{"label ftp base", label(func(l *Label) { l.BaseURL = "ftp://zs.example.gov.cn" }), "BaseURL"},
		{"label invalid utf8", label(func(l *Label) { l.ProductName = "\xff\xfe" }), "ProductName"},
		{"label token with symbols", label(func(l *Label) { l.Token = "AB&x=1" }), "Token"},
		{"label token too long", label(func(l *Label) { l.Token = "ABCDEFGHIJKLMNOPQ" }), "Token"},
		{"cert token with space", cert(func(c *Certificate) { c.Token = "AB CD" }), "Token"},
		{"slip token with slash", slip(func(c *TraceCert) { c.Token = "AB/CD" }), "Token"},

		{"cert empty number", cert(func(c *Certificate) { c.Number = "" }), "Number"},
		{"cert empty product", cert(func(c *Certificate) { c.ProductName = "" }), "ProductName"},
		{"cert zero quantity", cert(func(c *Certificate) { c.Quantity = 0 }), "Quantity"},
		{"cert negative quantity", cert(func(c *Certificate) { c.Quantity = -3 }), "Quantity"},
		{"cert empty unit", cert(func(c *Certificate) { c.Unit = "" }), "Unit"},
		{"cert empty producer", cert(func(c *Certificate) { c.ProducerName = "" }), "ProducerName"},
		{"cert empty phone", cert(func(c *Certificate) { c.ContactPhone = "" }), "ContactPhone"},
		{"cert empty origin", cert(func(c *Certificate) { c.Origin = "" }), "Origin"},
		{"cert no date", cert(func(c *Certificate) { c.IssueDate = time.Time{} }), "IssueDate"},
		{"cert empty basis", cert(func(c *Certificate) { c.Basis = "" }), "Basis"},
		{"cert bad basis", cert(func(c *Certificate) { c.Basis = "self-test" }), "Basis"},
		{"cert bad scope", cert(func(c *Certificate) { c.Scope = "package" }), "Scope"},
		{"cert plate on batch", cert(func(c *Certificate) { c.Scope = ScopeBatch }), "VehiclePlate"},
		{"cert bad size", cert(func(c *Certificate) { c.Size = "A5" }), "Size"},
		{"cert market-entry code", cert(func(c *Certificate) { c.TraceCode = sampleMarketEntry }), "TraceCode"},

		{"slip empty trace code", slip(func(c *TraceCert) { c.TraceCode = "" }), "TraceCode"},
		{"slip empty product", slip(func(c *TraceCert) { c.ProductName = "" }), "ProductName"},
		{"slip empty seller", slip(func(c *TraceCert) { c.SellerName = "" }), "SellerName"},
		{"slip empty seller code", slip(func(c *TraceCert) { c.SellerCode = "" }), "SellerCode"},
		{"slip bad seller code", slip(func(c *TraceCert) { c.SellerCode = "037010200000000018" }), "SellerCode"},
		{"slip buyer code without name", slip(func(c *TraceCert) { c.BuyerName = "" }), "BuyerName"},
		{"slip bad buyer code", slip(func(c *TraceCert) { c.BuyerCode = "12345" }), "BuyerCode"},
		{"slip no date", slip(func(c *TraceCert) { c.Date = time.Time{} }), "Date"},
		{"slip zero quantity", slip(func(c *TraceCert) { c.Quantity = 0 }), "Quantity"},

		{"entry empty code", entry(func(c *TraceCert) { c.MarketEntryCode = "" }), "MarketEntryCode"},
		{"entry production code", entry(func(c *TraceCert) { c.MarketEntryCode = sampleTrace }), "MarketEntryCode"},
		{"entry empty market", entry(func(c *TraceCert) { c.MarketName = "" }), "MarketName"},
		{"entry bad kind", entry(func(c *TraceCert) { c.MarketKind = "supermarket" }), "MarketKind"},
		{"entry empty origin operator", entry(func(c *TraceCert) { c.OriginOperatorName = "" }), "OriginOperatorName"},
		{"entry empty origin batch", entry(func(c *TraceCert) { c.OriginBatchCode = "" }), "OriginBatchCode"},
		{"entry no production date", entry(func(c *TraceCert) { c.ProductionDate = time.Time{} }), "ProductionDate"},
		{"entry bad upstream code", entry(func(c *TraceCert) { c.TraceCode = "23701020000000000015" }), "TraceCode"},

		{"card empty code", card(func(c *Card) { c.OperatorCode = "" }), "OperatorCode"},
		{"card trace code as operator code", card(func(c *Card) { c.OperatorCode = sampleTrace }), "OperatorCode"},
		{"card empty name", card(func(c *Card) { c.OperatorName = "" }), "OperatorName"},
		{"card empty kind", card(func(c *Card) { c.Kind = "" }), "Kind"},
		{"card empty region", card(func(c *Card) { c.RegionName = "" }), "RegionName"},
		{"card empty status", card(func(c *Card) { c.Status = "" }), "Status"},
		{"card no date", card(func(c *Card) { c.IssueDate = time.Time{} }), "IssueDate"},
		{"card bad size", card(func(c *Card) { c.Size = "A4" }), "Size"},

		{"agreement empty text", agree(func(a *Agreement) { a.Text = " \n " }), "Text"},
		{"agreement empty version", agree(func(a *Agreement) { a.TemplateVersion = "" }), "TemplateVersion"},
		{"agreement empty department", agree(func(a *Agreement) { a.Department = "" }), "Department"},
		{"agreement empty operator", agree(func(a *Agreement) { a.OperatorName = "" }), "OperatorName"},
		{"agreement bad operator code", agree(func(a *Agreement) { a.OperatorCode = "0370" }), "OperatorCode"},
		{"agreement signed without hash", agree(func(a *Agreement) { a.SM3Hash = "" }), "SM3Hash"},
		{"agreement signed without signature", agree(func(a *Agreement) { a.SM2Signature = "" }), "SM2Signature"},
		{"agreement short hash", agree(func(a *Agreement) { a.SM3Hash = "66c7f0" }), "SM3Hash"},
		{"agreement non-hex hash", agree(func(a *Agreement) { a.SM3Hash = strings.Repeat("zz", 32) }), "SM3Hash"},
		{"agreement bad base64", agree(func(a *Agreement) { a.SM2Signature = "not base64!" }), "SM2Signature"},
		{"agreement signature without time", agree(func(a *Agreement) { a.SignedAt = time.Time{} }), "SM2Signature"},

		{"QRPNG empty", func() error { _, err := QRPNG("", 100); return err }, "content"},
		{"QRSVG empty", func() error { _, err := QRSVG(""); return err }, "content"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil {
				t.Fatalf("want an error mentioning %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "printing: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}
