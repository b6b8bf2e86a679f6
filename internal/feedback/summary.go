package feedback

import (
	"context"
	"database/sql"
	"encoding/csv"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// SummaryRow is one province's feedback of the month, by category.
type SummaryRow struct {
	Region     string `json:"region" doc:"province code (PP0000) of the authors' regions; 000000 for national accounts"`
	RegionName string `json:"region_name"`
	Counts     []int  `json:"counts" doc:"one count per category, in the order of categories"`
	Total      int    `json:"total"`
}

// Summary is a month's feedback by category × province, with totals.
type Summary struct {
	Month      string       `json:"month" doc:"YYYY-MM (China time)"`
	Categories []Category   `json:"categories"`
	Rows       []SummaryRow `json:"rows" doc:"provinces with feedback, by code"`
	Totals     []int        `json:"totals" doc:"per category, in the order of categories"`
	Total      int          `json:"total"`
}

// Summary counts the feedback filed in month (YYYY-MM; "" = this month)
// by category and by the province of its author's region (administrators).
func (s *Service) Summary(ctx context.Context, actor *auth.Actor, month string) (Summary, error) {
	if err := auth.Authorize(actor, auth.ActFeedbackTriage, auth.Resource{}); err != nil {
		return Summary{}, err
	}
	if month == "" {
		month = s.clock.Now().In(platform.ChinaTZ).Format("2006-01")
	}
	from, to, err := MonthRange(month)
	if err != nil {
		return Summary{}, err
	}
	type cell struct {
		province, category string
		n                  int
	}
	rows, err := s.db.Query(ctx, `SELECT SUBSTR(region_code, 1, 2), category, COUNT(*) FROM feedback
		WHERE created_at >= $1 AND created_at < $2 GROUP BY SUBSTR(region_code, 1, 2), category ORDER BY 1, 2`, from, to)
	cells, err := platform.Collect(rows, err, func(r *sql.Rows) (cell, error) {
		var c cell
		return c, r.Scan(&c.province, &c.category, &c.n)
	})
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Month: month, Categories: Categories, Rows: []SummaryRow{}, Totals: make([]int, len(Categories))}
	index := map[string]int{}
	for _, c := range cells {
		i, ok := index[c.province]
		if !ok {
			code := c.province + "0000"
			i, index[c.province] = len(sum.Rows), len(sum.Rows)
			sum.Rows = append(sum.Rows, SummaryRow{Region: code, RegionName: s.regionName(ctx, code), Counts: make([]int, len(Categories))})
		}
		for j, cat := range Categories {
			if string(cat) == c.category {
				sum.Rows[i].Counts[j] += c.n
				sum.Totals[j] += c.n
			}
		}
		sum.Rows[i].Total += c.n
		sum.Total += c.n
	}
	return sum, nil
}

// regionName is a province's name ("全国" for national accounts, the code
// when it is unknown).
func (s *Service) regionName(ctx context.Context, code string) string {
	if code == "000000" {
		return "全国"
	}
	if r, err := s.regions.Get(ctx, code); err == nil {
		return r.Name
	}
	return code
}

// File formats of the summary.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// ContentType is the media type of a file format.
func ContentType(format string) string {
	if format == FormatCSV {
		return "text/csv; charset=utf-8"
	}
	return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
}

// FileName is the download's name: feedback-2026-11.csv.
func FileName(month, format string) string { return "feedback-" + month + "." + format }

// categoryNames are the categories' names in the files' header rows.
var categoryNames = map[Category][2]string{
	CategoryBug: {"程序错误", "bug"}, CategoryUsability: {"使用不便", "usability"}, CategoryData: {"数据问题", "data"},
	CategorySuggestion: {"功能建议", "suggestion"}, CategoryOther: {"其他", "other"},
}

// table is the summary as the files hold it: a Chinese and an English
// header row, one row per province, then the totals.
func (sum Summary) table() [][]any {
	zh, en := []any{"地区代码", "地区"}, []any{"region code", "region"}
	for _, c := range sum.Categories {
		zh, en = append(zh, categoryNames[c][0]), append(en, categoryNames[c][1])
	}
	out := [][]any{append(zh, "合计"), append(en, "total")}
	row := func(code, name string, counts []int, total int) []any {
		r := []any{code, name}
		for _, n := range counts {
			r = append(r, n)
		}
		return append(r, total)
	}
	for _, r := range sum.Rows {
		out = append(out, row(r.Region, r.RegionName, r.Counts, r.Total))
	}
	return append(out, row("", "合计 total", sum.Totals, sum.Total))
}

// WriteSummary writes the summary as CSV (UTF-8 with a BOM, which Excel
// reads) or xlsx (counts as numbers), the way the recall spreadsheet is
// written (trace.WriteSheet).
func WriteSummary(w io.Writer, sum Summary, format string) error {
	if format == FormatCSV {
		_, _ = io.WriteString(w, "\ufeff")
		cw := csv.NewWriter(w)
		for _, r := range sum.table() {
			rec := make([]string, len(r))
			for i, v := range r {
				switch x := v.(type) {
				case int:
					rec[i] = strconv.Itoa(x)
				case string:
					rec[i] = x
				}
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	return writeXLSX(w, sum)
}

func writeXLSX(w io.Writer, sum Summary) error {
	x := excelize.NewFile()
	defer x.Close()
	sheet := "问题反馈 " + sum.Month
	if err := x.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := x.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, len(sum.Categories)+3, 14); err != nil {
		return err
	}
	for i, r := range sum.table() {
		if err := sw.SetRow("A"+strconv.Itoa(i+1), r); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return x.Write(w)
}
