package exchange

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"agtrace/internal/monitoring"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/region"
	"agtrace/internal/trace"
)

// What the national node sends down to the province nodes, on the down
// stream (docs/exchange.md "Sales across provinces" and "Reference data
// from the national node"): a sale to one of a province's operators
// recorded on another node, a buyer's answer on another node to a sale
// recorded there, the holiday calendar and residue limits. The national
// node decides what to send (downward); a province node applies each
// message in one transaction with its exchange_applied row, so a
// redelivery changes nothing.

// downward is what the national node sends for one of its outbox rows:
// the routes it decided (exchange.route), the calendar to a node heard
// from for the first time (exchange.welcome), and its calendar and limit
// edits to every province node it knows.
func (n *Node) downward(ctx context.Context, row outboxRow) ([]out, error) {
	base := Message{V: FormatVersion, Node: n.cfg.NodeID, Seq: row.ID, At: row.At, Topic: row.Topic,
		ResourceType: row.ResourceType, ResourceID: row.ResourceID}
	if row.Payload != "" && json.Valid([]byte(row.Payload)) {
		base.Payload = json.RawMessage(row.Payload)
	}
	to := func(targets []string, m Message) []out {
		outs := make([]out, 0, len(targets))
		for _, t := range targets {
			outs = append(outs, out{stream: DownStream(n.cfg.Stream), subject: DownSubject(n.cfg.Stream, t, m.Topic),
				id: MsgID(n.cfg.NodeID, row.ID) + ":" + t, m: m})
		}
		return outs
	}
	switch row.Topic {
	case "exchange.route":
		var r struct{ To, Topic string }
		if err := json.Unmarshal([]byte(row.Payload), &r); err != nil || !ValidNodeID(r.To) || r.Topic == "" {
			n.log.Error("exchange.route without a target: not sent", "outbox", row.ID, "payload", row.Payload)
			return nil, nil
		}
		m, err := snapshot(ctx, n.db, n.cfg.NodeID, row)
		m.Topic = r.Topic
		return to([]string{r.To}, m), err
	case "exchange.welcome":
		var years []int
		rows, err := n.db.Query(ctx, `SELECT year FROM calendar_years WHERE year >= $1 ORDER BY year`, n.clock.Now().Year())
		if years, err = platform.Collect(rows, err, func(r *sql.Rows) (int, error) {
			var y int
			return y, r.Scan(&y)
		}); err != nil || len(years) == 0 || !ValidNodeID(row.ResourceID) {
			return nil, err
		}
		if base.Records, err = n.calendarRecords(ctx, years...); err != nil {
			return nil, err
		}
		return to([]string{row.ResourceID}, base), nil
	case "calendar.set_year", "calendar.set_day":
		year, err := strconv.Atoi(row.ResourceID[:min(4, len(row.ResourceID))])
		if err != nil {
			return nil, nil
		}
		if base.Records, err = n.calendarRecords(ctx, year); err != nil {
			return nil, err
		}
	case "recall.open", "recall.confirmed", "recall.released", "recall.disposition":
		return n.recallDown(ctx, row, base, to)
	case "limit.save":
		id, err := strconv.ParseInt(row.ResourceID, 10, 64)
		if err != nil {
			return nil, nil
		}
		l, err := monitoring.LimitOf(ctx, n.db, id)
		if err != nil {
			return nil, err
		}
		base.Records = &Records{Limit: &l}
	default:
		return nil, nil
	}
	targets, err := n.provinceNodes(ctx)
	return to(targets, base), err
}

// calendarRecords are the given years of the calendar as this node holds them.
func (n *Node) calendarRecords(ctx context.Context, years ...int) (*Records, error) {
	r := &Records{}
	for _, y := range years {
		in, err := region.YearOf(ctx, n.db, y)
		if err != nil {
			return nil, err
		}
		r.Calendar = append(r.Calendar, CalendarRec{Year: y, YearInput: in})
	}
	return r, nil
}

// provinceNodes are the province nodes the national node knows: those it
// has heard from and those --exchange-node-regions names.
func (n *Node) provinceNodes(ctx context.Context) ([]string, error) {
	rows, err := n.db.Query(ctx, `SELECT node FROM exchange_nodes ORDER BY node`)
	nodes, err := platform.Collect(rows, err, func(r *sql.Rows) (string, error) {
		var s string
		return s, r.Scan(&s)
	})
	for node := range n.cfg.NodeRegions {
		if !slices.Contains(nodes, node) {
			nodes = append(nodes, node)
		}
	}
	slices.Sort(nodes)
	return slices.DeleteFunc(nodes, func(s string) bool { return s == n.cfg.NodeID || !ValidNodeID(s) }), err
}

// nationalCalendar writes the years of the national calendar a message carries.
func nationalCalendar(ctx context.Context, tx *platform.Tx, m Message) (bool, error) {
	if m.Records == nil || len(m.Records.Calendar) == 0 {
		return false, nil
	}
	for _, y := range m.Records.Calendar {
		if err := region.NationalYearTx(ctx, tx, y.Year, y.YearInput, m.Node); err != nil {
			return false, err
		}
	}
	return true, nil
}

// nationalLimit writes the residue limit a message carries.
func nationalLimit(ctx context.Context, tx *platform.Tx, m Message) (bool, error) {
	if m.Records == nil || m.Records.Limit == nil {
		return false, invalid("records.limit", "required", "消息中没有限量", "the message carries no limit")
	}
	return true, monitoring.NationalLimitTx(ctx, tx, *m.Records.Limit, m.Node)
}

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
	case "calendar.set_year", "calendar.set_day", "exchange.welcome":
		wrote, err = nationalCalendar(ctx, tx, m)
	case "limit.save":
		wrote, err = nationalLimit(ctx, tx, m)
	case "recall.open", "recall.confirmed", "recall.released", "recall.disposition":
		wrote, err = nationalRecall(ctx, tx, m)
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

// recallDown sends one of the national node's own recalls, as it now
// stands, to every province node whose operators hold batches in its
// scope: when it opens, is confirmed or released, and when a disposition
// closes it.
func (n *Node) recallDown(ctx context.Context, row outboxRow, base Message, to func([]string, Message) []out) ([]out, error) {
	id, err := strconv.ParseInt(row.ResourceID, 10, 64)
	if row.Topic == "recall.disposition" {
		var p struct {
			RecallID int64 `json:"recall_id"`
			Closed   bool  `json:"closed"`
		}
		if json.Unmarshal([]byte(row.Payload), &p) != nil || !p.Closed {
			return nil, nil // only the closing one changes the recall
		}
		id, err = p.RecallID, nil
	}
	if err != nil {
		return nil, nil
	}
	r, ok, err := monitoring.NationalRecallOf(ctx, n.db, id, n.cfg.NodeID)
	if err != nil || !ok {
		return nil, err
	}
	// the nodes whose operators hold batches in its scope
	rows, err := n.db.Query(ctx, `SELECT DISTINCT x.node FROM recall_batches rb JOIN trace_codes c ON c.code = rb.code
		JOIN operators o ON o.id = c.operator_id JOIN exchange_records x ON x.kind = $2 AND x.record_key = o.code
		WHERE rb.recall_id = $1 ORDER BY x.node`, id, kindOperator)
	nodes, err := platform.Collect(rows, err, func(r *sql.Rows) (string, error) {
		var s string
		return s, r.Scan(&s)
	})
	if err != nil || len(nodes) == 0 {
		return nil, err
	}
	base.Records = &Records{Recall: &RecallRec{Number: r.Number, Status: r.Status, Reason: r.Reason, RootCode: r.RootCode, RegionCode: r.RegionCode,
		OpenedAt: r.OpenedAt, DecidedBy: r.DecidedBy, ReleaseReason: r.ReleaseReason, Codes: r.Codes}}
	return to(nodes, base), nil
}

// nationalRecall keeps this province's copy of a national recall.
func nationalRecall(ctx context.Context, tx *platform.Tx, m Message) (bool, error) {
	if m.Records == nil || m.Records.Recall == nil {
		return false, invalid("records.recall", "required", "消息中没有召回", "the message carries no recall")
	}
	r := m.Records.Recall
	var v platform.Validator
	v.Require("records.recall.number", r.Number)
	v.OneOf("records.recall.status", r.Status, monitoring.RecallOpen, monitoring.RecallConfirmed, monitoring.RecallReleased, monitoring.RecallClosed)
	if err := v.Err(); err != nil {
		return false, err
	}
	return monitoring.NationalRecallTx(ctx, tx, monitoring.NationalRecall{Number: r.Number, Status: r.Status, Reason: r.Reason, RootCode: r.RootCode,
		RegionCode: r.RegionCode, OpenedAt: r.OpenedAt, DecidedBy: r.DecidedBy, ReleaseReason: r.ReleaseReason, Codes: r.Codes, Node: m.Node})
}
