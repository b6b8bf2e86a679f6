package printing

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func assessmentReport(rows int) AssessmentReport {
	r := AssessmentReport{Title: "山东省 2026年11月 县级试运行绩效考核", Subtitle: "考核表第 1 版",
		Indicators: []AssessmentIndicator{{Label: "重点主体入网率", Weight: "60", Target: "≥ 100%", Source: "看板指标“重点主体覆盖”"},
			{Label: "投诉举报处理时长", Weight: "40", Target: "≤ 5 天", Source: "投诉举报记录"}},
		Notes: []string{"总分 = 各适用指标得分之和 ÷ 适用指标权重之和 × 100。"}}
	for i := range rows {
		total := 100 - float64(i)*1.25
		r.Rows = append(r.Rows, AssessmentRow{Rank: i + 1, Region: fmt.Sprintf("测试县%02d", i+1), Total: total, Scores: []string{fmt.Sprintf("%.2f", total*0.6), "不适用"}})
	}
	return r
}

// TestAssessmentReportPDF: a long ranking runs over pages with the header
// and footer on each; the chart shows the first 30 and says so; every
// region and total is in the text.
func TestAssessmentReportPDF(t *testing.T) {
	var buf bytes.Buffer
	if err := AssessmentReportPDF(&buf, assessmentReport(70)); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, buf.Bytes())
	assertContains(t, text, "总分排名", "图中为前 30 名，全部 70 个地区见下表", "测试县01", "测试县70", "100.00", "13.75", "不适用", "投诉举报处理时长", "≤ 5 天")
	if n := strings.Count(stripSpace(text), "名次"); n < 2 {
		t.Errorf("the table header is on %d pages", n)
	}
	if !strings.Contains(stripSpace(text), stripSpace("第 1 页 / 共")) {
		t.Error("no page numbers")
	}
}

func TestAssessmentReportValidation(t *testing.T) {
	cases := []struct {
		field string
		edit  func(*AssessmentReport)
	}{
		{"Title", func(r *AssessmentReport) { r.Title = "" }},
		{"Indicators", func(r *AssessmentReport) { r.Indicators = nil; r.Rows = nil }},
		{"Rows[1].Scores", func(r *AssessmentReport) { r.Rows[1].Scores = r.Rows[1].Scores[:1] }},
		{"Rows[0].Total", func(r *AssessmentReport) { r.Rows[0].Total = 120 }},
		{"Rows[2].Region", func(r *AssessmentReport) { r.Rows[2].Region = " " }},
	}
	for _, c := range cases {
		r := assessmentReport(3)
		c.edit(&r)
		var buf bytes.Buffer
		err := AssessmentReportPDF(&buf, r)
		if err == nil || !strings.Contains(err.Error(), c.field) || buf.Len() != 0 {
			t.Errorf("%s: %v (%d bytes written)", c.field, err, buf.Len())
		}
	}
}
