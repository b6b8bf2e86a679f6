package printing

import (
	"io"
	"time"

	goqr "github.com/piglig/go-qr"
)

// Basis is what a compliance-certificate promise rests on (承诺依据).
type Basis string

// The three bases of the 2023 certificate rules.
const (
	BasisControl          Basis = "control"           // 质量安全控制符合要求 quality control
	BasisSelfTest         Basis = "self_test"         // 自行检测合格 self-test
	BasisCommissionedTest Basis = "commissioned_test" // 委托检测合格 commissioned test
)

var bases = []struct {
	b     Basis
	label string
}{
	{BasisControl, "质量控制"},
	{BasisSelfTest, "自行检测"},
	{BasisCommissionedTest, "委托检测"},
}

// Scope says what one compliance certificate covers.
type Scope string

// One certificate per batch (package) or per vehicle load.
const (
	ScopeBatch   Scope = "batch"
	ScopeVehicle Scope = "vehicle"
)

// CertSize is the page a compliance certificate is printed on.
type CertSize string

// CertA6 is 105 × 148 mm portrait; Cert100x75 is 100 × 75 mm landscape
// (thermal label stock).
const (
	CertA6     CertSize = "A6"
	Cert100x75 CertSize = "100x75"
)

// The promise items printed, all ticked, on every certificate.
var promiseItems = []string{
	"不使用禁用农药兽药、停用兽药和非法添加物",
	"常规农药兽药残留不超标",
	"对承诺的真实性负责",
}

const promiseLead = "我承诺对生产销售的食用农产品："

// Certificate is the content of a compliance certificate (承诺达标合格证).
type Certificate struct {
	Number        string    // certificate number (合格证编号)
	TraceCode     string    // 20-digit trace code of the batch (type 1 or 2); printed grouped and in the QR
	BaseURL       string    // platform origin; the QR encodes BaseURL + "/q/" + TraceCode + "?v=" + Token
	Token         string    // optional verification token of TraceCode (letters and digits)
	ProductName   string    // edible farm product (食用农产品名称)
	Quantity      float64   // quantity or weight, > 0
	Unit          string    // unit of Quantity, e.g. "千克", "箱", "头"
	ProducerName  string    // producer (operator) name
	ContactPhone  string    // contact phone, printed as given (mask it before if needed)
	Origin        string    // origin: address or region name (产地)
	IssueDate     time.Time // date of issue (开具日期)
	Basis         Basis     // control, self_test or commissioned_test
	TestReference string    // optional: test report or self-test record number
	Scope         Scope     // batch (default when empty) or vehicle
	VehiclePlate  string    // optional plate number, only with ScopeVehicle
	Size          CertSize  // CertA6 (default when empty) or Cert100x75
}

func (c *Certificate) validate() error {
	v := validator{fn: "ComplianceCertificate"}
	v.required("Number", c.Number)
	v.traceCode("TraceCode", c.TraceCode, "12")
	v.baseURL("BaseURL", c.BaseURL)
	v.token("Token", c.Token)
	v.required("ProductName", c.ProductName)
	v.quantity("Quantity", c.Quantity, "Unit", c.Unit)
	v.required("ProducerName", c.ProducerName)
	v.required("ContactPhone", c.ContactPhone)
	v.required("Origin", c.Origin)
	v.date("IssueDate", c.IssueDate)
	if basisIndex(c.Basis) < 0 {
		v.fail("Basis", "must be control, self_test or commissioned_test, got %q", c.Basis)
	}
	switch c.Scope {
	case "", ScopeBatch:
		if c.VehiclePlate != "" {
			v.fail("VehiclePlate", "is only printed with Scope vehicle")
		}
	case ScopeVehicle:
	default:
		v.fail("Scope", "must be batch or vehicle, got %q", c.Scope)
	}
	switch c.Size {
	case "", CertA6, Cert100x75:
	default:
		v.fail("Size", "must be A6 or 100x75, got %q", c.Size)
	}
	return v.err
}

func basisIndex(b Basis) int {
	for i, x := range bases {
		if x.b == b {
			return i
		}
	}
	return -1
}

func (c *Certificate) scopeText() string {
	if c.Scope == ScopeVehicle {
		if c.VehiclePlate != "" {
			return "一车一证（车牌号 " + c.VehiclePlate + "）"
		}
		return "一车一证"
	}
	return "一批一证"
}

func (c *Certificate) fieldList() []field {
	return []field{
		{label: "产品名称", value: c.ProductName, maxLines: 2},
		{label: "数量（重量）", value: formatQuantity(c.Quantity, c.Unit)},
		{label: "生产者", value: c.ProducerName, maxLines: 2},
		{label: "联系电话", value: c.ContactPhone},
		{label: "产地", value: c.Origin, maxLines: 2},
		{label: "开具日期", value: formatDateCN(c.IssueDate)},
		{label: "开具方式", value: c.scopeText()},
	}
}

// ComplianceCertificate writes a one-page compliance certificate
// (承诺达标合格证) PDF: A6 portrait, or 100 × 75 mm landscape.
func ComplianceCertificate(w io.Writer, c Certificate) error {
	if err := c.validate(); err != nil {
		return err
	}
	q, err := encodeQR(TraceURL(c.BaseURL, c.TraceCode, c.Token))
	if err != nil {
		return err
	}
	p, err := newPDF("承诺达标合格证 " + c.Number)
	if err != nil {
		return err
	}
	if c.Size == Cert100x75 {
		certSmall(p, &c, q)
	} else {
		certA6(p, &c, q)
	}
	return p.finish(w)
}

// certFrame draws the double border of a certificate page.
func certFrame(p *pdf, w, h, inset float64) {
	p.frame(inset, inset, w-2*inset, h-2*inset, 0.6, green)
	p.frame(inset+1, inset+1, w-2*inset-2, h-2*inset-2, 0.2, green)
}

// certPromise draws the promise and its basis; returns the y below.
func certPromise(p *pdf, c *Certificate, x, y, w, pt, leading float64) float64 {
	p.font(pt)
	p.textColor(black)
	lh := p.em() * leading
	p.text(x, y+(lh-p.em())/2, promiseLead)
	y += lh
	for _, it := range promiseItems {
		y = p.checkItem(x+p.em(), y, w-p.em(), true, it, leading)
	}
	y += lh * 0.25
	lead := "承诺依据："
	p.text(x, y+(lh-p.em())/2, lead)
	opts := make([]string, len(bases))
	for i, b := range bases {
		opts[i] = b.label
	}
	lx := x + p.width(lead)
	y = p.checkRow(lx, y, x+w-lx, opts, basisIndex(c.Basis), leading)
	if c.TestReference != "" {
		ref := p.fitLine(w-p.em(), pt, pt*0.75, "检测报告（记录）编号："+c.TestReference)
		p.text(x+p.em(), y+(lh-p.em())/2, ref)
		p.font(pt)
		y += lh
	}
	return y
}

func certA6(p *pdf, c *Certificate, q *goqr.QrCode) {
	const W, H = 105.0, 148.0
	p.page(W, H)
	certFrame(p, W, H, 4)
	const m = 9.0 // content margin
	cw := W - 2*m

	// Title.
	p.font(19)
	p.textColor(black)
	title := "承诺达标合格证"
	p.gp.SetCharSpacing(1.2)
	p.textIn(m, 9.5, cw, title, alignCenter)
	p.gp.SetCharSpacing(0)
	p.font(7)
	p.textColor(grey)
	no := p.fitLine(cw, 7.5, 5.5, "编号 No. "+c.Number)
	p.textIn(m, 18.4, cw, no, alignCenter)
	p.line(m, 22.5, W-m, 22.5, 0.3, green)

	// Fields.
	y := p.fields(m, 24, cw, formStyle{
		labelW: 21, labelPt: 8, valuePt: 9.5, minPt: 6.5, vpad: 0.9,
		rules: true, labelCol: grey,
	}, c.fieldList())

	// Promise and basis.
	y = certPromise(p, c, m, y+2.2, cw, 8.3, 1.45)

	// Bottom: QR on the left; code, caption and signature on the right.
	const qside = 28.0
	qy := H - 5 - 4.5 - qside // above the footer, inside the inner frame
	if y > qy {
		qy = y // cannot happen with the line limits above; never overlap
	}
	qx := m - 2.5 // the quiet zone may reach into the margin
	p.qr(qx, qy, qside, q)
	tx := qx + qside + 1
	tw := W - m - tx
	ty := qy + 2.6
	p.font(7.5)
	p.textColor(grey)
	p.text(tx, ty, "追溯码 Trace code")
	ty += p.em() * 1.45
	p.textColor(black)
	code := p.fitLine(tw, 10.5, 6, GroupDigits(c.TraceCode))
	p.text(tx, ty, code)
	ty += p.em() * 1.45
	p.font(7.5)
	p.textColor(grey)
	p.text(tx, ty, "扫码查询 Scan to trace")
	// Signature: label and a line to write on, level with the QR's last row.
	p.font(8)
	p.textColor(ink)
	lab := "生产者签名（盖章）"
	sy := qy + qside - 2.6 - p.em()
	p.text(tx, sy, lab)
	lx := tx + p.width(lab) + 1
	p.line(lx, sy+ascent*p.em()+0.4, W-m, sy+ascent*p.em()+0.4, 0.2, ink)

	// Footer.
	p.font(6)
	p.textColor(light)
	p.textIn(m, H-5-1.2-p.em(), cw, PlatformName+" 监制", alignCenter)
}

func certSmall(p *pdf, c *Certificate, q *goqr.QrCode) {
	const W, H = 100.0, 75.0
	const inset = 2.5
	p.page(W, H)
	certFrame(p, W, H, inset)
	const m = 5.5
	inner := W - inset - 1 // right edge of the inner frame

	// Title across the top.
	p.font(13)
	p.textColor(black)
	p.gp.SetCharSpacing(0.8)
	p.textIn(m, 4.6, W-2*m, "承诺达标合格证", alignCenter)
	p.gp.SetCharSpacing(0)
	p.font(6)
	p.textColor(grey)
	no := p.fitLine(W-2*m, 6, 4.5, "编号 No. "+c.Number)
	p.textIn(m, 10.2, W-2*m, no, alignCenter)
	p.line(m, 13.2, W-m, 13.2, 0.25, green)

	// Right column: QR, code, signature, footer.
	const qside = 28.0
	rx := inner - 0.6 - qside
	p.qr(rx, 13.8, qside, q)
	cx, cw := rx+1.5, qside-2.5 // text column under the QR (inside its quiet-zone width)
	ty := 13.8 + qside + 0.1
	p.font(5.5)
	p.textColor(grey)
	p.textIn(cx, ty, cw, "追溯码 Trace code", alignCenter)
	ty += p.em() * 1.4
	p.textColor(black)
	code := p.fitLine(cw, 7.5, 4.5, GroupDigits(c.TraceCode))
	p.textIn(cx, ty, cw, code, alignCenter)
	ty += p.em() * 1.4
	p.font(5.5)
	p.textColor(grey)
	p.textIn(cx, ty, cw, "扫码查询 Scan to trace", alignCenter)
	p.font(6)
	p.textColor(ink)
	sy := ty + 5
	p.text(cx, sy, "生产者签名（盖章）")
	p.line(cx, sy+7.5, cx+cw, sy+7.5, 0.2, ink)

	// Left column: fields, then the promise.
	lw := rx - 1 - m
	fs := c.fieldList()
	for i := range fs {
		if fs[i].label != "产品名称" {
			fs[i].maxLines = 1
		}
	}
	y := p.fields(m, 13.8, lw, formStyle{
		labelW: 15.5, labelPt: 6.5, valuePt: 7.5, minPt: 5, vpad: 0.35,
		rules: true, labelCol: grey, leading: 1.2,
	}, fs)
	certPromise(p, c, m, y+1, lw, 6.5, 1.35)
	p.font(5)
	p.textColor(light)
	p.text(m, H-inset-1-1.2-p.em(), PlatformName+" 监制")
}
