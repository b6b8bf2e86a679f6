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
	Name       string `json:"name"`
	RegionCode string `json:"region_code" doc:"county or township of the smallholder"`
	Phone      string `json:"phone"`
	Products   string `json:"products" doc:"product names, separated by 、 or commas"`
}

// CreateTemporary issues a temporary operator: category "temporary", kind
// "individual", status "temporary" (usable for trace actions, see
// Operator.Active), code with category digit 4 from the county's operator
// sequence. The same name and phone in the same county get the existing
// temporary operator back. Requires auth.ActTempOperator in the region.
func (s *Service) CreateTemporary(ctx context.Context, actor *auth.Actor, in TemporaryInput) (Operator, error) {
	in.Name, in.RegionCode, in.Phone = strings.TrimSpace(in.Name), strings.TrimSpace(in.RegionCode), strings.TrimSpace(in.Phone)
	if err := auth.Authorize(actor, auth.ActTempOperator, auth.Resource{Region: in.RegionCode}); err != nil {
		return Operator{}, err
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
	products := splitList(in.Products)
	if err := v.Err(); err != nil {
		return Operator{}, err
	}
	ph, err := s.sealPhone(ctx, in.Phone)
	if err != nil {
		return Operator{}, err
	}
	county := region.CountyOf(in.RegionCode)
	var id int64
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		if ph.Hash != "" {
			err := tx.QueryRow(ctx, `SELECT id FROM operators WHERE category = 'temporary' AND county_code = $1 AND name = $2 AND phone_hash = $3`,
				county, in.Name, ph.Hash).Scan(&id)
			if err == nil {
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		serial, err := tx.NextSerial(ctx, "operator:"+county)
		if err != nil {
			return err
		}
		code, err := codes.NewOperatorCode(codes.Temporary, county, serial)
		if err != nil {
			return err
		}
		now := tx.Now()
		if products == nil {
			products = []string{}
		}
		err = tx.QueryRow(ctx, `INSERT INTO operators (code, name, kind, category, phone_enc, phone_masked, phone_hash, region_code, county_code,
			products, status, created_by, approved_at, created_at, updated_at)
			VALUES ($1, $2, 'individual', 'temporary', $3, $4, $5, $6, $7, $8, 'temporary', $9, $10, $10, $10) RETURNING id`,
			code, in.Name, ph.Enc, ph.Masked, ph.Hash, in.RegionCode, county, jsonText(products), platform.NullInt(actor.UserID), now).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert temporary operator: %w", err)
		}
		return tx.Emit(ctx, platform.Event{Action: "operator.temporary", ResourceType: "operator", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"operator_code": code, "region_code": in.RegionCode}})
	})
	if err != nil {
		return Operator{}, err
	}
	return s.ByID(ctx, id)
}
