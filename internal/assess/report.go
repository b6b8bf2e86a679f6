package assess

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"agtrace/internal/auth"
	"agtrace/internal/insight"
	"agtrace/internal/platform"
	"agtrace/internal/printing"
)

// Words of the reports (Chinese first, with English).
var (
	levelWords = map[Level]string{LevelProvince: "省级", LevelPrefecture: "市级", LevelCounty: "县级"}
	unitSuffix = map[Unit]string{UnitPercent: "%", UnitPer100: " 次/百户", UnitPerOperator: " 个/户", UnitDays: " 天"}
)

// FormatTarget writes a target with its unit and direction ("≥ 95%", "≤ 5 天").
func FormatTarget(it SheetItem) string {
	op := "≥ "
	if it.Direction == Lower {
		op = "≤ "
	}
	return op + strconv.FormatFloat(it.Target, 'f', -1, 64) + unitSuffix[it.Unit]
}

// FormatValue writes a value with its unit ("—" when nothing was measured).
func FormatValue(it SheetItem, v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', -1, 64) + unitSuffix[it.Unit]
}

// Title names an assessment: region, month, level.
func Title(a Assessment) string {
	return fmt.Sprintf("%s %s年%s月 %s试运行绩效考核", a.RegionName, a.Period[:4], a.Period[5:], levelWords[a.Level])
}

// FileName is a report's download name.
func FileName(a Assessment, ext string) string {
	return fmt.Sprintf("assessment-%s-%s-%s.%s", a.Region, a.Level, a.Period, ext)
}

// scoreWords is a score as the reports print it.
func scoreWords(sc Score) string {
	if !sc.Applicable {
		return "不适用"
	}
	return strconv.FormatFloat(sc.Score, 'f', 2, 64)
}

// ReportPDF is an assessment as a PDF report with the ranking chart and
// table (404 outside the jurisdiction).
func (s *Service) ReportPDF(ctx context.Context, actor *auth.Actor, id int64) ([]byte, Assessment, error) {
	a, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, a, err
	}
	r := printing.AssessmentReport{Title: Title(a),
		Subtitle: fmt.Sprintf("考核表第 %d 版 · %d 个地区 · 计算于 %s（北京时间） · Sheet version %d, %d regions, computed %s",
			a.SheetVersion, a.Regions, a.ComputedAt.In(platform.ChinaTZ).Format("2006-01-02 15:04"), a.SheetVersion, a.Regions, a.ComputedAt.UTC().Format("2006-01-02 15:04 UTC")),
		Notes: []string{
			"得分 = 权重 × min(1, 数值 ÷ 目标)（时长类指标为 min(1, 目标 ÷ 数值)）；总分 = 各适用指标得分之和 ÷ 适用指标权重之和 × 100。没有可计量记录的指标记为“不适用”，不计入总分（重点主体入网率、巡查与抽检频次除外，记 0 分）。",
			"Points = weight × min(1, value ÷ target) (for times: target ÷ value); total = the points of the applicable indicators ÷ their weights × 100. An indicator with nothing to measure is not applicable and left out (key-operator coverage and inspection and sampling volumes score 0 instead).",
		}}
	for _, it := range a.Indicators {
		r.Indicators = append(r.Indicators, printing.AssessmentIndicator{Label: it.Label, Weight: strconv.FormatFloat(it.Weight, 'f', -1, 64),
			Target: FormatTarget(it), Source: it.Source})
	}
	for _, rr := range a.Ranking {
		row := printing.AssessmentRow{Rank: rr.Rank, Region: rr.Name, Total: rr.Total}
		for _, sc := range rr.Scores {
			row.Scores = append(row.Scores, scoreWords(sc))
		}
		r.Rows = append(r.Rows, row)
	}
	var buf bytes.Buffer
	if err := printing.AssessmentReportPDF(&buf, r); err != nil {
		return nil, a, err
	}
	return buf.Bytes(), a, nil
}

// ReportTable is an assessment as one table: rank, region, total, then
// each indicator's value and points (numbers stay numbers).
func ReportTable(a Assessment) insight.Table {
	t := insight.Table{Title: "assessment", Header: []string{"名次 Rank", "地区 Region", "代码 Code", "总分 Total"}}
	for _, it := range a.Indicators {
		t.Header = append(t.Header, it.Label+" 数值 value", it.Label+" 得分 points")
	}
	for _, rr := range a.Ranking {
		row := []any{rr.Rank, rr.Name, rr.Region, rr.Total}
		for _, sc := range rr.Scores {
			var v any = "—"
			if sc.Value != nil {
				v = *sc.Value
			}
			var pts any = "不适用 n/a"
			if sc.Applicable {
				pts = sc.Score
			}
			row = append(row, v, pts)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// ReportXLSX is an assessment as an Excel workbook (404 outside the
// jurisdiction).
func (s *Service) ReportXLSX(ctx context.Context, actor *auth.Actor, id int64) ([]byte, Assessment, error) {
	a, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, a, err
	}
	var buf bytes.Buffer
	if err := insight.WriteXLSX(&buf, ReportTable(a)); err != nil {
		return nil, a, err
	}
	return buf.Bytes(), a, nil
}
