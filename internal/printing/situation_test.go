package printing

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"agtrace/internal/codes"
)

// situationReport is a report of an incident with n affected batches.
func situationReport(n int) SituationReport {
	r := SituationReport{
		Number: "YJ-2026-00007", Title: "高州市生猪克仑特罗超标应急处置", Agency: "广东省茂名市高州市农产品质量安全应急指挥",
		Source: "抽检不合格召回 ZH-2026-00001", Region: "广东省茂名市高州市", Product: "生猪", Status: "处置中",
		DeclaredBy: "高州市监管员", DeclaredAt: "2026-03-05 10:20", AsOf: "2026-03-06 09:00",
		Progress:    fmt.Sprintf("受影响批次 %d 个，已处置 1 个；任务 2 项，未完成 1 项", n),
		Description: "样品 GZ-2026-0088 检出克仑特罗 2.6 μg/kg。所涉生猪已屠宰分割，部分白条肉已进入英德市农贸市场。",
		Tasks: []SituationTask{
			{Kind: "查封", Assignee: "高州市巡查员（广东省茂名市高州市）", Due: "2026-03-05 18:00", Status: "已完成", Text: "批次 1440 9810 0000 0000 0019；报告：已查封冷库"},
			{Kind: "核查", Assignee: "英德市巡查员（广东省清远市英德市）", Due: "2026-03-05 12:00", Status: "进行中", Text: "核查市场销售去向", Overdue: true},
		},
		Events: []SituationEvent{
			{At: "2026-03-05 09:40", Actor: "系统", Action: "启动召回"},
			{At: "2026-03-05 10:20", Actor: "高州市监管员", Action: "启动应急事件"},
		},
		VerifyURL: testBase + "/incidents/7",
		Signature: sampleSig,
	}
	for i := 1; i <= n; i++ {
		code, err := codes.NewTraceCode(codes.TraceCodeType(1+i%3), "440981", int64(100+i))
		if err != nil {
			panic(err)
		}
		b := SituationBatch{Code: code, Product: "白条猪肉", Holder: fmt.Sprintf("高州市第%02d号经营户", i), Region: "广东省茂名市高州市",
			Quantity: "120 kg / 80 kg", State: "未处置", Open: true}
		if i == 1 {
			b.State, b.Open = "已销毁", false
		}
		r.Batches = append(r.Batches, b)
	}
	return r
}

// TestSituationReportPDF renders a short and a long report and checks the
// text (pdftotext): title, number, every batch code, the tasks and the
// timeline; the long one runs over pages with its table header repeated;
// every page carries the QR code of the incident's page.
func TestSituationReportPDF(t *testing.T) {
	for _, n := range []int{3, 45} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			r := situationReport(n)
			doc := render(t, func(b *bytes.Buffer) error { return SituationReportPDF(b, r) })
			writePreview(t, "situation-"+strconv.Itoa(n), doc)
			pi := pdfInfo(t, doc)
			assertPages(t, doc, pi.pages, 210, 297)
			if n > 40 && pi.pages < 2 {
				t.Fatalf("%d batches on %d page", n, pi.pages)
			}
			text := pdfText(t, doc)
			assertContains(t, text, situationTitle, situationEnglish, r.Number, r.Title, r.Agency, r.Source, r.Progress, r.Description,
				"受影响批次", "处置任务", "处置经过", "签名指纹", sampleSig[:caseFPLen], r.VerifyURL)
			for _, b := range r.Batches {
				assertContains(t, text, GroupDigits(b.Code), b.Holder)
			}
			for _, tk := range r.Tasks {
				assertContains(t, text, tk.Kind, tk.Assignee, tk.Text)
			}
			for _, e := range r.Events {
				assertContains(t, text, e.Action)
			}
			if pi.pages > 1 {
				if c := strings.Count(text, "批次追溯码 Code"); c < 2 {
					t.Errorf("batch table header printed %d times over %d pages", c, pi.pages)
				}
				assertContains(t, text, situationTitle+" "+r.Number+"（续）")
			}
			pages := rasterise(t, doc, 150)
			assertQR(t, pages[0], r.VerifyURL)
			assertQR(t, pages[len(pages)-1], r.VerifyURL)
		})
	}
}

// TestSituationReportPDFValidation: missing or malformed data is an error
// naming the field.
func TestSituationReportPDFValidation(t *testing.T) {
	for _, tc := range []struct {
		field string
		mod   func(r *SituationReport)
	}{
		{"Number", func(r *SituationReport) { r.Number = "" }},
		{"Title", func(r *SituationReport) { r.Title = " " }},
		{"Batches.Code", func(r *SituationReport) { r.Batches[0].Code = "1440981000000000001" }},
		{"VerifyURL", func(r *SituationReport) { r.VerifyURL = "/incidents/7" }},
		{"Signature", func(r *SituationReport) { r.Signature = "%%%" }},
	} {
		r := situationReport(2)
		tc.mod(&r)
		var b bytes.Buffer
		err := SituationReportPDF(&b, r)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: err = %v, want one naming the field", tc.field, err)
		}
		if b.Len() != 0 {
			t.Errorf("%s: %d bytes written", tc.field, b.Len())
		}
	}
}
