package operator

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/printing"
	"agtrace/internal/secure"
)

//go:embed templates/agreement_2026.1.txt
var defaultAgreementBody string

// Default national agreement template.
const (
	DefaultTemplateVersion = "2026.1"
	DefaultAgreementTitle  = "农产品质量安全追溯协议"
)

// Template is a versioned agreement template; RegionCode is the issuing
// authority's region ("000000" for the national template).
type Template struct {
	ID         int64     `json:"id"`
	RegionCode string    `json:"region_code"`
	Version    string    `json:"version"`
	Title      string    `json:"title"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// TemplateInput publishes a new template version.
type TemplateInput struct {
	RegionCode string `json:"region_code" doc:"the issuing authority's region; defaults to the actor's"`
	Version    string `json:"version" validate:"required"`
	Title      string `json:"title"`
	Body       string `json:"body" validate:"required" doc:"duties (information collection, transmission, scan trading) and the truthfulness commitment; one paragraph per line"`
}

// Agreement is a traceability agreement (追溯协议) between a county and an operator.
type Agreement struct {
	ID           int64      `json:"id"`
	Number       string     `json:"number"`
	OperatorID   int64      `json:"operator_id"`
	OperatorName string     `json:"operator_name"`
	OperatorCode string     `json:"operator_code"`
	RegionCode   string     `json:"region_code"`
	TemplateID   int64      `json:"template_id"`
	Version      string     `json:"version"`
	Title        string     `json:"title"`
	Department   string     `json:"department"`
	Body         string     `json:"body"`
	TextSM3      string     `json:"text_sm3" doc:"SM3 of the canonical text (see Text)"`
	Status       string     `json:"status" doc:"issued | signed"`
	IssuedAt     time.Time  `json:"issued_at"`
	IssuedBy     string     `json:"issued_by"`
	SignedAt     *time.Time `json:"signed_at,omitempty"`
	SignedBy     string     `json:"signed_by,omitempty"`
	Signature    string     `json:"signature,omitempty" doc:"base64 SM2 signature over SigningMessage"`
}

// Text is the canonical agreement text whose SM3 digest is signed: title,
// number and version, the parties, then the body.
func (a Agreement) Text() string {
	return canonicalText(a.Title, a.Number, a.Version, a.Department, a.OperatorName, a.OperatorCode, a.Body)
}

func canonicalText(title, number, version, dept, opName, opCode, body string) string {
	return fmt.Sprintf("%s\n协议编号 %s　模板版本 %s\n甲方：%s\n乙方：%s（主体身份码 %s）\n\n%s", title, number, version, dept, opName, opCode, strings.TrimSpace(body))
}

// SigningMessage is what the platform signs when the operator signs.
func (a Agreement) SigningMessage() []byte {
	at := ""
	if a.SignedAt != nil {
		at = a.SignedAt.UTC().Format(time.RFC3339Nano)
	}
	return []byte("agtrace.agreement.sign\n" + a.Number + "\n" + a.TextSM3 + "\n" + a.OperatorCode + "\n" + at)
}

// EnsureDefaultTemplate creates the national template (version 2026.1) if missing.
func (s *Service) EnsureDefaultTemplate(ctx context.Context) (Template, error) {
	t, err := s.template(ctx, `region_code = '000000' AND version = $1`, DefaultTemplateVersion)
	if err == nil {
		return t, nil
	}
	if !platform.IsNotFound(err) {
		return Template{}, err
	}
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		res, err := tx.Exec(ctx, `INSERT INTO agreement_templates (region_code, version, title, body, created_at) VALUES ('000000', $1, $2, $3, $4)
			ON CONFLICT (region_code, version) DO NOTHING`, DefaultTemplateVersion, DefaultAgreementTitle, strings.TrimSpace(defaultAgreementBody), tx.Now())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return tx.Emit(ctx, platform.Event{Action: "agreement.template.create", ResourceType: "agreement_template", ResourceID: "000000/" + DefaultTemplateVersion})
	})
	if err != nil {
		return Template{}, err
	}
	return s.template(ctx, `region_code = '000000' AND version = $1`, DefaultTemplateVersion)
}

func (s *Service) template(ctx context.Context, where string, args ...any) (Template, error) {
	var t Template
	err := s.db.QueryRow(ctx, `SELECT id, region_code, version, title, body, created_at FROM agreement_templates WHERE `+where, args...).
		Scan(&t.ID, &t.RegionCode, &t.Version, &t.Title, &t.Body, &t.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Template{}, platform.NotFound("协议模板不存在", "agreement template not found")
	}
	return t, err
}

// Templates lists the templates that apply in the actor's jurisdiction
// (its own region's, its ancestors' and the national ones), newest first.
func (s *Service) Templates(ctx context.Context, actor *auth.Actor) ([]Template, error) {
	if err := auth.Authorize(actor, auth.ActAgreementIssue, auth.Resource{}); err != nil {
		if err2 := auth.Authorize(actor, auth.ActAgreementRead, auth.Resource{}); err2 != nil {
			return nil, err
		}
	}
	if _, err := s.EnsureDefaultTemplate(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, region_code, version, title, body, created_at FROM agreement_templates ORDER BY id DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Template{}
	for rows.Next() {
		var t Template
		if err := rows.Scan(&t.ID, &t.RegionCode, &t.Version, &t.Title, &t.Body, &t.CreatedAt); err != nil {
			return nil, err
		}
		if t.RegionCode == "000000" || auth.Within(actor.Region, t.RegionCode) || auth.Within(t.RegionCode, actor.Region) {
			out = append(out, t)
		}
	}
	return out, rows.Err()
}

// CreateTemplate publishes a template version for the actor's region.
func (s *Service) CreateTemplate(ctx context.Context, actor *auth.Actor, in TemplateInput) (Template, error) {
	if actor != nil && strings.TrimSpace(in.RegionCode) == "" {
		in.RegionCode = actor.Region
	}
	in.RegionCode, in.Version, in.Title, in.Body = strings.TrimSpace(in.RegionCode), strings.TrimSpace(in.Version), strings.TrimSpace(in.Title), strings.TrimSpace(in.Body)
	if err := auth.Authorize(actor, auth.ActAgreementIssue, auth.Resource{Region: in.RegionCode}); err != nil {
		return Template{}, err
	}
	if in.Title == "" {
		in.Title = DefaultAgreementTitle
	}
	var v platform.Validator
	if v.Require("version", in.Version) {
		v.MaxLen("version", in.Version, 20)
	}
	v.MaxLen("title", in.Title, 60)
	if v.Require("body", in.Body) {
		v.MaxLen("body", in.Body, 20000)
		v.Check(strings.Contains(in.Body, "真实"), "body", "commitment", "协议须包含真实性承诺条款", "the text must contain the truthfulness commitment (真实性承诺)")
	}
	if _, err := s.regions.Get(ctx, in.RegionCode); err != nil && in.RegionCode != "000000" {
		v.Add("region_code", "unknown", "行政区划代码不存在", "unknown region code")
	}
	if err := v.Err(); err != nil {
		return Template{}, err
	}
	var id int64
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO agreement_templates (region_code, version, title, body, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, in.RegionCode, in.Version, in.Title, in.Body, platform.NullInt(actor.UserID), tx.Now()).Scan(&id)
		if platform.IsUniqueViolation(err) {
			return platform.Conflict("该版本已存在", "this template version exists already").With("field", "version")
		}
		if err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "agreement.template.create", ResourceType: "agreement_template", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"region_code": in.RegionCode, "version": in.Version}})
	})
	if err != nil {
		return Template{}, err
	}
	return s.template(ctx, `id = $1`, id)
}

// TemplateFor returns the newest template that applies to a region (the one IssueAgreement uses by default).
func (s *Service) TemplateFor(ctx context.Context, regionCode string) (Template, error) {
	return s.templateFor(ctx, regionCode)
}

// templateFor picks the newest template applying to an operator's region.
func (s *Service) templateFor(ctx context.Context, regionCode string) (Template, error) {
	if _, err := s.EnsureDefaultTemplate(ctx); err != nil {
		return Template{}, err
	}
	type idRegion struct {
		id     int64
		region string
	}
	rows, err := s.db.Query(ctx, `SELECT id, region_code FROM agreement_templates ORDER BY id DESC`)
	all, err := platform.Collect(rows, err, func(r *sql.Rows) (idRegion, error) {
		var t idRegion
		err := r.Scan(&t.id, &t.region)
		return t, err
	})
	if err != nil {
		return Template{}, err
	}
	var pick int64
	for _, t := range all {
		if t.region == "000000" || auth.Within(regionCode, t.region) {
			pick = t.id
			break
		}
	}
	return s.template(ctx, `id = $1`, pick)
}

const agreementColumns = `a.id, a.number, a.operator_id, o.name, COALESCE(o.code, ''), o.region_code, a.template_id, a.version, a.title, a.department, a.body,
	a.text_sm3, a.status, a.issued_at, COALESCE(iu.username, ''), a.signed_at, COALESCE(su.username, ''), a.signature`

const agreementFrom = ` FROM agreements a JOIN operators o ON o.id = a.operator_id
	LEFT JOIN users iu ON iu.id = a.issued_by LEFT JOIN users su ON su.id = a.signed_by`

func scanAgreement(row scanner) (Agreement, error) {
	var a Agreement
	var signed sql.NullTime
	err := row.Scan(&a.ID, &a.Number, &a.OperatorID, &a.OperatorName, &a.OperatorCode, &a.RegionCode, &a.TemplateID, &a.Version, &a.Title,
		&a.Department, &a.Body, &a.TextSM3, &a.Status, &a.IssuedAt, &a.IssuedBy, &signed, &a.SignedBy, &a.Signature)
	if err != nil {
		return Agreement{}, err
	}
	if signed.Valid {
		a.SignedAt = &signed.Time
	}
	return a, nil
}

func (s *Service) loadAgreement(ctx context.Context, q platform.Querier, id int64) (Agreement, error) {
	a, err := scanAgreement(q.QueryRow(ctx, `SELECT `+agreementColumns+agreementFrom+` WHERE a.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Agreement{}, platform.NotFound("协议不存在", "agreement not found")
	}
	return a, err
}

// department names the county agriculture department issuing for the actor.
func (s *Service) department(ctx context.Context, actor *auth.Actor, county string) string {
	var name string
	err := s.db.QueryRow(ctx, `SELECT a.name FROM users u JOIN agencies a ON a.id = u.agency_id WHERE u.id = $1 AND a.kind = 'agriculture_department'`, actor.UserID).Scan(&name)
	if err == nil && name != "" {
		return name
	}
	r, err := s.regions.Get(ctx, county)
	if err != nil {
		return county + "农业农村局"
	}
	return r.Name + "农业农村局"
}

// IssueAgreement issues an agreement to an approved operator from the
// newest template that applies to its region (or templateID if given).
func (s *Service) IssueAgreement(ctx context.Context, actor *auth.Actor, operatorID, templateID int64) (Agreement, error) {
	o, err := s.readable(ctx, actor, operatorID, auth.ActAgreementIssue)
	if err != nil {
		return Agreement{}, err
	}
	if o.Status != StatusApproved {
		return Agreement{}, platform.Conflict("只能与已审核通过的主体签订协议", "agreements are issued to approved operators only").With("status", o.Status)
	}
	var t Template
	if templateID != 0 {
		t, err = s.template(ctx, `id = $1`, templateID)
		if err == nil && t.RegionCode != "000000" && !auth.Within(o.RegionCode, t.RegionCode) {
			err = platform.Invalid(platform.FieldError{Field: "template_id", Code: "other_region", ZH: "该模板不适用于此主体所在地区", EN: "this template does not apply in the operator's region"})
		}
	} else {
		t, err = s.templateFor(ctx, o.RegionCode)
	}
	if err != nil {
		return Agreement{}, err
	}
	dept := s.department(ctx, actor, o.CountyCode)
	var id int64
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		var open int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM agreements WHERE operator_id = $1 AND (status = 'issued' OR template_id = $2)`, operatorID, t.ID).Scan(&open); err != nil {
			return err
		}
		if open > 0 {
			return platform.Conflict("该主体已有待签署或同版本的协议", "the operator already has an unsigned agreement or one of this template version")
		}
		serial, err := tx.NextSerial(ctx, "agreement:"+o.CountyCode)
		if err != nil {
			return err
		}
		now := tx.Now()
		number := fmt.Sprintf("%s-%s-%06d", o.CountyCode, platform.Today(now)[:4], serial)
		text := canonicalText(t.Title, number, t.Version, dept, o.Name, o.Code, t.Body)
		if err := tx.QueryRow(ctx, `INSERT INTO agreements (number, operator_id, template_id, version, title, department, body, text_sm3, status, issued_by, issued_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'issued', $9, $10) RETURNING id`,
			number, operatorID, t.ID, t.Version, t.Title, dept, t.Body, secure.SM3Hex([]byte(text)), platform.NullInt(actor.UserID), now).Scan(&id); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "agreement.issue", ResourceType: "agreement", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"operator_id": operatorID, "number": number, "version": t.Version}})
	})
	if err != nil {
		return Agreement{}, err
	}
	return s.loadAgreement(ctx, s.db, id)
}

// GetAgreement returns an agreement to its operator or an official with jurisdiction.
func (s *Service) GetAgreement(ctx context.Context, actor *auth.Actor, id int64) (Agreement, error) {
	if actor == nil {
		return Agreement{}, auth.Authorize(nil, auth.ActAgreementRead, auth.Resource{})
	}
	a, err := s.loadAgreement(ctx, s.db, id)
	if err != nil {
		return Agreement{}, err
	}
	if err := auth.Authorize(actor, auth.ActAgreementRead, auth.Resource{Region: a.RegionCode, OperatorID: a.OperatorID}); err != nil {
		return Agreement{}, err
	}
	return a, nil
}

// SignAgreement is the operator's signature: the platform records the time
// and signs (SM2) the agreement number, the SM3 digest of its text, the
// operator code and the time.
func (s *Service) SignAgreement(ctx context.Context, actor *auth.Actor, id int64) (Agreement, error) {
	a, err := s.GetAgreement(ctx, actor, id)
	if err != nil {
		return Agreement{}, err
	}
	if err := auth.Authorize(actor, auth.ActAgreementSign, auth.Resource{Region: a.RegionCode, OperatorID: a.OperatorID}); err != nil {
		return Agreement{}, err
	}
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		cur, err := s.loadAgreement(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Status == "signed" {
			return platform.Conflict("协议已签署", "this agreement is signed already")
		}
		if got := secure.SM3Hex([]byte(cur.Text())); got != cur.TextSM3 {
			return fmt.Errorf("agreement %d: text digest mismatch", id)
		}
		now := tx.Now()
		cur.SignedAt = &now
		sig, err := s.signer.Sign(cur.SigningMessage())
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE agreements SET status = 'signed', signed_by = $1, signed_at = $2, signature = $3 WHERE id = $4 AND status = 'issued'`,
			platform.NullInt(actor.UserID), now, base64.StdEncoding.EncodeToString(sig), id); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "agreement.sign", ResourceType: "agreement", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"number": cur.Number, "text_sm3": cur.TextSM3}})
	})
	if err != nil {
		return Agreement{}, err
	}
	return s.loadAgreement(ctx, s.db, id)
}

// VerifyAgreement checks the digest and the signature of a signed agreement.
func (s *Service) VerifyAgreement(a Agreement) bool {
	if a.Status != "signed" || secure.SM3Hex([]byte(a.Text())) != a.TextSM3 {
		return false
	}
	sig, err := base64.StdEncoding.DecodeString(a.Signature)
	return err == nil && secure.Verify(s.signer.PublicKeyPEM(), a.SigningMessage(), sig)
}

// AgreementFilter narrows Agreements.
type AgreementFilter struct {
	Region     string
	Status     string // issued | signed
	OperatorID int64
}

// Agreements lists agreements: an operator's own, or those in an official's jurisdiction.
func (s *Service) Agreements(ctx context.Context, actor *auth.Actor, f AgreementFilter) ([]Agreement, error) {
	sc := auth.ListScope(actor, auth.ActAgreementRead)
	if err := sc.Err(actor, auth.ActAgreementRead); err != nil {
		return nil, err
	}
	if sc.Kind == auth.ScopeOperator {
		f.OperatorID, f.Region = sc.OperatorID, ""
	} else if err := auth.Authorize(actor, auth.ActAgreementRead, auth.Resource{Region: f.Region}); err != nil {
		return nil, err
	}
	w := auth.NewWhere()
	w.Scope(sc, auth.Columns{Region: []string{"o.region_code"}, Operator: []string{"a.operator_id"}})
	w.Region("o.region_code", f.Region)
	if f.Status != "" {
		w.Add("a.status = " + w.Arg(f.Status))
	}
	if f.OperatorID != 0 {
		w.Add("a.operator_id = " + w.Arg(f.OperatorID))
	}
	rows, err := s.db.Query(ctx, `SELECT `+agreementColumns+agreementFrom+w.SQL()+` ORDER BY a.id DESC LIMIT 1000`, w.Args()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Agreement{}
	for rows.Next() {
		a, err := scanAgreement(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// UnsignedItem is an approved operator without a signed agreement.
type UnsignedItem struct {
	OperatorID   int64      `json:"operator_id"`
	Name         string     `json:"name"`
	OperatorCode string     `json:"operator_code"`
	RegionCode   string     `json:"region_code"`
	AgreementID  int64      `json:"agreement_id,omitempty" doc:"the issued, unsigned agreement; 0 when none was issued yet"`
	IssuedAt     *time.Time `json:"issued_at,omitempty"`
}

// Unsigned lists the approved operators in the official's jurisdiction
// that have not signed an agreement (issued but unsigned, or not issued).
func (s *Service) Unsigned(ctx context.Context, actor *auth.Actor, regionCode string) ([]UnsignedItem, error) {
	if actor != nil && actor.OperatorID != 0 {
		return nil, auth.Authorize(actor, auth.ActAgreementIssue, auth.Resource{})
	}
	sc := auth.ListScope(actor, auth.ActAgreementRead)
	if err := sc.Err(actor, auth.ActAgreementRead); err != nil {
		return nil, err
	}
	if err := auth.Authorize(actor, auth.ActAgreementRead, auth.Resource{Region: regionCode}); err != nil {
		return nil, err
	}
	w := auth.NewWhere()
	w.Scope(sc, auth.Columns{Region: []string{"o.region_code"}, Operator: []string{"o.id"}})
	w.Region("o.region_code", regionCode)
	rows, err := s.db.Query(ctx, `SELECT o.id, o.name, COALESCE(o.code, ''), o.region_code,
		COALESCE((SELECT MAX(a.id) FROM agreements a WHERE a.operator_id = o.id AND a.status = 'issued'), 0)
		FROM operators o WHERE o.status = 'approved'`+w.And()+`
		AND NOT EXISTS (SELECT 1 FROM agreements a WHERE a.operator_id = o.id AND a.status = 'signed')
		ORDER BY o.region_code, o.id LIMIT 2000`, w.Args()...)
	if err != nil {
		return nil, err
	}
	out := []UnsignedItem{}
	for rows.Next() {
		var u UnsignedItem
		if err := rows.Scan(&u.OperatorID, &u.Name, &u.OperatorCode, &u.RegionCode, &u.AgreementID); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].AgreementID != 0 {
			var t time.Time
			if err := s.db.QueryRow(ctx, `SELECT issued_at FROM agreements WHERE id = $1`, out[i].AgreementID).Scan(&t); err == nil {
				out[i].IssuedAt = &t
			}
		}
	}
	return out, nil
}

// AgreementPDF writes the agreement as a PDF (printing.AgreementPDF).
func (s *Service) AgreementPDF(ctx context.Context, actor *auth.Actor, id int64, w io.Writer) error {
	a, err := s.GetAgreement(ctx, actor, id)
	if err != nil {
		return err
	}
	pa := printing.Agreement{Title: a.Title, Number: a.Number, TemplateVersion: a.Version, Department: a.Department,
		OperatorName: a.OperatorName, OperatorCode: a.OperatorCode, Text: a.Body, SM3Hash: a.TextSM3}
	if a.SignedAt != nil {
		pa.SignedAt, pa.SM2Signature = a.SignedAt.In(platform.ChinaTZ), a.Signature
	}
	return printing.AgreementPDF(w, pa)
}
