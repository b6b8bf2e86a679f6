package printing

import (
	"fmt"
	"io"
	"math"
	"strconv"
)

// AssessmentReport is a pilot performance assessment report (试运行绩效考核
// 报告): the regions of a level ranked by total score, with each
// indicator's points.
type AssessmentReport struct {
	Title      string                // e.g. "山东省 2026年11月 县级试运行绩效考核"
	Subtitle   string                // the sheet, its version and when it was computed
	Indicators []AssessmentIndicator // the sheet as applied, in order
	Rows       []AssessmentRow       // in rank order
	Notes      []string              // paragraphs after the tables (how totals are formed)
}

// AssessmentIndicator is one column of the ranking.
type AssessmentIndicator struct {
	Label  string // e.g. "重点主体入网率"
	Weight string // e.g. "25"
	Target string // with its unit, e.g. "100%", "≤ 5 天"
	Source string // where the numbers come from
}

// AssessmentRow is one ranked region.
type AssessmentRow struct {
	Rank   int
	Region string
	Total  float64  // 0–100
	Scores []string // one per indicator, in words ("18.5", "不适用")
}

// Geometry of the report: A4 landscape.
const (
	arW, arH    = 297.0, 210.0
	arMargin    = 14.0
	arFootTop   = arH - 12.0
	arChartMax  = 30 // regions drawn in the bar chart (the table lists all)
	arRankW     = 12.0
	arRegionW   = 42.0
	arTotalW    = 16.0
	arRowPt     = 8.5
	arHeadPt    = 7.5
	arChartBand = 6.0
)

func (r *AssessmentReport) validate() error {
	v := validator{fn: "AssessmentReportPDF"}
	v.required("Title", r.Title)
	if len(r.Indicators) == 0 {
		v.fail("Indicators", "needs at least one indicator")
	}
	for i, in := range r.Indicators {
		v.required(fmt.Sprintf("Indicators[%d].Label", i), in.Label)
	}
	for i, row := range r.Rows {
		v.required(fmt.Sprintf("Rows[%d].Region", i), row.Region)
		if len(row.Scores) != len(r.Indicators) {
			v.fail(fmt.Sprintf("Rows[%d].Scores", i), "has %d scores for %d indicators", len(row.Scores), len(r.Indicators))
		}
		if math.IsNaN(row.Total) || row.Total < 0 || row.Total > 100 {
			v.fail(fmt.Sprintf("Rows[%d].Total", i), "must be 0–100, got %v", row.Total)
		}
	}
	return v.err
}

// AssessmentReportPDF writes the report on A4 landscape pages: the title,
// a bar chart of the totals (the first 30 regions), the ranking table with
// every indicator's points (its header repeated on each page), the
// indicators with their weights, targets and sources, the notes, and a
// footer with the title and page number on every page.
func AssessmentReportPDF(w io.Writer, r AssessmentReport) error {
	if err := r.validate(); err != nil {
		return err
	}
	p, err := newPDF(r.Title)
	if err != nil {
		return err
	}
	f := &arFlow{p: p, r: &r, x: arMargin, cw: arW - 2*arMargin}
	f.newPage()
	f.head()
	f.chart()
	f.ranking()
	f.indicators()
	f.notes()
	f.footers()
	return p.finish(w)
}

// arFlow sets the report from top to bottom.
type arFlow struct {
	p     *pdf
	r     *AssessmentReport
	x, cw float64
	y     float64
}

func (f *arFlow) newPage() {
	f.p.page(arW, arH)
	f.y = arMargin
}

// ensure starts a new page unless h more millimetres fit; it reports
// whether it did.
func (f *arFlow) ensure(h float64) bool {
	if f.y+h <= arFootTop-2 {
		return false
	}
	f.newPage()
	return true
}

func (f *arFlow) head() {
	p := f.p
	p.font(16)
	p.textColor(black)
	p.textIn(f.x, f.y, f.cw, p.fitLine(f.cw, 16, 11, f.r.Title), alignCenter)
	f.y += 9
	p.font(9)
	p.textColor(grey)
	p.textIn(f.x, f.y, f.cw, p.fitLine(f.cw, 9, 7, f.r.Subtitle), alignCenter)
	f.y += 6
	p.line(f.x, f.y, f.x+f.cw, f.y, 0.5, green)
	f.y += 4
	p.textColor(black)
}

// heading draws a section title, on a new page unless it and need fit.
func (f *arFlow) heading(zh, en string, need float64) {
	f.ensure(8 + need)
	p := f.p
	p.font(11)
	p.textColor(green)
	p.text(f.x, f.y, zh+"  "+en)
	p.textColor(black)
	f.y += 7
}

// chart draws the totals as horizontal bars on a 0–100 scale.
func (f *arFlow) chart() {
	rows := f.r.Rows
	if len(rows) > arChartMax {
		rows = rows[:arChartMax]
	}
	if len(rows) == 0 {
		return
	}
	band := math.Min(arChartBand, (arFootTop-f.y-20)/float64(len(rows)))
	if band < 3.5 {
		band = 3.5
	}
	f.heading("总分排名", "Ranking by total score", band*float64(len(rows))+8)
	p := f.p
	labelW, valueW := arRegionW, 12.0
	x0, bw := f.x+labelW, f.cw-labelW-valueW
	top := f.y
	p.font(7)
	for g := 0; g <= 100; g += 20 { // gridlines and the scale
		gx := x0 + bw*float64(g)/100
		p.dashed(gx, top, gx, top+band*float64(len(rows)), 0.15, rule)
		p.textColor(grey)
		p.textIn(gx-5, top+band*float64(len(rows))+0.8, 10, strconv.Itoa(g), alignCenter)
	}
	pt := math.Min(arRowPt, band/mmPerPt*0.75)
	for i, row := range rows {
		y := top + band*float64(i)
		p.font(pt)
		p.textColor(ink)
		label := fmt.Sprintf("%d. %s", row.Rank, row.Region)
		p.text(f.x, y+(band-p.em())/2, p.truncate(label, labelW-2))
		p.rect(x0, y+band*0.18, math.Max(0.3, bw*row.Total/100), band*0.64, green)
		p.text(x0+bw*row.Total/100+1.2, y+(band-p.em())/2, fmtScore(row.Total))
	}
	p.textColor(black)
	f.y = top + band*float64(len(rows)) + 8
	if len(f.r.Rows) > arChartMax {
		p.font(7.5)
		p.textColor(grey)
		p.text(f.x, f.y-3, fmt.Sprintf("图中为前 %d 名，全部 %d 个地区见下表 · the first %d of %d regions; the table lists all", arChartMax, len(f.r.Rows), arChartMax, len(f.r.Rows)))
		p.textColor(black)
		f.y += 3
	}
}

func fmtScore(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }

// arTable is the geometry of the ranking table.
type arTable struct {
	widths []float64
	head   [][]string
	headH  float64
	rowH   float64
}

func (f *arFlow) rankingTable() *arTable {
	p := f.p
	n := len(f.r.Indicators)
	t := &arTable{widths: []float64{arRankW, arRegionW, arTotalW}, head: [][]string{{"名次", "Rank"}, {"地区", "Region"}, {"总分", "Total"}}}
	iw := (f.cw - arRankW - arRegionW - arTotalW) / float64(n)
	p.font(arHeadPt)
	lines := 2
	for _, in := range f.r.Indicators {
		cell := append(p.wrap(in.Label, iw-2), "权重 "+in.Weight, "目标 "+in.Target)
		t.widths, t.head = append(t.widths, iw), append(t.head, cell)
		lines = max(lines, len(cell))
	}
	t.headH = float64(lines)*p.em()*1.25 + 2
	p.font(arRowPt)
	t.rowH = p.em()*1.25 + 2.2
	return t
}

// ranking draws the table of every region's total and points.
func (f *arFlow) ranking() {
	t := f.rankingTable()
	f.heading("排名与各项得分", "Ranking and points per indicator", t.headH+t.rowH)
	f.tableHead(t)
	for i, row := range f.r.Rows {
		if f.ensure(t.rowH) {
			f.tableHead(t)
		}
		cells := append([]string{strconv.Itoa(row.Rank), row.Region, fmtScore(row.Total)}, row.Scores...)
		if i%2 == 1 {
			f.p.rect(f.x, f.y, f.cw, t.rowH, paleGrn)
		}
		f.p.font(arRowPt)
		f.p.textColor(ink)
		cx := f.x
		for j, c := range cells {
			a := alignRight
			if j == 1 {
				a = alignLeft
			}
			f.p.textIn(cx+1, f.y+1.1, t.widths[j]-2, f.p.truncate(c, t.widths[j]-2), a)
			cx += t.widths[j]
		}
		f.p.line(f.x, f.y+t.rowH, f.x+f.cw, f.y+t.rowH, 0.1, rule)
		f.y += t.rowH
	}
	f.y += 5
}

func (f *arFlow) tableHead(t *arTable) {
	p := f.p
	p.rect(f.x, f.y, f.cw, t.headH, paleGrn)
	p.font(arHeadPt)
	p.textColor(black)
	cx := f.x
	for j, lines := range t.head {
		for k, ln := range lines {
			p.textIn(cx+1, f.y+1+float64(k)*p.em()*1.25, t.widths[j]-2, ln, alignCenter)
		}
		cx += t.widths[j]
	}
	p.line(f.x, f.y+t.headH, f.x+f.cw, f.y+t.headH, 0.3, green)
	f.y += t.headH
}

// indicators lists the sheet: each indicator's weight, target and source.
func (f *arFlow) indicators() {
	p := f.p
	srcW := f.cw - 60 - 18 - 24
	f.heading("考核指标", "Indicators", 14)
	for _, in := range f.r.Indicators {
		p.font(arRowPt)
		lines := p.wrap(in.Source, srcW-2)
		h := float64(len(lines))*p.em()*1.3 + 2.4
		f.ensure(h)
		p.textColor(ink)
		p.text(f.x+1, f.y+1.2, p.truncate(in.Label, 58))
		p.textIn(f.x+60, f.y+1.2, 16, in.Weight, alignRight)
		p.textIn(f.x+78, f.y+1.2, 22, in.Target, alignRight)
		p.textColor(grey)
		for k, ln := range lines {
			p.text(f.x+102, f.y+1.2+float64(k)*p.em()*1.3, ln)
		}
		p.line(f.x, f.y+h, f.x+f.cw, f.y+h, 0.1, rule)
		f.y += h
	}
	p.textColor(black)
	f.y += 5
}

func (f *arFlow) notes() {
	p := f.p
	for _, para := range f.r.Notes {
		p.font(8.5)
		for _, ln := range p.wrapPara(para, f.cw, f.cw) {
			f.ensure(p.em() * 1.5)
			p.textColor(grey)
			p.text(f.x, f.y, ln)
			f.y += p.em() * 1.5
		}
		f.y += 1.5
	}
	p.textColor(black)
}

// footers write the title and the page number on every page.
func (f *arFlow) footers() {
	p := f.p
	n := p.gp.GetNumberOfPages()
	for i := 1; i <= n; i++ {
		p.setErr(p.gp.SetPage(i))
		p.font(7.5)
		p.textColor(grey)
		p.line(f.x, arFootTop, f.x+f.cw, arFootTop, 0.2, rule)
		p.text(f.x, arFootTop+2, p.truncate(f.r.Title, f.cw/2))
		p.textIn(f.x, arFootTop+2, f.cw, fmt.Sprintf("第 %d 页 / 共 %d 页", i, n), alignRight)
	}
}
