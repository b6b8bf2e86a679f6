package trace

import (
	"context"
	"errors"

	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// SmallholderPurchase records goods bought from an unregistered smallholder:
// the smallholder gets (or reuses) a temporary operator code, a production
// batch is recorded under it, and it passes at once to the buyer (an
// operator: a confirmed circulation code) or into the clerk's market (an
// accepted market-entry code), so the chain still starts somewhere.
type SmallholderPurchase struct {
	Smallholder     *operator.TemporaryInput `json:"smallholder,omitempty" doc:"a new smallholder (name, region_code, phone, products)"`
	SmallholderCode string                   `json:"smallholder_operator_code,omitempty" doc:"or the temporary operator code issued before"`
	Batch           NewBatch                 `json:"batch"`
	Market          *Market                  `json:"market,omitempty" doc:"market clerks: the market the goods enter"`
	PurchasedAt     string                   `json:"purchased_at,omitempty" doc:"YYYY-MM-DD; default today, not before the batch's production date"`
}

// PurchaseResult names the codes a smallholder purchase created.
type PurchaseResult struct {
	SmallholderCode string   `json:"smallholder_operator_code"`
	BatchCode       string   `json:"batch_code"`
	Transfer        Transfer `json:"transfer"`
}

// RecordSmallholder records a purchase from an unregistered smallholder.
func (s *Service) RecordSmallholder(ctx context.Context, actor *auth.Actor, in SmallholderPurchase) (PurchaseResult, error) {
	if err := auth.Authorize(actor, auth.ActTempOperator, auth.Resource{}); err != nil {
		return PurchaseResult{}, err
	}
	isMarket := actor.Role == auth.RoleMarket
	var buyer *operator.Operator
	var v platform.Validator
	if isMarket {
		if in.Market == nil {
			v.Add("market.name", "required", "请填写入市市场", "give the market the goods enter")
		} else {
			s.validateMarket(ctx, &v, in.Market)
			if in.Market.RegionCode != "" && auth.Authorize(actor, auth.ActMarketAccept, auth.Resource{Region: in.Market.RegionCode}) != nil {
				v.Add("market.region_code", "jurisdiction", "市场不在您的辖区", "the market is outside your region")
			}
		}
	} else {
		if err := auth.Authorize(actor, auth.ActTransferConfirm, auth.Resource{}); err != nil {
			return PurchaseResult{}, err
		}
		if in.Market != nil {
			v.Add("market", "not_allowed", "经营者收购不填写市场", "operators record purchases into their own stock; omit market")
		}
	}
	if in.PurchasedAt != "" {
		checkDate(&v, "purchased_at", in.PurchasedAt, "9999-12-31", "", "", "")
	}
	if in.Smallholder == nil && in.SmallholderCode == "" {
		v.Add("smallholder.name", "required", "请填写小农户信息或其临时主体编码", "give the smallholder (name, region_code) or their temporary operator code")
	}
	if err := v.Err(); err != nil {
		return PurchaseResult{}, err
	}
	if !isMarket {
		b, err := s.actorOperator(ctx, actor)
		if err != nil {
			return PurchaseResult{}, err
		}
		buyer = &b
	}
	var holder operator.Operator
	var temp *operator.TemporaryRequest
	if in.SmallholderCode != "" {
		var err error
		holder, err = s.ops.ByCode(ctx, in.SmallholderCode)
		if err != nil {
			if platform.IsNotFound(err) || platform.KindOf(err) == platform.KindInvalid {
				return PurchaseResult{}, invalid("smallholder_operator_code", "unknown", "临时主体编码无效或不存在", "invalid or unknown temporary operator code")
			}
			return PurchaseResult{}, err
		}
		if holder.Category != "temporary" {
			return PurchaseResult{}, invalid("smallholder_operator_code", "registered", "该主体已正式登记，请由其本人扫码销售",
				"this operator is registered; it must sell through the platform itself")
		}
	} else {
		r, err := s.ops.PrepareTemporary(ctx, actor, *in.Smallholder)
		if err != nil {
			return PurchaseResult{}, prefixFields(err, "smallholder.")
		}
		temp = &r
	}
	var batchCode, code string
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		today := platform.Today(tx.Now())
		if temp != nil {
			// the temporary operator is written with the purchase: a refused
			// purchase leaves no operator and no consumed serial behind
			var err error
			if holder, _, err = s.ops.TemporaryTx(ctx, tx, actor, *temp); err != nil {
				return prefixFields(err, "smallholder.")
			}
		}
		bc, err := s.createBatchTx(ctx, tx, actor, holder, in.Batch, SourceSmallholder, nil)
		if err != nil {
			return prefixFields(err, "batch.")
		}
		batchCode = bc
		src, err := loadCode(ctx, tx, bc, true)
		if err != nil {
			return err
		}
		status := TransferConfirmed
		if isMarket {
			status = TransferAccepted
		}
		on := in.PurchasedAt
		if on == "" {
			on = today
		}
		code, _, err = s.sellTx(ctx, tx, actor, src, holder, buyer, in.Market, src.Quantity, on, today, status, nil)
		if pe := (*platform.Error)(nil); errors.As(err, &pe) {
			for i := range pe.Fields {
				if pe.Fields[i].Field == "shipped_at" {
					pe.Fields[i].Field = "purchased_at"
				}
			}
		}
		return err
	})
	if err != nil {
		return PurchaseResult{}, err
	}
	t, err := s.transfer(ctx, code)
	return PurchaseResult{SmallholderCode: holder.Code, BatchCode: batchCode, Transfer: t}, err
}

// prefixFields prefixes the field names of a validation error (errors of a
// nested object: "batch.", "smallholder.").
func prefixFields(err error, prefix string) error {
	var pe *platform.Error
	if errors.As(err, &pe) {
		for i := range pe.Fields {
			pe.Fields[i].Field = prefix + pe.Fields[i].Field
		}
	}
	return err
}
