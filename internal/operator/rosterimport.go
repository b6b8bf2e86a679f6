package operator

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// rosterColumn is one column of the roster Excel template.
type rosterColumn struct {
	key, zh, note string
}

var rosterTemplateColumns = []rosterColumn{
	{"region_code", "乡镇代码", "9 位乡镇（街道）代码；空白表示本人所在乡镇"},
	{"name", "主体名称", "必填"},
	{"kind", "主体类型", "企业 / 合作社 / 家庭农场 / 屠宰厂 / 个人（或 enterprise 等英文值）"},
	{"credit_code", "统一社会信用代码", "个人可空"},
	{"id_number", "身份证号码", "个人或法定代表人；加密保存"},
	{"village", "村（社区）", ""},
	{"products", "主要产品", "多个产品用 、 分隔"},
	{"contact_name", "联系人", ""},
	{"phone", "联系电话", ""},
	{"leading_enterprise", "龙头企业", "国家级 / 省级 / 市级，非龙头企业留空"},
	{"demo_cooperative", "示范社", "是 / 否"},
	{"certified", "三品一标", "是 / 否"},
}

const rosterSheet = "名录"

// RosterTemplate writes the Excel template for roster imports: the header
// row (Chinese label and field key), one example row and a sheet of notes.
func RosterTemplate(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", rosterSheet); err != nil {
		return err
	}
	for i, c := range rosterTemplateColumns {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := f.SetCellStr(rosterSheet, cell, c.zh+" "+c.key); err != nil {
			return err
		}
		col, _ := excelize.ColumnNumberToName(i + 1)
		_ = f.SetColWidth(rosterSheet, col, col, 18)
	}
	notes := "填写说明"
	if _, err := f.NewSheet(notes); err != nil {
		return err
	}
	_ = f.SetCellStr(notes, "A1", "列 column")
	_ = f.SetCellStr(notes, "B1", "说明 notes")
	for i, c := range rosterTemplateColumns {
		_ = f.SetCellStr(notes, fmt.Sprintf("A%d", i+2), c.zh+" "+c.key)
		_ = f.SetCellStr(notes, fmt.Sprintf("B%d", i+2), c.note)
	}
	example := []string{"", "示例家庭农场", "家庭农场", "", SampleResidentID("370686", "19800101", 1), "某某村", "苹果", "张三", "13800000000", "", "否", "是"}
	base := len(rosterTemplateColumns) + 3
	_ = f.SetCellStr(notes, fmt.Sprintf("A%d", base), "示例（请在“名录”工作表第 2 行起填写） example row")
	for i, v := range example {
		cell, _ := excelize.CoordinatesToCellName(i+1, base+1)
		_ = f.SetCellStr(notes, cell, v)
	}
	_ = f.SetColWidth(notes, "A", "B", 40)
	return f.Write(w)
}

// ImportRow is the outcome of one data row of an import.
type ImportRow struct {
	Row    int                   `json:"row" doc:"spreadsheet row number (the header is row 1)"`
	Name   string                `json:"name"`
	Status string                `json:"status" doc:"valid | error | imported | skipped"`
	Errors []platform.FieldError `json:"errors,omitempty"`
	ID     int64                 `json:"id,omitempty"`
}

// ImportReport says what happened to every row of a roster file.
type ImportReport struct {
	Total    int         `json:"total"`
	Valid    int         `json:"valid"`
	Invalid  int         `json:"invalid"`
	Imported int         `json:"imported"`
	Rows     []ImportRow `json:"rows"`
}

// MaxImportRows bounds one roster file.
const MaxImportRows = 5000

// ImportRoster reads an .xlsx roster (the template's columns, matched by
// header) and reports on every row. If any row has errors nothing is
// imported (422 with the report) unless importValid is set, in which case
// the valid rows are imported and the others reported as skipped.
func (s *Service) ImportRoster(ctx context.Context, actor *auth.Actor, r io.Reader, importValid bool) (ImportReport, error) {
	if err := auth.Authorize(actor, auth.ActRosterWrite, auth.Resource{}); err != nil {
		return ImportReport{}, err
	}
	sheet, err := readRosterSheet(r)
	if err != nil {
		return ImportReport{}, err
	}
	rep, inputs, err := s.checkRosterRows(ctx, actor, sheet)
	if err != nil {
		return ImportReport{}, err
	}
	rep.Total = len(rep.Rows)
	if rep.Total == 0 {
		return rep, platform.Invalid(platform.FieldError{Field: "file", Code: "empty", ZH: "文件中没有数据行", EN: "the file has no data rows"})
	}
	if rep.Invalid > 0 && !importValid {
		return rep, rosterRefusal(rep)
	}
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		return s.importRosterTx(ctx, tx, actor, &rep, inputs)
	})
	if err != nil {
		return ImportReport{}, err
	}
	return rep, nil
}

// rosterRows is an uploaded roster's data rows and where each template
// column is.
type rosterRows struct {
	data [][]string
	col  map[string]int
}

// get is a row's value of a template column ("" if the file lacks it).
func (sh rosterRows) get(row []string, key string) string {
	i, ok := sh.col[key]
	if !ok || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

// readRosterSheet reads the roster sheet of an .xlsx (the template's, else
// the first) and maps its header to the template's columns.
func readRosterSheet(r io.Reader) (rosterRows, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return rosterRows{}, platform.Unsupported("无法读取 Excel 文件，请使用下载的 .xlsx 模板", "cannot read the file as .xlsx; use the downloadable template")
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return rosterRows{}, platform.Invalid(platform.FieldError{Field: "file", Code: "empty", ZH: "文件中没有工作表", EN: "the file has no sheet"})
	}
	sheet := sheets[0]
	for _, sh := range sheets {
		if sh == rosterSheet {
			sheet = sh
		}
	}
	rows, err := f.GetRows(sheet)
	if err != nil {
		return rosterRows{}, platform.Invalid(platform.FieldError{Field: "file", Code: "unreadable", ZH: "无法读取工作表", EN: "cannot read the sheet"})
	}
	if len(rows) == 0 {
		return rosterRows{}, platform.Invalid(platform.FieldError{Field: "file", Code: "empty", ZH: "文件为空", EN: "the file is empty"})
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		h = strings.TrimSpace(h)
		for _, c := range rosterTemplateColumns {
			if h == c.key || h == c.zh || strings.HasSuffix(h, " "+c.key) || strings.HasPrefix(h, c.zh+" ") {
				col[c.key] = i
			}
		}
	}
	if _, ok := col["name"]; !ok {
		return rosterRows{}, platform.Invalid(platform.FieldError{Field: "file", Code: "header",
			ZH: "第 1 行应为模板的表头（至少包含“主体名称 name”列）", EN: "row 1 must be the template's header (at least the \"name\" column)"})
	}
	if len(rows)-1 > MaxImportRows {
		return rosterRows{}, platform.Invalid(platform.FieldError{Field: "file", Code: "too_many",
			ZH: fmt.Sprintf("一次最多导入 %d 行", MaxImportRows), EN: fmt.Sprintf("at most %d rows per file", MaxImportRows)})
	}
	return rosterRows{data: rows[1:], col: col}, nil
}

// checkRosterRows checks every non-blank row (fields, jurisdiction,
// duplicates within the file and against the roster) and returns the
// report and the valid rows' inputs by their place in the report.
func (s *Service) checkRosterRows(ctx context.Context, actor *auth.Actor, sh rosterRows) (ImportReport, map[int]RosterInput, error) {
	rep := ImportReport{Rows: []ImportRow{}}
	inputs := map[int]RosterInput{}
	seenCredit, seenID := map[string]int{}, map[string]int{}
	for i, row := range sh.data {
		if strings.TrimSpace(strings.Join(row, "")) == "" {
			continue
		}
		get := func(key string) string { return sh.get(row, key) }
		in := RosterInput{RegionCode: get("region_code"), Name: get("name"), Kind: get("kind"), CreditCode: get("credit_code"),
			IDNumber: get("id_number"), Village: get("village"), Products: []string{get("products")}, ContactName: get("contact_name"),
			Phone: get("phone"), LeadingEnterprise: get("leading_enterprise")}
		var v platform.Validator
		var ok bool
		if in.DemoCooperative, ok = parseBool(get("demo_cooperative")); !ok {
			v.Add("demo_cooperative", "format", "请填写“是”或“否”", "must be yes or no (是/否)")
		}
		if in.Certified, ok = parseBool(get("certified")); !ok {
			v.Add("certified", "format", "请填写“是”或“否”", "must be yes or no (是/否)")
		}
		in.normalize(actor)
		s.validateRoster(ctx, &v, &in)
		if in.RegionCode != "" {
			if err := auth.Authorize(actor, auth.ActRosterWrite, auth.Resource{Region: in.RegionCode}); err != nil {
				v.Add("region_code", "jurisdiction", "不在您的管辖范围内", "outside your jurisdiction")
			}
		}
		line := i + 2 // the row's number in the spreadsheet (row 1 is the header)
		switch {
		case in.CreditCode != "":
			if prev, dup := seenCredit[in.CreditCode]; dup {
				v.Add("credit_code", "duplicate", fmt.Sprintf("与第 %d 行重复", prev), fmt.Sprintf("same as row %d", prev))
			} else {
				seenCredit[in.CreditCode] = line
			}
		case in.IDNumber != "":
			if prev, dup := seenID[in.IDNumber]; dup {
				v.Add("id_number", "duplicate", fmt.Sprintf("与第 %d 行重复", prev), fmt.Sprintf("same as row %d", prev))
			} else {
				seenID[in.IDNumber] = line
			}
		}
		if len(v.Fields()) == 0 {
			if dupField, err := s.rosterDuplicate(ctx, in); err != nil {
				return ImportReport{}, nil, err
			} else if dupField != "" {
				v.Add(dupField, "duplicate", "名录中已有该主体", "already in the roster")
			}
		}
		ir := ImportRow{Row: line, Name: in.Name, Status: "valid", Errors: v.Fields()}
		if len(ir.Errors) > 0 {
			ir.Status = "error"
			rep.Invalid++
		} else {
			rep.Valid++
			inputs[len(rep.Rows)] = in
		}
		rep.Rows = append(rep.Rows, ir)
	}
	return rep, inputs, nil
}

// rosterRefusal refuses a file with invalid rows (nothing imported), each
// row's errors named rows[<row>].<field>, the report attached.
func rosterRefusal(rep ImportReport) error {
	var fields []platform.FieldError
	for _, r := range rep.Rows {
		for _, fe := range r.Errors {
			fe.Field = fmt.Sprintf("rows[%d].%s", r.Row, fe.Field)
			fields = append(fields, fe)
		}
	}
	e := platform.Invalid(fields...)
	e.ZH = fmt.Sprintf("%d 行有错误，未导入任何数据；请修改后重新上传，或选择“仅导入正确的行”", rep.Invalid)
	e.EN = fmt.Sprintf("%d rows have errors; nothing was imported. Fix them and upload again, or choose \"import valid rows\"", rep.Invalid)
	return e.With("report", rep)
}

// importRosterTx writes the valid rows inside tx and marks the others skipped.
func (s *Service) importRosterTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, rep *ImportReport, inputs map[int]RosterInput) error {
	for i := range rep.Rows {
		in, ok := inputs[i]
		if !ok {
			rep.Rows[i].Status = "skipped"
			continue
		}
		id, err := s.insertRoster(ctx, tx, actor, in)
		if err != nil {
			return fmt.Errorf("row %d: %w", rep.Rows[i].Row, err)
		}
		rep.Rows[i].Status, rep.Rows[i].ID = "imported", id
		rep.Imported++
	}
	return tx.Emit(ctx, platform.Event{Action: "roster.import", ResourceType: "roster", ResourceID: actor.Region,
		Data: map[string]any{"total": rep.Total, "imported": rep.Imported, "skipped": rep.Invalid}})
}

// rosterDuplicate reports the field on which in duplicates an existing entry.
func (s *Service) rosterDuplicate(ctx context.Context, in RosterInput) (string, error) {
	var n int
	if in.CreditCode != "" {
		if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM roster_entries WHERE credit_code = $1`, in.CreditCode).Scan(&n); err != nil {
			return "", err
		}
		if n > 0 {
			return "credit_code", nil
		}
		return "", nil
	}
	if in.IDNumber != "" {
		h, err := s.IDNumberHash(ctx, in.IDNumber)
		if err != nil {
			return "", err
		}
		if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM roster_entries WHERE id_number_hash = $1 AND credit_code = ''`, h).Scan(&n); err != nil {
			return "", err
		}
		if n > 0 {
			return "id_number", nil
		}
	}
	return "", nil
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "否", "no", "n", "false", "0", "无":
		return false, true
	case "是", "yes", "y", "true", "1", "有":
		return true, true
	}
	return false, false
}
