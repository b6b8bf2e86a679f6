package trace

// Bulk import: many records in one transaction.
//
// An import (a spreadsheet or ERP upload, or a province's daily exchange
// file) carries operations that would otherwise be separate requests:
// batches, sales, receipts, market acceptances, splits, merges and
// transformations, each by its own account. Import checks every operation
// exactly like the single request (Authorize for the acting account,
// validation, stock and time conservation under the same row locks) and
// emits the same event; the whole import commits, or nothing does.
//
// The write bodies below follow CreateBatch, Sell, Confirm, Accept, Split,
// Merge and Transform step for step (owned by the benchmark; see
// docs/benchmarks.md). If those methods are factored into shared
// transaction bodies, these methods should call them instead.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// Importer writes the operations of one import inside its transaction.
type Importer struct {
	s     *Service
	ctx   context.Context
	tx    *platform.Tx
	short *shortage
	ops   map[int64]operator.Operator // acting operators, checked once per import
}

// Import runs fn with an Importer bound to one transaction: every
// operation fn performs commits together, or none does (a refused
// operation's error aborts the import). Over-shipments refused during an
// import are recorded as findings after the rollback, as for a request.
func (s *Service) Import(ctx context.Context, fn func(im *Importer) error) error {
	var short *shortage
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		im := &Importer{s: s, ctx: ctx, tx: tx, ops: map[int64]operator.Operator{}}
		err := fn(im)
		short = im.short
		return err
	})
	if err != nil {
		s.recordShortage(ctx, short)
	}
	return err
}

func (im *Importer) operator(actor *auth.Actor) (operator.Operator, error) {
	if actor != nil {
		if o, ok := im.ops[actor.OperatorID]; ok {
			return o, nil
		}
	}
	o, err := im.s.actorOperator(im.ctx, actor)
	if err == nil {
		im.ops[actor.OperatorID] = o
	}
	return o, err
}

// CreateBatch records a production batch (as Service.CreateBatch) and returns its code.
func (im *Importer) CreateBatch(actor *auth.Actor, in NewBatch) (string, error) {
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{}); err != nil {
		return "", err
	}
	op, err := im.operator(actor)
	if err != nil {
		return "", err
	}
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{OperatorID: op.ID, Region: op.RegionCode}); err != nil {
		return "", err
	}
	return im.s.createBatchTx(im.ctx, im.tx, actor, op, in, "record")
}

// Sell sells to an operator or into a market (as Service.Sell) and returns the new code.
func (im *Importer) Sell(actor *auth.Actor, in SaleInput) (string, error) {
	ctx, tx, s := im.ctx, im.tx, im.s
	if err := auth.Authorize(actor, auth.ActTransferSell, auth.Resource{}); err != nil {
		return "", err
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
	qty, _ := toMilli(&v, "quantity", in.Quantity)
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
		return "", err
	}
	seller, err := im.operator(actor)
	if err != nil {
		return "", err
	}
	var buyer *operator.Operator
	if buyerCode != "" {
		b, err := s.ops.ByCode(ctx, buyerCode)
		if platform.IsNotFound(err) {
			return "", invalid("buyer_operator_code", "unknown", "没有主体使用此编码", "no operator has this code")
		}
		if err != nil {
			return "", err
		}
		if b.ID == seller.ID {
			return "", invalid("buyer_operator_code", "self", "不能销售给自己；内部调拨请用拆分", "cannot sell to your own operator; use a split instead")
		}
		if b.Status != operator.StatusApproved {
			return "", invalid("buyer_operator_code", "not_approved", "购买方登记状态为“"+statusZH(b.Status)+"”，不能进行扫码交易",
				"the buyer's registration is "+b.Status+"; it cannot trade on the platform")
		}
		buyer = &b
	}
	today := platform.Today(tx.Now())
	shipped := in.ShippedAt
	if shipped == "" {
		shipped = today
	}
	src, err := loadCode(ctx, tx, from, true)
	if platform.IsNotFound(err) {
		return "", invalid("from_code", "unknown", "追溯码不存在", "no such trace code")
	}
	if err != nil {
		return "", err
	}
	if err := auth.Authorize(actor, auth.ActTransferSell, auth.Resource{OperatorID: src.OperatorID, Region: src.RegionCode}); err != nil {
		return "", platform.Forbidden("只能销售本主体持有的批次", "you can only sell codes your operator holds").With("field", "from_code")
	}
	code, sh, err := s.sellTx(ctx, tx, actor, src, seller, buyer, in.Market, qty, shipped, today, "")
	if sh != nil {
		im.short = sh
	}
	return code, err
}

// Confirm records the buyer's receipt (as Service.Confirm).
func (im *Importer) Confirm(actor *auth.Actor, code string, in ConfirmInput) error {
	ctx, tx, s := im.ctx, im.tx, im.s
	if err := auth.Authorize(actor, auth.ActTransferConfirm, auth.Resource{}); err != nil {
		return err
	}
	var v platform.Validator
	var rec int64
	if in.ReceivedQuantity != 0 {
		rec, _ = toMilli(&v, "received_quantity", in.ReceivedQuantity)
	}
	if in.ReceivedAt != "" {
		checkDate(&v, "received_at", in.ReceivedAt, "9999-12-31", "", "", "")
	}
	if err := v.Err(); err != nil {
		return err
	}
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
	if rec == 0 {
		rec = shipped
	}
	v.Check(rec <= shipped, "received_quantity", "more_than_shipped",
		fmt.Sprintf("实收数量不能超过发货数量 %s %s；多出的货物请让卖方另行销售", FormatMilli(shipped), UnitName(t.Unit)),
		fmt.Sprintf("cannot exceed the shipped quantity %s %s; ask the seller to sell the rest separately", FormatMilli(shipped), t.Unit))
	on := in.ReceivedAt
	if on == "" {
		on = today
	}
	checkDate(&v, "received_at", on, today, t.ShippedAt, "发货日期", "shipping_date")
	if err := v.Err(); err != nil {
		return err
	}
	res, err := tx.Exec(ctx, `UPDATE transfers SET status = 'confirmed', received_milli = $2, responded_on = $3, responded_by = $4, responded_at = $5
		WHERE code = $1 AND status = 'pending'`, code, rec, on, platform.NullInt(actor.UserID), tx.Now())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return alreadyAnswered(t)
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

// Accept marks a market-entry code accepted by a market clerk (as Service.Accept).
func (im *Importer) Accept(actor *auth.Actor, code string) error {
	ctx, tx, s := im.ctx, im.tx, im.s
	if err := auth.Authorize(actor, auth.ActMarketAccept, auth.Resource{}); err != nil {
		return err
	}
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
	on := today
	if on < t.ShippedAt {
		on = t.ShippedAt
	}
	res, err := tx.Exec(ctx, `UPDATE transfers SET status = 'accepted', received_milli = $2, responded_on = $3, responded_by = $4, responded_at = $5
		WHERE code = $1 AND status = 'issued'`, code, q, on, platform.NullInt(actor.UserID), tx.Now())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return alreadyAnswered(t)
	}
	return tx.Emit(ctx, platform.Event{Action: "transfer.accept", ResourceType: "trace_code", ResourceID: code, Data: map[string]any{
		"biz_step": "receiving", "disposition": "sellable_accessible", "market": t.Market.Name, "region_code": t.Market.RegionCode}})
}

// Split splits a code into parts (as Service.Split) and returns the new codes.
func (im *Importer) Split(actor *auth.Actor, code string, in SplitInput) ([]string, error) {
	ctx, tx, s := im.ctx, im.tx, im.s
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{}); err != nil {
		return nil, err
	}
	var v platform.Validator
	if len(in.Parts) == 0 {
		v.Add("parts", "required", "请填写拆分出的各份数量", "give the quantity of each part")
	}
	if len(in.Parts) > 1000 {
		v.Add("parts", "too_many", "一次最多拆分 1000 份", "at most 1000 parts at once")
	}
	parts := make([]int64, len(in.Parts))
	var total int64
	for i, q := range in.Parts {
		parts[i], _ = toMilli(&v, fmt.Sprintf("parts[%d]", i), q)
		total += parts[i]
	}
	if in.SplitAt != "" {
		checkDate(&v, "split_at", in.SplitAt, "9999-12-31", "", "", "")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	op, err := im.operator(actor)
	if err != nil {
		return nil, err
	}
	today := platform.Today(tx.Now())
	on := in.SplitAt
	if on == "" {
		on = today
	}
	if _, err := loadCode(ctx, tx, code, false); err != nil {
		return nil, err
	}
	lines := []consumeLine{{field: "code", code: code, qty: total}}
	sh, err := s.consume(ctx, tx, actor, lines, "split", on, today, "split_at")
	if sh != nil {
		im.short = sh
		return nil, sh.err("parts", lines[0].row.Unit)
	}
	if err != nil {
		return nil, err
	}
	src := lines[0].row
	id, err := s.newTransformation(ctx, tx, actor, "split", op.ID, on, "")
	if err != nil {
		return nil, err
	}
	if err := writeConsumption(ctx, tx, lines, id, on); err != nil {
		return nil, err
	}
	attrs := map[string]any{}
	_ = json.Unmarshal([]byte(src.Attributes), &attrs)
	var out []string
	for _, q := range parts {
		c, err := s.writeOutput(ctx, tx, actor, op, id, "split", newCodeRow{ProductCode: src.ProductCode, Unit: src.Unit, Quantity: q,
			ProducedOn: src.ProducedOn, Origin: src.Origin, Attributes: attrs, ParentCode: src.Code}, on)
		if err != nil {
			return nil, err
		}
		if err := insertEdge(ctx, tx, src.Code, c, "split", q); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, tx.Emit(ctx, platform.Event{Action: "batch.split", ResourceType: "trace_code", ResourceID: src.Code, Data: map[string]any{
		"event_type": "TransformationEvent", "biz_step": "repackaging", "transformation_id": id, "input": src.Code,
		"input_quantity": fromMilli(total), "outputs": out, "unit": src.Unit, "at": on}})
}

// Merge merges lots into one (as Service.Merge) and returns the new code.
func (im *Importer) Merge(actor *auth.Actor, in MergeInput) (string, error) {
	ctx, tx, s := im.ctx, im.tx, im.s
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{}); err != nil {
		return "", err
	}
	var v platform.Validator
	if len(in.Inputs) < 2 {
		v.Add("inputs", "too_few", "合并至少需要 2 个批次", "a merge needs at least 2 inputs")
	}
	lines := parseInputs(&v, in.Inputs)
	in.ProductCode, in.Origin = strings.TrimSpace(in.ProductCode), strings.TrimSpace(in.Origin)
	p, _ := s.productAndUnit(ctx, &v, "", in.ProductCode, "")
	v.MaxLen("origin", in.Origin, 200)
	if in.ProducedAt != "" {
		checkDate(&v, "produced_at", in.ProducedAt, "9999-12-31", "", "", "")
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	op, err := im.operator(actor)
	if err != nil {
		return "", err
	}
	today := platform.Today(tx.Now())
	on := in.ProducedAt
	if on == "" {
		on = today
	}
	attrs := validateAttributes(&v, "attributes.", p, in.Attributes, today)
	if err := v.Err(); err != nil {
		return "", err
	}
	sh, err := s.consume(ctx, tx, actor, lines, "merge", on, today, "produced_at")
	if sh != nil {
		im.short = sh
	}
	if err != nil {
		return "", err
	}
	unit := lines[0].row.Unit
	var total int64
	for _, l := range lines {
		total += l.qty
		if l.row.Unit != unit {
			return "", invalid(l.field, "unit", "合并的批次计量单位必须一致（"+UnitName(unit)+"）", "all inputs of a merge must share one unit ("+unit+")")
		}
	}
	if !p.HasUnit(unit) {
		return "", invalid("product_code", "unit", "“"+p.Name+"”不能以“"+UnitName(unit)+"”计量", p.NameEN+" cannot be measured in "+unit)
	}
	origin := in.Origin
	if origin == "" {
		origin = lines[0].row.Origin
	}
	id, err := s.newTransformation(ctx, tx, actor, "merge", op.ID, on, "")
	if err != nil {
		return "", err
	}
	if err := writeConsumption(ctx, tx, lines, id, on); err != nil {
		return "", err
	}
	c, err := s.writeOutput(ctx, tx, actor, op, id, "merge", newCodeRow{ProductCode: p.Code, Unit: unit, Quantity: total,
		ProducedOn: on, Origin: origin, Attributes: attrs}, on)
	if err != nil {
		return "", err
	}
	var inputs []map[string]any
	for _, l := range lines {
		if err := insertEdge(ctx, tx, l.code, c, "merge", l.qty); err != nil {
			return "", err
		}
		inputs = append(inputs, map[string]any{"code": l.code, "quantity": fromMilli(l.qty)})
	}
	for _, al := range aliasesFromAttributes(p, attrs) {
		if err := insertAlias(ctx, tx, al[0], al[1], c, actor.UserID, "attributes"); err != nil {
			return "", err
		}
	}
	return c, tx.Emit(ctx, platform.Event{Action: "batch.merge", ResourceType: "trace_code", ResourceID: c, Data: map[string]any{
		"event_type": "TransformationEvent", "biz_step": "commissioning", "transformation_id": id, "inputs": inputs,
		"output": c, "quantity": fromMilli(total), "unit": unit, "product_code": p.Code, "at": on}})
}

// Transform consumes inputs and produces outputs (as Service.Transform) and returns the new codes.
func (im *Importer) Transform(actor *auth.Actor, in TransformInput) ([]string, error) {
	ctx, tx, s := im.ctx, im.tx, im.s
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{}); err != nil {
		return nil, err
	}
	var v platform.Validator
	if len(in.Inputs) == 0 {
		v.Add("inputs", "required", "请填写投入批次", "give at least one input")
	}
	if len(in.Outputs) == 0 {
		v.Add("outputs", "required", "请填写产出", "give at least one output")
	}
	if len(in.Outputs) > 100 {
		v.Add("outputs", "too_many", "产出最多 100 项", "at most 100 outputs")
	}
	lines := parseInputs(&v, in.Inputs)
	in.Note = strings.TrimSpace(in.Note)
	v.MaxLen("note", in.Note, 500)
	type out struct {
		p   Product
		qty int64
		o   OutputSpec
	}
	outs := make([]out, len(in.Outputs))
	for i := range in.Outputs {
		o := in.Outputs[i]
		pre := fmt.Sprintf("outputs[%d].", i)
		o.ProductCode, o.Unit, o.Origin = strings.TrimSpace(o.ProductCode), strings.TrimSpace(o.Unit), strings.TrimSpace(o.Origin)
		p, ok := s.productAndUnit(ctx, &v, pre, o.ProductCode, o.Unit)
		if ok && o.Unit == "" {
			o.Unit = p.Units[0].Code
		}
		outs[i].p, outs[i].o = p, o
		outs[i].qty, _ = toMilli(&v, pre+"quantity", o.Quantity)
		v.MaxLen(pre+"origin", o.Origin, 200)
	}
	if in.ProducedAt != "" {
		checkDate(&v, "produced_at", in.ProducedAt, "9999-12-31", "", "", "")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	op, err := im.operator(actor)
	if err != nil {
		return nil, err
	}
	today := platform.Today(tx.Now())
	on := in.ProducedAt
	if on == "" {
		on = today
	}
	attrs := make([]map[string]any, len(outs))
	for i, o := range outs {
		attrs[i] = validateAttributes(&v, fmt.Sprintf("outputs[%d].attributes.", i), o.p, o.o.Attributes, today)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	sh, err := s.consume(ctx, tx, actor, lines, "transform", on, today, "produced_at")
	if sh != nil {
		im.short = sh
	}
	if err != nil {
		return nil, err
	}
	id, err := s.newTransformation(ctx, tx, actor, "transform", op.ID, on, in.Note)
	if err != nil {
		return nil, err
	}
	if err := writeConsumption(ctx, tx, lines, id, on); err != nil {
		return nil, err
	}
	var inputs, outputs []map[string]any
	for _, l := range lines {
		inputs = append(inputs, map[string]any{"code": l.code, "quantity": fromMilli(l.qty), "unit": l.row.Unit})
	}
	var result []string
	for i, o := range outs {
		origin := o.o.Origin
		if origin == "" {
			origin = lines[0].row.Origin
		}
		c, err := s.writeOutput(ctx, tx, actor, op, id, "transform", newCodeRow{ProductCode: o.p.Code, Unit: o.o.Unit, Quantity: o.qty,
			ProducedOn: on, Origin: origin, Attributes: attrs[i]}, on)
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			if err := insertEdge(ctx, tx, l.code, c, "transform", o.qty); err != nil {
				return nil, err
			}
		}
		for _, al := range aliasesFromAttributes(o.p, attrs[i]) {
			if err := insertAlias(ctx, tx, al[0], al[1], c, actor.UserID, fmt.Sprintf("outputs[%d].attributes", i)); err != nil {
				return nil, err
			}
		}
		result = append(result, c)
		outputs = append(outputs, map[string]any{"code": c, "product_code": o.p.Code, "quantity": fromMilli(o.qty), "unit": o.o.Unit})
	}
	return result, tx.Emit(ctx, platform.Event{Action: "batch.transform", ResourceType: "transformation", ResourceID: fmt.Sprint(id), Data: map[string]any{
		"event_type": "TransformationEvent", "biz_step": "commissioning", "transformation_id": id, "inputs": inputs, "outputs": outputs, "at": on}})
}
