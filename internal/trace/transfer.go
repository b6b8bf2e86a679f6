package trace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// MarketKinds are where the platform's chain ends (annex art. 14).
var MarketKinds = []string{"wholesale", "retail", "processor"}

// Market is a wholesale market, retail market or processing plant.
type Market struct {
	Name       string `json:"name" validate:"required"`
	Kind       string `json:"kind" doc:"wholesale | retail | processor"`
	RegionCode string `json:"region_code" validate:"required"`
}

// SaleInput sells part or all of a code: to a registered operator (by its
// operator code) or into a market.
type SaleInput struct {
	FromCode          string  `json:"from_code" validate:"required"`
	Quantity          float64 `json:"quantity"`
	BuyerOperatorCode string  `json:"buyer_operator_code,omitempty"`
	Market            *Market `json:"market,omitempty"`
	ShippedAt         string  `json:"shipped_at,omitempty" doc:"YYYY-MM-DD; default today (China time)"`
}

// Transfer is a sale and its answer.
type Transfer struct {
	TraceCode        string    `json:"trace_code"`
	FromCode         string    `json:"from_code"`
	Kind             string    `json:"kind" doc:"operator | market"`
	Status           string    `json:"status" doc:"pending | confirmed | rejected | withdrawn | issued | accepted"`
	Seller           Party     `json:"seller"`
	Buyer            *Party    `json:"buyer,omitempty"`
	Market           *Market   `json:"market,omitempty"`
	ProductCode      string    `json:"product_code"`
	ProductName      string    `json:"product_name"`
	Quantity         float64   `json:"quantity"`
	Unit             string    `json:"unit"`
	UnitName         string    `json:"unit_name"`
	ReceivedQuantity *float64  `json:"received_quantity,omitempty"`
	ShippedAt        string    `json:"shipped_at"`
	RespondedAt      string    `json:"responded_at,omitempty"`
	Reason           string    `json:"reason,omitempty"`
	CertificateURL   string    `json:"certificate_url,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
}

// Open reports whether the transfer still awaits an answer.
func (t Transfer) Open() bool { return t.Status == "pending" || t.Status == "issued" }

const transferColumns = `tr.code, tr.from_code, tr.kind, tr.status, tr.seller_operator_id, COALESCE(so.code, ''), so.name, so.kind, so.region_code,
	COALESCE(tr.buyer_operator_id, 0), COALESCE(bo.code, ''), COALESCE(bo.name, ''), COALESCE(bo.kind, ''), tr.buyer_region,
	tr.market_name, tr.market_kind, t.product_code, p.name, tr.quantity_milli, tr.unit, COALESCE(tr.received_milli, -1),
	tr.shipped_on, COALESCE(tr.responded_on, ''), tr.reason, tr.created_at`

const transferFrom = `FROM transfers tr JOIN trace_codes t ON t.code = tr.code JOIN products p ON p.code = t.product_code
	JOIN operators so ON so.id = tr.seller_operator_id LEFT JOIN operators bo ON bo.id = tr.buyer_operator_id`

func scanTransfer(row interface{ Scan(...any) error }) (Transfer, error) {
	var t Transfer
	var buyer Party
	var marketName, marketKind string
	var qty, rec int64
	err := row.Scan(&t.TraceCode, &t.FromCode, &t.Kind, &t.Status, &t.Seller.ID, &t.Seller.Code, &t.Seller.Name, &t.Seller.Kind,
		&t.Seller.RegionCode, &buyer.ID, &buyer.Code, &buyer.Name, &buyer.Kind, &buyer.RegionCode, &marketName, &marketKind,
		&t.ProductCode, &t.ProductName, &qty, &t.Unit, &rec, &t.ShippedAt, &t.RespondedAt, &t.Reason, &t.CreatedAt)
	if err != nil {
		return Transfer{}, err
	}
	t.Quantity, t.UnitName = fromMilli(qty), UnitName(t.Unit)
	if rec >= 0 {
		r := fromMilli(rec)
		t.ReceivedQuantity = &r
	}
	if t.Kind == "market" {
		t.Market = &Market{Name: marketName, Kind: marketKind, RegionCode: buyer.RegionCode}
		t.CertificateURL = "/api/v1/transfers/" + t.TraceCode + "/certificate.pdf"
	} else {
		b := buyer
		t.Buyer = &b
	}
	return t, nil
}

func (s *Service) transfer(ctx context.Context, code string) (Transfer, error) {
	t, err := scanTransfer(s.db.QueryRow(ctx, `SELECT `+transferColumns+` `+transferFrom+` WHERE tr.code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return Transfer{}, errCodeNotFound
	}
	return t, err
}

func (t Transfer) resources() []auth.Resource {
	res := []auth.Resource{{Region: t.Seller.RegionCode, OperatorID: t.Seller.ID}}
	if t.Buyer != nil {
		res = append(res, auth.Resource{Region: t.Buyer.RegionCode, OperatorID: t.Buyer.ID})
	} else if t.Market != nil {
		res = append(res, auth.Resource{Region: t.Market.RegionCode})
	}
	return res
}

// GetTransfer returns a sale the actor takes part in or supervises.
func (s *Service) GetTransfer(ctx context.Context, actor *auth.Actor, code string) (Transfer, error) {
	if err := auth.Authorize(actor, auth.ActBatchRead, auth.Resource{}); err != nil {
		return Transfer{}, err
	}
	t, err := s.transfer(ctx, code)
	if err != nil {
		return Transfer{}, err
	}
	if err := authorizeAny(actor, auth.ActBatchRead, t.resources()...); err != nil {
		return Transfer{}, asNotFound(err)
	}
	return t, nil
}

func (s *Service) validateMarket(ctx context.Context, v *platform.Validator, m *Market) {
	m.Name, m.Kind, m.RegionCode = strings.TrimSpace(m.Name), strings.TrimSpace(m.Kind), strings.TrimSpace(m.RegionCode)
	if v.Require("market.name", m.Name) {
		v.MaxLen("market.name", m.Name, 100)
	}
	v.OneOf("market.kind", m.Kind, MarketKinds...)
	if v.Require("market.region_code", m.RegionCode) {
		r, err := s.regions.Get(ctx, m.RegionCode)
		if err != nil {
			v.Add("market.region_code", "unknown", "行政区划代码不存在", "unknown region code")
		} else if r.Level != "county" && r.Level != "township" {
			v.Add("market.region_code", "level", "请填写市场所在的县（市、区）或乡镇", "must be the market's county or township")
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
	return s.sellTx(ctx, tx, actor, src, r.seller, r.buyer, r.market, r.qty, shipped, today, "", out)
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
	mName, mKind := "", ""
	if market != nil {
		mName, mKind = market.Name, market.Kind
	}
	var received any
	var respondedOn any
	var respondedBy any
	var respondedAt any
	if status == "confirmed" || status == "accepted" {
		received, respondedOn, respondedBy, respondedAt = qty, shipped, platform.NullInt(actor.UserID), tx.Now()
	}
	if _, err := tx.Exec(ctx, `INSERT INTO transfers (code, from_code, kind, seller_operator_id, seller_region, buyer_operator_id, buyer_region,
		market_name, market_kind, quantity_milli, unit, shipped_on, status, received_milli, responded_on, created_by, created_at, responded_by, responded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		code, src.Code, kind, seller.ID, seller.RegionCode, platform.NullInt(buyerID), buyerRegion, mName, mKind, qty, src.Unit, shipped, status,
		received, respondedOn, platform.NullInt(actor.UserID), tx.Now(), respondedBy, respondedAt); err != nil {
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

// ConfirmInput is the buyer's receipt.
type ConfirmInput struct {
	ReceivedQuantity float64 `json:"received_quantity" validate:"required" doc:"required, > 0 (nothing received: reject instead); a difference from the shipped quantity is recorded and flagged"`
	ReceivedAt       string  `json:"received_at,omitempty" doc:"YYYY-MM-DD; default today"`
}

// lockTransfer locks a transfer row and loads it.
func (s *Service) lockTransfer(ctx context.Context, tx *platform.Tx, code string) (Transfer, error) {
	var c string
	err := tx.QueryRow(ctx, `SELECT code FROM transfers WHERE code = $1 FOR UPDATE`, code).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return Transfer{}, errCodeNotFound
	}
	if err != nil {
		return Transfer{}, err
	}
	t, err := scanTransfer(tx.QueryRow(ctx, `SELECT `+transferColumns+` `+transferFrom+` WHERE tr.code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return Transfer{}, errCodeNotFound
	}
	return t, err
}

func alreadyAnswered(t Transfer) error {
	return platform.Conflict("该交易已处理（"+t.Status+"）", "this transfer was already answered ("+t.Status+")").With("status", t.Status)
}

// Confirm records the buyer's receipt: the received quantity becomes the
// buyer's stock under the circulation code. A received quantity below the
// shipped one is recorded and flagged; more than shipped is refused.
// Someone else's transfer is 404.
func (s *Service) Confirm(ctx context.Context, actor *auth.Actor, code string, in ConfirmInput) (Transfer, error) {
	rec, err := prepareConfirm(actor, in)
	if err != nil {
		return Transfer{}, err
	}
	var t Transfer
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		return s.confirmTx(ctx, tx, actor, code, in.ReceivedAt, rec, &t)
	})
	if err != nil {
		return Transfer{}, err
	}
	return t, nil
}

// prepareConfirm authorizes and validates a receipt before its transaction
// and returns the received quantity. It is required and > 0: nothing
// received is a rejection (its own endpoint), and a missing quantity is not
// taken to mean "all" (the form pre-fills the shipped quantity).
func prepareConfirm(actor *auth.Actor, in ConfirmInput) (int64, error) {
	if err := auth.Authorize(actor, auth.ActTransferConfirm, auth.Resource{}); err != nil {
		return 0, err
	}
	var v platform.Validator
	var rec int64
	if in.ReceivedQuantity == 0 {
		v.Add("received_quantity", "required", "请填写实收数量（全部未收到请拒收）",
			"give the quantity received (nothing received: reject the transfer instead)")
	} else {
		rec, _ = toMilli(&v, "received_quantity", in.ReceivedQuantity, "")
	}
	if in.ReceivedAt != "" {
		checkDate(&v, "received_at", in.ReceivedAt, "9999-12-31", "", "", "")
	}
	return rec, v.Err()
}

// confirmTx writes a receipt inside tx: it locks the transfer, checks that
// it is addressed to the actor's operator and still pending, and records
// the received quantity (flagging a difference).
func (s *Service) confirmTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, code, receivedAt string, rec int64, out *Transfer) error {
	today := platform.Today(tx.Now())
	t, err := s.lockTransfer(ctx, tx, code)
	if err != nil {
		return err
	}
	if t.Buyer == nil || auth.Authorize(actor, auth.ActTransferConfirm, auth.Resource{OperatorID: t.Buyer.ID, Region: t.Buyer.RegionCode}) != nil {
		return errCodeNotFound
	}
	if t.Status != "pending" {
		return alreadyAnswered(t)
	}
	if err := s.checkActive(ctx, tx, t.Buyer.ID); err != nil {
		return err
	}
	shipped, _ := toMilliExact(t.Quantity)
	var v platform.Validator
	wholeUnits(&v, "received_quantity", t.Unit, rec)
	v.Check(rec <= shipped, "received_quantity", "more_than_shipped",
		fmt.Sprintf("实收数量不能超过发货数量 %s %s；多出的货物请让卖方另行销售", FormatMilli(shipped), UnitName(t.Unit)),
		fmt.Sprintf("cannot exceed the shipped quantity %s %s; ask the seller to sell the rest separately", FormatMilli(shipped), t.Unit))
	on := receivedAt
	if on == "" {
		on = today
	}
	checkDate(&v, "received_at", on, today, t.ShippedAt, "发货日期", "shipping_date")
	if err := v.Err(); err != nil {
		return err
	}
	if err := answerTransfer(ctx, tx, t, "pending", "confirmed", answer{received: rec, on: on, by: actor.UserID}); err != nil {
		return err
	}
	if out != nil {
		*out = t.answered("confirmed", answer{received: rec, on: on})
	}
	if err := insertMove(ctx, tx, code, rec, "receive", code, on); err != nil {
		return err
	}
	if rec != shipped {
		if err := addFindingPair(ctx, tx, FindingQuantityMismatch, code, t.Seller.ID, t.Seller.RegionCode, t.Buyer.RegionCode, today, map[string]any{
			"from_code": t.FromCode, "shipped": fromMilli(shipped), "received": fromMilli(rec), "unit": t.Unit,
			"seller": t.Seller.Name, "buyer": t.Buyer.Name}); err != nil {
			return err
		}
	}
	return tx.Emit(ctx, platform.Event{Action: "transfer.confirm", ResourceType: "trace_code", ResourceID: code, Data: map[string]any{
		"biz_step": "receiving", "disposition": "in_progress", "received_quantity": fromMilli(rec), "shipped_quantity": fromMilli(shipped),
		"received_at": on, "operator_id": t.Buyer.ID}})
}

// toMilliExact converts a stored quantity back (always exact).
func toMilliExact(q float64) (int64, bool) {
	var v platform.Validator
	return toMilli(&v, "q", q, "")
}

// checkActive refuses a write for an operator whose registration is no
// longer approved (suspended or cancelled since).
func (s *Service) checkActive(ctx context.Context, tx *platform.Tx, operatorID int64) error {
	var status string
	if err := tx.QueryRow(ctx, `SELECT status FROM operators WHERE id = $1`, operatorID).Scan(&status); err != nil {
		return err
	}
	if status != operator.StatusApproved {
		return platform.Forbidden("您的主体登记状态为“"+statusZH(status)+"”，不能进行交易",
			"your operator's registration is "+status+"; it cannot trade").With("operator_status", status)
	}
	return nil
}

// Reject refuses a pending transfer with a reason: the quantity returns to
// the seller's stock.
func (s *Service) Reject(ctx context.Context, actor *auth.Actor, code, reason string) (Transfer, error) {
	if err := auth.Authorize(actor, auth.ActTransferConfirm, auth.Resource{}); err != nil {
		return Transfer{}, err
	}
	reason = strings.TrimSpace(reason)
	var v platform.Validator
	if v.Require("reason", reason) {
		v.MaxLen("reason", reason, 500)
	}
	if err := v.Err(); err != nil {
		return Transfer{}, err
	}
	var t Transfer
	err := s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		return s.rejectTx(ctx, tx, actor, code, reason, &t)
	})
	if err != nil {
		return Transfer{}, err
	}
	return t, nil
}

// rejectTx writes a refusal inside tx: it locks the transfer, checks that it
// is addressed to the actor's operator and still pending, and returns the
// quantity to the seller's code.
func (s *Service) rejectTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, code, reason string, out *Transfer) error {
	today := platform.Today(tx.Now())
	t, err := s.lockTransfer(ctx, tx, code)
	if err != nil {
		return err
	}
	if t.Buyer == nil || auth.Authorize(actor, auth.ActTransferConfirm, auth.Resource{OperatorID: t.Buyer.ID, Region: t.Buyer.RegionCode}) != nil {
		return errCodeNotFound
	}
	if t.Status != "pending" {
		return alreadyAnswered(t)
	}
	shipped, _ := toMilliExact(t.Quantity)
	on := answerDay(today, t.ShippedAt)
	if err := answerTransfer(ctx, tx, t, "pending", "rejected", answer{reason: reason, on: on, by: actor.UserID}); err != nil {
		return err
	}
	if out != nil {
		*out = t.answered("rejected", answer{reason: reason, on: on})
	}
	if err := insertMove(ctx, tx, t.FromCode, shipped, "return", code, on); err != nil {
		return err
	}
	return tx.Emit(ctx, platform.Event{Action: "transfer.reject", ResourceType: "trace_code", ResourceID: code, Data: map[string]any{
		"biz_step": "receiving", "disposition": "returned", "reason": reason, "from_code": t.FromCode, "operator_id": t.Buyer.ID}})
}

// Accept marks a market-entry code as accepted by a market clerk of the
// market's region: the end of the platform's chain.
func (s *Service) Accept(ctx context.Context, actor *auth.Actor, code string) (Transfer, error) {
	if err := auth.Authorize(actor, auth.ActMarketAccept, auth.Resource{}); err != nil {
		return Transfer{}, err
	}
	var t Transfer
	err := s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		return s.acceptTx(ctx, tx, actor, code, &t)
	})
	if err != nil {
		return Transfer{}, err
	}
	return t, nil
}

// acceptTx writes a market acceptance inside tx: it locks the transfer and
// checks that its market is in the clerk's region and it is still issued.
func (s *Service) acceptTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, code string, out *Transfer) error {
	today := platform.Today(tx.Now())
	t, err := s.lockTransfer(ctx, tx, code)
	if err != nil {
		return err
	}
	if t.Market == nil || auth.Authorize(actor, auth.ActMarketAccept, auth.Resource{Region: t.Market.RegionCode}) != nil {
		return errCodeNotFound
	}
	if t.Status != "issued" {
		return alreadyAnswered(t)
	}
	q, _ := toMilliExact(t.Quantity)
	if err := answerTransfer(ctx, tx, t, "issued", "accepted", answer{received: q, on: answerDay(today, t.ShippedAt), by: actor.UserID}); err != nil {
		return err
	}
	if out != nil {
		*out = t.answered("accepted", answer{received: q, on: answerDay(today, t.ShippedAt)})
	}
	return tx.Emit(ctx, platform.Event{Action: "transfer.accept", ResourceType: "trace_code", ResourceID: code, Data: map[string]any{
		"biz_step": "receiving", "disposition": "sellable_accessible", "market": t.Market.Name, "region_code": t.Market.RegionCode}})
}

// CheckMarketEntry shows a market clerk what a market-entry code certifies
// (404 outside the clerk's region).
func (s *Service) CheckMarketEntry(ctx context.Context, actor *auth.Actor, input string) (Transfer, error) {
	if err := auth.Authorize(actor, auth.ActMarketAccept, auth.Resource{}); err != nil {
		return Transfer{}, err
	}
	code, err := s.Resolve(ctx, input)
	if err != nil {
		return Transfer{}, err
	}
	t, err := s.transfer(ctx, code)
	if err != nil {
		return Transfer{}, err
	}
	if t.Market == nil {
		return Transfer{}, invalid("code", "not_market_entry", "这不是入市码（入市码以 3 开头）", "this is not a market-entry code (they start with 3)")
	}
	if err := auth.Authorize(actor, auth.ActMarketAccept, auth.Resource{Region: t.Market.RegionCode}); err != nil {
		return Transfer{}, errCodeNotFound
	}
	return t, nil
}

// TransferFilter narrows ListTransfers.
type TransferFilter struct {
	Direction string // incoming | outgoing | "" (both) — operators; markets see their region's market entries
	Status    string
	Limit     int
}

// ListTransfers lists sales: an operator's incoming or outgoing ones, a
// market clerk's market entries, or those in an official's jurisdiction.
func (s *Service) ListTransfers(ctx context.Context, actor *auth.Actor, f TransferFilter) ([]Transfer, error) {
	sc := auth.ListScope(actor, auth.ActBatchRead)
	if err := sc.Err(actor, auth.ActBatchRead); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var v platform.Validator
	if f.Direction != "" {
		v.OneOf("direction", f.Direction, "incoming", "outgoing")
	}
	if f.Status != "" {
		v.OneOf("status", f.Status, "pending", "confirmed", "rejected", "issued", "accepted")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	w := auth.NewWhere()
	switch {
	case sc.Kind == auth.ScopeOperator:
		// incoming, outgoing or both: the scope's operator on the chosen side
		cols := []string{"tr.buyer_operator_id", "tr.seller_operator_id"}
		switch f.Direction {
		case "incoming":
			cols = cols[:1]
		case "outgoing":
			cols = cols[1:]
		}
		w.Scope(sc, auth.Columns{Operator: cols})
	case actor.Role == auth.RoleMarket:
		// market clerks see the market entries into markets of their region
		w.Add("tr.kind = 'market'")
		w.Scope(sc, auth.Columns{Region: []string{"tr.buyer_region"}})
	default:
		w.Scope(sc, auth.Columns{Region: []string{"tr.seller_region", "tr.buyer_region"}})
	}
	if f.Status != "" {
		w.Add("tr.status = " + w.Arg(f.Status))
	}
	rows, err := s.db.Query(ctx, `SELECT `+transferColumns+` `+transferFrom+w.SQL()+` ORDER BY tr.created_at DESC, tr.code DESC LIMIT `+w.Arg(f.Limit), w.Args()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Transfer{}
	for rows.Next() {
		t, err := scanTransfer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

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
		bc, err := s.createBatchTx(ctx, tx, actor, holder, in.Batch, "smallholder", nil)
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

// answer is how a transfer was answered: the quantity received (confirm,
// accept) or the reason (reject), on which civil date, by which user.
type answer struct {
	received int64
	reason   string
	on       string
	by       int64
}

// answerTransfer moves a locked transfer from one status to the next, the one
// in-place update a transfer ever gets; the guard on the old status makes a
// second answer (a race or a double click) fail as already answered.
func answerTransfer(ctx context.Context, tx *platform.Tx, t Transfer, from, to string, a answer) error {
	res, err := tx.Exec(ctx, `UPDATE transfers SET status = $2, received_milli = COALESCE($3, received_milli), reason = COALESCE($4, reason),
		responded_on = $5, responded_by = $6, responded_at = $7 WHERE code = $1 AND status = $8`,
		t.TraceCode, to, platform.NullInt(a.received), platform.NullString(a.reason), a.on, platform.NullInt(a.by), tx.Now(), from)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return alreadyAnswered(t)
	}
	return nil
}

// answerDay is the date an answer is recorded on: today, but never before
// the shipment it answers (time runs forward along the chain).
func answerDay(today, shippedAt string) string {
	if today < shippedAt {
		return shippedAt
	}
	return today
}
