package operator

// Operators imported from another platform (the standard import,
// internal/exchange/port): the basic record of NY/T 4712 — who the
// operator is, where, under which code — as the platform that registered
// and reviewed it exchanges it. The record keeps its operator code (the
// natural key of the exchange); its review happened on that platform, so
// it arrives with its status (approved, suspended, cancelled, or a
// smallholder's temporary code) and without documents or decisions.

import (
	"context"
	"fmt"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/platform"
	"agtrace/internal/region"
)

// CategoryTemporary is the category of a smallholder's temporary code
// (issued, never registered under).
const CategoryTemporary = "temporary"

// ImportStatuses are the statuses an imported operator may have: only
// operators with a code are exchanged.
var ImportStatuses = []string{StatusApproved, StatusSuspended, StatusCancelled, StatusTemporary}

// Imported is an operator record as it is exchanged. Personal numbers come
// either in clear (IDNumber, Phone: validated and sealed here) or as the
// masked copies another node exported (kept for display only; such an
// operator cannot be matched by ID number or phone here).
type Imported struct {
	Code              string
	Name              string
	Kind              string
	Category          string
	CreditCode        string
	IDNumber          string
	IDNumberMasked    string
	LegalRep          string
	ContactName       string
	Phone             string
	PhoneMasked       string
	RegionCode        string
	Address           string
	Products          []string
	LeadingEnterprise string
	DemoCooperative   bool
	Certifications    []Certification
	Status            string
}

// ImportRequest is a validated, sealed Imported: what ImportTx writes.
type ImportRequest struct {
	code   codes.OperatorCode
	status string
	st     stored
}

// RegionCode is where the operator is registered.
func (r ImportRequest) RegionCode() string { return r.st.RegionCode }

// PrepareImport validates an imported operator and seals its personal
// numbers (before the writing transaction: sealing may create the
// matching key). Field names are the exchange row's.
func (s *Service) PrepareImport(ctx context.Context, in Imported) (ImportRequest, error) {
	var v platform.Validator
	d := Details{Name: in.Name, Kind: in.Kind, Category: in.Category, CreditCode: in.CreditCode, IDNumber: in.IDNumber, LegalRep: in.LegalRep,
		ContactName: in.ContactName, Phone: in.Phone, RegionCode: in.RegionCode, Address: in.Address, Products: in.Products,
		LeadingEnterprise: in.LeadingEnterprise, DemoCooperative: in.DemoCooperative, Certifications: in.Certifications}
	d.normalize()
	status := strings.TrimSpace(in.Status)
	v.OneOf("status", status, ImportStatuses...)
	temporary := d.Category == CategoryTemporary
	v.Check(temporary == (status == StatusTemporary), "status", "temporary", "临时主体的状态为 temporary，其他主体不能为 temporary",
		"a temporary operator has status temporary, and only it")
	oc, err := codes.ParseOperatorCode(in.Code)
	if err != nil {
		addCodeErr(&v, "operator_code", err)
	} else {
		if d.Category != "" && oc.Category.String() != d.Category {
			v.Add("operator_code", "category", "主体编码的类别位与主体类别不符", "the code's category digit does not match the category")
		}
		if d.RegionCode != "" && oc.County != region.CountyOf(d.RegionCode) {
			v.Add("operator_code", "county", "主体编码的县级代码与主体所在县不符", "the code's county digits do not match the operator's county")
		}
	}
	s.validateImported(ctx, &v, &d, temporary)
	masked := func(field, m string) string {
		m = strings.TrimSpace(m)
		v.MaxLen(field, m, 40)
		v.Check(m == "" || strings.Count(m, "*") >= 3, field, "not_masked", "只接受脱敏后的号码（含 *）；完整号码请填在对应的明文字段",
			"only a masked number (with *) is accepted here; give the full number in the clear field")
		return m
	}
	idMasked, phoneMasked := masked("id_number_masked", in.IDNumberMasked), masked("phone_masked", in.PhoneMasked)
	if err := v.Err(); err != nil {
		return ImportRequest{}, err
	}
	st, err := s.seal(ctx, d)
	if err != nil {
		return ImportRequest{}, err
	}
	if st.IDNumber.Masked == "" {
		st.IDNumber.Masked = idMasked
	}
	if st.Phone.Masked == "" {
		st.Phone.Masked = phoneMasked
	}
	return ImportRequest{code: oc, status: status, st: st}, nil
}

// validateImported checks the details as registration does, except that
// personal numbers are optional (an exchanged record carries them masked)
// and a temporary operator is an individual.
func (s *Service) validateImported(ctx context.Context, v *platform.Validator, d *Details, temporary bool) {
	if temporary {
		v.Check(d.Kind == KindIndividual, "kind", "not_allowed", "临时主体为个人（individual）", "a temporary operator is an individual")
	}
	var sub platform.Validator
	cat := *d
	if temporary {
		cat.Category = CategoryProducer // validate checks the registrable categories
	}
	if cat.IDNumber == "" {
		cat.IDNumber = "-" // optional here; checked below when given
	}
	if cat.Phone == "" {
		cat.Phone = "0000000"
	}
	if temporary && cat.LegalRep == "" {
		cat.LegalRep = "-"
	}
	s.validate(ctx, &sub, &cat, "")
	for _, f := range sub.Fields() {
		if f.Field == "id_number" && d.IDNumber == "" {
			continue
		}
		v.Add(f.Field, f.Code, f.ZH, f.EN)
	}
}

// ImportTx writes an imported operator inside tx (the import's
// transaction). The code must be new (the caller compares a record that
// exists with what is recorded); the county's operator sequence is raised
// to the code's serial so this node never issues it again.
func (s *Service) ImportTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, r ImportRequest) (int64, error) {
	st := r.st
	if err := auth.Authorize(actor, auth.ActExchangeImport, auth.Resource{Region: st.RegionCode}); err != nil {
		return 0, err
	}
	if taken, err := s.creditTaken(ctx, tx, st.CreditCode, 0); err != nil {
		return 0, err
	} else if taken {
		return 0, errCreditTaken.With("field", "credit_code")
	}
	now := tx.Now()
	lat, lng := st.latLng()
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO operators (code, name, kind, category, credit_code, id_number_enc, id_number_hash, id_number_masked,
		legal_rep, contact_name, phone_enc, phone_masked, phone_hash, region_code, county_code, address, lat, lng, products,
		annual_output, annual_output_unit, leading_enterprise, demo_cooperative, certifications, status, approved_at, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $26, $26)
		RETURNING id`,
		r.code.Code, st.Name, st.Kind, st.Category, platform.NullString(st.CreditCode), st.IDNumber.Enc, st.IDNumber.Hash, st.IDNumber.Masked,
		st.LegalRep, st.ContactName, st.Phone.Enc, st.Phone.Masked, st.Phone.Hash, st.RegionCode, st.CountyCode, st.Address, lat, lng,
		jsonText(st.Products), nullFloat(st.AnnualOutput), st.AnnualOutputUnit, platform.NullString(st.LeadingEnterprise),
		st.DemoCooperative, jsonText(st.Certifications), r.status, now, platform.NullInt(actor.UserID)).Scan(&id)
	if platform.IsUniqueViolation(err) {
		return 0, platform.Conflict("主体编码或统一社会信用代码已存在", "the operator code or credit code is already recorded").With("field", "operator_code")
	}
	if err != nil {
		return 0, fmt.Errorf("insert imported operator: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO code_sequences (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = CASE WHEN code_sequences.value < $2 THEN $2 ELSE code_sequences.value END`,
		"operator:"+r.code.County, r.code.Serial); err != nil {
		return 0, err
	}
	if err := linkRoster(ctx, tx, id, st); err != nil {
		return 0, err
	}
	return id, tx.Emit(ctx, platform.Event{Action: "operator.import", ResourceType: "operator", ResourceID: fmt.Sprint(id),
		Data: map[string]any{"operator_code": r.code.Code, "name": st.Name, "kind": st.Kind, "category": st.Category,
			"region_code": st.RegionCode, "status": r.status}})
}
