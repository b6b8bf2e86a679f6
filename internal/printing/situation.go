package printing

import (
	"io"
)

// SituationBatch is one affected batch of an incident, in words.
type SituationBatch struct {
	Code     string // 20-digit trace code (printed grouped)
	Product  string // e.g. "生猪"
	Holder   string // who holds the goods
	Region   string // where, e.g. "广东省茂名市高州市"
	Quantity string // e.g. "120 kg / 现存 80 kg"
	State    string // in words, e.g. "已销毁"
	Open     bool   // not resolved yet: the row is emphasised
}

// SituationTask is one task of an incident, in words.
type SituationTask struct {
	Kind     string // e.g. "查封"
	Assignee string // name and region
	Due      string // e.g. "2026-03-06 18:00"
	Status   string // in words, e.g. "已完成"
	Text     string // the batch, instructions and report, one paragraph
	Overdue  bool   // still open after its due time: emphasised
}

// SituationEvent is one line of an incident's timeline, in words.
type SituationEvent struct {
	At     string // e.g. "2026-03-05 10:20"
	Actor  string
	Action string // what happened, in words
}

// SituationReport is an incident's situation report (应急处置态势报告).
type SituationReport struct {
	Number      string // e.g. "YJ-2026-00001"
	Title       string
	Agency      string // who commands it, e.g. "广东省茂名市高州市农产品质量安全应急指挥"
	Source      string // in words, e.g. "抽检不合格召回 ZH-2026-00001"
	Region      string // the declaring jurisdiction's full name
	Product     string // may be ""
	Status      string // in words, e.g. "处置中"
	DeclaredBy  string
	DeclaredAt  string // e.g. "2026-03-05 10:20"
	AsOf        string // when the report was made
	Progress    string // one line, e.g. "受影响批次 7 个，已处置 3 个；任务 5 项，未完成 2 项"
	Description string // may be ""
	Batches     []SituationBatch
	Tasks       []SituationTask
	Events      []SituationEvent
	VerifyURL   string // QR + text: the incident's page
	Signature   string // base64 SM2 of the report's facts; "" prints 未签名
}

const (
	situationTitle   = "农产品质量安全事件态势报告"
	situationEnglish = "Incident situation report"
	situationPt      = 8.5 // the tables' type size
)

func (r *SituationReport) validate() error {
	v := validator{fn: "SituationReportPDF"}
	v.required("Number", r.Number)
	v.required("Title", r.Title)
	v.required("Agency", r.Agency)
	v.required("Source", r.Source)
	v.required("Region", r.Region)
	v.required("Status", r.Status)
	v.required("DeclaredAt", r.DeclaredAt)
	v.required("AsOf", r.AsOf)
	for _, b := range r.Batches {
		v.traceCode("Batches.Code", b.Code, "123")
	}
	v.verification(r.VerifyURL, r.Signature)
	return v.err
}

// SituationReportPDF writes an incident's situation report on A4 portrait
// pages: the title and number, the incident's facts and progress, its
// description, the affected batches (holder, region, quantity, state; the
// unresolved ones shaded), the tasks (overdue ones in red), the timeline,
// and on every page the footer with the QR code of VerifyURL, the
// signature fingerprint and the page number. Tables continue on further
// pages with their header repeated. Missing data gives an error naming the
// field, and nothing is written.
func SituationReportPDF(w io.Writer, r SituationReport) error {
	if err := r.validate(); err != nil {
		return err
	}
	q, err := encodeQR(r.VerifyURL)
	if err != nil {
		return err
	}
	p, err := newPDF(situationTitle + " " + r.Number)
	if err != nil {
		return err
	}
	f := &situationFlow{
		caseFlow: caseFlow{p: p, d: &CaseDoc{Number: r.Number, Agency: r.Agency, VerifyURL: r.VerifyURL, Signature: r.Signature},
			info: caseKindInfo{title: situationTitle, english: situationEnglish}, x: caseMarginX, cw: caseW - 2*caseMarginX},
		r: &r,
	}
	f.newPage()
	f.head()
	f.particulars()
	if r.Description != "" {
		f.heading("事件情况", "What happened", 2*f.bodyLine())
		f.para(r.Description, true)
	}
	f.batches()
	f.tasks()
	f.events()
	verifyFooters(f.p, f.x, f.cw, q, "本报告", r.VerifyURL, f.fingerprint(), situationTitle+" "+r.Number)
	return p.finish(w)
}

// situationFlow sets a situation report from top to bottom.
type situationFlow struct {
	caseFlow
	r *SituationReport
}

// head draws the agency, the title, the number and the time of page 1.
func (f *situationFlow) head() {
	p, x, cw := f.p, f.x, f.cw
	p.textColor(titleRed)
	p.textIn(x, 14, cw, p.fitLine(cw, 14, 10, f.r.Agency), alignCenter)
	p.font(20)
	p.textColor(black)
	p.gp.SetCharSpacing(2)
	p.textIn(x, 23, cw, situationTitle, alignCenter)
	p.gp.SetCharSpacing(0)
	p.font(8.5)
	p.textColor(grey)
	p.textIn(x, 32.5, cw, situationEnglish, alignCenter)
	p.textColor(ink)
	no := p.fitLine(cw, 9, 7, "事件编号 Incident No. "+f.r.Number+"　　截至 As of "+f.r.AsOf)
	p.textIn(x, 38.5, cw, no, alignCenter)
	p.line(x, 44, x+cw, 44, 0.6, titleRed)
	p.line(x, 44.9, x+cw, 44.9, 0.2, titleRed)
	f.y = 48
	p.textColor(black)
}

// particulars draws the incident's facts.
func (f *situationFlow) particulars() {
	r := f.r
	fs := []field{
		{label: "事件名称", value: r.Title, maxLines: 2},
		{label: "事件来源", value: r.Source, maxLines: 2},
		{label: "所属地区", value: r.Region, maxLines: 2},
	}
	if r.Product != "" {
		fs = append(fs, field{label: "涉及产品", value: r.Product})
	}
	fs = append(fs,
		field{label: "启动", value: r.DeclaredAt + "　" + r.DeclaredBy, maxLines: 2},
		field{label: "处置状态", value: r.Status},
		field{label: "处置进度", value: r.Progress, maxLines: 3})
	_, h := f.p.layoutFields(f.cw, caseForm, fs)
	f.heading("事件概况", "Incident", h)
	f.table(fs)
}

// sitCol is a column of a report table; a width of 0 takes what is left.
type sitCol struct {
	head string
	w    float64
}

// grid draws a titled table with its header repeated on every page it
// spans; emphasised rows are shaded red.
func (f *situationFlow) grid(zh, en string, cols []sitCol, rows [][]string, emph []bool, none string) {
	p := f.p
	p.font(situationPt)
	lh, pad := p.em()*1.4, 1.2
	widths := make([]float64, len(cols))
	head := make([]string, len(cols))
	rest := f.cw
	for i, c := range cols {
		widths[i], head[i] = c.w, c.head
		rest -= c.w
	}
	for i := range widths {
		if widths[i] == 0 {
			widths[i] = rest
		}
	}
	layout := func(cells []string) ([][]string, float64) {
		p.font(situationPt)
		out := make([][]string, len(cells))
		n := 1
		for i, s := range cells {
			out[i] = p.wrap(s, widths[i]-2*pad)
			n = max(n, len(out[i]))
		}
		return out, float64(n)*lh + 2*pad - (lh - p.em())
	}
	hl, hh := layout(head)
	if len(rows) == 0 {
		f.heading(zh, en, f.bodyLine())
		f.para(none, false)
		return
	}
	for i, row := range rows {
		cells, h := layout(row)
		if i == 0 {
			f.heading(zh, en, hh+h)
			f.gridRow(widths, hl, hh, pad, lh, paleGrn, black)
		} else if f.ensure(h) {
			f.gridRow(widths, hl, hh, pad, lh, paleGrn, black)
		}
		bg, fg := white, black
		if emph[i] {
			bg, fg = paleRed, titleRed
		}
		f.gridRow(widths, cells, h, pad, lh, bg, fg)
	}
	f.y += 2
}

// gridRow draws one table row at f.y and moves below it.
func (f *situationFlow) gridRow(widths []float64, cells [][]string, h, pad, lh float64, bg, fg rgb) {
	p := f.p
	if bg != white {
		p.rect(f.x, f.y, f.cw, h, bg)
	}
	p.font(situationPt)
	p.textColor(fg)
	cx := f.x
	for i, lines := range cells {
		for j, ln := range lines {
			p.text(cx+pad, f.y+pad+float64(j)*lh, ln)
		}
		p.frame(cx, f.y, widths[i], h, 0.15, grey)
		cx += widths[i]
	}
	p.textColor(black)
	f.y += h
}

func (f *situationFlow) batches() {
	rows := make([][]string, len(f.r.Batches))
	emph := make([]bool, len(f.r.Batches))
	for i, b := range f.r.Batches {
		rows[i] = []string{GroupDigits(b.Code), b.Product, b.Holder, b.Region, b.Quantity, b.State}
		emph[i] = b.Open
	}
	f.grid("受影响批次", "Affected batches", []sitCol{{"批次追溯码 Code", 40}, {"产品", 18}, {"持有主体 Holder", 32}, {"所在地区 Region", 30},
		{"数量 / 现库存", 26}, {"状态", 0}}, rows, emph, "无")
}

func (f *situationFlow) tasks() {
	rows := make([][]string, len(f.r.Tasks))
	emph := make([]bool, len(f.r.Tasks))
	for i, t := range f.r.Tasks {
		rows[i] = []string{t.Kind, t.Assignee, t.Due, t.Status, t.Text}
		emph[i] = t.Overdue
	}
	f.grid("处置任务", "Tasks", []sitCol{{"任务", 14}, {"承办人 Assignee", 34}, {"截止 Due", 26}, {"状态", 18}, {"说明与报告 Instructions and report", 0}},
		rows, emph, "尚未分派任务。")
}

func (f *situationFlow) events() {
	rows := make([][]string, len(f.r.Events))
	emph := make([]bool, len(f.r.Events))
	for i, e := range f.r.Events {
		rows[i] = []string{e.At, e.Actor, e.Action}
	}
	f.grid("处置经过", "Timeline", []sitCol{{"时间 Time", 30}, {"操作人 By", 34}, {"事项 What", 0}}, rows, emph, "无")
}
