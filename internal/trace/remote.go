package trace

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// Directory finds operators registered on other province nodes: a province
// node asks the national node (exchange.Node) when a sale names a buyer
// code it does not hold itself. Nil on a standalone node, where an unknown
// buyer code is simply unknown.
type Directory interface {
	// RemoteOperator returns the operator registered on another node under
	// code, with its status there; found is false when no node has it. An
	// error means the national node could not be asked.
	RemoteOperator(ctx context.Context, code string) (op operator.External, status string, found bool, err error)
}

// SetDirectory makes sales to operators of other province nodes possible
// (docs/exchange.md "Sales across provinces").
func (s *Service) SetDirectory(d Directory) { s.dir = d }

// remoteBuyer asks the directory for a buyer code this node does not hold
// (or holds only as another node's copy): the buyer must be approved on its
// own node. It returns the buyer as the sale names it (no local id yet:
// saleTx writes the reference copy in the sale's transaction).
func (s *Service) remoteBuyer(ctx context.Context, code string) (operator.Operator, *operator.External, error) {
	e, status, found, err := s.dir.RemoteOperator(ctx, code)
	if err != nil {
		return operator.Operator{}, nil, invalid("buyer_operator_code", "national_unreachable",
			"暂时无法向全国平台核实外省购买方，请稍后再试", "the national platform cannot be asked about this buyer right now; try again later")
	}
	if !found {
		return operator.Operator{}, nil, invalid("buyer_operator_code", "unknown", "没有主体使用此编码", "no operator has this code")
	}
	if status != operator.StatusApproved {
		return operator.Operator{}, nil, invalid("buyer_operator_code", "not_approved", "购买方登记状态为“"+statusZH(status)+"”，不能进行扫码交易",
			"the buyer's registration is "+status+"; it cannot trade on the platform")
	}
	return operator.Operator{Code: e.Code, Name: e.Name, Kind: e.Kind, Category: e.Category, RegionCode: e.RegionCode,
		CountyCode: e.CountyCode, Status: operator.StatusApproved}, &e, nil
}

// isExternal reports whether a local operator id is another node's operator
// (a cross-province sale's counterparty).
func isExternal(ctx context.Context, q platform.Querier, id int64) (bool, error) {
	var status string
	err := q.QueryRow(ctx, `SELECT status FROM operators WHERE id = $1`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return status == operator.StatusExternal, err
}

// SourceExternal is the source of a code kept as a reference to another
// node's code (the code a cross-province sale was sold from): that node
// holds its stock and history; the dashboards do not count it here.
const SourceExternal = "external"

// RemoteCode is a trace code as another node holds it.
type RemoteCode struct {
	Code        string
	Type        int
	RegionCode  string
	ProductCode string
	Unit        string
	Quantity    int64 // thousandths of the unit
	ProducedOn  string
	Origin      string
	Attributes  string // JSON object
	Source      string
	CreatedAt   time.Time
}

// IncomingSale is a sale recorded on another province node to one of this
// node's operators, routed here by the national node.
type IncomingSale struct {
	Seller    operator.External
	BuyerCode string
	From      RemoteCode // the seller's code the goods were sold from
	Code      RemoteCode // the circulation code the sale issued
	ShippedOn string
	CreatedAt time.Time
	Node      string // the node that routed it
}

// IncomingSaleTx writes a sale from another node inside tx: the seller's
// reference copy, the code it was sold from (a reference: the seller's
// node keeps its stock), the circulation code held by the buyer with the
// edge from it, and the transfer, pending: the buyer confirms or rejects
// it here like any sale. A sale already here writes nothing (false).
func IncomingSaleTx(ctx context.Context, tx *platform.Tx, in IncomingSale) (bool, error) {
	var buyer int64
	var status, buyerRegion string
	err := tx.QueryRow(ctx, `SELECT id, status, region_code FROM operators WHERE code = $1`, in.BuyerCode).Scan(&buyer, &status, &buyerRegion)
	if errors.Is(err, sql.ErrNoRows) || status == operator.StatusExternal {
		return false, invalid("buyer_operator_code", "unknown_operator", "购买方 "+in.BuyerCode+" 不是本节点登记的主体",
			"the buyer "+in.BuyerCode+" is not registered on this node")
	}
	if err != nil {
		return false, err
	}
	seller, err := operator.UpsertExternalTx(ctx, tx, in.Seller)
	if err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO trace_codes (code, type, operator_id, region_code, product_code, unit, quantity_milli, produced_on,
		origin, attributes, source, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (code) DO NOTHING`,
		in.From.Code, in.From.Type, seller, in.From.RegionCode, in.From.ProductCode, in.From.Unit, in.From.Quantity, in.From.ProducedOn,
		in.From.Origin, in.From.Attributes, SourceExternal, in.From.CreatedAt); err != nil {
		return false, err
	}
	c := in.Code
	res, err := tx.Exec(ctx, `INSERT INTO trace_codes (code, type, operator_id, region_code, product_code, unit, quantity_milli, produced_on,
		origin, attributes, source, parent_code, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (code) DO NOTHING`,
		c.Code, c.Type, buyer, buyerRegion, c.ProductCode, c.Unit, c.Quantity, c.ProducedOn, c.Origin, c.Attributes, "transfer", in.From.Code, c.CreatedAt)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if err := insertEdge(ctx, tx, in.From.Code, c.Code, "transfer", c.Quantity); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO transfers (code, from_code, kind, seller_operator_id, seller_region, buyer_operator_id, buyer_region,
		quantity_milli, unit, shipped_on, status, created_at) VALUES ($1, $2, 'operator', $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.Code, in.From.Code, seller, in.Seller.RegionCode, buyer, buyerRegion, c.Quantity, c.Unit, in.ShippedOn, TransferPending, in.CreatedAt); err != nil {
		return false, err
	}
	if err := StalePagesTx(ctx, tx, []string{c.Code, in.From.Code}); err != nil {
		return false, err
	}
	return true, tx.Emit(ctx, platform.Event{Action: "transfer.incoming", ResourceType: "trace_code", ResourceID: c.Code, Data: map[string]any{
		"biz_step": "shipping", "from_code": in.From.Code, "quantity": fromMilli(c.Quantity), "unit": c.Unit, "shipped_at": in.ShippedOn,
		"seller": in.Seller.Name, "seller_operator_code": in.Seller.Code, "seller_node": in.Seller.Node, "via": in.Node,
		"operator_id": buyer, "status": TransferPending}})
}

// RemoteAnswer is the buyer's answer, on another node, to a sale recorded
// here.
type RemoteAnswer struct {
	Code     string
	Status   string // confirmed | rejected
	Received int64  // confirmed: thousandths received
	On       string // the answer's civil date
	Reason   string // rejected: why
	Node     string // the node that routed it
}

// RemoteAnswerTx records inside tx the answer another node's buyer gave to
// a sale of this node: the transfer moves from pending to the answer (the
// guarded update every answer makes), a confirmation puts the received
// quantity on the circulation code, a rejection returns the shipment to
// the seller's code. The same answer twice changes nothing; a sale
// answered differently here is refused.
func RemoteAnswerTx(ctx context.Context, tx *platform.Tx, a RemoteAnswer) (bool, error) {
	var status, from string
	var qty, buyer int64
	err := tx.QueryRow(ctx, `SELECT status, from_code, quantity_milli, COALESCE(buyer_operator_id, 0) FROM transfers WHERE code = $1 FOR UPDATE`,
		a.Code).Scan(&status, &from, &qty, &buyer)
	if errors.Is(err, sql.ErrNoRows) {
		return false, invalid("code", "unknown", "本节点没有此交易："+a.Code, "no such sale here: "+a.Code)
	}
	if err != nil {
		return false, err
	}
	if ext, err := isExternal(ctx, tx, buyer); err != nil {
		return false, err
	} else if !ext {
		return false, invalid("code", "not_remote", "此交易的购买方是本节点的主体，不能由其他节点答复", "this sale's buyer is registered here; another node cannot answer it")
	}
	switch {
	case status == a.Status:
		return false, nil // answered so before: a repeat
	case status != TransferPending:
		return false, invalid("status", "answered", "本节点的交易已是“"+status+"”，不能再记为“"+a.Status+"”",
			"the sale is "+status+" here; it cannot become "+a.Status)
	case a.Status != TransferConfirmed && a.Status != TransferRejected:
		return false, invalid("status", "enum", "答复应为确认或拒收", "the answer must be confirmed or rejected")
	case a.Status == TransferConfirmed && (a.Received <= 0 || a.Received > qty):
		return false, invalid("received_milli", "range", "实收数量应大于零且不超过发货数量", "the received quantity must be above zero and at most the shipped one")
	}
	var received any
	if a.Status == TransferConfirmed {
		received = a.Received
	}
	res, err := tx.Exec(ctx, `UPDATE transfers SET status = $2, received_milli = $3, reason = $4, responded_on = $5, responded_at = $6
		WHERE code = $1 AND status = $7`, a.Code, a.Status, received, a.Reason, a.On, tx.Now(), TransferPending)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, invalid("status", "answered", "交易已被答复", "the sale was answered meanwhile")
	}
	if a.Status == TransferConfirmed {
		err = insertMove(ctx, tx, a.Code, a.Received, "receive", a.Code, a.On)
	} else {
		err = insertMove(ctx, tx, from, qty, "return", a.Code, a.On)
	}
	if err != nil {
		return false, err
	}
	if err := StalePagesTx(ctx, tx, []string{a.Code, from}); err != nil {
		return false, err
	}
	detail := map[string]any{"status": a.Status, "from_code": from, "at": a.On, "via": a.Node}
	if a.Status == TransferConfirmed {
		detail["received_quantity"], detail["shipped_quantity"] = fromMilli(a.Received), fromMilli(qty)
	} else {
		detail["reason"] = a.Reason
	}
	return true, tx.Emit(ctx, platform.Event{Action: "transfer.answer_in", ResourceType: "trace_code", ResourceID: a.Code, Data: detail})
}
