// Package operator registers producers and traders (生产经营者): self-registration
// with proof documents, county review within 5 working days, operator codes
// (主体身份码) issued on approval, change requests, suspension, staff
// accounts, township rosters (监管名录) and coverage, and traceability
// agreements (追溯协议).
//
// Statuses: draft → pending → approved | rejected (→ pending again on
// resubmission); approved → suspended → approved (reinstated); approved or
// suspended → cancelled. Temporary operators (category "temporary", code
// category digit 4) are created by market clerks and operators for
// unregistered smallholders and have status "temporary". Operator.Active
// reports whether an operator may take part in trace actions (approved or
// temporary).
package operator

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/platform"
	"agtrace/internal/region"
	"agtrace/internal/secure"
)

// Statuses.
const (
	StatusDraft     = "draft"
	StatusPending   = "pending"
	StatusApproved  = "approved"
	StatusRejected  = "rejected"
	StatusSuspended = "suspended"
	StatusCancelled = "cancelled"
	StatusTemporary = "temporary"
	// StatusExternal marks a reference copy of an operator registered on
	// another province node (a cross-province sale's counterparty): it is
	// not this node's to review, count or trade for (docs/exchange.md).
	StatusExternal = "external"
)

// Statuses lists every status in display order.
var Statuses = []string{StatusDraft, StatusPending, StatusApproved, StatusRejected, StatusSuspended, StatusCancelled, StatusTemporary, StatusExternal}

// Kinds of operators (主体类型).
const (
	KindEnterprise     = "enterprise"
	KindCooperative    = "cooperative"
	KindFamilyFarm     = "family_farm"
	KindSlaughterhouse = "slaughterhouse"
	KindIndividual     = "individual"
)

// Kinds lists them in display order.
var Kinds = []string{KindEnterprise, KindCooperative, KindFamilyFarm, KindSlaughterhouse, KindIndividual}

// Categories an operator registers under (the code's first digit); "temporary" is issued, not chosen.
const (
	CategoryProducer       = "producer"
	CategoryTrader         = "trader"
	CategoryProducerTrader = "producer_trader"
	CategoryInputSupplier  = "input_supplier"
)

// Categories lists them in display order.
var Categories = []string{CategoryProducer, CategoryTrader, CategoryProducerTrader, CategoryInputSupplier}

// LeadingLevels of 农业产业化重点龙头企业.
var LeadingLevels = []string{"national", "provincial", "municipal"}

// CertKinds are the 三品一标 certifications.
var CertKinds = []string{"pollution_free", "green", "organic", "geo_indication"}

// Associated data binding ciphertexts to their column.
const (
	adIDNumber = "operators.id_number"
	adPhone    = "operators.phone"
)

// MaxDocumentSize is the largest proof document accepted (10 MB).
const MaxDocumentSize = 10 << 20

// Service is the operator feature.
type Service struct {
	db      *platform.DB
	clock   platform.Clock
	regions *region.Service
	cal     *region.Calendar
	cipher  secure.Cipher
	signer  secure.Signer
	docsDir string
	users   *auth.Service
	// PublicURL is the platform origin printed in QR codes (set by app wiring).
	PublicURL string
}

// NewService returns the operator service. docsDir holds uploaded documents.
func NewService(db *platform.DB, clock platform.Clock, regions *region.Service, cal *region.Calendar, cipher secure.Cipher, signer secure.Signer, docsDir string) *Service {
	return &Service{db: db, clock: clock, regions: regions, cal: cal, cipher: cipher, signer: signer, docsDir: docsDir,
		users: auth.NewService(db, clock), PublicURL: "http://127.0.0.1:8080"}
}

// Location is a point (WGS-84 as reported by the phone).
type Location struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Certification is one 三品一标 certificate.
type Certification struct {
	Kind       string `json:"kind" doc:"pollution_free | green | organic | geo_indication"`
	Number     string `json:"number"`
	ValidUntil string `json:"valid_until" doc:"YYYY-MM-DD"`
}

// Operator is a registered producer or trader as shown to the operator itself
// and to officials. Personal numbers appear masked only.
type Operator struct {
	ID                int64           `json:"id"`
	Code              string          `json:"operator_code,omitempty"`
	Name              string          `json:"name"`
	Kind              string          `json:"kind"`
	Category          string          `json:"category"`
	CreditCode        string          `json:"credit_code,omitempty"`
	IDNumberMasked    string          `json:"id_number_masked,omitempty"`
	LegalRep          string          `json:"legal_rep,omitempty"`
	ContactName       string          `json:"contact_name,omitempty"`
	PhoneMasked       string          `json:"phone_masked,omitempty"`
	RegionCode        string          `json:"region_code"`
	CountyCode        string          `json:"county_code"`
	Address           string          `json:"address,omitempty"`
	Location          *Location       `json:"location,omitempty"`
	Products          []string        `json:"products"`
	AnnualOutput      *float64        `json:"annual_output,omitempty"`
	AnnualOutputUnit  string          `json:"annual_output_unit,omitempty"`
	LeadingEnterprise string          `json:"leading_enterprise,omitempty" doc:"national | provincial | municipal"`
	DemoCooperative   bool            `json:"demo_cooperative"`
	Certifications    []Certification `json:"certifications"`
	Status            string          `json:"status"`
	StatusReason      string          `json:"status_reason,omitempty"`
	OwnerUserID       int64           `json:"owner_user_id,omitempty"`
	SubmittedAt       *time.Time      `json:"submitted_at,omitempty"`
	ReviewDue         string          `json:"review_due,omitempty"`
	Overdue           bool            `json:"overdue,omitempty"`
	ApprovedAt        *time.Time      `json:"approved_at,omitempty"`
	CreatedAt         time.Time       `json:"created_at"`
	UpdatedAt         time.Time       `json:"updated_at"`
}

// Active reports whether the operator may take part in trace actions
// (registration approved, or a temporary code).
func (o Operator) Active() bool { return o.Status == StatusApproved || o.Status == StatusTemporary }

// Key reports whether the operator is a key operator for the 100 % target
// (leading enterprise, demonstration cooperative or certified producer).
func (o Operator) Key() bool {
	return o.LeadingEnterprise != "" || o.DemoCooperative || len(o.Certifications) > 0
}

func (o Operator) resource() auth.Resource {
	return auth.Resource{Region: o.RegionCode, OperatorID: o.ID}
}

const operatorColumns = `id, COALESCE(code, ''), name, kind, category, COALESCE(credit_code, ''), id_number_masked, legal_rep,
	contact_name, phone_masked, region_code, county_code, address, lat, lng, products, annual_output, annual_output_unit,
	COALESCE(leading_enterprise, ''), demo_cooperative, certifications, status, status_reason, COALESCE(owner_user_id, 0),
	submitted_at, COALESCE(review_due, ''), approved_at, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func scanOperator(row scanner, today string) (Operator, error) {
	var o Operator
	var lat, lng, output sql.NullFloat64
	var products, certs string
	var submitted, approved sql.NullTime
	err := row.Scan(&o.ID, &o.Code, &o.Name, &o.Kind, &o.Category, &o.CreditCode, &o.IDNumberMasked, &o.LegalRep,
		&o.ContactName, &o.PhoneMasked, &o.RegionCode, &o.CountyCode, &o.Address, &lat, &lng, &products, &output, &o.AnnualOutputUnit,
		&o.LeadingEnterprise, &o.DemoCooperative, &certs, &o.Status, &o.StatusReason, &o.OwnerUserID,
		&submitted, &o.ReviewDue, &approved, &o.CreatedAt, &o.UpdatedAt)
	if err != nil {
		return Operator{}, err
	}
	if lat.Valid && lng.Valid {
		o.Location = &Location{Lat: lat.Float64, Lng: lng.Float64}
	}
	if output.Valid {
		v := output.Float64
		o.AnnualOutput = &v
	}
	if submitted.Valid {
		o.SubmittedAt = &submitted.Time
	}
	if approved.Valid {
		o.ApprovedAt = &approved.Time
	}
	_ = json.Unmarshal([]byte(products), &o.Products)
	_ = json.Unmarshal([]byte(certs), &o.Certifications)
	if o.Products == nil {
		o.Products = []string{}
	}
	if o.Certifications == nil {
		o.Certifications = []Certification{}
	}
	o.Overdue = o.Status == StatusPending && o.ReviewDue != "" && o.ReviewDue < today
	return o, nil
}

var errNotFound = platform.NotFound("主体不存在，或不在您的管辖范围内", "operator not found or outside your jurisdiction")

func (s *Service) today() string { return platform.Today(s.clock.Now()) }

func (s *Service) load(ctx context.Context, q platform.Querier, id int64, lock bool) (Operator, error) {
	query := `SELECT ` + operatorColumns + ` FROM operators WHERE id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	o, err := scanOperator(q.QueryRow(ctx, query, id), s.today())
	if errors.Is(err, sql.ErrNoRows) {
		return Operator{}, errNotFound
	}
	return o, err
}

// ByID loads an operator without authorization (for other services).
func (s *Service) ByID(ctx context.Context, id int64) (Operator, error) {
	return s.load(ctx, s.db, id, false)
}

// ByCode loads an operator by its 18-digit code without authorization. The
// code is checked (check digit first) before any lookup: a malformed code
// is a 422 naming field "operator_code"; an unknown one is a 404.
func (s *Service) ByCode(ctx context.Context, code string) (Operator, error) {
	oc, err := codes.ParseOperatorCode(code)
	if err != nil {
		return Operator{}, codeError("operator_code", err)
	}
	o, err := scanOperator(s.db.QueryRow(ctx, `SELECT `+operatorColumns+` FROM operators WHERE code = $1`, oc.Code), s.today())
	if errors.Is(err, sql.ErrNoRows) {
		return Operator{}, platform.NotFound("主体编码未登记", "no operator has this code")
	}
	return o, err
}

// codeError turns a codes.Error into a field-level 422.
func codeError(field string, err error) error {
	var ce *codes.Error
	if errors.As(err, &ce) {
		return platform.Invalid(platform.FieldError{Field: field, Code: ce.Code, ZH: ce.ZH, EN: ce.EN})
	}
	return platform.Invalid(platform.FieldError{Field: field, Code: "format", ZH: "格式错误", EN: err.Error()})
}

// Get returns an operator the actor may read (404 otherwise).
func (s *Service) Get(ctx context.Context, actor *auth.Actor, id int64) (Operator, error) {
	if actor == nil {
		return Operator{}, auth.Authorize(nil, auth.ActOperatorRead, auth.Resource{})
	}
	o, err := s.ByID(ctx, id)
	if err != nil {
		return Operator{}, err
	}
	if err := auth.Authorize(actor, auth.ActOperatorRead, o.resource()); err != nil {
		return Operator{}, err
	}
	return o, nil
}

// readable loads an operator for a write: out-of-reach operators are 404
// (their existence is not revealed), then act is checked (403).
func (s *Service) readable(ctx context.Context, actor *auth.Actor, id int64, act auth.Action) (Operator, error) {
	o, err := s.Get(ctx, actor, id)
	if err != nil {
		return Operator{}, err
	}
	if err := auth.Authorize(actor, act, o.resource()); err != nil {
		return Operator{}, err
	}
	return o, nil
}

// Public is what anyone may see about an operator: no personal data.
type Public struct {
	Code       string     `json:"operator_code"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	Category   string     `json:"category"`
	RegionCode string     `json:"region_code"`
	RegionName string     `json:"region_name"`
	Status     string     `json:"status"`
	Products   []string   `json:"products"`
	ApprovedAt *time.Time `json:"approved_at,omitempty"`
}

// PublicByCode returns the public view of the operator with this code.
func (s *Service) PublicByCode(ctx context.Context, code string) (Public, error) {
	o, err := s.ByCode(ctx, code)
	if err != nil {
		return Public{}, err
	}
	return Public{Code: o.Code, Name: o.Name, Kind: o.Kind, Category: o.Category, RegionCode: o.RegionCode,
		RegionName: s.RegionName(ctx, o.RegionCode), Status: o.Status, Products: o.Products, ApprovedAt: o.ApprovedAt}, nil
}

// RegionName is the full name of a region code (the code itself if unknown).
func (s *Service) RegionName(ctx context.Context, code string) string {
	n, err := s.regions.FullName(ctx, code)
	if err != nil || n == "" {
		return code
	}
	return n
}

func likePattern(q string) string {
	q = strings.NewReplacer(`\`, ``, `%`, ``, `_`, ``).Replace(strings.TrimSpace(q))
	if q == "" {
		return ""
	}
	return "%" + q + "%"
}
