package operator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/platform"
	"agtrace/internal/region"
)

// TemporaryInput records an unregistered smallholder under a temporary code
// (e.g. a market clerk copying a paper certificate).
type TemporaryInput struct {
	Name       string `json:"name" validate:"required"`
	RegionCode string `json:"region_code" validate:"required" doc:"county or township of the smallholder"`
	Phone      string `json:"phone"`
	IDNumber   string `json:"id_number,omitempty" doc:"身份证号 (optional; stored encrypted, matched by keyed hash)"`
	Products   string `json:"products" doc:"product names, separated by 、 or commas"`
}

// TemporaryRequest is a validated, sealed TemporaryInput: what TemporaryTx
// writes. Build it with PrepareTemporary before the transaction.
type TemporaryRequest struct {
	in       TemporaryInput
	county   string
	products []string
	phone    sealed
	id       sealed
}

// CreateTemporary issues a temporary operator: category "temporary", kind
// "individual", status "temporary" (usable for trace actions, see
// Operator.Active), code with category digit 4 from the county's operator
// sequence. The same person in the same county (same ID number or same phone
// number, matched by keyed hash) gets the existing temporary operator back.
// Requires auth.ActTempOperator in the region.
func (s *Service) CreateTemporary(ctx context.Context, actor *auth.Actor, in TemporaryInput) (Operator, error) {
	r, err := s.PrepareTemporary(ctx, actor, in)
	if err != nil {
		return Operator{}, err
	}
	var o Operator
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		var err error
		o, _, err = s.TemporaryTx(ctx, tx, actor, r)
		return err
	})
	return o, err
}

// PrepareTemporary authorizes and validates a temporary operator and seals
// its personal numbers (before the writing transaction).
func (s *Service) PrepareTemporary(ctx context.Context, actor *auth.Actor, in TemporaryInput) (TemporaryRequest, error) {
	in.Name, in.RegionCode, in.Phone = strings.TrimSpace(in.Name), strings.TrimSpace(in.RegionCode), strings.TrimSpace(in.Phone)
	in.IDNumber = codes.NormalizeResidentID(in.IDNumber)
	if err := auth.Authorize(actor, auth.ActTempOperator, auth.Resource{Region: in.RegionCode}); err != nil {
		return TemporaryRequest{}, err
	}
	var v platform.Validator
	if v.Require("name", in.Name) {
		v.MaxLen("name", in.Name, 100)
	}
	if v.Require("region_code", in.RegionCode) {
		r, err := s.regions.Get(ctx, in.RegionCode)
		switch {
		case err != nil:
			v.Add("region_code", "unknown", "行政区划代码不存在", "unknown region code")
		case r.Level != region.LevelName[region.LevelCounty] && r.Level != region.LevelName[region.LevelTownship]:
			v.Add("region_code", "level", "请选择县（市、区）或乡镇（街道）", "must be a county or a township")
		}
	}
	if in.Phone != "" {
		n := NormalizePhone(in.Phone)
		v.Check(len(n) >= 7 && len(n) <= 15, "phone", "format", "电话号码格式不正确", "phone number must have 7–15 digits")
	}
	if in.IDNumber != "" {
		if err := codes.ValidateResidentID(in.IDNumber, s.clock.Now().In(platform.ChinaTZ)); err != nil {
			addCodeErr(&v, "id_number", err)
		}
	}
	products := splitList(in.Products)
	if err := v.Err(); err != nil {
		return TemporaryRequest{}, err
	}
	if products == nil {
		products = []string{}
	}
	ph, err := s.sealPhone(ctx, in.Phone)
	if err != nil {
		return TemporaryRequest{}, err
	}
	id, err := s.sealIDNumber(ctx, in.IDNumber)
	if err != nil {
		return TemporaryRequest{}, err
	}
	return TemporaryRequest{in: in, county: region.CountyOf(in.RegionCode), products: products, phone: ph, id: id}, nil
}

// TemporaryTx finds or issues the temporary operator of r inside tx (the
// caller's transaction: a purchase that is refused later leaves no operator
// and no consumed serial behind). created reports a new operator.
func (s *Service) TemporaryTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, r TemporaryRequest) (o Operator, created bool, err error) {
	var id int64
	for _, m := range []struct{ col, hash string }{{"id_number_hash", r.id.Hash}, {"phone_hash", r.phone.Hash}} {
		if m.hash == "" {
			continue
		}
		err := tx.QueryRow(ctx, `SELECT id FROM operators WHERE category = 'temporary' AND county_code = $1 AND `+m.col+` = $2
			ORDER BY id LIMIT 1`, r.county, m.hash).Scan(&id)
		if err == nil {
			o, err := s.load(ctx, tx, id, false)
			return o, false, err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Operator{}, false, err
		}
	}
	serial, err := tx.NextSerial(ctx, "operator:"+r.county)
	if err != nil {
		return Operator{}, false, err
	}
	code, err := codes.NewOperatorCode(codes.Temporary, r.county, serial)
	if err != nil {
		return Operator{}, false, err
	}
	now := tx.Now()
	err = tx.QueryRow(ctx, `INSERT INTO operators (code, name, kind, category, id_number_enc, id_number_hash, id_number_masked,
		phone_enc, phone_masked, phone_hash, region_code, county_code, products, status, created_by, approved_at, created_at, updated_at)
		VALUES ($1, $2, 'individual', 'temporary', $3, $4, $5, $6, $7, $8, $9, $10, $11, 'temporary', $12, $13, $13, $13) RETURNING id`,
		code, r.in.Name, r.id.Enc, r.id.Hash, r.id.Masked, r.phone.Enc, r.phone.Masked, r.phone.Hash, r.in.RegionCode, r.county,
		jsonText(r.products), platform.NullInt(actor.UserID), now).Scan(&id)
	if err != nil {
		return Operator{}, false, fmt.Errorf("insert temporary operator: %w", err)
	}
	if err := tx.Emit(ctx, platform.Event{Action: "operator.temporary", ResourceType: "operator", ResourceID: fmt.Sprint(id),
		Data: map[string]any{"operator_code": code, "region_code": r.in.RegionCode}}); err != nil {
		return Operator{}, false, err
	}
	o, err = s.load(ctx, tx, id, false)
	return o, true, err
}

// ContactPhone is an operator's phone number in full (decrypted), for
// documents whose issuer chose to show it; "" when none is on record.
func (s *Service) ContactPhone(ctx context.Context, id int64) (string, error) {
	var enc string
	err := s.db.QueryRow(ctx, `SELECT phone_enc FROM operators WHERE id = $1`, id).Scan(&enc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errNotFound
	}
	if err != nil {
		return "", err
	}
	return decrypt(s, enc, adPhone)
}
