package trace

import (
	"context"
	"fmt"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// validateMarket checks a sale's market: a registered one (its id; its
// name, kind and region are filled in from the register) or one typed in.
func (s *Service) validateMarket(ctx context.Context, v *platform.Validator, m *Market) {
	if m.ID != 0 {
		reg, err := s.market(ctx, m.ID)
		if err != nil {
			v.Add("market.id", "unknown", "没有这个已登记的市场", "no registered market with this id")
			return
		}
		m.Name, m.Kind, m.RegionCode = reg.Name, reg.Kind, reg.RegionCode
		return
	}
	s.checkTypedMarket(ctx, v, "market.", m)
}

// checkTypedMarket validates a market's name, kind and region (fields
// named with prefix).
func (s *Service) checkTypedMarket(ctx context.Context, v *platform.Validator, prefix string, m *Market) {
	m.Name, m.Kind, m.RegionCode = strings.TrimSpace(m.Name), strings.TrimSpace(m.Kind), strings.TrimSpace(m.RegionCode)
	if v.Require(prefix+"name", m.Name) {
		v.MaxLen(prefix+"name", m.Name, 100)
	}
	v.OneOf(prefix+"kind", m.Kind, MarketKinds...)
	if v.Require(prefix+"region_code", m.RegionCode) {
		r, err := s.regions.Get(ctx, m.RegionCode)
		if err != nil {
			v.Add(prefix+"region_code", "unknown", "行政区划代码不存在", "unknown region code")
		} else if r.Level != "county" && r.Level != "township" {
			v.Add(prefix+"region_code", "level", "请填写市场所在的县（市、区）或乡镇", "must be the market's county or township")
		}
	}
}

// Sell issues a circulation code (to a registered operator; the transfer is
// pending until the buyer confirms) or a market-entry code (into a market;
// issued, with a market-entry certificate, until the market accepts). The
// quantity leaves the seller's stock at once; selling more than the stock
// is refused with 409 and the available quantity.
func (s *Service) Sell(ctx context.Context, actor *auth.Actor, in SaleInput) (Transfer, error) {
	r, err := s.prepareSale(ctx, actor, in, s.actorOperator)
	if err != nil {
		return Transfer{}, err
	}
	var t Transfer
	var short *shortage
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		var err error
		_, short, err = s.saleTx(ctx, tx, actor, r, &t)
		return err
	})
	s.recordShortage(ctx, short)
	if err != nil {
		return Transfer{}, err
	}
	return t, nil
}

// saleRequest is a validated SaleInput with its parties.
type saleRequest struct {
	from      string
	qty       int64
	seller    operator.Operator
	buyer     *operator.Operator
	market    *Market
	shippedAt string
	// remote is a buyer registered on another province node: its reference
	// copy is written in the sale's transaction (remote.go)
	remote *operator.External
}

// prepareSale authorizes and validates a sale and reads its parties before
// its transaction.
func (s *Service) prepareSale(ctx context.Context, actor *auth.Actor, in SaleInput, opOf operatorOf) (saleRequest, error) {
	if err := auth.Authorize(actor, auth.ActTransferSell, auth.Resource{}); err != nil {
		return saleRequest{}, err
	}
	var v platform.Validator
	from := ""
	if v.Require("from_code", in.FromCode) {
		if tc, err := codes.ParseTraceCode(in.FromCode); err != nil {
			fe := codeFieldError("from_code", err)
			v.Add(fe.Field, fe.Code, fe.ZH, fe.EN)
		} else {
			from = tc.Code
		}
	}
	qty, _ := toMilli(&v, "quantity", in.Quantity, "")
	buyerCode := ""
	switch {
	case in.BuyerOperatorCode != "" && in.Market != nil:
		v.Add("buyer_operator_code", "exclusive", "购买方主体编码与市场只能二选一", "give either buyer_operator_code or market, not both")
	case in.BuyerOperatorCode != "":
		oc, err := codes.ParseOperatorCode(in.BuyerOperatorCode)
		if err != nil {
			fe := codeFieldError("buyer_operator_code", err)
			v.Add(fe.Field, fe.Code, fe.ZH, fe.EN)
		} else {
			buyerCode = oc.Code
		}
	case in.Market != nil:
		s.validateMarket(ctx, &v, in.Market)
	default:
		v.Add("buyer_operator_code", "required", "请扫描或输入购买方主体编码，或填写入市市场", "give the buyer's operator code or a market")
	}
	if in.ShippedAt != "" {
		checkDate(&v, "shipped_at", in.ShippedAt, "9999-12-31", "", "", "")
	}
	if err := v.Err(); err != nil {
		return saleRequest{}, err
	}
	seller, err := opOf(ctx, actor)
	if err != nil {
		return saleRequest{}, err
	}
	var buyer *operator.Operator
	if buyerCode != "" {
		b, err := s.ops.ByCode(ctx, buyerCode)
		var remote *operator.External
		if s.dir != nil && (platform.IsNotFound(err) || (err == nil && b.Status == operator.StatusExternal)) {
			// another province node's operator: the national node knows it
			b, remote, err = s.remoteBuyer(ctx, buyerCode)
		}
		if platform.IsNotFound(err) {
			return saleRequest{}, invalid("buyer_operator_code", "unknown", "没有主体使用此编码", "no operator has this code")
		}
		if err != nil {
			return saleRequest{}, err
		}
		if b.ID == seller.ID {
			return saleRequest{}, invalid("buyer_operator_code", "self", "不能销售给自己；内部调拨请用拆分", "cannot sell to your own operator; use a split instead")
		}
		if b.Status != operator.StatusApproved {
			return saleRequest{}, invalid("buyer_operator_code", "not_approved", "购买方登记状态为“"+statusZH(b.Status)+"”，不能进行扫码交易",
				"the buyer's registration is "+b.Status+"; it cannot trade on the platform")
		}
		buyer = &b
		if remote != nil {
			if seller.Code == remote.Code {
				return saleRequest{}, invalid("buyer_operator_code", "self", "不能销售给自己；内部调拨请用拆分", "cannot sell to your own operator; use a split instead")
			}
			return saleRequest{from: from, qty: qty, seller: seller, buyer: buyer, remote: remote, shippedAt: in.ShippedAt}, nil
		}
	}
	return saleRequest{from: from, qty: qty, seller: seller, buyer: buyer, market: in.Market, shippedAt: in.ShippedAt}, nil
}

// saleTx writes a sale inside tx: it locks the sold code, checks that the
// actor's operator holds it, and writes the sale (sellTx). A refused
// over-shipment is returned as a shortage for the caller to record after
// the rollback.
func (s *Service) saleTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, r saleRequest, out *Transfer) (string, *shortage, error) {
	today := platform.Today(tx.Now())
	shipped := r.shippedAt
	if shipped == "" {
		shipped = today
	}
	src, err := loadCode(ctx, tx, r.from, true)
	if platform.IsNotFound(err) {
		return "", nil, invalid("from_code", "unknown", "追溯码不存在", "no such trace code")
	}
	if err != nil {
		return "", nil, err
	}
	if err := auth.Authorize(actor, auth.ActTransferSell, auth.Resource{OperatorID: src.OperatorID, Region: src.RegionCode}); err != nil {
		return "", nil, platform.Forbidden("只能销售本主体持有的批次", "you can only sell codes your operator holds").With("field", "from_code")
	}
	buyer := r.buyer
	if r.remote != nil {
		id, err := operator.UpsertExternalTx(ctx, tx, *r.remote)
		if err != nil {
			return "", nil, err
		}
		b := *r.buyer
		b.ID = id
		buyer = &b
	}
	return s.sellTx(ctx, tx, actor, src, r.seller, buyer, r.market, r.qty, shipped, today, "", out)
}

// sellTx writes a sale from src (already locked and authorized). status
// overrides the initial status (smallholder purchases are confirmed at once).
// When out is not nil it receives the transfer as written.
func (s *Service) sellTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, src codeRow, seller operator.Operator,
	buyer *operator.Operator, market *Market, qty int64, shipped, today, status string, out *Transfer) (string, *shortage, error) {
	stock, since, err := consumable(ctx, tx, src, "from_code")
	if err != nil {
		return "", nil, err
	}
	var v platform.Validator
	wholeUnits(&v, "quantity", src.Unit, qty)
	notBefore, what, whatEN := src.ProducedOn, "生产日期", "production_date"
	if since > notBefore {
		notBefore, what, whatEN = since, "入库日期", "receipt_date"
	}
	checkDate(&v, "shipped_at", shipped, today, notBefore, what, whatEN)
	if err := v.Err(); err != nil {
		return "", nil, err
	}
	if qty > stock {
		sh := &shortage{code: src.Code, operatorID: src.OperatorID, region: src.RegionCode, op: "sell", requested: qty, available: max(stock, 0)}
		return "", sh, sh.err("quantity", src.Unit)
	}
	typ, kind, holder, holderRegion, buyerRegion := codes.Circulation, "operator", int64(0), "", ""
	var buyerID int64
	if buyer != nil {
		holder, holderRegion, buyerRegion, buyerID = buyer.ID, buyer.RegionCode, buyer.RegionCode, buyer.ID
		if status == "" {
			status = "pending"
		}
	} else {
		typ, kind, holder, holderRegion, buyerRegion = codes.MarketEntry, "market", seller.ID, seller.RegionCode, market.RegionCode
		if status == "" {
			status = "issued"
		}
	}
	code, err := newCode(ctx, tx, typ, seller.CountyCode)
	if err != nil {
		return "", nil, err
	}
	source := "transfer"
	if kind == "market" {
		source = "market"
	}
	if err := insertCode(ctx, tx, newCodeRow{Code: code, Type: int(typ), OperatorID: holder, RegionCode: holderRegion, ProductCode: src.ProductCode,
		Unit: src.Unit, Quantity: qty, ProducedOn: src.ProducedOn, Origin: src.Origin, Source: source, ParentCode: src.Code, CreatedBy: actor.UserID}); err != nil {
		return "", nil, err
	}
	mName, mKind, mID := "", "", int64(0)
	if market != nil {
		mName, mKind, mID = market.Name, market.Kind, market.ID
	}
	var received any
	var respondedOn any
	var respondedBy any
	var respondedAt any
	if status == "confirmed" || status == "accepted" {
		received, respondedOn, respondedBy, respondedAt = qty, shipped, platform.NullInt(actor.UserID), tx.Now()
	}
	if _, err := tx.Exec(ctx, `INSERT INTO transfers (code, from_code, kind, seller_operator_id, seller_region, buyer_operator_id, buyer_region,
		market_name, market_kind, quantity_milli, unit, shipped_on, status, received_milli, responded_on, created_by, created_at, responded_by, responded_at,
		market_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		code, src.Code, kind, seller.ID, seller.RegionCode, platform.NullInt(buyerID), buyerRegion, mName, mKind, qty, src.Unit, shipped, status,
		received, respondedOn, platform.NullInt(actor.UserID), tx.Now(), respondedBy, respondedAt, platform.NullInt(mID)); err != nil {
		return "", nil, fmt.Errorf("insert transfer: %w", err)
	}
	if err := insertMove(ctx, tx, src.Code, -qty, "ship", code, shipped); err != nil {
		return "", nil, err
	}
	if status == "confirmed" {
		if err := insertMove(ctx, tx, code, qty, "receive", code, shipped); err != nil {
			return "", nil, err
		}
	}
	if err := insertEdge(ctx, tx, src.Code, code, "transfer", qty); err != nil {
		return "", nil, err
	}
	if out != nil {
		if *out, err = s.writtenTransfer(ctx, tx, code, src, seller, buyer, market, status, qty, shipped); err != nil {
			return "", nil, err
		}
	}
	dest := map[string]any{"operator_id": buyerID}
	if market != nil {
		dest = map[string]any{"market": market.Name, "market_kind": market.Kind, "region_code": market.RegionCode}
	}
	return code, nil, tx.Emit(ctx, platform.Event{Action: "transfer.create", ResourceType: "trace_code", ResourceID: code, Data: map[string]any{
		"biz_step": "shipping", "type": int(typ), "from_code": src.Code, "quantity": fromMilli(qty), "unit": src.Unit, "shipped_at": shipped,
		"source_operator_id": seller.ID, "destination": dest, "status": status}})
}

// consumable returns the stock of a code that is about to be shipped or
// consumed, refusing market-entry codes (the end of the chain) and
// circulation codes the buyer has not confirmed yet.
func consumable(ctx context.Context, tx *platform.Tx, src codeRow, field string) (stock int64, since string, err error) {
	if src.Type == TypeMarketEntry {
		return 0, "", invalid(field, "market_entry", "入市码是平台链条的终点，不能再销售或加工", "a market-entry code ends the chain; it cannot be used further")
	}
	if src.Type == TypeCirculation {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM transfers WHERE code = $1`, src.Code).Scan(&status); err != nil {
			return 0, "", err
		}
		if status != TransferConfirmed {
			return 0, "", invalid(field, "not_confirmed", "该流通码尚未确认收货（"+status+"），确认后才能使用",
				"this circulation code is "+status+"; the buyer must confirm it first")
		}
	}
	return stockOf(ctx, tx, src.Code)
}
