package exchange

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"agtrace/internal/codes"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// The national side: a message is applied into the node's own tables in
// the caller's transaction. Replicated rows are written as the source wrote
// them (the source's services validated them; decode and the checks here
// make sure they are well-formed and complete), keyed by what is global —
// operator codes, trace codes, certificate numbers — and mapped to local ids
// where a table wants one.

// Outcomes of applying a message.
const (
	OutcomeApplied   = "applied"   // its records are written
	OutcomeDuplicate = "duplicate" // applied before: nothing changed
	OutcomeIgnored   = "ignored"   // no record the national node keeps
)

// record kinds in exchange_records
const (
	kindOperator  = "operator"
	kindTraceCode = "trace_code"
)

// txCache is what the messages applied in one transaction learn about
// this node's rows (discarded with the transaction), and what they applied.
type txCache struct {
	ops      map[string]int64       // operator code → local id
	products map[string]bool        // product codes known to exist
	codes    map[string]bool        // trace codes known to exist
	records  map[[2]string]*claimed // exchange_records rows read or written
	links    *bool                  // whether some cross-node link waits (nil: not asked yet)
	nodes    map[string]bool        // source nodes noted in exchange_nodes
	applied  []appliedMsg
}

// claimed is an exchange_records row as this transaction leaves it.
type claimed struct {
	node, digest string
	last         int64
	dirty        bool // last/digest changed since read: written by finish
	written      bool // the record was written in this transaction (written_at)
}

// appliedMsg is a message applied in the transaction (for its event).
type appliedMsg struct {
	m         Message
	streamSeq uint64
}

func newTxCache() *txCache {
	return &txCache{ops: map[string]int64{}, products: map[string]bool{}, codes: map[string]bool{}, records: map[[2]string]*claimed{},
		nodes: map[string]bool{}}
}

// noteNode keeps the source node among the province nodes (once per
// transaction); a node heard from for the first time gets an
// exchange.welcome event, on which the relay sends it the calendar.
func (c *txCache) noteNode(ctx context.Context, tx *platform.Tx, node string) error {
	if c.nodes[node] {
		return nil
	}
	c.nodes[node] = true
	res, err := tx.Exec(ctx, `INSERT INTO exchange_nodes (node, first_seen) VALUES ($1, $2) ON CONFLICT (node) DO NOTHING`, node, tx.Now())
	if err != nil {
		return err
	}
	if k, err := res.RowsAffected(); err != nil || k == 0 {
		return err
	}
	return tx.Emit(ctx, platform.Event{Action: "exchange.welcome", ResourceType: "exchange_node", ResourceID: node, Data: map[string]any{"to": node}})
}

// applyTx applies m (arrived as stream message streamSeq) inside tx; the
// caller ends with c.finish, which writes what the messages share and the
// transaction's event.
func (n *Node) applyTx(ctx context.Context, tx *platform.Tx, c *txCache, m Message, streamSeq uint64) (string, error) {
	if err := c.noteNode(ctx, tx, m.Node); err != nil {
		return "", err
	}
	if m.Records == nil {
		return OutcomeIgnored, nil
	}
	// the message's row first: a replay finds it and changes nothing
	res, err := tx.Exec(ctx, `INSERT INTO exchange_applied (node, seq, stream_seq, topic, resource_type, resource_id, applied_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (node, seq) DO NOTHING`, m.Node, m.Seq, int64(streamSeq), m.Topic, m.ResourceType, m.ResourceID, tx.Now())
	if err != nil {
		return "", err
	}
	if k, err := res.RowsAffected(); err != nil || k == 0 {
		return OutcomeDuplicate, err
	}
	a := applying{n: n, tx: tx, m: m, cache: c, ops: c.ops, products: c.products, touched: map[string]bool{}}
	if err := a.checkRegions(); err != nil {
		return "", err
	}
	for i, o := range m.Records.Operators {
		if err := a.operator(ctx, fmt.Sprintf("records.operators[%d]", i), o); err != nil {
			return "", err
		}
	}
	for i, c := range m.Records.Codes {
		if err := a.code(ctx, fmt.Sprintf("records.codes[%d]", i), c); err != nil {
			return "", err
		}
	}
	for i, x := range m.Records.Inspections {
		if err := a.inspection(ctx, fmt.Sprintf("records.inspections[%d]", i), x); err != nil {
			return "", err
		}
	}
	for i, x := range m.Records.Samples {
		if err := a.sample(ctx, fmt.Sprintf("records.samples[%d]", i), x); err != nil {
			return "", err
		}
	}
	if err := a.resolveLinks(ctx); err != nil {
		return "", err
	}
	if m.Topic == "recall.disposition" {
		if err := a.disposition(ctx); err != nil {
			return "", err
		}
	}
	c.applied = append(c.applied, appliedMsg{m: m, streamSeq: streamSeq})
	return OutcomeApplied, nil
}

// ResourceBatch is the resource of an apply's event: the messages one
// transaction applied (named <node>:<seq> for one, <first>-<last> stream
// sequences for several). The source's resource ids are its own (an
// operator's row id there), so the event does not name them; the records
// it wrote carry its instant in exchange_records.written_at.
const ResourceBatch = "exchange_batch"

// finish writes the newest position of every record the transaction's
// messages claimed, and the transaction's one event, naming the message
// it applied or summing up the batch — the applied messages themselves
// are listed in exchange_applied.
func (c *txCache) finish(ctx context.Context, tx *platform.Tx) error {
	for k, r := range c.records {
		var err error
		switch {
		case r.dirty && r.written:
			_, err = tx.Exec(ctx, `UPDATE exchange_records SET node = $3, last_seq = $4, digest = $5, written_at = $6 WHERE kind = $1 AND record_key = $2`,
				k[0], k[1], r.node, r.last, r.digest, tx.Now())
		case r.dirty:
			_, err = tx.Exec(ctx, `UPDATE exchange_records SET node = $3, last_seq = $4, digest = $5 WHERE kind = $1 AND record_key = $2`,
				k[0], k[1], r.node, r.last, r.digest)
		}
		if err != nil {
			return err
		}
	}
	if len(c.applied) == 0 {
		return nil
	}
	var touched []string // the stored public pages the applied codes change (trace/pagestore.go)
	for _, x := range c.applied {
		for _, r := range x.m.Records.Codes {
			touched = append(touched, r.Code)
		}
	}
	if err := trace.StalePagesTx(ctx, tx, touched); err != nil {
		return err
	}
	switch len(c.applied) {
	case 1:
		x := c.applied[0]
		return tx.Emit(ctx, platform.Event{Action: "exchange.apply", ResourceType: ResourceBatch, ResourceID: MsgID(x.m.Node, x.m.Seq),
			Data: map[string]any{"node": x.m.Node, "seq": x.m.Seq, "topic": x.m.Topic, "stream_seq": x.streamSeq,
				"operator_count": len(x.m.Records.Operators), "code_count": len(x.m.Records.Codes)}})
	}
	seqs := map[string][2]int64{} // node → first, last
	var codes int
	for _, x := range c.applied {
		r, ok := seqs[x.m.Node]
		if !ok {
			r = [2]int64{x.m.Seq, x.m.Seq}
		}
		seqs[x.m.Node] = [2]int64{min(r[0], x.m.Seq), max(r[1], x.m.Seq)}
		codes += len(x.m.Records.Codes)
	}
	first, last := c.applied[0], c.applied[len(c.applied)-1]
	return tx.Emit(ctx, platform.Event{Action: "exchange.apply", ResourceType: ResourceBatch,
		ResourceID: fmt.Sprintf("%d-%d", first.streamSeq, last.streamSeq),
		Data:       map[string]any{"message_count": len(c.applied), "code_count": codes, "seq": seqs, "stream_seq": [2]uint64{first.streamSeq, last.streamSeq}}})
}

// applying is the state of one message's apply.
type applying struct {
	n        *Node
	tx       *platform.Tx
	m        Message
	cache    *txCache
	ops      map[string]int64 // operator code → local id
	products map[string]bool  // product codes known to exist
	touched  map[string]bool  // codes written (for cross-node links)
	skip     bool             // claimOwn: the record is here already
}

// invalid is a refusal of one field of the message.
func invalid(field, code, zh, en string) error {
	return platform.Invalid(platform.FieldError{Field: field, Code: code, ZH: zh, EN: en})
}

// checkRegions refuses records outside the regions the source node may
// write (when the national node was told them: Config.NodeRegions).
func (a *applying) checkRegions() error {
	prefixes, ok := a.n.cfg.NodeRegions[a.m.Node]
	if !ok {
		return nil
	}
	within := func(region string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(region, p) {
				return true
			}
		}
		return false
	}
	for i, o := range a.m.Records.Operators {
		if !within(o.RegionCode) {
			return unauthorisedRegion(fmt.Sprintf("records.operators[%d].region_code", i), a.m.Node, o.RegionCode)
		}
	}
	for i, x := range a.m.Records.Inspections {
		if !within(x.RegionCode) {
			return unauthorisedRegion(fmt.Sprintf("records.inspections[%d].region_code", i), a.m.Node, x.RegionCode)
		}
	}
	for i, x := range a.m.Records.Samples {
		if !within(x.RegionCode) {
			return unauthorisedRegion(fmt.Sprintf("records.samples[%d].region_code", i), a.m.Node, x.RegionCode)
		}
	}
	for i, c := range a.m.Records.Codes {
		// a sale to another province's buyer is the seller's record, held in the buyer's region
		if !within(c.RegionCode) && (c.Transfer == nil || !within(c.Transfer.SellerRegion)) {
			return unauthorisedRegion(fmt.Sprintf("records.codes[%d].region_code", i), a.m.Node, c.RegionCode)
		}
	}
	return nil
}

func unauthorisedRegion(field, node, region string) error {
	return invalid(field, "unauthorised", "节点 "+node+" 无权报送地区 "+region+" 的记录", "node "+node+" may not send records of region "+region)
}

// claim decides whether this message may write the record (kind, key): a
// record belongs to the node that first sent it, and is written again only
// by a newer message of that node, and only when it changed (its digest).
// write is false for another node's record (a reference to it), for a
// message older than the last one applied, and for an unchanged record.
// The row is read once per transaction; its new position is written by
// finish (most messages of a batch carry the same operators).
func (a *applying) claim(ctx context.Context, kind, key string, rec any) (write, fresh bool, err error) {
	digest := digestOf(rec)
	k := [2]string{kind, key}
	r, ok := a.cache.records[k]
	if !ok {
		// most records are new: try to take them first
		res, err := a.tx.Exec(ctx, `INSERT INTO exchange_records (kind, record_key, node, first_seq, last_seq, digest, written_at) VALUES ($1, $2, $3, $4, $4, $5, $6)
			ON CONFLICT (kind, record_key) DO NOTHING`, kind, key, a.m.Node, a.m.Seq, digest, a.tx.Now())
		if err != nil {
			return false, false, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			a.cache.records[k] = &claimed{node: a.m.Node, last: a.m.Seq, digest: digest}
			return err == nil, err == nil, err
		}
		var found bool
		if r, found, err = a.record(ctx, kind, key); err != nil || !found {
			return false, false, cmp.Or(err, sql.ErrNoRows) // it was there a moment ago: the insert conflicted
		}
	}
	if r.node != a.m.Node || r.last >= a.m.Seq {
		return false, false, nil
	}
	write = digest != r.digest
	r.last, r.digest, r.dirty, r.written = a.m.Seq, digest, true, r.written || write
	return write, false, nil
}

// record reads a record's exchange_records row once per transaction
// (found false: no node sent it).
func (a *applying) record(ctx context.Context, kind, key string) (*claimed, bool, error) {
	k := [2]string{kind, key}
	if r, ok := a.cache.records[k]; ok {
		return r, true, nil
	}
	r := &claimed{}
	err := a.tx.QueryRow(ctx, `SELECT node, last_seq, digest FROM exchange_records WHERE kind = $1 AND record_key = $2`, kind, key).Scan(
		&r.node, &r.last, &r.digest)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	a.cache.records[k] = r
	return r, true, nil
}

// digestOf is a short hash of a record's JSON (struct fields encode in a
// fixed order).
func digestOf(rec any) string {
	b, _ := json.Marshal(rec)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// operator upserts one operator by its code.
func (a *applying) operator(ctx context.Context, f string, o OperatorRec) error {
	write, _, err := a.claim(ctx, kindOperator, o.Code, o)
	if err != nil {
		return err
	}
	if !write {
		id, err := a.operatorID(ctx, f+".code", o.Code)
		a.ops[o.Code] = id
		return err
	}
	if err := a.exists(ctx, `SELECT 1 FROM regions WHERE code = $1`, o.RegionCode, f+".region_code", "地区代码不存在", "unknown region code"); err != nil {
		return err
	}
	var id int64
	err = a.tx.QueryRow(ctx, `INSERT INTO operators (code, name, kind, category, credit_code, id_number_masked, legal_rep, contact_name, phone_masked,
		region_code, county_code, address, lat, lng, products, annual_output, annual_output_unit, leading_enterprise, demo_cooperative,
		certifications, status, status_reason, submitted_at, review_due, approved_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)
		ON CONFLICT (code) DO UPDATE SET name = $2, kind = $3, category = $4, credit_code = $5, id_number_masked = $6, legal_rep = $7,
		contact_name = $8, phone_masked = $9, region_code = $10, county_code = $11, address = $12, lat = $13, lng = $14, products = $15,
		annual_output = $16, annual_output_unit = $17, leading_enterprise = $18, demo_cooperative = $19, certifications = $20, status = $21,
		status_reason = $22, submitted_at = $23, review_due = $24, approved_at = $25, updated_at = $27
		RETURNING id`,
		o.Code, o.Name, o.Kind, o.Category, platform.NullString(o.CreditCode), o.IDNumberMasked, o.LegalRep, o.ContactName, o.PhoneMasked,
		o.RegionCode, o.CountyCode, o.Address, o.Lat, o.Lng, o.Products, o.AnnualOutput, o.AnnualOutputUnit, platform.NullString(o.LeadingEnterprise),
		o.DemoCooperative, o.Certifications, o.Status, o.StatusReason, o.SubmittedAt, platform.NullString(o.ReviewDue), o.ApprovedAt,
		o.CreatedAt, o.UpdatedAt).Scan(&id)
	if platform.IsUniqueViolation(err) {
		return invalid(f+".credit_code", "conflict", "统一社会信用代码已属于另一个主体", "the credit code belongs to another operator here")
	}
	if err != nil {
		return err
	}
	a.ops[o.Code] = id
	// decisions are the operator's history: the snapshot holds all of them
	if _, err := a.tx.Exec(ctx, `DELETE FROM operator_decisions WHERE operator_id = $1`, id); err != nil {
		return err
	}
	for _, d := range o.Decisions {
		if _, err := a.tx.Exec(ctx, `INSERT INTO operator_decisions (operator_id, kind, reason, actor_name, at, payload, signature)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, d.Kind, d.Reason, d.ActorName, d.At, d.Payload, d.Signature); err != nil {
			return err
		}
	}
	return nil
}

// operatorID is the local id of an operator code (in this message or applied before).
func (a *applying) operatorID(ctx context.Context, field, code string) (int64, error) {
	if code == "" {
		return 0, nil
	}
	if id, ok := a.ops[code]; ok {
		return id, nil
	}
	var id int64
	err := a.tx.QueryRow(ctx, `SELECT id FROM operators WHERE code = $1`, code).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, invalid(field, "unknown_operator", "主体 "+code+" 在本节点不存在", "operator "+code+" is not known here")
	}
	a.ops[code] = id
	return id, err
}

// exists refuses the field unless query (one parameter) finds a row.
func (a *applying) exists(ctx context.Context, query, arg, field, zh, en string) error {
	var one int
	err := a.tx.QueryRow(ctx, query, arg).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return invalid(field, "unknown", zh+"："+arg, en+": "+arg)
	}
	return err
}

// code writes one trace code with everything recorded on it.
func (a *applying) code(ctx context.Context, f string, c CodeRec) error {
	write, fresh, err := a.claim(ctx, kindTraceCode, c.Code, c)
	if err == nil && !write {
		write, err = a.takeOver(ctx, c)
	}
	if err != nil || !write {
		return err
	}
	holder, err := a.operatorID(ctx, f+".operator_code", c.OperatorCode)
	if err != nil {
		return err
	}
	if !a.products[c.ProductCode] {
		if err := a.exists(ctx, `SELECT 1 FROM products WHERE code = $1`, c.ProductCode, f+".product_code", "产品不存在", "unknown product"); err != nil {
			return err
		}
		a.products[c.ProductCode] = true
	}
	var xid sql.NullInt64
	if c.Transformation != nil {
		id, err := a.transformation(ctx, f+".transformation", *c.Transformation)
		if err != nil {
			return err
		}
		xid = sql.NullInt64{Int64: id, Valid: true}
	}
	res, err := a.tx.Exec(ctx, `INSERT INTO trace_codes (code, type, operator_id, region_code, product_code, unit, quantity_milli, produced_on,
		origin, attributes, source, parent_code, transformation_id, override_reason, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (code) DO NOTHING`,
		c.Code, c.Type, holder, c.RegionCode, c.ProductCode, c.Unit, c.QuantityMilli, c.ProducedOn,
		c.Origin, c.Attributes, c.Source, platform.NullString(c.ParentCode), xid, c.OverrideReason, c.CreatedAt)
	if err != nil {
		return err
	}
	if k, _ := res.RowsAffected(); k == 0 {
		fresh = false // the row was here already: count what it has
	}
	a.touched[c.Code], a.cache.codes[c.Code] = true, true
	for i, e := range c.EdgesIn {
		if err := a.upstream(ctx, fmt.Sprintf("%s.edges_in[%d].from", f, i), e.From); err != nil {
			return err
		}
		if _, err := a.tx.Exec(ctx, `INSERT INTO trace_edges (from_code, to_code, kind, quantity_milli) VALUES ($1, $2, $3, $4)
			ON CONFLICT (from_code, to_code) DO NOTHING`, e.From, c.Code, e.Kind, e.QuantityMilli); err != nil {
			return err
		}
	}
	if err := a.transfer(ctx, f+".transfer", c); err != nil {
		return err
	}
	if err := a.history(ctx, c, fresh); err != nil {
		return err
	}
	return a.documents(ctx, f, c)
}

// upstream refuses an edge whose source code is not here yet (its message
// is late or parked): redelivered later, the message finds it.
func (a *applying) upstream(ctx context.Context, field, code string) error {
	if a.cache.codes[code] {
		return nil
	}
	if err := a.exists(ctx, `SELECT 1 FROM trace_codes WHERE code = $1`, code, field, "上游追溯码尚未同步到本节点", "the upstream code has not reached this node"); err != nil {
		return err
	}
	a.cache.codes[code] = true
	return nil
}

// transformation is the local id of a source node's transformation,
// written the first time it is seen.
func (a *applying) transformation(ctx context.Context, f string, x TransformationRec) (int64, error) {
	var id int64
	err := a.tx.QueryRow(ctx, `SELECT local_id FROM exchange_ids WHERE node = $1 AND kind = 'transformation' AND source_id = $2`,
		a.m.Node, x.SourceID).Scan(&id)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	op, err := a.operatorID(ctx, f+".operator_code", x.OperatorCode)
	if err != nil {
		return 0, err
	}
	if err := a.tx.QueryRow(ctx, `INSERT INTO transformations (kind, operator_id, on_date, note, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		x.Kind, op, x.OnDate, x.Note, x.CreatedAt).Scan(&id); err != nil {
		return 0, err
	}
	_, err = a.tx.Exec(ctx, `INSERT INTO exchange_ids (node, kind, source_id, local_id) VALUES ($1, 'transformation', $2, $3)`, a.m.Node, x.SourceID, id)
	return id, err
}

// transfer writes the sale that issued c; its answer (the one field that
// changes) follows the newest message.
func (a *applying) transfer(ctx context.Context, f string, c CodeRec) error {
	t := c.Transfer
	if t == nil {
		return nil
	}
	if err := a.upstream(ctx, f+".from_code", t.FromCode); err != nil {
		return err
	}
	seller, err := a.operatorID(ctx, f+".seller_operator_code", t.SellerCode)
	if err != nil {
		return err
	}
	buyer, err := a.operatorID(ctx, f+".buyer_operator_code", t.BuyerCode)
	if err != nil {
		return err
	}
	_, err = a.tx.Exec(ctx, `INSERT INTO transfers (code, from_code, kind, seller_operator_id, seller_region, buyer_operator_id, buyer_region,
		market_name, market_kind, quantity_milli, unit, shipped_on, status, received_milli, responded_on, reason, created_at, responded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		ON CONFLICT (code) DO UPDATE SET status = $13, received_milli = $14, responded_on = $15, reason = $16, responded_at = $18`,
		c.Code, t.FromCode, t.Kind, seller, t.SellerRegion, platform.NullInt(buyer), t.BuyerRegion, t.MarketName, t.MarketKind,
		t.QuantityMilli, t.Unit, t.ShippedOn, t.Status, t.ReceivedMilli, platform.NullString(t.RespondedOn), t.Reason, t.CreatedAt, t.RespondedAt)
	if err != nil {
		return err
	}
	return a.route(ctx, c)
}

// history adds the rows of c the snapshot holds in full and this node not
// yet: stock moves, inputs and operations are insert-only at the source and
// listed in its order, so the ones past those already here are the new
// ones; versions are keyed by number.
func (a *applying) history(ctx context.Context, c CodeRec, fresh bool) error {
	have := func(table string) (int, error) {
		if fresh { // a code first seen now has nothing here yet
			return 0, nil
		}
		var k int
		err := a.tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE code = $1`, c.Code).Scan(&k)
		return k, err
	}
	k, err := have("stock_moves")
	if err != nil {
		return err
	}
	for _, m := range c.Moves[min(k, len(c.Moves)):] {
		if _, err := a.tx.Exec(ctx, `INSERT INTO stock_moves (code, delta_milli, kind, ref, on_date, at) VALUES ($1, $2, $3, $4, $5, $6)`,
			c.Code, m.DeltaMilli, m.Kind, m.Ref, m.OnDate, m.At); err != nil {
			return err
		}
	}
	if len(c.Inputs) > 0 {
		if k, err = have("batch_inputs"); err != nil {
			return err
		}
		for _, in := range c.Inputs[min(k, len(c.Inputs)):] {
			if _, err := a.tx.Exec(ctx, `INSERT INTO batch_inputs (code, kind, name, reg_no, dose, used_on, interval_days) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				c.Code, in.Kind, in.Name, in.RegNo, in.Dose, in.UsedOn, in.IntervalDays); err != nil {
				return err
			}
		}
	}
	if len(c.Operations) > 0 {
		if k, err = have("farming_operations"); err != nil {
			return err
		}
		for _, o := range c.Operations[min(k, len(c.Operations)):] {
			if _, err := a.tx.Exec(ctx, `INSERT INTO farming_operations (code, kind, description, on_date) VALUES ($1, $2, $3, $4)`,
				c.Code, o.Kind, o.Description, o.OnDate); err != nil {
				return err
			}
		}
	}
	for _, k := range c.Corrections {
		if _, err := a.tx.Exec(ctx, `INSERT INTO batch_corrections (code, version, corrects, quantity_milli, produced_on, origin, attributes, reason, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (code, version) DO NOTHING`,
			c.Code, k.Version, k.Corrects, k.QuantityMilli, k.ProducedOn, k.Origin, k.Attributes, k.Reason, k.CreatedAt); err != nil {
			return err
		}
	}
	return nil
}

// documents adds the code's aliases and certificates not yet here, and
// notes a provincial alias that names another node's trace code as a
// cross-node link.
func (a *applying) documents(ctx context.Context, f string, c CodeRec) error {
	for i, al := range c.Aliases {
		if _, err := a.tx.Exec(ctx, `INSERT INTO trace_aliases (scheme, value, code, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (scheme, value) DO NOTHING`, al.Scheme, al.Value, c.Code, al.CreatedAt); err != nil {
			return err
		}
		if al.Scheme != "provincial" || al.Value == c.Code || !codes.ValidTraceCode(al.Value) {
			continue
		}
		if _, err := a.tx.Exec(ctx, `INSERT INTO exchange_links (from_code, to_code, node, quantity_milli) VALUES ($1, $2, $3, $4)
			ON CONFLICT (from_code, to_code) DO NOTHING`, al.Value, c.Code, a.m.Node, c.QuantityMilli); err != nil {
			return fmt.Errorf("%s.aliases[%d]: %w", f, i, err)
		}
		a.touched[al.Value] = true
		waiting := true
		a.cache.links = &waiting
	}
	for i, k := range c.Certificates {
		op, err := a.operatorID(ctx, fmt.Sprintf("%s.certificates[%d].operator_code", f, i), k.OperatorCode)
		if err != nil {
			return err
		}
		if _, err := a.tx.Exec(ctx, `INSERT INTO certificates (number, code, operator_id, basis, test_ref, quantity_milli, scope, vehicle_plate,
			issued_on, show_contact, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (number) DO NOTHING`,
			k.Number, c.Code, op, k.Basis, k.TestRef, k.QuantityMilli, k.Scope, k.VehiclePlate, k.IssuedOn, k.ShowContact, k.CreatedAt); err != nil {
			return err
		}
	}
	return nil
}

// resolveLinks writes the edges of waiting cross-node links whose two codes
// are now both here: the downstream batch continues the upstream code, so
// at this node it is a transfer from it (source transfer, parent the
// upstream code) and the trace graph walks through it both ways.
func (a *applying) resolveLinks(ctx context.Context) error {
	if a.cache.links == nil {
		var one int
		err := a.tx.QueryRow(ctx, `SELECT 1 FROM exchange_links WHERE linked_at IS NULL LIMIT 1`).Scan(&one)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		waiting := err == nil
		a.cache.links = &waiting
	}
	if !*a.cache.links {
		return nil // no link waits: nothing to resolve (the usual case)
	}
	for code := range a.touched {
		links, err := list(ctx, a.tx, func(rs *sql.Rows) (e [3]any, err error) {
			var from, to string
			var q int64
			err = rs.Scan(&from, &to, &q)
			return [3]any{from, to, q}, err
		}, `SELECT l.from_code, l.to_code, l.quantity_milli FROM exchange_links l
			JOIN trace_codes f ON f.code = l.from_code JOIN trace_codes t ON t.code = l.to_code
			WHERE (l.from_code = $1 OR l.to_code = $1) AND l.linked_at IS NULL`, code)
		if err != nil {
			return err
		}
		for _, l := range links {
			if _, err := a.tx.Exec(ctx, `INSERT INTO trace_edges (from_code, to_code, kind, quantity_milli) VALUES ($1, $2, 'transfer', $3)
				ON CONFLICT (from_code, to_code) DO NOTHING`, l[0], l[1], l[2]); err != nil {
				return err
			}
			if _, err := a.tx.Exec(ctx, `UPDATE trace_codes SET source = 'transfer', parent_code = $2 WHERE code = $1 AND source IN ('record', 'smallholder')`,
				l[1], l[0]); err != nil {
				return err
			}
			if _, err := a.tx.Exec(ctx, `UPDATE exchange_links SET linked_at = $3 WHERE from_code = $1 AND to_code = $2`, l[0], l[1], a.tx.Now()); err != nil {
				return err
			}
			// the continuation's row changed: its own event (and ledger leaf)
			if err := a.tx.Emit(ctx, platform.Event{Action: "exchange.link", ResourceType: "trace_code", ResourceID: fmt.Sprint(l[1]),
				Data: map[string]any{"from_code": l[0], "node": a.m.Node}}); err != nil {
				return err
			}
		}
	}
	return nil
}
