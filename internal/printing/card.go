package printing

import (
	"io"
	"time"
)

// CardSize is the format of an operator e-ID card.
type CardSize string

// CardCR80 is the ID-1 / credit-card format (85.6 × 54 mm); Card90x60 is a
// larger card that is easier to print and cut on an office printer.
const (
	CardCR80  CardSize = "85.6x54"
	Card90x60 CardSize = "90x60"
)

// Card is the content of an operator e-ID card (主体身份码).
type Card struct {
	OperatorCode string    // 18-digit operator code; printed grouped, the QR encodes BaseURL + "/o/" + OperatorCode
	BaseURL      string    // platform origin
	OperatorName string    // registered operator name
	Kind         string    // operator kind: enterprise, cooperative, family_farm, slaughterhouse, individual (or a category key, see KindLabel), or a Chinese label printed as given
	RegionName   string    // region name, e.g. "山东省烟台市栖霞市"
	Status       string    // registration status: active, pending, suspended, revoked, temporary, or a Chinese label printed as given
	IssueDate    time.Time // date the code was issued
	Size         CardSize  // CardCR80 (default when empty) or Card90x60
}

var kindLabels = map[string]string{
	"enterprise":      "企业",
	"cooperative":     "农民专业合作社",
	"family_farm":     "家庭农场",
	"slaughterhouse":  "屠宰厂（场）",
	"individual":      "个人",
	"producer":        "生产主体",
	"trader":          "经营主体",
	"producer_trader": "生产经营主体",
	"input_supplier":  "农资经营主体",
	"temporary":       "临时主体",
}

var statusLabels = map[string]string{
	"active":    "正常",
	"approved":  "正常",
	"pending":   "审核中",
	"suspended": "暂停",
	"revoked":   "已注销",
	"temporary": "临时",
}

// KindLabel returns the Chinese label of an operator kind or category key
// (enterprise, cooperative, family_farm, slaughterhouse, individual,
// producer, trader, producer_trader, input_supplier, temporary); any other
// string is returned unchanged.
func KindLabel(kind string) string {
	if l, ok := kindLabels[kind]; ok {
		return l
	}
	return kind
}

// StatusLabel returns the Chinese label of a registration status key
// (active, approved, pending, suspended, revoked, temporary); any other
// string is returned unchanged.
func StatusLabel(status string) string {
	if l, ok := statusLabels[status]; ok {
		return l
	}
	return status
}

// OperatorCard writes an operator e-ID card (主体身份码) on one page of
// card size.
func OperatorCard(w io.Writer, c Card) error {
	v := validator{fn: "OperatorCard"}
	v.operatorCode("OperatorCode", c.OperatorCode)
	v.baseURL("BaseURL", c.BaseURL)
	v.required("OperatorName", c.OperatorName)
	v.required("Kind", c.Kind)
	v.required("RegionName", c.RegionName)
	v.required("Status", c.Status)
	v.date("IssueDate", c.IssueDate)
	var W, H float64
	switch c.Size {
	case "", CardCR80:
		W, H = 85.6, 54
	case Card90x60:
		W, H = 90, 60
	default:
		v.fail("Size", "must be 85.6x54 or 90x60, got %q", c.Size)
	}
	if v.err != nil {
		return v.err
	}
	q, err := encodeQR(OperatorURL(c.BaseURL, c.OperatorCode))
	if err != nil {
		return err
	}
	p, err := newPDF("主体身份码 " + c.OperatorCode)
	if err != nil {
		return err
	}
	p.page(W, H)
	s := H / 54 // type scale

	// Header band with the card's rounded top corners, and a hairline cut
	// guide with the ISO/IEC 7810 corner radius (3.18 mm).
	const m, radius = 4.0, 3.18
	bandH := 11.5 * s
	p.fillColor(green)
	p.setErr(p.gp.Rectangle(0, 0, W, bandH+2*radius, "F", radius, 8))
	p.rect(0, bandH, W, 2*radius+0.1, white)
	p.strokeColor(rule)
	p.gp.SetLineWidth(0.1)
	p.setErr(p.gp.Rectangle(0.05, 0.05, W-0.05, H-0.05, "D", radius, 8))
	p.textColor(white)
	p.font(11 * s)
	p.gp.SetCharSpacing(0.6)
	p.text(m, 2*s, "主体身份码")
	p.gp.SetCharSpacing(0)
	titleW := p.width("主体身份码") + 5*0.6*mmPerPt
	p.font(6 * s)
	p.text(m+titleW+2, 2*s+(11*s-6*s)*mmPerPt*0.8, "Operator e-ID")
	p.font(5.6 * s)
	p.text(m, 7.2*s, p.truncate(PlatformName, W-2*m))

	// QR on the right.
	qside := 29 * s
	qx := W - 1.8 - qside
	qy := bandH + 1.2
	p.qr(qx, qy, qside, q)
	p.font(5 * s)
	p.textColor(grey)
	p.textIn(qx, qy+qside-0.3, qside, "扫码核验 Scan to verify", alignCenter)

	// Left column.
	lx := m
	lw := qx - lx - 0.5
	y := bandH + 2.6*s
	p.textColor(black)
	name := p.fitBlock(c.OperatorName, lw, 2, 10.5*s, 7)
	for _, ln := range name {
		p.text(lx, y, ln)
		y += p.em() * 1.22
	}
	if len(name) == 1 {
		y += 1.2 * s
	}
	y += 1.2 * s
	rows := []field{
		{label: "主体类型", value: KindLabel(c.Kind)},
		{label: "所在地区", value: c.RegionName},
		{label: "状　　态", value: StatusLabel(c.Status)},
		{label: "发证日期", value: formatDate(c.IssueDate)},
	}
	p.fields(lx, y, lw, formStyle{
		labelW: 11.5 * s, labelPt: 5.8 * s, valuePt: 7 * s, minPt: 5, vpad: 0.25 * s,
		labelCol: grey, leading: 1.3,
	}, rows)

	// Bottom: the operator code.
	cy := H - 3.2*s - 8.5*s*mmPerPt
	p.line(m, cy-1.8*s, qx-0.5, cy-1.8*s, 0.15, rule)
	p.font(5.8 * s)
	p.textColor(grey)
	lab := "主体码"
	p.text(lx, cy+(8.5*s-5.8*s)*mmPerPt*0.75, lab)
	cx := lx + p.width(lab) + 1.5
	p.textColor(black)
	code := p.fitLine(qx-0.5-cx, 9.5*s, 6, GroupDigits(c.OperatorCode))
	p.text(cx, cy+(8.5*s-p.pt)*mmPerPt*0.75, code)
	return p.finish(w)
}
