package printing

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

const (
	sampleCaseNumber = "AJ-330106-2026-0003"
	sampleCredit     = "91330106MA2H3K7L5X"
	sampleCaseBasis  = "《中华人民共和国农产品质量安全法》第七十三条"
)

// sampleCaseDoc is a complete case document of the given kind; the filing
// form has a second party, an individual without credit code, address or
// legal representative.
func sampleCaseDoc(kind CaseDocKind) CaseDoc {
	d := CaseDoc{
		Kind:   kind,
		Number: sampleCaseNumber,
		Agency: "杭州市西湖区农业农村局",
		Parties: []CaseParty{{
			Name: "杭州西溪生态农业有限公司", Code: sampleSeller, CreditCode: sampleCredit,
			Address: "浙江省杭州市西湖区三墩镇西园路 8 号", LegalRep: "王建国",
		}},
		Source:    "基地巡查 XC-2026-000012",
		Violation: "虚假记录（第十七条第一项）",
		Summary: "2026年3月12日，执法人员对当事人位于三墩镇的蔬菜种植基地进行巡查，发现其农产品生产记录中2月份的农药使用记录" +
			"与农药进货台账及田间实际情况不符，存在事后补记、虚构用药记录的情形。",
		Evidence:    []string{"现场检查笔录 XC-2026-000012", "农产品生产记录复印件 12 页", "农药进货台账复印件 3 页", "现场照片 8 张"},
		FiledOn:     "2026-03-13",
		FiledBy:     "李明",
		DecidedOn:   "2026-03-20",
		RectifyDays: 10,
		RectifyDue:  "2026-04-03",
		PenaltyYuan: "5,000.00",
		LegalBasis:  sampleCaseBasis,
		Officer:     "李明、赵亮",
		Steps: []CaseStep{
			{On: "2026-03-12", Step: "巡查发现", Actor: "李明", Note: "XC-2026-000012"},
			{On: "2026-03-13", Step: "立案", Actor: "李明", Note: "报负责人审批"},
			{On: "2026-03-16", Step: "调查取证", Actor: "李明、赵亮", Note: "调取生产记录及进货台账"},
		},
		VerifyURL: testBase + "/v/case/" + sampleCaseNumber + "?d=" + string(kind) + "&v=" + testToken,
		Signature: sampleSig,
	}
	switch kind {
	case CaseFiling:
		d.Parties = append(d.Parties, CaseParty{Name: "周小红", Code: sampleBuyer})
	case CaseRectify:
		d.Decision = "补正2026年2月的农药使用记录，建立并如实填写农产品生产记录"
	case CasePenalty:
		d.Decision = "警告，并处罚款人民币伍仟元"
	}
	return d
}

// TestCaseDocument renders each kind and checks its text, page size and QR
// code independently (pdftotext, pdfinfo, pdftoppm + gozxing).
func TestCaseDocument(t *testing.T) {
	for _, tc := range []struct {
		kind   CaseDocKind
		want   []string
		absent []string
	}{
		{CaseFiling, []string{"立案审批表", "Case Filing Approval Form", sampleCaseNumber + "-LA",
			"当事人（一）", "当事人（二）", "周小红", "1370 1020 0000 0000 14",
			"基地巡查 XC-2026-000012", "立案人", "2026年03月13日", "案情摘要", "现场照片 8 张",
			"承办人意见", "负责人审批", "签名：", "办案记录", "巡查发现", "调取生产记录及进货台账"},
			[]string{"行政复议", "责令你单位", "（印章）"}},
		{CaseRectify, []string{"责令整改通知书", "Rectification Order", sampleCaseNumber + "-ZG",
			"经查，你单位2026年3月12日", "10 个工作日内", "2026年04月03日", "《中华人民共和国农产品质量安全法》",
			"补正2026年2月的农药使用记录", "复查", "（印章）", "2026年03月20日", "当事人签收"},
			[]string{"办案记录", "行政复议", "当事人（一）"}},
		{CasePenalty, []string{"行政处罚决定书", "Administrative Penalty Decision", sampleCaseNumber + "-CF",
			"经查明，", "当事人的上述行为构成虚假记录（第十七条第一项）。", "现场照片 8 张",
			"人民币 5,000.00 元", "人民币伍仟元整", sampleCaseBasis, "依据" + sampleCaseBasis + "的规定",
			"十五日内", "六十日内", "申请行政复议", "六个月内", "提起行政诉讼", "（印章）", "2026年03月20日"},
			[]string{"办案记录", "责令你单位"}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			d := sampleCaseDoc(tc.kind)
			doc := render(t, func(b *bytes.Buffer) error { return CaseDocument(b, d) })
			writePreview(t, "case-"+string(tc.kind), doc)
			pi := pdfInfo(t, doc)
			assertPages(t, doc, pi.pages, 210, 297)
			text := pdfText(t, doc)
			assertContains(t, text, d.Agency, sampleCaseNumber, "杭州西溪生态农业有限公司",
				"0370 1020 0000 0000 17", sampleCredit, "浙江省杭州市西湖区三墩镇西园路 8 号", "王建国",
				"虚假记录（第十七条第一项）", d.VerifyURL, "签名指纹", sampleSig[:16])
			assertContains(t, text, tc.want...)
			for n := 1; n <= pi.pages; n++ {
				assertContains(t, text, "第 "+strconv.Itoa(n)+" 页 / 共 "+strconv.Itoa(pi.pages)+" 页")
			}
			compact := stripSpace(text)
			if strings.Contains(compact, sampleSig[:caseFPLen+1]) {
				t.Error("more than the signature's fingerprint is printed")
			}
			for _, s := range tc.absent {
				if strings.Contains(compact, stripSpace(s)) {
					t.Errorf("%s prints %q, which belongs to another kind", tc.kind, s)
				}
			}
			assertQR(t, rasterise(t, doc, 150)[0], d.VerifyURL)
		})
	}
}

// longCaseSummary is about 3000 characters of numbered, distinct sentences
// ending with a known phrase.
func longCaseSummary() string {
	var b strings.Builder
	for i := 1; utf8.RuneCountInString(b.String()) < 3000; i++ {
		fmt.Fprintf(&b, "第%d项：当事人在%d号地块的生产记录中填报的用药日期、农药名称和使用剂量与进货台账不一致。", i, i)
	}
	b.WriteString("以上事实，当事人签字予以确认。")
	return b.String()
}

var casePageNoRE = regexp.MustCompile(`第\d+页/共\d+页`)

// TestCaseDocumentLongSummary: a 3000-character summary flows onto further
// pages; once the footers and running heads are taken out, the whole
// summary is there in order, and the last page carries the QR code too.
func TestCaseDocumentLongSummary(t *testing.T) {
	summary := longCaseSummary()
	for _, kind := range []CaseDocKind{CaseFiling, CaseRectify, CasePenalty} {
		t.Run(string(kind), func(t *testing.T) {
			d := sampleCaseDoc(kind)
			d.Summary = summary
			doc := render(t, func(b *bytes.Buffer) error { return CaseDocument(b, d) })
			writePreview(t, "case-long-"+string(kind), doc)
			pi := pdfInfo(t, doc)
			if pi.pages < 2 {
				t.Fatalf("pages = %d, want the long summary on 2 or more", pi.pages)
			}
			assertPages(t, doc, pi.pages, 210, 297)
			text := pdfText(t, doc)
			assertContains(t, text, "以上事实，当事人签字予以确认。", "第 2 页 / 共 "+strconv.Itoa(pi.pages)+" 页")
			info := caseKinds[kind]
			body := stripSpace(text)
			for _, f := range []string{
				"扫描右侧二维码或访问以下地址核验本文书 Scan or visit to verify:", d.VerifyURL,
				"签名指纹 Signature fingerprint：" + sampleSig[:caseFPLen],
				info.title + " " + sampleCaseNumber + "（续）", info.title + " " + sampleCaseNumber + "-" + info.suffix,
				d.Agency,
			} {
				body = strings.ReplaceAll(body, stripSpace(f), "")
			}
			body = casePageNoRE.ReplaceAllString(body, "")
			if !strings.Contains(body, summary[strings.Index(summary, "当事人在1号"):]) {
				t.Errorf("the summary is not complete and in order; body text:\n%s", body)
			}
			pages := rasterise(t, doc, 150)
			assertQR(t, pages[0], d.VerifyURL)
			assertQR(t, pages[len(pages)-1], d.VerifyURL)
		})
	}
}

// TestCaseDocumentValidation: missing or malformed data gives an error
// naming the field, and nothing is written.
func TestCaseDocumentValidation(t *testing.T) {
	cases := []struct {
		name string
		kind CaseDocKind
		mut  func(*CaseDoc)
		want string
	}{
		{"filing no parties", CaseFiling, func(d *CaseDoc) { d.Parties = nil }, "Parties"},
		{"rectify no parties", CaseRectify, func(d *CaseDoc) { d.Parties = []CaseParty{} }, "Parties"},
		{"penalty no parties", CasePenalty, func(d *CaseDoc) { d.Parties = nil }, "Parties"},
		{"rectify without due date", CaseRectify, func(d *CaseDoc) { d.RectifyDue = "" }, "RectifyDue"},
		{"rectify due date malformed", CaseRectify, func(d *CaseDoc) { d.RectifyDue = "2026-4-3" }, "RectifyDue"},
		{"rectify due before decision", CaseRectify, func(d *CaseDoc) { d.RectifyDue = "2026-03-19" }, "RectifyDue"},
		{"rectify zero days", CaseRectify, func(d *CaseDoc) { d.RectifyDays = 0 }, "RectifyDays"},
		{"rectify without decision date", CaseRectify, func(d *CaseDoc) { d.DecidedOn = "" }, "DecidedOn"},
		{"penalty without legal basis", CasePenalty, func(d *CaseDoc) { d.LegalBasis = " " }, "LegalBasis"},
		{"penalty without amount", CasePenalty, func(d *CaseDoc) { d.PenaltyYuan = "" }, "PenaltyYuan"},
		{"penalty amount without decimals", CasePenalty, func(d *CaseDoc) { d.PenaltyYuan = "5000" }, "PenaltyYuan"},
		{"penalty amount badly grouped", CasePenalty, func(d *CaseDoc) { d.PenaltyYuan = "5,00.00" }, "PenaltyYuan"},
		{"penalty without decision date", CasePenalty, func(d *CaseDoc) { d.DecidedOn = "" }, "DecidedOn"},
		{"unknown kind", "warning", func(d *CaseDoc) {}, "Kind"},
		{"empty number", CaseFiling, func(d *CaseDoc) { d.Number = "" }, "Number"},
		{"empty agency", CaseFiling, func(d *CaseDoc) { d.Agency = "" }, "Agency"},
		{"party without name", CaseFiling, func(d *CaseDoc) { d.Parties[1].Name = "" }, "Parties[1].Name"},
		{"party bad check digit", CasePenalty, func(d *CaseDoc) { d.Parties[0].Code = "037010200000000018" }, "Parties[0].Code"},
		{"party short credit code", CasePenalty, func(d *CaseDoc) { d.Parties[0].CreditCode = sampleCredit[:17] }, "Parties[0].CreditCode"},
		{"empty violation", CaseRectify, func(d *CaseDoc) { d.Violation = "" }, "Violation"},
		{"empty summary", CasePenalty, func(d *CaseDoc) { d.Summary = "\n" }, "Summary"},
		{"blank evidence line", CasePenalty, func(d *CaseDoc) { d.Evidence[1] = " " }, "Evidence[1]"},
		{"filing date malformed", CaseFiling, func(d *CaseDoc) { d.FiledOn = "13.03.2026" }, "FiledOn"},
		{"filing without source", CaseFiling, func(d *CaseDoc) { d.Source = "" }, "Source"},
		{"filing without filer", CaseFiling, func(d *CaseDoc) { d.FiledBy = "" }, "FiledBy"},
		{"filing step date malformed", CaseFiling, func(d *CaseDoc) { d.Steps[1].On = "2026/03/13" }, "Steps[1].On"},
		{"no verify URL", CaseFiling, func(d *CaseDoc) { d.VerifyURL = "" }, "VerifyURL"},
		{"relative verify URL", CaseRectify, func(d *CaseDoc) { d.VerifyURL = "/v/case/1" }, "VerifyURL"},
		{"verify URL too long", CasePenalty, func(d *CaseDoc) { d.VerifyURL = testBase + "/" + strings.Repeat("x", caseMaxURL) }, "VerifyURL"},
		{"signature not base64", CasePenalty, func(d *CaseDoc) { d.Signature = "not base64!" }, "Signature"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := sampleCaseDoc(tc.kind)
			tc.mut(&d)
			var buf bytes.Buffer
			err := CaseDocument(&buf, d)
			if err == nil {
				t.Fatalf("want an error mentioning %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), "printing: CaseDocument: "+tc.want+" ") {
				t.Fatalf("error %q does not start with the package, function and field %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Fatalf("%d bytes written despite the error", buf.Len())
			}
		})
	}
}

// TestCaseDocumentOptional: an unsigned document for an individual without
// credit code, address, legal representative, evidence, steps or officer.
func TestCaseDocumentOptional(t *testing.T) {
	for _, kind := range []CaseDocKind{CaseFiling, CaseRectify, CasePenalty} {
		d := sampleCaseDoc(kind)
		d.Parties = []CaseParty{{Name: "周小红", Code: sampleBuyer}}
		d.Evidence, d.Steps, d.Officer, d.Signature, d.Decision = nil, nil, "", "", ""
		d.PenaltyYuan = "0.00"
		text := pdfText(t, render(t, func(b *bytes.Buffer) error { return CaseDocument(b, d) }))
		assertContains(t, text, caseKinds[kind].title, "周小红", "1370 1020 0000 0000 14", "未签名 Not signed")
		for _, s := range []string{"统一社会信用代码", "住所", "法定代表人", "执法人员 Officer"} {
			if strings.Contains(text, s) {
				t.Errorf("%s: %q printed without data", kind, s)
			}
		}
	}
}

func TestCaseYuanUpper(t *testing.T) {
	for in, want := range map[string]string{
		"5,000.00":       "伍仟元整",
		"5000.00":        "伍仟元整",
		"0.00":           "零元整",
		"0.50":           "伍角整",
		"0.05":           "伍分",
		"10.00":          "壹拾元整",
		"1,005.00":       "壹仟零伍元整",
		"1,000.05":       "壹仟元零伍分",
		"10,000.00":      "壹万元整",
		"200,000.00":     "贰拾万元整",
		"12,345.67":      "壹万贰仟叁佰肆拾伍元陆角柒分",
		"10,005,000.00":  "壹仟万零伍仟元整",
		"100,000,005.30": "壹亿零伍元叁角整",
	} {
		if got := yuanUpper(in); got != want {
			t.Errorf("yuanUpper(%q) = %q, want %q", in, got, want)
		}
	}
}
