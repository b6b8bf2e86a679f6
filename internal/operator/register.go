package operator

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/platform"
	"agtrace/internal/region"
)

// Details are the operator's own details, as filled in at registration, in
// a draft edit or in a change request. Personal numbers are given in clear
// here and stored encrypted.
type Details struct {
	Name              string          `json:"name"`
	Kind              string          `json:"kind" doc:"enterprise | cooperative | family_farm | slaughterhouse | individual (suggested from the credit code prefix 91/92/93 when empty)"`
	Category          string          `json:"category" doc:"producer | trader | producer_trader | input_supplier"`
	CreditCode        string          `json:"credit_code" doc:"统一社会信用代码 (GB 32100); required except for individuals"`
	IDNumber          string          `json:"id_number" doc:"身份证号 of the individual or of the legal representative (GB 11643); stored encrypted"`
	LegalRep          string          `json:"legal_rep"`
	ContactName       string          `json:"contact_name"`
	Phone             string          `json:"phone"`
	RegionCode        string          `json:"region_code" doc:"county or township code"`
	Address           string          `json:"address"`
	Location          *Location       `json:"location,omitempty"`
	Products          []string        `json:"products"`
	AnnualOutput      *float64        `json:"annual_output,omitempty"`
	AnnualOutputUnit  string          `json:"annual_output_unit"`
	LeadingEnterprise string          `json:"leading_enterprise" doc:"national | provincial | municipal | empty"`
	DemoCooperative   bool            `json:"demo_cooperative"`
	Certifications    []Certification `json:"certifications"`
}

// Registration is a self-registration: the main account and the operator.
type Registration struct {
	Username string  `json:"username"`
	Password string  `json:"password"`
	Phone    string  `json:"phone"`
	Operator Details `json:"operator"`
}

// stored are validated details in the form they are written.
type stored struct {
	Name              string          `json:"name"`
	Kind              string          `json:"kind"`
	Category          string          `json:"category"`
	CreditCode        string          `json:"credit_code"`
	IDNumber          sealed          `json:"id_number"`
	LegalRep          string          `json:"legal_rep"`
	ContactName       string          `json:"contact_name"`
	Phone             sealed          `json:"phone"`
	RegionCode        string          `json:"region_code"`
	CountyCode        string          `json:"county_code"`
	Address           string          `json:"address"`
	Location          *Location       `json:"location,omitempty"`
	Products          []string        `json:"products"`
	AnnualOutput      *float64        `json:"annual_output,omitempty"`
	AnnualOutputUnit  string          `json:"annual_output_unit"`
	LeadingEnterprise string          `json:"leading_enterprise"`
	DemoCooperative   bool            `json:"demo_cooperative"`
	Certifications    []Certification `json:"certifications"`
}

func (d *Details) normalize() {
	d.Name = strings.TrimSpace(d.Name)
	d.Kind = strings.TrimSpace(d.Kind)
	d.Category = strings.TrimSpace(d.Category)
	d.CreditCode = codes.NormalizeUSCC(d.CreditCode)
	d.IDNumber = codes.NormalizeResidentID(d.IDNumber)
	d.LegalRep = strings.TrimSpace(d.LegalRep)
	d.ContactName = strings.TrimSpace(d.ContactName)
	d.Phone = strings.TrimSpace(d.Phone)
	d.RegionCode = strings.TrimSpace(d.RegionCode)
	d.Address = strings.TrimSpace(d.Address)
	d.AnnualOutputUnit = strings.TrimSpace(d.AnnualOutputUnit)
	d.LeadingEnterprise = strings.TrimSpace(d.LeadingEnterprise)
	var prods []string
	for _, p := range d.Products {
		for _, x := range splitList(p) {
			prods = append(prods, x)
		}
	}
	d.Products = prods
	if d.Kind == "" && d.CreditCode != "" {
		d.Kind = codes.USCCSuggestedKind(d.CreditCode)
	}
}

// splitList splits "苹果、梨, 桃" into its items.
func splitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' || r == '\n'
	})
	var out []string
	for _, x := range f {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// validate checks d (already normalized); field names get prefix.
func (s *Service) validate(ctx context.Context, v *platform.Validator, d *Details, prefix string) {
	f := func(name string) string { return prefix + name }
	if v.Require(f("name"), d.Name) {
		v.MaxLen(f("name"), d.Name, 100)
	}
	if v.Require(f("kind"), d.Kind) {
		v.OneOf(f("kind"), d.Kind, Kinds...)
	}
	if v.Require(f("category"), d.Category) {
		v.OneOf(f("category"), d.Category, Categories...)
	}
	if d.CreditCode == "" {
		if d.Kind != "individual" {
			v.Add(f("credit_code"), "required", "除个人外必须填写统一社会信用代码", "is required except for individuals")
		}
	} else if err := codes.ValidateUSCC(d.CreditCode); err != nil {
		addCodeErr(v, f("credit_code"), err)
	}
	if d.IDNumber == "" {
		v.Add(f("id_number"), "required", "必须填写个人或法定代表人的身份证号码", "the ID number of the individual or the legal representative is required")
	} else if err := codes.ValidateResidentID(d.IDNumber, s.clock.Now().In(platform.ChinaTZ)); err != nil {
		addCodeErr(v, f("id_number"), err)
	}
	if d.Kind != "individual" {
		v.Require(f("legal_rep"), d.LegalRep)
	}
	v.MaxLen(f("legal_rep"), d.LegalRep, 50)
	v.MaxLen(f("contact_name"), d.ContactName, 50)
	if v.Require(f("phone"), d.Phone) {
		n := NormalizePhone(d.Phone)
		v.Check(len(n) >= 7 && len(n) <= 15, f("phone"), "format", "电话号码格式不正确", "phone number must have 7–15 digits")
	}
	if v.Require(f("region_code"), d.RegionCode) {
		r, err := s.regions.Get(ctx, d.RegionCode)
		switch {
		case err != nil:
			v.Add(f("region_code"), "unknown", "行政区划代码不存在", "unknown region code")
		case r.Level != region.LevelName[region.LevelCounty] && r.Level != region.LevelName[region.LevelTownship]:
			v.Add(f("region_code"), "level", "请选择县（市、区）或乡镇（街道）", "must be a county or a township")
		}
	}
	v.MaxLen(f("address"), d.Address, 200)
	if d.Location != nil {
		v.Check(d.Location.Lat >= -90 && d.Location.Lat <= 90 && d.Location.Lng >= -180 && d.Location.Lng <= 180 &&
			!(d.Location.Lat == 0 && d.Location.Lng == 0), f("location"), "range", "经纬度超出范围", "latitude/longitude out of range")
	}
	v.Check(len(d.Products) <= 50, f("products"), "too_many", "产品最多 50 项", "at most 50 products")
	for _, p := range d.Products {
		if !v.MaxLen(f("products"), p, 50) {
			break
		}
	}
	if d.AnnualOutput != nil {
		if v.Check(!math.IsNaN(*d.AnnualOutput) && !math.IsInf(*d.AnnualOutput, 0), f("annual_output"), "format", "年产量请填写数字", "the annual output must be a number") {
			v.Check(*d.AnnualOutput >= 0, f("annual_output"), "range", "年产量不能为负数", "annual output must not be negative")
		}
		v.Check(d.AnnualOutputUnit != "", f("annual_output_unit"), "required", "填写年产量时必须填写单位", "a unit is required with the annual output")
	}
	v.MaxLen(f("annual_output_unit"), d.AnnualOutputUnit, 20)
	if d.LeadingEnterprise != "" {
		v.OneOf(f("leading_enterprise"), d.LeadingEnterprise, LeadingLevels...)
	}
	for i, c := range d.Certifications {
		p := fmt.Sprintf("%scertifications[%d].", prefix, i)
		if v.Require(p+"kind", c.Kind) {
			v.OneOf(p+"kind", c.Kind, CertKinds...)
		}
		if v.Require(p+"number", c.Number) {
			v.MaxLen(p+"number", c.Number, 64)
		}
		if c.ValidUntil != "" {
			_, err := time.Parse(time.DateOnly, c.ValidUntil)
			v.Check(err == nil, p+"valid_until", "format", "日期格式应为 YYYY-MM-DD", "must be a date YYYY-MM-DD")
		}
	}
}

func addCodeErr(v *platform.Validator, field string, err error) {
	if ce, ok := err.(*codes.Error); ok {
		v.Add(field, ce.Code, ce.ZH, ce.EN)
		return
	}
	v.Add(field, "format", "格式错误", err.Error())
}

// seal turns validated details into their stored form.
func (s *Service) seal(ctx context.Context, d Details) (stored, error) {
	id, err := s.sealIDNumber(ctx, d.IDNumber)
	if err != nil {
		return stored{}, err
	}
	ph, err := s.sealPhone(ctx, d.Phone)
	if err != nil {
		return stored{}, err
	}
	if d.Products == nil {
		d.Products = []string{}
	}
	if d.Certifications == nil {
		d.Certifications = []Certification{}
	}
	return stored{Name: d.Name, Kind: d.Kind, Category: d.Category, CreditCode: d.CreditCode, IDNumber: id, LegalRep: d.LegalRep,
		ContactName: d.ContactName, Phone: ph, RegionCode: d.RegionCode, CountyCode: region.CountyOf(d.RegionCode), Address: d.Address,
		Location: d.Location, Products: d.Products, AnnualOutput: d.AnnualOutput, AnnualOutputUnit: d.AnnualOutputUnit,
		LeadingEnterprise: d.LeadingEnterprise, DemoCooperative: d.DemoCooperative, Certifications: d.Certifications}, nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func nullFloat(p *float64) sql.NullFloat64 {
	if p == nil {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: *p, Valid: true}
}

func (st stored) latLng() (sql.NullFloat64, sql.NullFloat64) {
	if st.Location == nil {
		return sql.NullFloat64{}, sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: st.Location.Lat, Valid: true}, sql.NullFloat64{Float64: st.Location.Lng, Valid: true}
}

var errCreditTaken = platform.Conflict("该统一社会信用代码已注册", "this unified social credit code is already registered")

// writeDetails stores st on operator id (used by drafts and approved changes).
func writeDetails(ctx context.Context, tx *platform.Tx, id int64, st stored) error {
	lat, lng := st.latLng()
	_, err := tx.Exec(ctx, `UPDATE operators SET name = $1, kind = $2, category = $3, credit_code = $4,
		id_number_enc = $5, id_number_hash = $6, id_number_masked = $7, legal_rep = $8, contact_name = $9,
		phone_enc = $10, phone_masked = $11, phone_hash = $12, region_code = $13, county_code = $14, address = $15,
		lat = $16, lng = $17, products = $18, annual_output = $19, annual_output_unit = $20, leading_enterprise = $21,
		demo_cooperative = $22, certifications = $23, updated_at = $24 WHERE id = $25`,
		st.Name, st.Kind, st.Category, platform.NullString(st.CreditCode),
		st.IDNumber.Enc, st.IDNumber.Hash, st.IDNumber.Masked, st.LegalRep, st.ContactName,
		st.Phone.Enc, st.Phone.Masked, st.Phone.Hash, st.RegionCode, st.CountyCode, st.Address,
		lat, lng, jsonText(st.Products), nullFloat(st.AnnualOutput), st.AnnualOutputUnit, platform.NullString(st.LeadingEnterprise),
		st.DemoCooperative, jsonText(st.Certifications), tx.Now(), id)
	if platform.IsUniqueViolation(err) {
		return errCreditTaken.With("field", "credit_code")
	}
	return err
}

func (s *Service) creditTaken(ctx context.Context, q platform.Querier, credit string, except int64) (bool, error) {
	if credit == "" {
		return false, nil
	}
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM operators WHERE credit_code = $1 AND id <> $2`, credit, except).Scan(&n)
	return n > 0, err
}

// Register creates a draft operator and its main account (role operator,
// region = the operator's region), which can log in at once to complete the
// draft, upload documents and submit. No actor is needed.
func (s *Service) Register(ctx context.Context, in Registration) (Operator, auth.User, error) {
	in.Operator.normalize()
	if in.Operator.Phone == "" {
		in.Operator.Phone = strings.TrimSpace(in.Phone)
	}
	var v platform.Validator
	for _, fe := range auth.ValidateNewUser(auth.NewUser{Username: strings.TrimSpace(in.Username), Password: in.Password,
		Role: string(auth.RoleOperator), RegionCode: "000000"}, "") {
		v.Add(fe.Field, fe.Code, fe.ZH, fe.EN)
	}
	if in.Phone != "" {
		n := NormalizePhone(in.Phone)
		v.Check(len(n) >= 7 && len(n) <= 15, "phone", "format", "电话号码格式不正确", "phone number must have 7–15 digits")
	}
	s.validate(ctx, &v, &in.Operator, "operator.")
	if err := v.Err(); err != nil {
		return Operator{}, auth.User{}, err
	}
	st, err := s.seal(ctx, in.Operator)
	if err != nil {
		return Operator{}, auth.User{}, err
	}
	var id int64
	var user auth.User
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		if taken, err := s.creditTaken(ctx, tx, st.CreditCode, 0); err != nil {
			return err
		} else if taken {
			return errCreditTaken.With("field", "operator.credit_code")
		}
		now := tx.Now()
		lat, lng := st.latLng()
		err := tx.QueryRow(ctx, `INSERT INTO operators (name, kind, category, credit_code, id_number_enc, id_number_hash, id_number_masked,
			legal_rep, contact_name, phone_enc, phone_masked, phone_hash, region_code, county_code, address, lat, lng, products,
			annual_output, annual_output_unit, leading_enterprise, demo_cooperative, certifications, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, 'draft', $24, $24)
			RETURNING id`,
			st.Name, st.Kind, st.Category, platform.NullString(st.CreditCode), st.IDNumber.Enc, st.IDNumber.Hash, st.IDNumber.Masked,
			st.LegalRep, st.ContactName, st.Phone.Enc, st.Phone.Masked, st.Phone.Hash, st.RegionCode, st.CountyCode, st.Address, lat, lng,
			jsonText(st.Products), nullFloat(st.AnnualOutput), st.AnnualOutputUnit, platform.NullString(st.LeadingEnterprise),
			st.DemoCooperative, jsonText(st.Certifications), now).Scan(&id)
		if platform.IsUniqueViolation(err) {
			return errCreditTaken.With("field", "operator.credit_code")
		}
		if err != nil {
			return fmt.Errorf("insert operator: %w", err)
		}
		user, err = s.users.CreateUserTx(ctx, tx, auth.NewUser{Username: strings.TrimSpace(in.Username), Password: in.Password,
			Name: st.Name, Role: string(auth.RoleOperator), RegionCode: st.RegionCode, OperatorID: id})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE operators SET owner_user_id = $1 WHERE id = $2`, user.ID, id); err != nil {
			return err
		}
		if err := linkRoster(ctx, tx, id, st); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "operator.register", ResourceType: "operator", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"name": st.Name, "kind": st.Kind, "category": st.Category, "region_code": st.RegionCode, "username": user.Username}})
	})
	if err != nil {
		return Operator{}, auth.User{}, err
	}
	o, err := s.ByID(ctx, id)
	return o, user, err
}

// Editable returns the operator's current details for editing (personal
// numbers decrypted: only the operator itself gets them).
func (s *Service) Editable(ctx context.Context, actor *auth.Actor, id int64) (Details, error) {
	o, err := s.readable(ctx, actor, id, auth.ActOperatorEdit)
	if err != nil {
		return Details{}, err
	}
	return s.details(ctx, o)
}

func (s *Service) details(ctx context.Context, o Operator) (Details, error) {
	var idEnc, phoneEnc string
	if err := s.db.QueryRow(ctx, `SELECT id_number_enc, phone_enc FROM operators WHERE id = $1`, o.ID).Scan(&idEnc, &phoneEnc); err != nil {
		return Details{}, err
	}
	idn, err := decrypt(s, idEnc, adIDNumber)
	if err != nil {
		return Details{}, err
	}
	ph, err := decrypt(s, phoneEnc, adPhone)
	if err != nil {
		return Details{}, err
	}
	return Details{Name: o.Name, Kind: o.Kind, Category: o.Category, CreditCode: o.CreditCode, IDNumber: idn, LegalRep: o.LegalRep,
		ContactName: o.ContactName, Phone: ph, RegionCode: o.RegionCode, Address: o.Address, Location: o.Location, Products: o.Products,
		AnnualOutput: o.AnnualOutput, AnnualOutputUnit: o.AnnualOutputUnit, LeadingEnterprise: o.LeadingEnterprise,
		DemoCooperative: o.DemoCooperative, Certifications: o.Certifications}, nil
}

// Update replaces the details of a draft or rejected registration (the
// operator's main account). Approved operators submit a change request instead.
func (s *Service) Update(ctx context.Context, actor *auth.Actor, id int64, d Details) (Operator, error) {
	o, err := s.readable(ctx, actor, id, auth.ActOperatorEdit)
	if err != nil {
		return Operator{}, err
	}
	if o.Status != StatusDraft && o.Status != StatusRejected {
		return Operator{}, platform.Conflict("只有草稿或被退回的申请可以修改；已通过的主体请提交变更申请",
			"only a draft or a rejected registration can be edited; an approved operator submits a change request").With("status", o.Status)
	}
	d.normalize()
	var v platform.Validator
	s.validate(ctx, &v, &d, "")
	if err := v.Err(); err != nil {
		return Operator{}, err
	}
	st, err := s.seal(ctx, d)
	if err != nil {
		return Operator{}, err
	}
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		cur, err := s.load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if cur.Status != StatusDraft && cur.Status != StatusRejected {
			return platform.Conflict("申请已提交，不能修改", "the registration was submitted meanwhile; it can no longer be edited")
		}
		if taken, err := s.creditTaken(ctx, tx, st.CreditCode, id); err != nil {
			return err
		} else if taken {
			return errCreditTaken.With("field", "credit_code")
		}
		if err := writeDetails(ctx, tx, id, st); err != nil {
			return err
		}
		if err := linkRoster(ctx, tx, id, st); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "operator.update", ResourceType: "operator", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"name": st.Name, "region_code": st.RegionCode}})
	})
	if err != nil {
		return Operator{}, err
	}
	return s.ByID(ctx, id)
}

// Submit sends a draft (or a corrected rejected registration) for review:
// status pending, review_due = submission date + 5 working days.
func (s *Service) Submit(ctx context.Context, actor *auth.Actor, id int64) (Operator, error) {
	if _, err := s.readable(ctx, actor, id, auth.ActOperatorEdit); err != nil {
		return Operator{}, err
	}
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		o, err := s.load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		switch o.Status {
		case StatusDraft, StatusRejected:
		case StatusPending:
			return platform.Conflict("申请已提交，正在审核", "the registration is already pending review")
		default:
			return platform.Conflict("该主体已审核，不能再次提交", "this operator has been reviewed already; submit a change request instead").With("status", o.Status)
		}
		var docs int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM operator_documents WHERE operator_id = $1`, id).Scan(&docs); err != nil {
			return err
		}
		if docs == 0 {
			return platform.Invalid(platform.FieldError{Field: "documents", Code: "required",
				ZH: "请先上传营业执照、身份证照片等证明材料", EN: "upload at least one proof document (business licence, ID photo, certificate) first"})
		}
		now := tx.Now()
		due, err := s.dueDate(ctx, now)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE operators SET status = 'pending', submitted_at = $1, review_due = $2, status_reason = '', updated_at = $1 WHERE id = $3`,
			now, due, id); err != nil {
			return err
		}
		if err := s.decide(ctx, tx, actor, id, 0, "submit", "", nil); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "operator.submit", ResourceType: "operator", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"review_due": due, "resubmission": o.Status == StatusRejected}})
	})
	if err != nil {
		return Operator{}, err
	}
	return s.ByID(ctx, id)
}

// ReviewWorkdays is the statutory review period (annex art. 8).
const ReviewWorkdays = 5

// dueDate is the civil date ReviewWorkdays working days after the China date of t.
func (s *Service) dueDate(ctx context.Context, t time.Time) (string, error) {
	day, _ := time.Parse(time.DateOnly, platform.Today(t))
	due, _, err := s.cal.AddWorkdays(ctx, day, ReviewWorkdays)
	if err != nil {
		return "", err
	}
	return due.Format(time.DateOnly), nil
}
