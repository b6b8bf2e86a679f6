package monitoring

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/printing"
	"agtrace/internal/trace"
)

// Words of the report (a Chinese legal document).
var (
	verdictZH = map[string]string{VerdictPass: "合格", VerdictFail: "不合格", VerdictNotJudged: "不判定", QuickPositive: "阳性（需确证检测）", QuickNegative: "阴性"}
	reasonZH  = map[string]string{"unknown_substance": "未知检测项目", "no_limit": "无限量", "unit": "单位无法换算", "bad_value": "检测值无效", "bad_lod": "检出限无效", "bad_limit": "限量值无效"}
)

const reportBasis = "按抽样日期实施的标准版本判定；检测值与限量值以全数值比较法（GB/T 8170）比较，不修约；" +
	"“不得检出”项目以检测方法的检出限判定；我国没有默认限量，无适用限量的项目不判定。"

// SampleReportPDF renders a sample's test report, signed SM2 by the
// platform (the fingerprint is printed) with a QR to the sample.
func (s *Service) SampleReportPDF(ctx context.Context, actor *auth.Actor, id int64) ([]byte, string, error) {
	x, err := s.Sample(ctx, actor, id)
	if err != nil {
		return nil, "", err
	}
	p, err := s.tr.Product(ctx, x.ProductCode)
	if err != nil {
		return nil, "", err
	}
	kind := "实验室检测"
	if x.Kind == KindQuick {
		kind = "快速检测"
	}
	r := printing.SampleReport{SampleNo: x.SampleNo, Kind: kind, Agency: orDash(x.Agency), OperatorName: x.OperatorName, OperatorCode: x.OperatorCode,
		BatchCode: x.BatchCode, Product: p.Name, SampledAt: x.SampledAt, Place: orDash(x.Place), Method: x.Method, Tester: x.TesterName,
		Verdict: verdictZH[x.Verdict], Failed: x.Verdict == VerdictFail || x.Verdict == QuickPositive, Basis: reportBasis,
		VerifyURL: fmt.Sprintf("%s/samples/%d", strings.TrimRight(s.publicURL, "/"), x.ID)}
	if x.Recall != nil {
		r.Recall = fmt.Sprintf("已启动召回 %s，暂扣 %d 个批次", x.Recall.Number, len(x.Recall.Batches))
	}
	for _, it := range x.Results {
		r.Items = append(r.Items, reportItem(it))
	}
	signed, _ := json.Marshal(r)
	sig, err := s.signer.Sign(signed)
	if err != nil {
		return nil, "", err
	}
	r.Signature = base64.StdEncoding.EncodeToString(sig)
	var buf bytes.Buffer
	if err := printing.SampleReportPDF(&buf, r); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), "report-" + x.SampleNo + ".pdf", nil
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// reportItem puts one item in words.
func reportItem(it SampleItem) printing.ReportItem {
	ri := printing.ReportItem{Substance: strings.TrimSpace(it.Name + " " + it.Substance), Verdict: verdictZH[it.Verdict], Failed: it.Verdict == VerdictFail || it.Verdict == QuickPositive}
	if it.Name == "" {
		ri.Substance = it.Substance
	}
	switch {
	case it.Value != nil:
		ri.Value = trace.FormatQty(*it.Value) + " " + it.Unit
	case it.Result != "":
		ri.Value = verdictZH[it.Result]
	}
	if it.LOD != nil {
		ri.LOD = trace.FormatQty(*it.LOD) + " " + it.Unit
	}
	ri.Limit = limitText(it)
	if it.Standard != "" {
		ri.Standard = it.Standard + "-" + it.Edition
	}
	if r, ok := reasonZH[it.Reason]; ok && it.Verdict == VerdictNotJudged {
		ri.Verdict += "（" + r + "）"
	}
	return ri
}

// limitText is an item's limit as a reader writes it: 不得检出, ≤ 0.5 mg/kg
// or ≥ 2.8 g/100g ("" without a limit).
func limitText(it SampleItem) string {
	switch {
	case it.Judgement == JudgeNotDetected:
		return "不得检出"
	case it.Limit != nil && it.Judgement == JudgeMin:
		return "≥ " + trace.FormatQty(*it.Limit) + " " + it.LimitUnit
	case it.Limit != nil:
		return "≤ " + trace.FormatQty(*it.Limit) + " " + it.LimitUnit
	}
	return ""
}
