package exchange

import (
	"context"
	"fmt"

	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// The province side of what the national node routes down (docs/exchange.md
// "Sales across provinces"): a sale to one of this node's operators
// recorded on another node, and a buyer's answer on another node to a sale
// recorded here. Each is applied in one transaction with its
// exchange_applied row, so a redelivery changes nothing.

// applyDownTx applies a message of the down stream inside tx.
func (n *Node) applyDownTx(ctx context.Context, tx *platform.Tx, m Message, streamSeq uint64) (string, error) {
	res, err := tx.Exec(ctx, `INSERT INTO exchange_applied (node, seq, stream_seq, topic, resource_type, resource_id, applied_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (node, seq) DO NOTHING`, m.Node, m.Seq, int64(streamSeq), m.Topic, m.ResourceType, m.ResourceID, tx.Now())
	if err != nil {
		return "", err
	}
	if k, err := res.RowsAffected(); err != nil || k == 0 {
		return OutcomeDuplicate, err
	}
	var wrote bool
	switch m.Topic {
	case "transfer.create":
		wrote, err = n.incomingSale(ctx, tx, m)
	case "transfer.confirm", "transfer.reject":
		wrote, err = n.remoteAnswer(ctx, tx, m)
	default:
		return OutcomeIgnored, nil
	}
	if err != nil || !wrote {
		return OutcomeDuplicate, err
	}
	return OutcomeApplied, nil
}

// routed finds the routed code (the message's resource) and its sale.
func routed(m Message) (CodeRec, error) {
	if m.Records != nil {
		for _, c := range m.Records.Codes {
			if c.Code == m.ResourceID && c.Transfer != nil {
				return c, nil
			}
		}
	}
	return CodeRec{}, invalid("records.codes", "required", "消息中没有被转发的交易 "+m.ResourceID, "the message lacks the routed sale "+m.ResourceID)
}

// codeOf and operatorOf find a record of the message by its code.
func codeOf(m Message, code string) (CodeRec, bool) {
	for _, c := range m.Records.Codes {
		if c.Code == code {
			return c, true
		}
	}
	return CodeRec{}, false
}

func operatorOf(m Message, code string) (OperatorRec, bool) {
	for _, o := range m.Records.Operators {
		if o.Code == code {
			return o, true
		}
	}
	return OperatorRec{}, false
}

// incomingSale writes a sale of another node to one of this node's
// operators: pending here until its buyer answers.
func (n *Node) incomingSale(ctx context.Context, tx *platform.Tx, m Message) (bool, error) {
	c, err := routed(m)
	if err != nil {
		return false, err
	}
	t := c.Transfer
	from, ok := codeOf(m, t.FromCode)
	if !ok {
		return false, invalid("records.codes", "required", "消息中没有售出批次 "+t.FromCode, "the message lacks the code sold from, "+t.FromCode)
	}
	seller, ok := operatorOf(m, t.SellerCode)
	if !ok {
		return false, invalid("records.operators", "required", "消息中没有销售方 "+t.SellerCode, "the message lacks the seller "+t.SellerCode)
	}
	if t.Status != trace.TransferPending {
		return false, nil // answered or withdrawn before it got here: nothing to ask the buyer
	}
	return trace.IncomingSaleTx(ctx, tx, trace.IncomingSale{
		Seller: operator.External{Code: seller.Code, Name: seller.Name, Kind: seller.Kind, Category: seller.Category,
			RegionCode: seller.RegionCode, CountyCode: seller.CountyCode, Address: seller.Address, Node: m.Node},
		BuyerCode: t.BuyerCode, From: remoteCode(from), Code: remoteCode(c), ShippedOn: t.ShippedOn, CreatedAt: t.CreatedAt, Node: m.Node})
}

func remoteCode(c CodeRec) trace.RemoteCode {
	return trace.RemoteCode{Code: c.Code, Type: c.Type, RegionCode: c.RegionCode, ProductCode: c.ProductCode, Unit: c.Unit,
		Quantity: c.QuantityMilli, ProducedOn: c.ProducedOn, Origin: c.Origin, Attributes: c.Attributes, Source: c.Source, CreatedAt: c.CreatedAt}
}

// remoteAnswer records another node's buyer's answer to a sale of this node.
func (n *Node) remoteAnswer(ctx context.Context, tx *platform.Tx, m Message) (bool, error) {
	c, err := routed(m)
	if err != nil {
		return false, err
	}
	t := c.Transfer
	a := trace.RemoteAnswer{Code: c.Code, Status: t.Status, On: t.RespondedOn, Reason: t.Reason, Node: m.Node}
	if t.ReceivedMilli != nil {
		a.Received = *t.ReceivedMilli
	}
	if a.On == "" {
		return false, invalid(fmt.Sprintf("records.codes[%s].transfer.responded_on", c.Code), "required", "缺少答复日期", "the answer's date is missing")
	}
	return trace.RemoteAnswerTx(ctx, tx, a)
}
