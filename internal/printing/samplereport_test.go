package printing

import (
	"bytes"
	"fmt"
	"image"
	"strconv"
	"strings"
	"testing"
)

const (
	sampleReportNo     = "GZ-2026-0088"
	sampleReportRecall = "已启动召回 ZH-2026-00001，暂扣 7 个批次"
	sampleReportBasis  = "依据抽样日期有效的标准版本判定，检测值按 GB/T 8170 全数值比较法与限量比较；" +
		"无限量的项目不设默认限量，只报告检测值，不作判定。"
)

// sampleReport is a complete report: a passing laboratory test of apples,
// or (failing) a pig sample in which clenbuterol was found.
func sampleReport(failing bool) SampleReport {
	r := SampleReport{
		SampleNo:     sampleReportNo,
		Kind:         "实验室检测",
		Agency:       "栖霞市农产品质量安全检验检测中心",
		OperatorName: "栖霞市苹果专业合作社",
		OperatorCode: sampleSeller,
		BatchCode:    sampleTrace,
		Product:      "苹果",
		SampledAt:    "2026-03-05",
		Place:        "山东省烟台市栖霞市松山街道 3 号冷库",
		Method:       "GB 23200.113-2018",
		Tester:       "刘芳",
		Verdict:      "合格",
		Items: []ReportItem{
			{Substance: "毒死蜱 chlorpyrifos", Value: "未检出", LOD: "0.005 mg/kg", Limit: "≤ 1 mg/kg", Standard: "GB 2763-2026", Verdict: "合格"},
			{Substance: "克百威 carbofuran", Value: "未检出", LOD: "0.002 mg/kg", Limit: "≤ 0.02 mg/kg", Standard: "GB 2763-2026", Verdict: "合格"},
			{Substance: "铅 lead", Value: "0.012 mg/kg", LOD: "0.005 mg/kg", Limit: "≤ 0.1 mg/kg", Standard: "GB 2762-2022", Verdict: "合格"},
			{Substance: "氟吡菌酰胺 fluopyram", Value: "0.03 mg/kg", LOD: "0.01 mg/kg", Verdict: "不判定（无限量）"},
		},
		Basis:     sampleReportBasis,
		VerifyURL: testBase + "/v/report/" + sampleReportNo + "?v=" + testToken,
		Signature: sampleSig,
	}
	if failing {
		r.OperatorName, r.OperatorCode, r.BatchCode = "周小红", sampleBuyer, sampleCirculation
		r.Product, r.Place, r.Method = "生猪", "广州市白云区江高镇生猪定点屠宰场待宰圈", "GB/T 22286-2008"
		r.Verdict, r.Failed, r.Recall = "不合格", true, sampleReportRecall
		r.Items = []ReportItem{
			{Substance: "克仑特罗 clenbuterol", Value: "2.3 μg/kg", LOD: "0.5 μg/kg", Limit: "不得检出", Standard: "农业农村部公告第250号", Verdict: "不合格", Failed: true},
			{Substance: "莱克多巴胺 ractopamine", Value: "未检出", LOD: "0.5 μg/kg", Limit: "不得检出", Standard: "农业农村部公告第250号", Verdict: "合格"},
			{Substance: "沙丁胺醇 salbutamol", Value: "未检出", LOD: "0.5 μg/kg", Limit: "不得检出", Standard: "农业农村部公告第250号", Verdict: "合格"},
		}
	}
	return r
}

// redPixels counts the clearly red pixels of a rendered page.
func redPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 >= 150 && g>>8 <= 90 && bl>>8 <= 90 {
				n++
			}
		}
	}
	return n
}

// TestSampleReportPDF renders a passing and a failing report and checks
// the text (pdftotext), the page size (pdfinfo), the QR code (pdftoppm +
// gozxing) and that red, the emphasis of failure, appears only on the
// failing one.
func TestSampleReportPDF(t *testing.T) {
	for _, tc := range []struct {
		name    string
		failing bool
		want    []string
	}{
		{"pass apple", false, []string{"栖霞市苹果专业合作社", "0370 1020 0000 0000 17", "1370 1020 0000 0000 0019",
			"苹果", "GB 2763-2026", "≤ 1 mg/kg", "0.012 mg/kg", "GB 23200.113-2018"}},
		{"fail clenbuterol", true, []string{"周小红", "1370 1020 0000 0000 14", "2370 1020 0000 0000 0014",
			"生猪", "2.3 μg/kg", "不得检出", "召回处置：" + sampleReportRecall}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleReport(tc.failing)
			doc := render(t, func(b *bytes.Buffer) error { return SampleReportPDF(b, r) })
			writePreview(t, "report-"+strings.ReplaceAll(tc.name, " ", "-"), doc)
			pi := pdfInfo(t, doc)
			assertPages(t, doc, pi.pages, 210, 297)
			text := pdfText(t, doc)
			assertContains(t, text, "农产品质量安全检测报告", "Test report", "样品编号 Sample No. "+sampleReportNo,
				r.Agency, "2026年03月05日", r.Place, r.Tester, r.Kind, r.Method,
				"检测项目", "检测值", "检出限", "限量", "依据标准", "单项判定",
				"综合判定", r.Verdict, sampleReportBasis, r.VerifyURL, "签名指纹", sampleSig[:caseFPLen])
			for _, it := range r.Items {
				assertContains(t, text, it.Substance, it.Value, it.Verdict)
			}
			assertContains(t, text, tc.want...)
			for n := 1; n <= pi.pages; n++ {
				assertContains(t, text, "第 "+strconv.Itoa(n)+" 页 / 共 "+strconv.Itoa(pi.pages)+" 页")
			}
			compact := stripSpace(text)
			if strings.Contains(compact, sampleSig[:caseFPLen+1]) {
				t.Error("more than the signature's fingerprint is printed")
			}
			if recall := strings.Contains(compact, "召回"); recall != tc.failing {
				t.Errorf("recall line printed = %v, want %v", recall, tc.failing)
			}
			pages := rasterise(t, doc, 150)
			assertQR(t, pages[0], r.VerifyURL)
			if red := redPixels(pages[0]); (red > 100) != tc.failing {
				t.Errorf("%d red pixels on page 1; want red (the emphasis of failure) only on a failing report", red)
			}
		})
	}
}

// TestSampleReportPDFLongItems: 60 items run onto further pages, the table
// header repeated, with the last item and the conclusion present, and every
// page carries the QR code.
func TestSampleReportPDFLongItems(t *testing.T) {
	r := sampleReport(false)
	r.Items = nil
	for i := 1; i <= 60; i++ {
		r.Items = append(r.Items, ReportItem{
			Substance: fmt.Sprintf("农药残留第%02d项 pesticide %02d", i, i), Value: "未检出", LOD: "0.01 mg/kg",
			Limit: "≤ 0.05 mg/kg", Standard: "GB 2763-2026", Verdict: "合格",
		})
	}
	doc := render(t, func(b *bytes.Buffer) error { return SampleReportPDF(b, r) })
	writePreview(t, "report-long", doc)
	pi := pdfInfo(t, doc)
	if pi.pages < 2 {
		t.Fatalf("pages = %d, want 60 items on 2 or more", pi.pages)
	}
	assertPages(t, doc, pi.pages, 210, 297)
	text := pdfText(t, doc)
	assertContains(t, text, "农药残留第01项 pesticide 01", "农药残留第60项 pesticide 60",
		"农产品质量安全检测报告 "+sampleReportNo+"（续）", "综合判定", sampleReportBasis,
		"第 2 页 / 共 "+strconv.Itoa(pi.pages)+" 页")
	if n := strings.Count(text, "检测项目 Substance"); n < 2 {
		t.Errorf("table header printed %d times, want it repeated on the continuation page", n)
	}
	compact := stripSpace(text)
	for i := 1; i <= 60; i++ {
		if s := fmt.Sprintf("农药残留第%02d项", i); !strings.Contains(compact, s) {
			t.Errorf("item %q missing", s)
		}
	}
	pages := rasterise(t, doc, 150)
	assertQR(t, pages[0], r.VerifyURL)
	assertQR(t, pages[len(pages)-1], r.VerifyURL)
}

// TestSampleReportPDFValidation: missing or malformed data gives an error
// naming the field, and nothing is written.
func TestSampleReportPDFValidation(t *testing.T) {
	cases := []struct {
		name string
		mut  func(*SampleReport)
		want string
	}{
		{"no items", func(r *SampleReport) { r.Items = nil }, "Items"},
		{"empty items", func(r *SampleReport) { r.Items = []ReportItem{} }, "Items"},
		{"bad operator code check digit", func(r *SampleReport) { r.OperatorCode = "037010200000000018" }, "OperatorCode"},
		{"short operator code", func(r *SampleReport) { r.OperatorCode = sampleSeller[:17] }, "OperatorCode"},
		{"no operator code", func(r *SampleReport) { r.OperatorCode = "" }, "OperatorCode"},
		{"no verify URL", func(r *SampleReport) { r.VerifyURL = "" }, "VerifyURL"},
		{"relative verify URL", func(r *SampleReport) { r.VerifyURL = "/v/report/1" }, "VerifyURL"},
		{"verify URL too long", func(r *SampleReport) { r.VerifyURL = testBase + "/" + strings.Repeat("x", caseMaxURL) }, "VerifyURL"},
		{"no sample number", func(r *SampleReport) { r.SampleNo = " " }, "SampleNo"},
		{"no kind", func(r *SampleReport) { r.Kind = "" }, "Kind"},
		{"no agency", func(r *SampleReport) { r.Agency = "" }, "Agency"},
		{"no operator name", func(r *SampleReport) { r.OperatorName = "" }, "OperatorName"},
		{"bad batch code", func(r *SampleReport) { r.BatchCode = "13701020000000000018" }, "BatchCode"},
		{"no product", func(r *SampleReport) { r.Product = "" }, "Product"},
		{"sampling date malformed", func(r *SampleReport) { r.SampledAt = "2026/03/05" }, "SampledAt"},
		{"no place", func(r *SampleReport) { r.Place = "" }, "Place"},
		{"no tester", func(r *SampleReport) { r.Tester = "" }, "Tester"},
		{"no verdict", func(r *SampleReport) { r.Verdict = "" }, "Verdict"},
		{"item without substance", func(r *SampleReport) { r.Items[2].Substance = "" }, "Items[2].Substance"},
		{"item without value", func(r *SampleReport) { r.Items[1].Value = " " }, "Items[1].Value"},
		{"item without verdict", func(r *SampleReport) { r.Items[0].Verdict = "" }, "Items[0].Verdict"},
		{"no basis", func(r *SampleReport) { r.Basis = "\n" }, "Basis"},
		{"signature not base64", func(r *SampleReport) { r.Signature = "not base64!" }, "Signature"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleReport(true)
			tc.mut(&r)
			var buf bytes.Buffer
			err := SampleReportPDF(&buf, r)
			if err == nil {
				t.Fatalf("want an error mentioning %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), "printing: SampleReportPDF: "+tc.want+" ") {
				t.Fatalf("error %q does not start with the package, function and field %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Fatalf("%d bytes written despite the error", buf.Len())
			}
		})
	}
}

// TestSampleReportPDFOptional: an unsigned quick test without method,
// recall, detection limits, limits or standards prints "—" in the empty
// cells and no method row.
func TestSampleReportPDFOptional(t *testing.T) {
	r := sampleReport(true)
	r.Kind, r.Method, r.Recall, r.Signature = "快速检测", "", "", ""
	r.Items = []ReportItem{{Substance: "克仑特罗 clenbuterol", Value: "阳性", Verdict: "阳性", Failed: true}}
	text := pdfText(t, render(t, func(b *bytes.Buffer) error { return SampleReportPDF(b, r) }))
	assertContains(t, text, "快速检测", "阳性", reportNone, "未签名 Not signed")
	for _, s := range []string{"检测方法", "召回"} {
		if strings.Contains(text, s) {
			t.Errorf("%q printed without data", s)
		}
	}
}
