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

func (s *Service) listQuery(actor *auth.Actor, f ListFilter, columns string) (string, []any) {
	q := `SELECT ` + columns + ` FROM operators WHERE region_code LIKE $1 AND ($2 = '' OR status = $2)
		AND ($3 = '' OR name LIKE $3 OR code LIKE $3 OR credit_code LIKE $3) AND ($4 = '' OR kind = $4) AND ($5 = '' OR category = $5)
		AND ($6 = '' OR products LIKE $6) AND ($7 = 0 OR id = $7)`
	switch f.Flag {
	case "leading":
		q += ` AND leading_enterprise IS NOT NULL`
	case "demo":
		q += ` AND demo_cooperative`
	case "certified":
		q += ` AND certifications <> '[]'`
	case "key":
		q += ` AND (leading_enterprise IS NOT NULL OR demo_cooperative OR certifications <> '[]')`
	}
	var opID int64
	if actor != nil && actor.OperatorID != 0 {
		opID = actor.OperatorID
	}
	q += ` ORDER BY county_code, id`
	return q, []any{auth.RegionPrefix(f.Region) + "%", f.Status, likePattern(f.Q), f.Kind, f.Category, likePattern(f.Product), opID}
}

func (s *Service) authorizeList(actor *auth.Actor, f *ListFilter, act auth.Action) error {
	f.Q, f.Region = strings.TrimSpace(f.Q), strings.TrimSpace(f.Region)
	if f.Region == "" && actor != nil && actor.OperatorID == 0 {
		f.Region = actor.Region
	}
	res := auth.Resource{Region: f.Region}
	if actor != nil && actor.OperatorID != 0 {
		res = auth.Resource{OperatorID: actor.OperatorID}
	}
	return auth.Authorize(actor, act, res)
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
	q, args := s.listQuery(actor, f, operatorColumns)
	q += fmt.Sprintf(` LIMIT %d OFFSET %d`, f.Limit, max(f.Offset, 0))
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
	q, args := s.listQuery(actor, f, operatorColumns)
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
