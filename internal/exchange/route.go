package exchange

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"

	"agtrace/internal/monitoring"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// Sales across provinces, at the national node (docs/exchange.md "Sales
// across provinces"). A sale recorded on node A to an operator registered
// on node B arrives from A like any sale; the national node then routes it
// to B (an exchange.route event in its own outbox, published by its relay
// to <stream>_DOWN.B.transfer.create). B's buyer answers on B; the answer
// arrives from B, and the national node hands the code over to B (from
// then on the code lives there: its receipt, its onward sales) and routes
// the answer to A. Each route is taken once (exchange_routes).

// Steps of a cross-node sale.
const (
	stepSale   = "sale"   // seller's node → buyer's node
	stepAnswer = "answer" // buyer's node → seller's node
)

// ownerOf is the node an operator's record came from ("" for one of the
// national node's own, or one not known here).
func (a *applying) ownerOf(ctx context.Context, code string) (string, error) {
	if code == "" {
		return "", nil
	}
	r, found, err := a.record(ctx, kindOperator, code)
	if err != nil || !found {
		return "", err
	}
	return r.node, nil
}

// answered reports whether a sale's status is the buyer's answer.
func answered(status string) bool {
	return status == trace.TransferConfirmed || status == trace.TransferRejected
}

// takeOver lets the buyer's node write a code another node sold to it,
// once its buyer answered and the answer is not recorded here yet: the
// code's record passes to the buyer's node (exchange_records.node), whose
// later messages keep it up to date; the seller's node's copies are
// references from then on.
func (a *applying) takeOver(ctx context.Context, c CodeRec) (bool, error) {
	t := c.Transfer
	if t == nil || t.BuyerCode == "" || !answered(t.Status) {
		return false, nil
	}
	r := a.cache.records[[2]string{kindTraceCode, c.Code}]
	if r == nil || r.node == a.m.Node {
		return false, nil
	}
	buyerNode, err := a.ownerOf(ctx, t.BuyerCode)
	if err != nil || buyerNode != a.m.Node {
		return false, err
	}
	var status string
	err = a.tx.QueryRow(ctx, `SELECT status FROM transfers WHERE code = $1`, c.Code).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && status != trace.TransferPending) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	r.node, r.last, r.digest, r.dirty, r.written = a.m.Node, a.m.Seq, digestOf(c), true, true
	return true, nil
}

// route sends a sale between two nodes' operators on to the other node:
// the sale, when it arrives from the seller's node still pending; the
// answer, when it arrives from the buyer's node.
func (a *applying) route(ctx context.Context, c CodeRec) error {
	t := c.Transfer
	if t.Kind != "operator" || t.BuyerCode == "" {
		return nil
	}
	sellerNode, err := a.ownerOf(ctx, t.SellerCode)
	if err != nil {
		return err
	}
	buyerNode, err := a.ownerOf(ctx, t.BuyerCode)
	if err != nil || sellerNode == "" || buyerNode == "" || sellerNode == buyerNode {
		return err
	}
	var step, to, topic string
	switch {
	case a.m.Node == sellerNode && t.Status == trace.TransferPending:
		step, to, topic = stepSale, buyerNode, "transfer.create"
	case a.m.Node == buyerNode && t.Status == trace.TransferConfirmed:
		step, to, topic = stepAnswer, sellerNode, "transfer.confirm"
	case a.m.Node == buyerNode && t.Status == trace.TransferRejected:
		step, to, topic = stepAnswer, sellerNode, "transfer.reject"
	default:
		return nil
	}
	res, err := a.tx.Exec(ctx, `INSERT INTO exchange_routes (code, step, from_node, to_node, routed_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (code, step) DO NOTHING`, c.Code, step, a.m.Node, to, a.tx.Now())
	if err != nil {
		return err
	}
	if k, err := res.RowsAffected(); err != nil || k == 0 {
		return err
	}
	return a.tx.Emit(ctx, platform.Event{Action: "exchange.route", ResourceType: "trace_code", ResourceID: c.Code,
		Data: map[string]any{"to": to, "from_node": a.m.Node, "step": step, "topic": topic, "status": t.Status}})
}

// disposition records at the national node what a province's holder did
// with a batch held under one of its recalls (the province keeps a copy of
// the recall; its disposition event names the recall and this node). Only
// the node whose operator holds the batch may say so.
func (a *applying) disposition(ctx context.Context) error {
	var p struct {
		Number     string  `json:"number"`
		SourceNode string  `json:"source_node"`
		Action     string  `json:"action"`
		Quantity   float64 `json:"quantity"`
		Note       string  `json:"note"`
		By         string  `json:"by"`
	}
	if json.Unmarshal(a.m.Payload, &p) != nil || p.SourceNode != a.n.cfg.NodeID || p.Number == "" {
		return nil // the province's own recall: nothing of the national node's
	}
	var node string // the node of the batch's holder
	err := a.tx.QueryRow(ctx, `SELECT x.node FROM trace_codes c JOIN operators o ON o.id = c.operator_id
		JOIN exchange_records x ON x.kind = $1 AND x.record_key = o.code WHERE c.code = $2`, kindOperator, a.m.ResourceID).Scan(&node)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && node != a.m.Node) {
		return invalid("resource_id", "unauthorised", "节点 "+a.m.Node+" 不持有批次 "+a.m.ResourceID, "node "+a.m.Node+" does not hold batch "+a.m.ResourceID)
	}
	if err != nil {
		return err
	}
	_, err = monitoring.RemoteDispositionTx(ctx, a.tx, p.Number, a.m.ResourceID, p.Action, int64(math.Round(p.Quantity*1000)), p.Note, p.By, a.m.Node)
	return err
}
