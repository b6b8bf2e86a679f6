package printing

import (
	"fmt"
	"io"
	"time"
)

// MarketKind is where goods end the platform's chain (annex art. 14).
type MarketKind string

// Market kinds printed on a market-entry certificate.
const (
	MarketWholesale MarketKind = "wholesale" // 批发市场
	MarketRetail    MarketKind = "retail"    // 零售市场
	MarketProcessor MarketKind = "processor" // 生产加工企业
)

// Label returns the Chinese name of the market kind ("" if unknown).
func (k MarketKind) Label() string {
	switch k {
	case MarketWholesale:
		return "批发市场"
	case MarketRetail:
		return "零售市场"
	case MarketProcessor:
		return "生产加工企业"
	}
	return ""
}

// TraceCert is the content of a trace certificate (追溯凭证, for goods that
// cannot carry a label) and of a market-entry certificate (入市追溯凭证).
type TraceCert struct {
	Number       string    // optional certificate (slip) number
	TraceCode    string    // trace code of the goods (type 1 or 2); required for a trace certificate, optional upstream code on a market-entry certificate
	BaseURL      string    // platform origin; the QR encodes BaseURL + "/q/" + code + "?v=" + Token
	Token        string    // optional verification token of the code in the QR (TraceCode, or MarketEntryCode on a market-entry certificate)
	ProductName  string    // product name
	Quantity     float64   // quantity handed over, > 0
	Unit         string    // unit of Quantity
	SellerName   string    // seller (operator) name
	SellerCode   string    // seller's 18-digit operator code
	BuyerName    string    // optional buyer name
	BuyerCode    string    // optional buyer operator code (requires BuyerName)
	Date         time.Time // date of the sale, or of market entry
	PlatformNote string    // optional note replacing the default issuing-platform note

	// Market-entry certificates only.
	MarketName         string     // market or processing-plant name
	MarketKind         MarketKind // wholesale, retail or processor
	MarketEntryCode    string     // 20-digit market-entry code (type 3); printed and in the QR
	OriginOperatorName string     // operator at the start of the chain (producer)
	OriginBatchCode    string     // production batch code at the origin
	ProductionDate     time.Time  // production date of the origin batch
}

func (t *TraceCert) validateCommon(v *validator) {
	v.baseURL("BaseURL", t.BaseURL)
	v.token("Token", t.Token)
	v.required("ProductName", t.ProductName)
	v.quantity("Quantity", t.Quantity, "Unit", t.Unit)
	v.required("SellerName", t.SellerName)
	v.operatorCode("SellerCode", t.SellerCode)
	if t.BuyerCode != "" {
		v.required("BuyerName", t.BuyerName)
		v.operatorCode("BuyerCode", t.BuyerCode)
	}
	v.date("Date", t.Date)
}

func (t *TraceCert) note() string {
	if t.PlatformNote != "" {
		return t.PlatformNote
	}
	return "本凭证由" + PlatformName + "出具，随货同行，请妥善保存。扫描二维码或登录平台输入追溯码，可查询产品的生产经营主体、产地、批次及流向信息。"
}

func partyValue(name, code string) string {
	if code == "" {
		return name
	}
	return name + "（" + GroupDigits(code) + "）"
}

// TraceCertificate writes a trace certificate (追溯凭证) on one A5 page,
// for goods that cannot carry a label.
func TraceCertificate(w io.Writer, t TraceCert) error {
	v := validator{fn: "TraceCertificate"}
	v.traceCode("TraceCode", t.TraceCode, "12")
	t.validateCommon(&v)
	if v.err != nil {
		return v.err
	}
	rows := []field{
		{label: "产品名称", value: t.ProductName, maxLines: 2},
		{label: "数量（重量）", value: formatQuantity(t.Quantity, t.Unit)},
		{label: "销售方", value: t.SellerName, maxLines: 2},
		{label: "销售方主体码", value: GroupDigits(t.SellerCode)},
	}
	if t.BuyerName != "" {
		rows = append(rows, field{label: "购买方", value: t.BuyerName, maxLines: 2})
		if t.BuyerCode != "" {
			rows = append(rows, field{label: "购买方主体码", value: GroupDigits(t.BuyerCode)})
		}
	}
	rows = append(rows, field{label: "交易日期", value: formatDateCN(t.Date)})
	return a5Slip(w, &t, a5Spec{
		title:     "追溯凭证",
		subtitle:  "Traceability Certificate",
		codeLabel: "追溯码 Trace code",
		code:      t.TraceCode,
		sections:  []section{{"产品与交易信息", rows}},
	})
}

// MarketEntryCertificate writes a market-entry certificate (入市追溯凭证) on
// one A5 page: handed over when goods enter a wholesale or retail market or
// a processing plant, it carries the market-entry code and the chain's
// origin.
func MarketEntryCertificate(w io.Writer, t TraceCert) error {
	v := validator{fn: "MarketEntryCertificate"}
	v.traceCode("MarketEntryCode", t.MarketEntryCode, "3")
	v.required("MarketName", t.MarketName)
	if t.MarketKind.Label() == "" {
		v.fail("MarketKind", "must be wholesale, retail or processor, got %q", t.MarketKind)
	}
	if t.TraceCode != "" {
		v.traceCode("TraceCode", t.TraceCode, "12")
	}
	t.validateCommon(&v)
	v.required("OriginOperatorName", t.OriginOperatorName)
	v.required("OriginBatchCode", t.OriginBatchCode)
	v.date("ProductionDate", t.ProductionDate)
	if v.err != nil {
		return v.err
	}
	entry := []field{
		{label: "市场（企业）", value: t.MarketName, maxLines: 2},
		{label: "类型", value: t.MarketKind.Label()},
		{label: "产品名称", value: t.ProductName, maxLines: 2},
		{label: "数量（重量）", value: formatQuantity(t.Quantity, t.Unit)},
		{label: "入市方", value: t.SellerName, maxLines: 2},
		{label: "入市方主体码", value: GroupDigits(t.SellerCode)},
	}
	if t.BuyerName != "" {
		entry = append(entry, field{label: "购买方", value: partyValue(t.BuyerName, t.BuyerCode), maxLines: 2})
	}
	entry = append(entry, field{label: "入市日期", value: formatDateCN(t.Date)})
	if t.TraceCode != "" {
		entry = append(entry, field{label: "上游追溯码", value: GroupDigits(t.TraceCode)})
	}
	batch := t.OriginBatchCode
	if len(batch) == traceCodeLen && allDigits(batch) {
		batch = GroupDigits(batch)
	}
	origin := []field{
		{label: "产地主体", value: t.OriginOperatorName, maxLines: 2},
		{label: "产地批次码", value: batch},
		{label: "生产日期", value: formatDateCN(t.ProductionDate)},
	}
	return a5Slip(w, &t, a5Spec{
		title:     "入市追溯凭证",
		subtitle:  "Market Entry Traceability Certificate",
		codeLabel: "入市追溯码 Market-entry code",
		code:      t.MarketEntryCode,
		sections:  []section{{"入市信息", entry}, {"产地溯源", origin}},
	})
}

type section struct {
	heading string
	rows    []field
}

type a5Spec struct {
	title, subtitle string
	codeLabel       string
	code            string // code printed large and encoded in the QR
	sections        []section
}

func a5Slip(w io.Writer, t *TraceCert, s a5Spec) error {
	q, err := encodeQR(TraceURL(t.BaseURL, s.code, t.Token))
	if err != nil {
		return err
	}
	p, err := newPDF(s.title + " " + s.code)
	if err != nil {
		return err
	}
	const W, H, m = 148.0, 210.0, 14.0
	cw := W - 2*m
	p.page(W, H)

	// Header band.
	p.rect(0, 0, W, 7, green)
	p.font(8)
	p.textColor(white)
	p.textIn(m, 3.5-p.em()/2, cw, PlatformName, alignCenter)
	p.font(21)
	p.textColor(black)
	p.gp.SetCharSpacing(2)
	p.textIn(m, 12, cw, s.title, alignCenter)
	p.gp.SetCharSpacing(0)
	p.font(8.5)
	p.textColor(grey)
	p.textIn(m, 21.5, cw, s.subtitle, alignCenter)
	if t.Number != "" {
		p.font(7.5)
		no := p.truncate("凭证编号 No. "+t.Number, cw)
		p.textIn(m, 27, cw, no, alignRight)
	}
	p.line(m, 31, W-m, 31, 0.5, green)

	// Code block: text on the left, QR on the right.
	const qside = 40.0
	qx := W - m - qside + 3 // the quiet zone may reach into the margin
	qy := 33.0
	p.qr(qx, qy, qside, q)
	lw := qx - m - 2
	y := qy + 4
	p.font(9)
	p.textColor(grey)
	p.text(m, y, p.truncate(s.codeLabel, lw))
	y += p.em() * 1.6
	p.textColor(black)
	code := p.fitLine(lw, 17, 9, GroupDigits(s.code))
	p.text(m, y, code)
	y += p.em() * 1.5
	p.font(8.5)
	p.textColor(grey)
	for _, ln := range p.fitBlock("扫描右侧二维码，或登录平台输入上述代码查询。\nScan the QR code, or enter the code on the platform.", lw, 4, 8.5, 6.5) {
		p.text(m, y, ln)
		y += p.em() * 1.45
	}

	// Footer (note and issuer), anchored to the bottom.
	p.font(8)
	note := p.fitBlock(t.note(), cw, 3, 8, 6.5)
	notePt, noteLH := p.pt, p.em()*1.5
	footerTop := H - 12 - float64(len(note))*noteLH - 6

	// Sections, with the rows tightened until they fit above the footer.
	top := qy + qside + 3
	var st formStyle
	for _, try := range []formStyle{
		{labelW: 30, labelPt: 9, valuePt: 10.5, minPt: 7.5, vpad: 2},
		{labelW: 30, labelPt: 9, valuePt: 10, minPt: 7.5, vpad: 1.3},
		{labelW: 28, labelPt: 8.5, valuePt: 9.5, minPt: 7, vpad: 0.9},
		{labelW: 26, labelPt: 8, valuePt: 8.5, minPt: 6.5, vpad: 0.6},
	} {
		try.boxed, try.labelCol = true, ink
		st = try
		h := 0.0
		for _, sec := range s.sections {
			_, th := p.layoutFields(cw, st, sec.rows)
			p.font(10)
			h += p.em() + 2.2 + th + 5
		}
		if top+h <= footerTop-3 {
			break
		}
	}
	y = top
	for _, sec := range s.sections {
		p.font(10)
		p.textColor(green)
		p.rect(m, y+0.4, 1.2, p.em()*0.95, green)
		p.text(m+3, y, sec.heading)
		y += p.em() + 2.2
		y = p.fields(m, y, cw, st, sec.rows)
		y += 5
	}

	p.font(notePt)
	lh := noteLH
	fy := footerTop
	if fy < y {
		fy = y
	}
	p.line(m, fy-3, W-m, fy-3, 0.15, rule)
	p.textColor(grey)
	for _, ln := range note {
		p.text(m, fy, ln)
		fy += lh
	}
	p.font(8)
	p.textColor(ink)
	p.text(m, fy+1.5, "出具平台："+PlatformName)
	p.textIn(m, fy+1.5, cw, "出具日期："+formatDateCN(t.Date), alignRight)
	if p.err == nil && fy > H-6 {
		return fmt.Errorf("printing: %s: content does not fit one page", s.title)
	}
	return p.finish(w)
}
