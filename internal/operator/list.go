package operator

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/printing"
)

// ListFilter narrows List and Export.
type ListFilter struct {
	Region   string // subtree; default the actor's jurisdiction
	Status   string
	Q        string // name, operator code or credit code contains
	Kind     string
	Category string
	Product  string
	Flag     string // leading | demo | certified | key
	Limit    int
	Offset   int
}

// operatorScope are the columns of operators a list scope is checked against.
var operatorScope = auth.Columns{Region: []string{"region_code"}, Operator: []string{"id"}}

func (s *Service) listQuery(actor *auth.Actor, f ListFilter, act auth.Action, columns string) (string, []any) {
	w := auth.NewWhere()
	w.Scope(auth.ListScope(actor, act), operatorScope)
	w.Region("region_code", f.Region)
	if f.Status != "" {
		w.Add("status = " + w.Arg(f.Status))
	}
	if q := likePattern(f.Q); q != "" {
		like := w.Arg(q)
		w.Add("(name LIKE " + like + " OR code LIKE " + like + " OR credit_code LIKE " + like + ")")
	}
	if f.Kind != "" {
		w.Add("kind = " + w.Arg(f.Kind))
	}
	if f.Category != "" {
		w.Add("category = " + w.Arg(f.Category))
	}
	if p := likePattern(f.Product); p != "" {
		w.Add("products LIKE " + w.Arg(p))
	}
	switch f.Flag {
	case "leading":
		w.Add(`leading_enterprise IS NOT NULL`)
	case "demo":
		w.Add(`demo_cooperative`)
	case "certified":
		w.Add(`certifications <> '[]'`)
	case "key":
		w.Add(`(leading_enterprise IS NOT NULL OR demo_cooperative OR certifications <> '[]')`)
	}
	return `SELECT ` + columns + ` FROM operators` + w.SQL() + ` ORDER BY county_code, id`, w.Args()
}

// authorizeList checks the filter's region against the actor's reach (404
// outside it); the rows themselves are kept in reach by listQuery's scope.
func (s *Service) authorizeList(actor *auth.Actor, f *ListFilter, act auth.Action) error {
	f.Q, f.Region = strings.TrimSpace(f.Q), strings.TrimSpace(f.Region)
	if sc := auth.ListScope(actor, act); sc.Kind == auth.ScopeOperator {
		f.Region = "" // an operator's own record, wherever it is
		return nil
	} else if err := sc.Err(actor, act); err != nil {
		return err
	}
	return auth.Authorize(actor, act, auth.Resource{Region: f.Region})
}

// List returns the operators in the actor's jurisdiction matching f (an
// operator's or staff account sees only its own operator).
func (s *Service) List(ctx context.Context, actor *auth.Actor, f ListFilter) ([]Operator, error) {
	if err := s.authorizeList(actor, &f, auth.ActOperatorRead); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	q, args := s.listQuery(actor, f, auth.ActOperatorRead, operatorColumns)
	q += fmt.Sprintf(` LIMIT $%d OFFSET $%d`, len(args)+1, len(args)+2)
	args = append(args, f.Limit, max(f.Offset, 0))
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	today := s.today()
	out := []Operator{}
	for rows.Next() {
		o, err := scanOperator(rows, today)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

var exportHeader = []any{"主体编码 operator_code", "名称 name", "主体类型 kind", "主体类别 category", "统一社会信用代码 credit_code",
	"行政区划 region_code", "地区 region", "地址 address", "主要产品 products", "年产量 annual_output", "龙头企业 leading_enterprise",
	"示范社 demo_cooperative", "三品一标 certifications", "联系人 contact_name", "联系电话 phone (masked)", "状态 status",
	"提交时间 submitted_at", "审核期限 review_due", "通过时间 approved_at"}

// Export writes the operators matching f as an .xlsx sheet (streamed).
// Personal numbers appear masked only.
func (s *Service) Export(ctx context.Context, actor *auth.Actor, f ListFilter, w io.Writer) error {
	if err := s.authorizeList(actor, &f, auth.ActOperatorExport); err != nil {
		return err
	}
	q, args := s.listQuery(actor, f, auth.ActOperatorExport, operatorColumns)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	x := excelize.NewFile()
	defer x.Close()
	sheet := "主体 operators"
	if err := x.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := x.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, len(exportHeader), 18); err != nil {
		return err
	}
	if err := sw.SetRow("A1", exportHeader); err != nil {
		return err
	}
	today := s.today()
	names := map[string]string{}
	n := 1
	for rows.Next() {
		o, err := scanOperator(rows, today)
		if err != nil {
			return err
		}
		rn, ok := names[o.RegionCode]
		if !ok {
			rn = s.RegionName(ctx, o.RegionCode)
			names[o.RegionCode] = rn
		}
		demo := "否"
		if o.DemoCooperative {
			demo = "是"
		}
		n++
		cell, _ := excelize.CoordinatesToCellName(1, n)
		if err := sw.SetRow(cell, []any{o.Code, o.Name, printing.KindLabel(o.Kind), printing.KindLabel(o.Category), o.CreditCode,
			o.RegionCode, rn, o.Address, strings.Join(o.Products, "、"), fmtFloat(o.AnnualOutput, o.AnnualOutputUnit), o.LeadingEnterprise,
			demo, fmtCerts(o.Certifications), o.ContactName, o.PhoneMasked, o.Status, fmtTime(o.SubmittedAt), o.ReviewDue, fmtTime(o.ApprovedAt)}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return x.Write(w)
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(platform.ChinaTZ).Format("2006-01-02 15:04")
}
