package printing

import (
	"fmt"
	"io"
)

// ReportItem is one tested substance of a sampling test report.
type ReportItem struct {
	Substance string // in words, e.g. "克仑特罗 clenbuterol"
	Value     string // as measured with unit, e.g. "2.3 μg/kg"; "阳性"/"阴性" for quick tests
	LOD       string // detection limit with unit, or ""
	Limit     string // e.g. "≤ 1 mg/kg", "不得检出", "≥ 2.8 g/100g", or "" (no limit)
	Standard  string // e.g. "GB 2763-2026" or ""
	Verdict   string // in words: "合格", "不合格", "不判定（无限量）", "阳性"…
	Failed    bool   // print the row emphasised (bold or red)
}

// SampleReport is a sampling test report (检测报告).
type SampleReport struct {
	SampleNo     string       // e.g. "GZ-2026-0088"
	Kind         string       // in words: "实验室检测" or "快速检测"
	Agency       string       // testing agency
	OperatorName string       // the sampled operator
	OperatorCode string       // 18-digit operator code (print grouped like other documents)
	BatchCode    string       // 20-digit trace code
	Product      string       // e.g. "生猪"
	SampledAt    string       // YYYY-MM-DD
	Place        string       // where the sample was taken
	Method       string       // method standard, may be ""
	Tester       string       // who tested
	Verdict      string       // overall, in words, e.g. "不合格"
	Failed       bool         // print the verdict (and the recall line) emphasised
	Recall       string       // e.g. "已启动召回 ZH-2026-00001，暂扣 7 个批次" or ""
	Items        []ReportItem // at least one; long lists continue on further pages
	Basis        string       // one paragraph: how it was judged (the edition in force on the sampling date, GB/T 8170 全数值比较法, no default limit)
	VerifyURL    string       // QR + text
	Signature    string       // base64 SM2; print the first 16 chars as 签名指纹 like casedocs
}

const (
	reportTitle   = "农产品质量安全检测报告"
	reportEnglish = "Test report"
	reportNone    = "—" // printed for an empty detection limit, limit or standard
)

// paleRed shades the rows of failed items. Red itself (titleRed) is kept
// for what failed, so that a passing report prints no red at all.
var paleRed = rgb{0xfd, 0xec, 0xea}

func (r *SampleReport) validate() error {
	v := validator{fn: "SampleReportPDF"}
	v.required("SampleNo", r.SampleNo)
	v.required("Kind", r.Kind)
	v.required("Agency", r.Agency)
	v.required("OperatorName", r.OperatorName)
	v.operatorCode("OperatorCode", r.OperatorCode)
	v.traceCode("BatchCode", r.BatchCode, "123")
	v.required("Product", r.Product)
	v.caseDate("SampledAt", r.SampledAt)
	v.required("Place", r.Place)
	v.required("Tester", r.Tester)
	v.required("Verdict", r.Verdict)
	if len(r.Items) == 0 {
		v.fail("Items", "needs at least one item")
	}
	for i, it := range r.Items {
		f := fmt.Sprintf("Items[%d].", i)
		v.required(f+"Substance", it.Substance)
		v.required(f+"Value", it.Value)
		v.required(f+"Verdict", it.Verdict)
	}
	v.required("Basis", r.Basis)
	v.verification(r.VerifyURL, r.Signature)
	return v.err
}

// SampleReportPDF writes a sampling test report (农产品质量安全检测报告) on
// A4 portrait pages: the title and sample number, the sampling facts, the
// table of tested items (continued on further pages, its header repeated,
// when the list is long; failed items in red), the overall verdict in large
// type (red when failed), the recall line when there is one, the basis of
// the judgement, and on every page a footer with the QR code of VerifyURL,
// the URL, the signature fingerprint and the page number. Missing or
// malformed data gives an error naming the field, and nothing is written.
func SampleReportPDF(w io.Writer, r SampleReport) error {
	if err := r.validate(); err != nil {
		return err
	}
	q, err := encodeQR(r.VerifyURL)
	if err != nil {
		return err
	}
	p, err := newPDF(reportTitle + " " + r.SampleNo)
	if err != nil {
		return err
	}
	// The report flows like a case document: the running head of
	// continuation pages, section headings, paragraphs, labelled tables and
	// the signature fingerprint come from caseFlow, which reads only the
	// number, agency, URL and signature of its document.
	f := &reportFlow{
		caseFlow: caseFlow{
			p:    p,
			d:    &CaseDoc{Number: r.SampleNo, Agency: r.Agency, VerifyURL: r.VerifyURL, Signature: r.Signature},
			info: caseKindInfo{title: reportTitle, english: reportEnglish},
			x:    caseMarginX,
			cw:   caseW - 2*caseMarginX,
		},
		r: &r,
	}
	f.newPage()
	f.head()
	f.particulars()
	f.items()
	f.conclusion()
	f.heading("判定依据", "Basis of judgement", 2*f.bodyLine())
	f.para(r.Basis, true)
	verifyFooters(f.p, f.x, f.cw, q, "本报告", f.r.VerifyURL, f.fingerprint(), reportTitle+" "+f.r.SampleNo)
	return p.finish(w)
}

// reportFlow sets a test report from top to bottom.
type reportFlow struct {
	caseFlow
	r *SampleReport
}

// head draws the agency, the title and the sample number of page 1.
func (f *reportFlow) head() {
	p, x, cw := f.p, f.x, f.cw
	p.textColor(green)
	ag := p.fitLine(cw, 14, 10, f.r.Agency)
	p.textIn(x, 14, cw, ag, alignCenter)
	p.font(20)
	p.textColor(black)
	p.gp.SetCharSpacing(2)
	p.textIn(x, 23, cw, reportTitle, alignCenter)
	p.gp.SetCharSpacing(0)
	p.font(8.5)
	p.textColor(grey)
	p.textIn(x, 32.5, cw, reportEnglish, alignCenter)
	p.textColor(ink)
	no := p.fitLine(cw, 9, 7, "样品编号 Sample No. "+f.r.SampleNo)
	p.textIn(x, 38.5, cw, no, alignCenter)
	p.line(x, 44, x+cw, 44, 0.6, green)
	p.line(x, 44.9, x+cw, 44.9, 0.2, green)
	f.y = 48
	p.textColor(black)
}

// particulars draws the facts of the sampling.
func (f *reportFlow) particulars() {
	r := f.r
	fs := []field{
		{label: "受检主体", value: r.OperatorName, maxLines: 2},
		{label: "主体身份码", value: GroupDigits(r.OperatorCode)},
		{label: "批次追溯码", value: GroupDigits(r.BatchCode)},
		{label: "产品名称", value: r.Product, maxLines: 2},
		{label: "抽样日期", value: caseDateCN(r.SampledAt)},
		{label: "抽样地点", value: r.Place, maxLines: 2},
		{label: "检测机构", value: r.Agency, maxLines: 2},
	}
	if r.Method != "" {
		fs = append(fs, field{label: "检测方法", value: r.Method, maxLines: 2})
	}
	fs = append(fs,
		field{label: "检验人员", value: r.Tester, maxLines: 2},
		field{label: "检测类型", value: r.Kind})
	_, h := f.p.layoutFields(f.cw, caseForm, fs)
	f.heading("抽样信息", "Sample", h)
	f.table(fs)
}

// reportCols are the columns of the items table; the last takes the rest.
var reportCols = []struct {
	head string
	w    float64
}{{"检测项目 Substance", 42}, {"检测值 Result", 22}, {"检出限 LOD", 22}, {"限量 Limit", 24}, {"依据标准 Standard", 28}, {"单项判定 Verdict", 0}}

// reportTable is the geometry of the items table.
type reportTable struct {
	widths  []float64
	lh, pad float64
}

// layout wraps the cells of one row and returns them with the row height.
func (f *reportFlow) layout(t *reportTable, cells []string) ([][]string, float64) {
	p := f.p
	p.font(9)
	out := make([][]string, len(cells))
	n := 1
	for i, s := range cells {
		out[i] = p.wrap(s, t.widths[i]-2*t.pad)
		n = max(n, len(out[i]))
	}
	return out, float64(n)*t.lh + 2*t.pad - (t.lh - p.em())
}

// orNone stands in for an empty cell.
func orNone(s string) string {
	if s == "" {
		return reportNone
	}
	return s
}

// items draws the table of tested items, repeating its header on a new
// page.
func (f *reportFlow) items() {
	p := f.p
	p.font(9)
	t := &reportTable{widths: make([]float64, len(reportCols)), lh: p.em() * 1.4, pad: 1.2}
	head := make([]string, len(reportCols))
	rest := f.cw
	for i, col := range reportCols {
		t.widths[i], head[i] = col.w, col.head
		rest -= col.w
	}
	t.widths[len(t.widths)-1] = rest
	hl, hh := f.layout(t, head)
	for i, it := range f.r.Items {
		cells, h := f.layout(t, []string{it.Substance, it.Value, orNone(it.LOD), orNone(it.Limit), orNone(it.Standard), it.Verdict})
		if i == 0 {
			f.heading("检测结果", "Results", hh+h)
			f.itemRow(t, hl, hh, paleGrn, black)
		} else if f.ensure(h) {
			f.itemRow(t, hl, hh, paleGrn, black)
		}
		bg, fg := white, black
		if it.Failed {
			bg, fg = paleRed, titleRed
		}
		f.itemRow(t, cells, h, bg, fg)
	}
	f.y += 2
}

// itemRow draws one row of the items table at f.y and moves below it.
func (f *reportFlow) itemRow(t *reportTable, cells [][]string, h float64, bg, fg rgb) {
	p := f.p
	if bg != white {
		p.rect(f.x, f.y, f.cw, h, bg)
	}
	p.font(9)
	p.textColor(fg)
	cx := f.x
	for i, lines := range cells {
		for j, ln := range lines {
			p.text(cx+t.pad, f.y+t.pad+float64(j)*t.lh, ln)
		}
		p.frame(cx, f.y, t.widths[i], h, 0.15, grey)
		cx += t.widths[i]
	}
	p.textColor(black)
	f.y += h
}

// conclusion draws the overall verdict in large type inside a box, red when
// the report failed, and the recall line under it when there is one.
func (f *reportFlow) conclusion() {
	p, r := f.p, f.r
	const boxH, pad = 18.0, 3.0
	f.heading("检测结论", "Conclusion", boxH+2*f.bodyLine())
	col := green
	if r.Failed {
		col = titleRed
	}
	p.frame(f.x, f.y, f.cw, boxH, 0.6, col)
	p.font(9.5)
	p.textColor(ink)
	lab := "综合判定 Overall verdict"
	p.text(f.x+pad, f.y+(boxH-p.em())/2, lab)
	vx := f.x + pad + p.width(lab) + 6
	p.textColor(col)
	v := p.fitLine(f.x+f.cw-pad-vx, 22, 12, r.Verdict)
	p.textIn(vx, f.y+(boxH-p.em())/2, f.x+f.cw-pad-vx, v, alignCenter)
	f.y += boxH + 2.5
	if r.Recall != "" {
		lh := f.bodyLine()
		if !r.Failed {
			col = ink
		}
		for _, ln := range p.wrapPara("召回处置："+r.Recall, f.cw, f.cw) {
			f.ensure(lh)
			p.textColor(col)
			p.text(f.x, f.y+(lh-p.em())/2, ln)
			f.y += lh
		}
		f.y += lh * 0.25
	}
	p.textColor(black)
}
