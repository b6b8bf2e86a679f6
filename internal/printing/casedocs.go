package printing

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	goqr "github.com/piglig/go-qr"
)

// CaseDocKind names an enforcement document.
type CaseDocKind string

// The three documents of an administrative enforcement case (执法办案文书).
const (
	CaseFiling  CaseDocKind = "filing"  // 立案审批表
	CaseRectify CaseDocKind = "rectify" // 责令整改通知书
	CasePenalty CaseDocKind = "penalty" // 行政处罚决定书
)

// CaseParty is an operator a case concerns.
type CaseParty struct {
	Name, Code, CreditCode, Address, LegalRep string // Code = 18-digit operator code; CreditCode may be "" (individuals)
}

// CaseStep is a recorded step, printed as the case's history on the filing form.
type CaseStep struct{ On, Step, Actor, Note string } // On = YYYY-MM-DD; Step already in Chinese words

// CaseDoc is the data of one document.
type CaseDoc struct {
	Kind        CaseDocKind
	Number      string      // case number, e.g. "AJ-330106-2026-0003"
	Agency      string      // issuing department, e.g. "杭州市西湖区农业农村局"
	Parties     []CaseParty // at least one
	Source      string      // in words, e.g. "基地巡查 XC-2026-000012"
	Violation   string      // in words, e.g. "虚假记录（第十七条第一项）"
	Summary     string      // facts, may be long (wrap; continue on a second page if needed)
	Evidence    []string    // one line each
	FiledOn     string      // YYYY-MM-DD
	FiledBy     string
	DecidedOn   string // rectify/penalty: required
	Decision    string // in words
	RectifyDays int    // rectify: > 0
	RectifyDue  string // rectify: YYYY-MM-DD, the deadline on the working-day calendar
	PenaltyYuan string // penalty: amount formatted, e.g. "5,000.00"
	LegalBasis  string // penalty: required (e.g. "《中华人民共和国农产品质量安全法》第七十三条")
	Officer     string
	Steps       []CaseStep // filing form: the history table
	VerifyURL   string     // printed as a QR code (bottom right) and as text
	Signature   string     // base64 SM2 signature of the document's data; print its first 16 chars as a fingerprint "签名指纹"
}

type caseKindInfo struct {
	title, english string
	suffix         string // appended to the case number to make the document number
}

var caseKinds = map[CaseDocKind]caseKindInfo{
	CaseFiling:  {"立案审批表", "Case Filing Approval Form", "LA"},
	CaseRectify: {"责令整改通知书", "Rectification Order", "ZG"},
	CasePenalty: {"行政处罚决定书", "Administrative Penalty Decision", "CF"},
}

// A4 geometry of the case documents.
const (
	caseW, caseH  = 210.0, 297.0
	caseMarginX   = 22.0
	caseFootTop   = caseH - 42.0      // rule above the footer (verification block, page number)
	caseBottom    = caseFootTop - 3.0 // body text ends here
	caseBodyPt    = 10.5
	caseLead      = 1.65
	caseQRSide    = 26.0
	caseMaxURL    = 256 // longer verification URLs make a QR too dense for the footer
	caseFPLen     = 16  // characters of the signature printed as its fingerprint
	caseDateInput = "2006-01-02"
)

// The legal texts of the rectification order and the penalty decision.
const (
	caseRectifyNotice = "你单位应当在上述期限内完成整改，并将整改情况书面报告本机关。逾期不改正或者整改不到位的，" +
		"本机关将依照《中华人民共和国农产品质量安全法》等法律、法规的规定依法处理。"
	caseRectifyFollowUp = "整改期限届满后，本机关将对你单位的整改情况进行复查。"
	casePayment         = "当事人应当自收到本决定书之日起十五日内，持本决定书到指定银行或者通过电子支付系统缴纳罚款。" +
		"逾期不缴纳罚款的，本机关可以每日按罚款数额的百分之三加处罚款，加处罚款的数额不超出罚款的数额。"
	caseRemedies = "当事人如不服本行政处罚决定，可以在收到本决定书之日起六十日内依法申请行政复议，" +
		"或者在六个月内依法向人民法院提起行政诉讼。申请行政复议或者提起行政诉讼的，行政处罚不停止执行，法律另有规定的除外。" +
		"当事人逾期不申请行政复议、不提起行政诉讼，又不履行本行政处罚决定的，本机关将依法申请人民法院强制执行。"
)

// caseYuanRE matches an amount in yuan with two decimals, grouped by thousands
// ("5,000.00") or not ("5000.00").
var caseYuanRE = regexp.MustCompile(`^(0|[1-9][0-9]{0,2}(,[0-9]{3})*|[1-9][0-9]*)\.[0-9]{2}$`)

// creditCodeChars are the characters of a unified social credit code (GB 32100).
const creditCodeChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

func (d *CaseDoc) validate() error {
	v := validator{fn: "CaseDocument"}
	if _, ok := caseKinds[d.Kind]; !ok {
		v.fail("Kind", "must be filing, rectify or penalty, got %q", d.Kind)
	}
	v.required("Number", d.Number)
	v.required("Agency", d.Agency)
	if len(d.Parties) == 0 {
		v.fail("Parties", "needs at least one party")
	}
	for i, pa := range d.Parties {
		f := fmt.Sprintf("Parties[%d].", i)
		v.required(f+"Name", pa.Name)
		v.operatorCode(f+"Code", pa.Code)
		if pa.CreditCode != "" && (len(pa.CreditCode) != 18 || strings.Trim(pa.CreditCode, creditCodeChars) != "") {
			v.fail(f+"CreditCode", "must be 18 digits and capital letters (GB 32100), got %q", pa.CreditCode)
		}
	}
	v.required("Violation", d.Violation)
	v.required("Summary", d.Summary)
	for i, e := range d.Evidence {
		v.required(fmt.Sprintf("Evidence[%d]", i), e)
	}
	v.caseDate("FiledOn", d.FiledOn)
	if d.DecidedOn != "" || d.Kind == CaseRectify || d.Kind == CasePenalty {
		v.caseDate("DecidedOn", d.DecidedOn)
	}
	v.verification(d.VerifyURL, d.Signature)
	switch d.Kind {
	case CaseFiling:
		v.required("Source", d.Source)
		v.required("FiledBy", d.FiledBy)
		for i, s := range d.Steps {
			f := fmt.Sprintf("Steps[%d].", i)
			v.caseDate(f+"On", s.On)
			v.required(f+"Step", s.Step)
		}
	case CaseRectify:
		if d.RectifyDays <= 0 {
			v.fail("RectifyDays", "must be > 0, got %d", d.RectifyDays)
		}
		if v.caseDate("RectifyDue", d.RectifyDue) && d.RectifyDue < d.DecidedOn {
			v.fail("RectifyDue", "%s is before DecidedOn %s", d.RectifyDue, d.DecidedOn)
		}
	case CasePenalty:
		if v.required("PenaltyYuan", d.PenaltyYuan) && !caseYuanRE.MatchString(d.PenaltyYuan) {
			v.fail("PenaltyYuan", `must be an amount with two decimals such as "5,000.00", got %q`, d.PenaltyYuan)
		}
		v.required("LegalBasis", d.LegalBasis)
	}
	return v.err
}

// caseDate checks a required YYYY-MM-DD date.
func (v *validator) caseDate(field, s string) bool {
	if !v.required(field, s) {
		return false
	}
	if _, err := time.Parse(caseDateInput, s); err != nil {
		v.fail(field, "must be a date YYYY-MM-DD, got %q", s)
		return false
	}
	return true
}

// caseDateCN renders a validated YYYY-MM-DD date as 2026年03月01日.
func caseDateCN(s string) string {
	t, err := time.Parse(caseDateInput, s)
	if err != nil {
		return s
	}
	return formatDateCN(t)
}

// CaseDocument writes one document of an administrative enforcement case
// (立案审批表, 责令整改通知书 or 行政处罚决定书) on A4 portrait pages: the
// agency and title, the case and document numbers, the parties, the
// kind's body (flowing onto further pages when the facts are long), and on
// every page a footer with the QR code of VerifyURL, the URL, the
// signature fingerprint and the page number. Missing or malformed data
// gives an error naming the field, and nothing is written.
func CaseDocument(w io.Writer, d CaseDoc) error {
	if err := d.validate(); err != nil {
		return err
	}
	q, err := encodeQR(d.VerifyURL)
	if err != nil {
		return err
	}
	info := caseKinds[d.Kind]
	p, err := newPDF(info.title + " " + d.Number)
	if err != nil {
		return err
	}
	c := &caseFlow{p: p, d: &d, info: info, x: caseMarginX, cw: caseW - 2*caseMarginX}
	c.newPage()
	c.head()
	c.parties()
	switch d.Kind {
	case CaseFiling:
		c.filing()
	case CaseRectify:
		c.rectify()
	case CasePenalty:
		c.penalty()
	}
	c.footers(q)
	return p.finish(w)
}

// caseFlow sets a case document from top to bottom, starting new pages as
// the body needs them.
type caseFlow struct {
	p     *pdf
	d     *CaseDoc
	info  caseKindInfo
	x, cw float64
	y     float64
}

func (c *caseFlow) docNumber() string { return c.d.Number + "-" + c.info.suffix }

// newPage starts a page; continuation pages get a running head. The font
// size is kept and the text colour reset to black.
func (c *caseFlow) newPage() {
	p := c.p
	pt := p.pt
	p.page(caseW, caseH)
	c.y = 20
	if p.gp.GetNumberOfPages() > 1 {
		p.font(8)
		p.textColor(grey)
		p.text(c.x, 12, p.truncate(c.info.title+" "+c.d.Number+"（续）", c.cw/2))
		p.textIn(c.x+c.cw/2, 12, c.cw/2, p.truncate(c.d.Agency, c.cw/2), alignRight)
		p.line(c.x, 16, c.x+c.cw, 16, 0.1, rule)
	}
	p.font(pt)
	p.textColor(black)
}

// ensure starts a new page unless h millimetres fit above the footer.
func (c *caseFlow) ensure(h float64) bool {
	if c.y+h <= caseBottom {
		return false
	}
	c.newPage()
	return true
}

// head draws the agency, the title and the number line of page 1.
func (c *caseFlow) head() {
	p, x, cw := c.p, c.x, c.cw
	p.textColor(titleRed)
	ag := p.fitLine(cw, 14, 10, c.d.Agency)
	p.textIn(x, 14, cw, ag, alignCenter)
	p.font(20)
	p.textColor(black)
	p.gp.SetCharSpacing(2)
	p.textIn(x, 23, cw, c.info.title, alignCenter)
	p.gp.SetCharSpacing(0)
	p.font(8.5)
	p.textColor(grey)
	p.textIn(x, 32.5, cw, c.info.english, alignCenter)
	p.textColor(ink)
	no := p.fitLine(cw, 9, 7, "案件编号 Case No. "+c.d.Number+"　　文书编号 Doc No. "+c.docNumber())
	p.textIn(x, 38.5, cw, no, alignCenter)
	p.line(x, 44, x+cw, 44, 0.6, titleRed)
	p.line(x, 44.9, x+cw, 44.9, 0.2, titleRed)
	c.y = 48
	p.textColor(black)
}

// heading draws a section heading, keeping keep millimetres of what follows
// on the same page.
func (c *caseFlow) heading(zh, en string, keep float64) {
	p := c.p
	p.font(11)
	em := p.em()
	c.ensure(2 + em + 4 + keep)
	c.y += 2
	p.textColor(green)
	p.rect(c.x, c.y+0.5, 1.2, em*0.95, green)
	p.text(c.x+3, c.y, zh)
	base := c.y + ascent*em
	ex := c.x + 3 + p.width(zh) + 2
	p.font(8)
	p.textColor(grey)
	p.text(ex, base-ascent*p.em(), en)
	c.y += em + 1.5
	p.line(c.x, c.y, c.x+c.cw, c.y, 0.3, green)
	c.y += 2.5
	p.font(caseBodyPt)
	p.textColor(black)
}

// bodyLine is the line height of body text.
func (c *caseFlow) bodyLine() float64 {
	c.p.font(caseBodyPt)
	return c.p.em() * caseLead
}

// para sets text (newlines start paragraphs), the first line of each
// paragraph indented by two characters when indent is set.
func (c *caseFlow) para(s string, indent bool) {
	p := c.p
	lh := c.bodyLine()
	p.textColor(black)
	in := 0.0
	if indent {
		in = 2 * p.width("中")
	}
	for _, para := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		para = strings.Trim(para, " \t　")
		if para == "" {
			continue
		}
		for i, ln := range p.wrapPara(para, c.cw-in, c.cw) {
			c.ensure(lh)
			lx := c.x
			if i == 0 {
				lx += in
			}
			p.text(lx, c.y+(lh-p.em())/2, ln)
			c.y += lh
		}
		c.y += lh * 0.25
	}
}

// list sets numbered items with a hanging indent.
func (c *caseFlow) list(items []string) {
	p := c.p
	lh := c.bodyLine()
	in := 2 * p.width("中")
	hang := p.width("00．") + 0.5
	tw := c.cw - in - hang
	for i, it := range items {
		for j, ln := range p.wrapPara(strings.TrimSpace(it), tw, tw) {
			c.ensure(lh)
			top := c.y + (lh-p.em())/2
			if j == 0 {
				p.textIn(c.x+in, top, hang-0.5, strconv.Itoa(i+1)+"．", alignRight)
			}
			p.text(c.x+in+hang, top, ln)
			c.y += lh
		}
	}
	c.y += lh * 0.25
}

var caseForm = formStyle{labelW: 38, labelPt: 9.5, valuePt: 10.5, minPt: 8, vpad: 1.1, boxed: true, labelCol: ink}

// table draws labelled rows, kept together on one page.
func (c *caseFlow) table(fs []field) {
	_, h := c.p.layoutFields(c.cw, caseForm, fs)
	c.ensure(h)
	c.y = c.p.fields(c.x, c.y, c.cw, caseForm, fs) + 2
}

var caseOrdinals = []string{"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}

// parties draws one table per party.
func (c *caseFlow) parties() {
	ps := c.d.Parties
	for i, pa := range ps {
		fs := []field{
			{label: "名称（姓名）", value: pa.Name, maxLines: 3},
			{label: "主体身份码", value: GroupDigits(pa.Code)},
		}
		if pa.CreditCode != "" {
			fs = append(fs, field{label: "统一社会信用代码", value: pa.CreditCode})
		}
		if pa.Address != "" {
			fs = append(fs, field{label: "住所（地址）", value: pa.Address, maxLines: 3})
		}
		if pa.LegalRep != "" {
			fs = append(fs, field{label: "法定代表人（负责人）", value: pa.LegalRep, maxLines: 2})
		}
		_, h := c.p.layoutFields(c.cw, caseForm, fs)
		zh := "当事人"
		if len(ps) > 1 {
			n := strconv.Itoa(i + 1)
			if i < len(caseOrdinals) {
				n = caseOrdinals[i]
			}
			zh += "（" + n + "）"
		}
		c.heading(zh, "Party", h)
		c.table(fs)
	}
}

// partyNames joins the parties' names for a salutation.
func (c *caseFlow) partyNames() string {
	names := make([]string, len(c.d.Parties))
	for i, pa := range c.d.Parties {
		names[i] = strings.TrimSpace(pa.Name)
	}
	return strings.Join(names, "、")
}

// caseSentence ends s with a full stop.
func caseSentence(s string) string {
	return strings.TrimRight(strings.TrimSpace(s), "。；;.，, ") + "。"
}

// facts prefixes the summary with lead unless it already opens with "经查".
func (c *caseFlow) facts(lead string) string {
	s := strings.TrimSpace(c.d.Summary)
	if strings.HasPrefix(s, "经查") {
		return s
	}
	return lead + s
}

// filing sets the body of the case filing approval form.
func (c *caseFlow) filing() {
	d := c.d
	fs := []field{
		{label: "案件来源", value: d.Source, maxLines: 4},
		{label: "涉嫌违法行为", value: d.Violation, maxLines: 4},
		{label: "立案人", value: d.FiledBy, maxLines: 2},
		{label: "立案日期", value: caseDateCN(d.FiledOn)},
	}
	if d.Officer != "" {
		fs = append(fs, field{label: "承办人", value: d.Officer, maxLines: 2})
	}
	_, h := c.p.layoutFields(c.cw, caseForm, fs)
	c.heading("案件情况", "Case", h)
	c.table(fs)
	c.heading("案情摘要", "Summary of facts", 2*c.bodyLine())
	c.para(d.Summary, true)
	c.heading("证据材料", "Evidence", c.bodyLine())
	if len(d.Evidence) == 0 {
		c.para("（无）", true)
	} else {
		c.list(d.Evidence)
	}
	c.approvals()
	c.steps()
}

// approvals draws the two approval boxes (承办人意见, 负责人审批), each with
// signature and date lines.
func (c *caseFlow) approvals() {
	p := c.p
	const boxH, gap, pad = 40.0, 4.0, 2.5
	c.heading("审批意见", "Approval", boxH)
	bw := (c.cw - gap) / 2
	boxes := []struct{ zh, en, name string }{
		{"承办人意见", "Case officer's opinion", c.d.Officer},
		{"负责人审批", "Approval by the head of the agency", ""},
	}
	for i, b := range boxes {
		bx := c.x + float64(i)*(bw+gap)
		p.frame(bx, c.y, bw, boxH, 0.3, ink)
		p.font(10)
		p.textColor(black)
		p.text(bx+pad, c.y+pad, b.zh)
		p.font(7)
		p.textColor(grey)
		p.text(bx+pad, c.y+pad+5, p.truncate(b.en, bw-2*pad))
		p.font(9)
		p.textColor(ink)
		if b.name != "" {
			p.text(bx+pad, c.y+pad+10, p.truncate("承办人："+b.name, bw-2*pad))
		}
		sy := c.y + boxH - 12
		lab := "签名："
		p.text(bx+pad, sy, lab)
		base := sy + ascent*p.em() + 0.6
		p.line(bx+pad+p.width(lab), base, bx+bw-pad, base, 0.2, ink)
		p.text(bx+pad, sy+5.5, "日期：　　　　年　　月　　日")
	}
	c.y += boxH + 3
	p.textColor(black)
}

// caseStepCols are the columns of the history table; the last takes the rest.
var caseStepCols = []struct {
	head string
	w    float64
}{{"日期 Date", 24}, {"环节 Step", 42}, {"经办人 Actor", 30}, {"备注 Note", 0}}

// steps draws the history table, repeating its header on a new page.
func (c *caseFlow) steps() {
	p := c.p
	p.font(9)
	lh := p.em() * 1.4
	const pad = 1.2
	widths := make([]float64, len(caseStepCols))
	head := make([]string, len(caseStepCols))
	rest := c.cw
	for i, col := range caseStepCols {
		widths[i], head[i] = col.w, col.head
		rest -= col.w
	}
	widths[len(widths)-1] = rest
	rows := [][]string{}
	for _, s := range c.d.Steps {
		rows = append(rows, []string{s.On, s.Step, s.Actor, s.Note})
	}
	if len(rows) == 0 {
		rows = append(rows, []string{"", "（无记录）", "", ""})
	}
	layout := func(cells []string) ([][]string, float64) {
		p.font(9)
		out := make([][]string, len(cells))
		n := 1
		for i, s := range cells {
			out[i] = p.wrap(s, widths[i]-2*pad)
			n = max(n, len(out[i]))
		}
		return out, float64(n)*lh + 2*pad - (lh - p.em())
	}
	hl, hh := layout(head)
	first, fh := layout(rows[0])
	c.heading("办案记录", "Case history", hh+fh)
	c.stepRow(widths, hl, hh, lh, pad, true)
	for i, r := range rows {
		cells, h := first, fh
		if i > 0 {
			cells, h = layout(r)
		}
		if c.ensure(h) {
			c.stepRow(widths, hl, hh, lh, pad, true)
		}
		c.stepRow(widths, cells, h, lh, pad, false)
	}
	c.y += 2
}

// stepRow draws one row of the history table at c.y and moves below it.
func (c *caseFlow) stepRow(widths []float64, cells [][]string, h, lh, pad float64, header bool) {
	p := c.p
	if header {
		p.rect(c.x, c.y, c.cw, h, paleGrn)
	}
	p.font(9)
	p.textColor(black)
	cx := c.x
	for i, lines := range cells {
		for j, ln := range lines {
			p.text(cx+pad, c.y+pad+float64(j)*lh, ln)
		}
		p.frame(cx, c.y, widths[i], h, 0.15, grey)
		cx += widths[i]
	}
	c.y += h
}

// rectify sets the body of the rectification order.
func (c *caseFlow) rectify() {
	d := c.d
	c.y += 2
	c.para(c.partyNames()+"：", false)
	c.para(c.facts("经查，你单位"), true)
	c.para("你单位的上述行为涉嫌"+caseSentence(d.Violation), true)
	if len(d.Evidence) > 0 {
		c.para("以上事实有下列证据证明：", true)
		c.list(d.Evidence)
	}
	order := fmt.Sprintf("依据《中华人民共和国农产品质量安全法》的有关规定，本机关责令你单位自收到本通知书之日起 %d 个工作日内，即于 %s 前改正上述违法行为",
		d.RectifyDays, caseDateCN(d.RectifyDue))
	if strings.TrimSpace(d.Decision) != "" {
		order += "，整改要求：" + strings.TrimSpace(d.Decision)
	}
	c.para(caseSentence(order), true)
	c.para(caseRectifyNotice, true)
	c.para(caseRectifyFollowUp, true)
	c.seal(d.DecidedOn, true)
}

// penalty sets the body of the administrative penalty decision.
func (c *caseFlow) penalty() {
	d := c.d
	c.heading("违法事实", "Facts", 2*c.bodyLine())
	c.para(c.facts("经查明，"), true)
	c.para("当事人的上述行为构成"+caseSentence(d.Violation), true)
	c.heading("证据", "Evidence", 2*c.bodyLine())
	if len(d.Evidence) == 0 {
		c.para("（无）", true)
	} else {
		c.para("上述事实有以下证据证明：", true)
		c.list(d.Evidence)
	}
	c.heading("处罚依据及决定", "Legal basis and decision", 2*c.bodyLine())
	c.para("依据"+strings.TrimSpace(d.LegalBasis)+"的规定，本机关决定对当事人作出如下行政处罚：", true)
	if strings.TrimSpace(d.Decision) != "" {
		c.para(caseSentence(d.Decision), true)
	}
	c.table([]field{
		{label: "法律依据", value: d.LegalBasis, maxLines: 4},
		{label: "罚款金额（小写）", value: "人民币 " + d.PenaltyYuan + " 元"},
		{label: "罚款金额（大写）", value: "人民币" + yuanUpper(d.PenaltyYuan)},
		{label: "决定日期", value: caseDateCN(d.DecidedOn)},
	})
	c.heading("履行方式和救济途径", "Payment and remedies", 2*c.bodyLine())
	c.para(casePayment, true)
	c.para(caseRemedies, true)
	c.seal(d.DecidedOn, false)
}

// seal draws the agency's name and the date on the right, under a dashed
// circle marking where the seal goes, and on the left the enforcement
// officers and, with receipt, the line on which the party acknowledges
// receipt.
func (c *caseFlow) seal(date string, receipt bool) {
	p := c.p
	const r, bw = 17.0, 74.0
	c.ensure(2*r + 6)
	top := c.y + 3
	bx := c.x + c.cw - bw
	cx, cy := bx+bw/2, top+r
	p.strokeColor(light)
	p.gp.SetLineWidth(0.3)
	p.gp.SetCustomLineType([]float64{1.2, 1.2}, 0)
	p.gp.Oval(cx-r, cy-r, cx+r, cy+r)
	p.gp.SetLineType("solid")
	p.font(8)
	p.textColor(light)
	p.textIn(bx, cy-r*0.62, bw, "（印章）", alignCenter)
	p.textColor(black)
	ag := p.fitLine(bw, 11, 8, c.d.Agency)
	p.textIn(bx, cy-p.em()/2, bw, ag, alignCenter)
	dy := cy + p.em()
	p.font(11)
	p.textIn(bx, dy, bw, caseDateCN(date), alignCenter)

	lw := bx - c.x - 4
	p.font(9.5)
	p.textColor(ink)
	if c.d.Officer != "" {
		p.text(c.x, top+2, p.truncate("执法人员 Officer："+c.d.Officer, lw))
	}
	if receipt {
		lab := "当事人签收 Received by："
		sy := top + 2*r - 12
		p.text(c.x, sy, lab)
		base := sy + ascent*p.em() + 0.6
		p.line(c.x+p.width(lab), base, c.x+lw, base, 0.2, ink)
		p.text(c.x, sy+6.5, "日期：　　　　年　　月　　日")
	}
	p.textColor(black)
	c.y = top + 2*r + 3
}

// fingerprint is what the footer prints of the signature.
func (c *caseFlow) fingerprint() string {
	s := c.d.Signature
	if s == "" {
		return "未签名 Not signed"
	}
	if len(s) > caseFPLen {
		s = s[:caseFPLen]
	}
	return s
}

// footers writes every page's footer, now that the page count is known.
func (c *caseFlow) footers(q *goqr.QrCode) {
	verifyFooters(c.p, c.x, c.cw, q, "本文书", c.d.VerifyURL, c.fingerprint(), c.info.title+" "+c.docNumber())
}

// verifyFooters writes the footer every signed document shares, on every
// page: the QR code of verifyURL at the bottom right, the URL and the
// signature fingerprint beside it, the document's name at the bottom left
// and the page number ("第 1 页 / 共 N 页"). what names the document in
// the invitation to verify it (本文书, 本报告).
func verifyFooters(p *pdf, x, cw float64, q *goqr.QrCode, what, verifyURL, fingerprint, name string) {
	n := p.gp.GetNumberOfPages()
	qx := x + cw - caseQRSide + 2.5 // the quiet zone may reach into the margin
	qy := caseH - 14 - caseQRSide
	tw := qx - x - 3
	for i := 1; i <= n; i++ {
		p.setErr(p.gp.SetPage(i))
		p.line(x, caseFootTop, x+cw, caseFootTop, 0.1, rule)
		p.qr(qx, qy, caseQRSide, q)
		y := qy + 2.5
		p.font(7.5)
		p.textColor(grey)
		p.text(x, y, "扫描右侧二维码或访问以下地址核验"+what+" Scan or visit to verify:")
		y += p.em() * 1.5
		p.textColor(ink)
		for _, ln := range p.fitBlock(verifyURL, tw, 3, 7.5, 6) {
			p.text(x, y, ln)
			y += p.em() * 1.35
		}
		p.font(7.5)
		y += 0.8
		p.textColor(grey)
		lab := "签名指纹 Signature fingerprint："
		p.text(x, y, lab)
		p.textColor(ink)
		p.text(x+p.width(lab), y, fingerprint)
		p.font(8)
		p.textColor(light)
		p.text(x, caseH-11, p.truncate(name, cw/2-18))
		p.textIn(x, caseH-11, cw, fmt.Sprintf("第 %d 页 / 共 %d 页", i, n), alignCenter)
	}
}

// yuanUpper writes a validated amount ("5,000.00") in capital Chinese
// numerals as used on financial documents ("伍仟元整").
func yuanUpper(amount string) string {
	digits := []rune("零壹贰叁肆伍陆柒捌玖")
	units := []string{"", "拾", "佰", "仟"}
	groups := []string{"", "万", "亿", "万亿"}
	whole, frac, _ := strings.Cut(strings.ReplaceAll(amount, ",", ""), ".")
	whole = strings.TrimLeft(whole, "0")
	var b strings.Builder
	zero := false
	for i, r := range whole {
		pos := len(whole) - 1 - i
		if r == '0' {
			zero = true
		} else {
			if zero {
				b.WriteRune('零')
			}
			zero = false
			b.WriteRune(digits[r-'0'])
			b.WriteString(units[pos%4])
		}
		if pos%4 == 0 && pos/4 < len(groups) && strings.Trim(whole[max(0, i-3):i+1], "0") != "" {
			b.WriteString(groups[pos/4])
		}
	}
	jiao, fen := 0, 0
	if len(frac) == 2 {
		jiao, fen = int(frac[0]-'0'), int(frac[1]-'0')
	}
	if whole != "" {
		b.WriteString("元")
	}
	switch {
	case whole == "" && jiao == 0 && fen == 0:
		return "零元整"
	case jiao > 0:
		b.WriteRune(digits[jiao])
		b.WriteString("角")
	case fen > 0 && whole != "":
		b.WriteRune('零')
	}
	if fen > 0 {
		b.WriteRune(digits[fen])
		b.WriteString("分")
	} else {
		b.WriteString("整")
	}
	return b.String()
}
