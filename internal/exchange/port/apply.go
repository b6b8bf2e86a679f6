package port

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// Applying one row: compare it with what is recorded under its natural key
// (unchanged when identical, a conflict naming the first differing field
// when not), or write it through the service that writes such records —
// the operator service for basic records, the bulk importer for batches
// and stage records — as the operator the record belongs to. The
// importer's own right (exchange.import in the operator's region) is
// checked first; the service then applies every rule a live request
// meets (approved operators, held batches, conservation, time order,
// yields) and emits the same events.

func (r *runner) apply(im *trace.Importer, it *item) (outcome, error) {
	switch row := it.row.(type) {
	case *OperatorRow:
		return r.applyOperator(im, *row, it.prep)
	case *BatchRow:
		return r.applyBatch(im, canonBatch(*row))
	case *EventRow:
		e := canonEvent(*row)
		switch e.Stage {
		case StageSale:
			return r.applySale(im, e)
		case StageSplit, StageMerge, StageTransform:
			return r.applyTransformation(im, e)
		}
		return 0, invalid("stage", "not_allowed", "环节应为 sale、split、merge 或 transform", "stage must be sale, split, merge or transform")
	}
	return 0, fmt.Errorf("port: unknown row type %T", it.row)
}

func invalid(field, code, zh, en string) error {
	return platform.Invalid(platform.FieldError{Field: field, Code: code, ZH: zh, EN: en})
}

// conflict is the refusal of a row whose key is recorded with other facts.
func conflict(field string) error {
	return platform.Conflict("与已登记的记录不一致（"+field+"）：同一编码不能登记两种内容", "differs from the record on file ("+field+"): one code cannot hold two records").
		With("field", field)
}

// mayImport checks the importer's right to write for an operator of region.
func (r *runner) mayImport(region string) error {
	return auth.Authorize(r.actor, auth.ActExchangeImport, auth.Resource{Region: region})
}

// operator reads an operator by code (once per file); field names the row's column.
func (r *runner) operator(ctx context.Context, code, field string) (operator.Operator, error) {
	if o, ok := r.ops[code]; ok {
		return o, nil
	}
	if _, err := codes.ParseOperatorCode(code); err != nil {
		if ce, ok := err.(*codes.Error); ok {
			return operator.Operator{}, invalid(field, ce.Code, ce.ZH, ce.EN)
		}
		return operator.Operator{}, invalid(field, "format", "主体编码格式错误", "malformed operator code")
	}
	o, err := r.s.ops.ByCode(ctx, code)
	if platform.IsNotFound(err) {
		return o, invalid(field, "unknown_operator", "没有主体使用此编码（请先导入主体）", "no operator has this code (import the operators first)")
	}
	if err != nil {
		return o, err
	}
	r.ops[code] = o
	return o, nil
}

// onBehalf is the actor a row is written as: the record's operator, with
// every staff permission, identified as the importer (its account is the
// one the audit names). Built only after the importer's own right to
// import for that operator's region was checked.
func (r *runner) onBehalf(o operator.Operator) *auth.Actor {
	return auth.OnBehalf(r.actor, o.ID, o.RegionCode)
}

// clerk is the market clerk of region a market's answer is written as.
func (r *runner) clerk(region string) *auth.Actor {
	return &auth.Actor{UserID: r.actor.UserID, Username: r.actor.Username, Name: r.actor.Name, Role: auth.RoleMarket, Region: region}
}

func (r *runner) applyOperator(im *trace.Importer, row OperatorRow, req operator.ImportRequest) (outcome, error) {
	ctx, tx := im.Context(), im.Tx()
	if err := r.mayImport(req.RegionCode()); err != nil {
		return 0, err
	}
	c := canonOperator(row)
	rec, found, err := operatorByCode(ctx, tx, c.OperatorCode)
	if err != nil {
		return 0, err
	}
	if found {
		if f := differs(KindOperators, c, rec); f != "" {
			return 0, conflict(f)
		}
		return same, nil
	}
	_, err = r.s.ops.ImportTx(ctx, tx, r.actor, req)
	return wrote, err
}

// traceCode parses a code column.
func traceCode(field, s string) (codes.TraceCode, error) {
	tc, err := codes.ParseTraceCode(s)
	if err != nil {
		if ce, ok := err.(*codes.Error); ok {
			return tc, invalid(field, ce.Code, ce.ZH, ce.EN)
		}
		return tc, invalid(field, "format", "追溯码格式错误", "malformed trace code")
	}
	return tc, nil
}

func (r *runner) applyBatch(im *trace.Importer, b BatchRow) (outcome, error) {
	ctx, tx := im.Context(), im.Tx()
	tc, err := traceCode("trace_code", b.TraceCode)
	if err != nil {
		return 0, err
	}
	if tc.Type != codes.Production {
		return 0, invalid("trace_code", "type", "生产批次的追溯码以 1 开头", "a production batch code starts with 1")
	}
	op, err := r.operator(ctx, b.OperatorCode, "operator_code")
	if err != nil {
		return 0, err
	}
	if err := r.mayImport(op.RegionCode); err != nil {
		return 0, err
	}
	rec, found, err := batchByCode(ctx, tx, tc.Code)
	if err != nil {
		return 0, err
	}
	if found {
		if rec.source != trace.SourceRecord {
			return 0, conflict("trace_code")
		}
		if f := differs(KindBatches, b, canonBatch(rec.BatchRow)); f != "" {
			return 0, conflict(f)
		}
		return same, nil
	}
	_, err = im.Keeping(tc.Code).CreateBatch(r.onBehalf(op), trace.NewBatch{ProductCode: b.ProductCode, Quantity: b.Quantity, Unit: b.Unit,
		ProducedAt: b.ProducedAt, Origin: b.Origin, Attributes: b.Attributes, Inputs: b.Inputs, Operations: b.Operations, OverrideReason: b.OverrideReason})
	return wrote, err
}

// answerless is a sale row without its answer (what the sale itself recorded).
func answerless(e EventRow) EventRow {
	e.Status, e.ReceivedQuantity, e.ReceivedAt, e.Reason = "", nil, "", ""
	return e
}

// saleStatuses are the statuses a sale row may have: to an operator, into a market.
var (
	operatorSaleStatuses = []string{trace.TransferPending, trace.TransferConfirmed, trace.TransferRejected, trace.TransferWithdrawn}
	marketSaleStatuses   = []string{trace.TransferIssued, trace.TransferAccepted, trace.TransferRejected}
)

// checkSale checks a sale row's shape before anything is read.
func checkSale(e *EventRow) error {
	var v platform.Validator
	v.Check(len(e.Inbound) == 1, "inbound", "count", "销售记录有且只有一个进货批次", "a sale has exactly one inbound batch")
	v.Check(len(e.Outbound) == 1, "outbound", "count", "销售记录有且只有一个出货批次（追溯码）", "a sale has exactly one outbound batch (its trace code)")
	v.Require("date", e.Date)
	market := e.MarketName != "" || e.MarketKind != "" || e.MarketRegion != ""
	switch {
	case market && e.DestinationOperatorCode != "":
		v.Add("destination_operator_code", "exclusive", "去向主体与市场只能二选一", "give a destination operator or a market, not both")
	case !market && e.DestinationOperatorCode == "":
		v.Add("destination_operator_code", "required", "请填写去向主体编码或市场", "give the destination operator's code or a market")
	}
	if e.Status == "" {
		e.Status = trace.TransferPending
		if market {
			e.Status = trace.TransferIssued
		}
	}
	if market {
		v.OneOf("status", e.Status, marketSaleStatuses...)
	} else {
		v.OneOf("status", e.Status, operatorSaleStatuses...)
	}
	if len(e.Inbound) == 1 && len(e.Outbound) == 1 && e.Inbound[0].Quantity != 0 {
		v.Check(e.Inbound[0].Quantity == e.Outbound[0].Quantity, "inbound[0].quantity", "mismatch", "销售的进货批次数量应等于出货数量",
			"a sale takes from its inbound batch what it hands out")
	}
	if (e.Status == trace.TransferRejected || e.Status == trace.TransferWithdrawn) && e.Reason == "" {
		v.Add("reason", "required", "拒收或撤回需填写原因", "a rejected or withdrawn sale gives its reason")
	}
	return v.Err()
}

func (r *runner) applySale(im *trace.Importer, e EventRow) (outcome, error) {
	ctx, tx := im.Context(), im.Tx()
	if err := checkSale(&e); err != nil {
		return 0, err
	}
	out, err := traceCode("outbound[0].trace_code", e.Outbound[0].TraceCode)
	if err != nil {
		return 0, err
	}
	seller, err := r.operator(ctx, e.OperatorCode, "operator_code")
	if err != nil {
		return 0, err
	}
	if err := r.mayImport(seller.RegionCode); err != nil {
		return 0, err
	}
	rec, found, err := saleByCode(ctx, tx, out.Code)
	if err != nil {
		return 0, err
	}
	if found {
		rec = canonEvent(rec)
		if f := differs(KindEvents, answerless(e), answerless(rec)); f != "" {
			return 0, conflict(f)
		}
		if differs(KindEvents, e, rec) == "" {
			return same, nil
		}
		if rec.Status != trace.TransferPending && rec.Status != trace.TransferIssued {
			return 0, conflict("status")
		}
		return wrote, r.answer(im, e, seller, out.Code) // the answer arrived since the sale was exchanged
	}
	in := trace.SaleInput{FromCode: e.Inbound[0].TraceCode, Quantity: e.Outbound[0].Quantity, BuyerOperatorCode: e.DestinationOperatorCode, ShippedAt: e.Date}
	if e.DestinationOperatorCode == "" {
		in.Market = &trace.Market{Name: e.MarketName, Kind: e.MarketKind, RegionCode: e.MarketRegion}
	}
	if _, err := im.Keeping(out.Code).Sell(r.onBehalf(seller), in); err != nil {
		return 0, err
	}
	return wrote, r.answer(im, e, seller, out.Code)
}

// answer records a sale's answer as the one who gave it: the buyer
// (confirmed, rejected), the seller (withdrawn) or the market's clerk
// (accepted, rejected at the gate).
func (r *runner) answer(im *trace.Importer, e EventRow, seller operator.Operator, code string) error {
	ctx := im.Context()
	buyer := func() (*auth.Actor, error) {
		b, err := r.operator(ctx, e.DestinationOperatorCode, "destination_operator_code")
		if err != nil {
			return nil, err
		}
		if err := r.mayImport(b.RegionCode); err != nil {
			return nil, err
		}
		return r.onBehalf(b), nil
	}
	market := func() (*auth.Actor, error) {
		if err := r.mayImport(e.MarketRegion); err != nil {
			return nil, err
		}
		return r.clerk(e.MarketRegion), nil
	}
	switch {
	case e.Status == trace.TransferConfirmed:
		a, err := buyer()
		if err != nil {
			return err
		}
		rec := e.Outbound[0].Quantity
		if e.ReceivedQuantity != nil {
			rec = *e.ReceivedQuantity
		}
		return im.Confirm(a, code, trace.ConfirmInput{ReceivedQuantity: rec, ReceivedAt: e.ReceivedAt})
	case e.Status == trace.TransferRejected && e.DestinationOperatorCode != "":
		a, err := buyer()
		if err != nil {
			return err
		}
		return im.Reject(a, code, e.Reason)
	case e.Status == trace.TransferRejected:
		a, err := market()
		if err != nil {
			return err
		}
		return im.Reject(a, code, e.Reason)
	case e.Status == trace.TransferWithdrawn:
		return im.Withdraw(r.onBehalf(seller), code, e.Reason)
	case e.Status == trace.TransferAccepted:
		a, err := market()
		if err != nil {
			return err
		}
		return im.Accept(a, code)
	}
	return nil
}

// checkTransformation checks a split, merge or transformation row's shape.
func checkTransformation(e EventRow) error {
	var v platform.Validator
	v.Require("date", e.Date)
	v.Check(len(e.Outbound) > 0, "outbound", "required", "请列出产出的批次（追溯码）", "list the batches it produced (their trace codes)")
	v.Check(len(e.Inbound) > 0, "inbound", "required", "请列出投入的批次", "list the batches it took in")
	if e.Stage == StageSplit {
		v.Check(len(e.Inbound) <= 1, "inbound", "count", "拆分只有一个进货批次", "a split takes in one batch")
		if len(e.Inbound) == 1 && e.Inbound[0].Quantity != 0 {
			var total float64
			for _, o := range e.Outbound {
				total += o.Quantity
			}
			v.Check(trace.FormatQty(total) == trace.FormatQty(e.Inbound[0].Quantity), "inbound[0].quantity", "mismatch",
				"拆分的进货数量应等于各份之和", "a split takes in the sum of its parts")
		}
	}
	if e.Stage == StageMerge {
		v.Check(len(e.Outbound) == 1, "outbound", "count", "合并只产出一个批次", "a merge produces one batch")
	}
	return v.Err()
}

func (r *runner) applyTransformation(im *trace.Importer, e EventRow) (outcome, error) {
	ctx, tx := im.Context(), im.Tx()
	if err := checkTransformation(e); err != nil {
		return 0, err
	}
	outs := make([]string, len(e.Outbound))
	for i, l := range e.Outbound {
		tc, err := traceCode(fmt.Sprintf("outbound[%d].trace_code", i), l.TraceCode)
		if err != nil {
			return 0, err
		}
		outs[i] = tc.Code
	}
	op, err := r.operator(ctx, e.OperatorCode, "operator_code")
	if err != nil {
		return 0, err
	}
	if err := r.mayImport(op.RegionCode); err != nil {
		return 0, err
	}
	id, err := transformationOf(ctx, tx, outs[0])
	if err != nil {
		return 0, err
	}
	if id != 0 {
		rec, err := transformationByID(ctx, tx, id)
		if err != nil {
			return 0, err
		}
		if f := differs(KindEvents, e, canonEvent(rec)); f != "" {
			return 0, conflict(f)
		}
		return same, nil
	}
	k := im.Keeping(outs...)
	actor := r.onBehalf(op)
	inputs := make([]trace.InputQty, len(e.Inbound))
	for i, l := range e.Inbound {
		inputs[i] = trace.InputQty{Code: l.TraceCode, Quantity: l.Quantity}
	}
	switch e.Stage {
	case StageSplit:
		parts := make([]float64, len(e.Outbound))
		for i, l := range e.Outbound {
			parts[i] = l.Quantity
		}
		_, err = k.Split(actor, e.Inbound[0].TraceCode, trace.SplitInput{Parts: parts, SplitAt: e.Date})
	case StageMerge:
		o := e.Outbound[0]
		_, err = k.Merge(actor, trace.MergeInput{Inputs: inputs, ProductCode: o.ProductCode, ProducedAt: e.Date, Origin: o.Origin, Attributes: o.Attributes})
	default:
		specs := make([]trace.OutputSpec, len(e.Outbound))
		for i, o := range e.Outbound {
			specs[i] = trace.OutputSpec{ProductCode: o.ProductCode, Quantity: o.Quantity, Unit: o.Unit, Origin: o.Origin, Attributes: o.Attributes}
		}
		_, err = k.Transform(actor, trace.TransformInput{Inputs: inputs, Outputs: specs, ProducedAt: e.Date, Note: e.Note, OverrideReason: e.OverrideReason})
	}
	if err != nil {
		return 0, err
	}
	if n := k.Unused(); n > 0 {
		return 0, invalid("outbound", "count", fmt.Sprintf("文件所列出货批次比该记录产出的多 %d 个", n), fmt.Sprintf("the file lists %d more outbound batches than the record produces", n))
	}
	return wrote, nil
}

// Field names: a service names its own input's fields; a row error names
// the row's columns.
var (
	indexed  = regexp.MustCompile(`^(inputs|outputs|parts|codes)\[(\d+)\](.*)$`)
	saleName = map[string]string{"from_code": "inbound[0].trace_code", "quantity": "outbound[0].quantity", "shipped_at": "date",
		"buyer_operator_code": "destination_operator_code", "market.name": "market_name", "market.kind": "market_kind",
		"market.region_code": "market_region", "market.id": "market_name", "operator_status": "operator_code"}
	transformName = map[string]string{"code": "inbound[0].trace_code", "split_at": "date", "produced_at": "date", "inputs": "inbound",
		"outputs": "outbound", "parts": "outbound", "product_code": "outbound[0].product_code", "origin": "outbound[0].origin"}
)

// fieldMapper returns the function that names a service field as the row's column.
func fieldMapper(row any) func(string) string {
	switch row := row.(type) {
	case *BatchRow:
		return func(f string) string {
			if strings.HasPrefix(f, "codes[") {
				return "trace_code"
			}
			return f
		}
	case *EventRow:
		return func(f string) string { return eventField(row.Stage, f) }
	}
	return func(f string) string { return f }
}

func eventField(stage, f string) string {
	if m := indexed.FindStringSubmatch(f); m != nil {
		switch m[1] {
		case "inputs":
			return "inbound[" + m[2] + "]" + strings.Replace(m[3], ".code", ".trace_code", 1)
		case "outputs":
			return "outbound[" + m[2] + "]" + m[3]
		case "parts":
			return "outbound[" + m[2] + "].quantity"
		case "codes":
			return "outbound[" + m[2] + "].trace_code"
		}
	}
	if stage == StageSale {
		if n, ok := saleName[f]; ok {
			return n
		}
		return f
	}
	if n, ok := transformName[f]; ok {
		return n
	}
	if strings.HasPrefix(f, "attributes.") {
		return "outbound[0]." + f
	}
	return f
}
