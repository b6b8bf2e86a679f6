package trace

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// SplitInput splits a code into parts (each a new production code); what
// is not split off stays under the original code.
type SplitInput struct {
	Parts   []float64 `json:"parts"`
	SplitAt string    `json:"split_at,omitempty" doc:"YYYY-MM-DD; default today"`
}

// InputQty is one input consumed by a merge or transformation.
type InputQty struct {
	Code     string  `json:"code"`
	Quantity float64 `json:"quantity"`
}

// MergeInput merges lots into one (tea blending, milk pooling). All inputs
// share one unit; the output quantity is their sum.
type MergeInput struct {
	Inputs      []InputQty     `json:"inputs"`
	ProductCode string         `json:"product_code"`
	ProducedAt  string         `json:"produced_at,omitempty" doc:"date of the merge; default today"`
	Origin      string         `json:"origin,omitempty"`
	Attributes  map[string]any `json:"attributes,omitempty"`
}

// OutputSpec is one output of a transformation.
type OutputSpec struct {
	ProductCode string         `json:"product_code"`
	Quantity    float64        `json:"quantity"`
	Unit        string         `json:"unit"`
	Origin      string         `json:"origin,omitempty"`
	Attributes  map[string]any `json:"attributes,omitempty"`
}

// TransformInput turns inputs into outputs (pigs → carcasses → cuts).
type TransformInput struct {
	Inputs     []InputQty   `json:"inputs"`
	Outputs    []OutputSpec `json:"outputs"`
	ProducedAt string       `json:"produced_at,omitempty" doc:"date of the transformation; default today"`
	Note       string       `json:"note,omitempty"`
	// OverrideReason records outputs outside their plausible yield range
	// anyway; the transformation is then flagged (finding implausible_yield).
	OverrideReason string `json:"override_reason,omitempty" doc:"required to record outputs outside the plausible yield of the inputs; the transformation is then flagged"`
}

// TransformResult lists the codes a split, merge or transformation issued.
type TransformResult struct {
	ID    int64    `json:"transformation_id"`
	Kind  string   `json:"kind"`
	Codes []string `json:"codes"`
}

type consumeLine struct {
	field string
	code  string
	qty   int64
	row   codeRow
}

// consume locks the inputs (in code order, so concurrent merges cannot
// deadlock), checks ownership, time and stock, and returns them loaded.
func (s *Service) consume(ctx context.Context, tx *platform.Tx, actor *auth.Actor, lines []consumeLine, op, onDate, today string,
	dateField string) (*shortage, error) {
	order := make([]int, len(lines))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return lines[order[a]].code < lines[order[b]].code })
	for _, i := range order {
		l := &lines[i]
		r, err := loadCode(ctx, tx, l.code, true)
		if platform.IsNotFound(err) {
			return nil, invalid(l.field, "unknown", "追溯码不存在", "no such trace code")
		}
		if err != nil {
			return nil, err
		}
		if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{OperatorID: r.OperatorID, Region: r.RegionCode}); err != nil {
			return nil, platform.Forbidden("只能使用本主体持有的批次："+l.code, "you can only use codes your operator holds: "+l.code).With("field", l.field)
		}
		l.row = r
	}
	var v platform.Validator
	for _, i := range order {
		l := &lines[i]
		stock, since, err := consumable(ctx, tx, l.row, l.field)
		if err != nil {
			return nil, err
		}
		notBefore, what, whatEN := l.row.ProducedOn, "投入批次的生产日期", "production_date"
		if since > notBefore {
			notBefore, what, whatEN = since, "投入批次的入库日期", "receipt_date"
		}
		if !checkDate(&v, dateField, onDate, today, notBefore, what, whatEN) {
			return nil, v.Err()
		}
		if !wholeUnits(&v, strings.TrimSuffix(l.field, ".code")+".quantity", l.row.Unit, l.qty) {
			return nil, v.Err()
		}
		if l.qty > stock {
			sh := &shortage{code: l.code, operatorID: l.row.OperatorID, region: l.row.RegionCode, op: op, requested: l.qty, available: max(stock, 0)}
			return sh, sh.err(strings.TrimSuffix(l.field, ".code")+".quantity", l.row.Unit)
		}
	}
	return nil, nil
}

func (s *Service) newTransformation(ctx context.Context, tx *platform.Tx, actor *auth.Actor, kind string, opID int64, onDate, note string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO transformations (kind, operator_id, on_date, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		kind, opID, onDate, note, platform.NullInt(actor.UserID), tx.Now()).Scan(&id)
	return id, err
}

// writeConsumption writes the consume moves of the inputs.
func writeConsumption(ctx context.Context, tx *platform.Tx, lines []consumeLine, id int64, onDate string) error {
	for _, l := range lines {
		if err := insertMove(ctx, tx, l.code, -l.qty, "consume", fmt.Sprintf("transformation:%d", id), onDate); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) writeOutput(ctx context.Context, tx *platform.Tx, actor *auth.Actor, op operator.Operator, id int64, kind string,
	r newCodeRow, onDate string) (string, error) {
	code, err := newCode(ctx, tx, codes.Production, op.CountyCode)
	if err != nil {
		return "", err
	}
	r.Code, r.Type, r.OperatorID, r.RegionCode, r.Source, r.TransformationID, r.CreatedBy = code, 1, op.ID, op.RegionCode, kind, id, actor.UserID
	if err := insertCode(ctx, tx, r); err != nil {
		return "", err
	}
	if err := insertMove(ctx, tx, code, r.Quantity, "produce", fmt.Sprintf("transformation:%d", id), onDate); err != nil {
		return "", err
	}
	return code, nil
}

// Split splits a code into parts, each a new production code that keeps the
// batch's product, unit, production date, origin and extension fields.
func (s *Service) Split(ctx context.Context, actor *auth.Actor, code string, in SplitInput) (TransformResult, error) {
	r, err := s.prepareSplit(ctx, actor, in, s.actorOperator)
	if err != nil {
		return TransformResult{}, err
	}
	var res TransformResult
	var short *shortage
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		var err error
		res, short, err = s.splitTx(ctx, tx, actor, code, r)
		return err
	})
	s.recordShortage(ctx, short)
	return res, err
}

// splitRequest is a validated SplitInput and the acting operator.
type splitRequest struct {
	op      operator.Operator
	parts   []int64
	total   int64
	splitAt string
}

// prepareSplit authorizes and validates a split before its transaction.
func (s *Service) prepareSplit(ctx context.Context, actor *auth.Actor, in SplitInput, opOf operatorOf) (splitRequest, error) {
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{}); err != nil {
		return splitRequest{}, err
	}
	var v platform.Validator
	if len(in.Parts) == 0 {
		v.Add("parts", "required", "请填写拆分出的各份数量", "give the quantity of each part")
	}
	if len(in.Parts) > 1000 {
		v.Add("parts", "too_many", "一次最多拆分 1000 份", "at most 1000 parts at once")
	}
	r := splitRequest{parts: make([]int64, len(in.Parts)), splitAt: in.SplitAt}
	for i, q := range in.Parts {
		r.parts[i], _ = toMilli(&v, fmt.Sprintf("parts[%d]", i), q, "")
		r.total += r.parts[i]
	}
	if in.SplitAt != "" {
		checkDate(&v, "split_at", in.SplitAt, "9999-12-31", "", "", "")
	}
	if err := v.Err(); err != nil {
		return splitRequest{}, err
	}
	op, err := opOf(ctx, actor)
	if err != nil {
		return splitRequest{}, err
	}
	r.op = op
	return r, nil
}

// splitTx writes a split inside tx: it locks the code, checks time and
// stock, and writes the parts. A refused over-shipment is returned as a
// shortage for the caller to record after the rollback.
func (s *Service) splitTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, code string, r splitRequest) (TransformResult, *shortage, error) {
	res := TransformResult{Kind: "split"}
	today := platform.Today(tx.Now())
	on := r.splitAt
	if on == "" {
		on = today
	}
	src0, err := loadCode(ctx, tx, code, false)
	if err != nil {
		return res, nil, err
	}
	var v platform.Validator
	for i, q := range r.parts {
		wholeUnits(&v, fmt.Sprintf("parts[%d]", i), src0.Unit, q)
	}
	if err := v.Err(); err != nil {
		return res, nil, err
	}
	lines := []consumeLine{{field: "code", code: code, qty: r.total}}
	sh, err := s.consume(ctx, tx, actor, lines, "split", on, today, "split_at")
	if sh != nil {
		return res, sh, sh.err("parts", lines[0].row.Unit)
	}
	if err != nil {
		return res, nil, err
	}
	src := lines[0].row
	if res.ID, err = s.newTransformation(ctx, tx, actor, "split", r.op.ID, on, ""); err != nil {
		return res, nil, err
	}
	if err := writeConsumption(ctx, tx, lines, res.ID, on); err != nil {
		return res, nil, err
	}
	attrs := map[string]any{}
	_ = json.Unmarshal([]byte(src.Attributes), &attrs)
	for _, q := range r.parts {
		c, err := s.writeOutput(ctx, tx, actor, r.op, res.ID, "split", newCodeRow{ProductCode: src.ProductCode, Unit: src.Unit, Quantity: q,
			ProducedOn: src.ProducedOn, Origin: src.Origin, Attributes: attrs, ParentCode: src.Code}, on)
		if err != nil {
			return res, nil, err
		}
		if err := insertEdge(ctx, tx, src.Code, c, "split", q); err != nil {
			return res, nil, err
		}
		res.Codes = append(res.Codes, c)
	}
	return res, nil, tx.Emit(ctx, platform.Event{Action: "batch.split", ResourceType: "trace_code", ResourceID: src.Code, Data: map[string]any{
		"event_type": "TransformationEvent", "biz_step": "repackaging", "transformation_id": res.ID, "input": src.Code,
		"input_quantity": fromMilli(r.total), "outputs": res.Codes, "unit": src.Unit, "at": on}})
}

func parseInputs(v *platform.Validator, in []InputQty) []consumeLine {
	if len(in) > 500 {
		v.Add("inputs", "too_many", "投入批次最多 500 个", "at most 500 inputs")
		return nil
	}
	seen := map[string]bool{}
	var lines []consumeLine
	for i, x := range in {
		f := fmt.Sprintf("inputs[%d].code", i)
		tc, err := codes.ParseTraceCode(x.Code)
		if err != nil {
			fe := codeFieldError(f, err)
			v.Add(fe.Field, fe.Code, fe.ZH, fe.EN)
			continue
		}
		if seen[tc.Code] {
			v.Add(f, "duplicate", "同一批次只能列一次", "listed twice")
			continue
		}
		seen[tc.Code] = true
		q, ok := toMilli(v, fmt.Sprintf("inputs[%d].quantity", i), x.Quantity, "")
		if ok {
			lines = append(lines, consumeLine{field: f, code: tc.Code, qty: q})
		}
	}
	return lines
}

// Merge merges lots of one unit into a new production code (blending,
// pooling); the output remembers every input and the quantity it took.
func (s *Service) Merge(ctx context.Context, actor *auth.Actor, in MergeInput) (TransformResult, error) {
	r, err := s.prepareMerge(ctx, actor, in, s.actorOperator)
	if err != nil {
		return TransformResult{}, err
	}
	var res TransformResult
	var short *shortage
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		var err error
		res, short, err = s.mergeTx(ctx, tx, actor, r)
		return err
	})
	s.recordShortage(ctx, short)
	return res, err
}

// mergeRequest is a validated MergeInput and the acting operator.
type mergeRequest struct {
	in       MergeInput // trimmed
	lines    []consumeLine
	p        Product
	op       operator.Operator
	products map[string]Product // the catalogue
}

// prepareMerge authorizes and validates a merge before its transaction.
func (s *Service) prepareMerge(ctx context.Context, actor *auth.Actor, in MergeInput, opOf operatorOf) (mergeRequest, error) {
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{}); err != nil {
		return mergeRequest{}, err
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
		return mergeRequest{}, err
	}
	op, err := opOf(ctx, actor)
	if err != nil {
		return mergeRequest{}, err
	}
	cat, err := s.catalogue(ctx)
	if err != nil {
		return mergeRequest{}, err
	}
	return mergeRequest{in: in, lines: lines, p: p, op: op, products: cat.products}, nil
}

// mergeTx writes a merge inside tx: it locks the inputs, checks time, stock
// and units, and writes the output. A refused over-shipment is returned as
// a shortage for the caller to record after the rollback.
func (s *Service) mergeTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, r mergeRequest) (TransformResult, *shortage, error) {
	res := TransformResult{Kind: "merge"}
	in, lines, p := r.in, r.lines, r.p
	today := platform.Today(tx.Now())
	on := in.ProducedAt
	if on == "" {
		on = today
	}
	var v platform.Validator
	attrs := validateAttributes(&v, "attributes.", p, in.Attributes, today)
	if err := v.Err(); err != nil {
		return res, nil, err
	}
	sh, err := s.consume(ctx, tx, actor, lines, "merge", on, today, "produced_at")
	if err != nil {
		return res, sh, err
	}
	unit := lines[0].row.Unit
	var total int64
	for _, l := range lines {
		total += l.qty
		if lp, ok := r.products[l.row.ProductCode]; !ok || productFamily(lp) != productFamily(p) {
			name := l.row.ProductCode
			if ok {
				name = lp.Name
			}
			return res, nil, invalid(l.field, "product_family",
				"只能合并同一产品的批次：“"+name+"”不是“"+p.Name+"”。不同产品混合请用加工（transformation）",
				"a merge mixes lots of one product only: "+l.row.ProductCode+" is not "+p.Code+"; mixing different products is a transformation")
		}
		if l.row.Unit != unit {
			return res, nil, invalid(l.field, "unit", "合并的批次计量单位必须一致（"+UnitName(unit)+"）", "all inputs of a merge must share one unit ("+unit+")")
		}
	}
	if !p.HasUnit(unit) {
		return res, nil, invalid("product_code", "unit", "“"+p.Name+"”不能以“"+UnitName(unit)+"”计量", p.NameEN+" cannot be measured in "+unit)
	}
	origin := in.Origin
	if origin == "" {
		origin = lines[0].row.Origin
	}
	if res.ID, err = s.newTransformation(ctx, tx, actor, "merge", r.op.ID, on, ""); err != nil {
		return res, nil, err
	}
	if err := writeConsumption(ctx, tx, lines, res.ID, on); err != nil {
		return res, nil, err
	}
	c, err := s.writeOutput(ctx, tx, actor, r.op, res.ID, "merge", newCodeRow{ProductCode: p.Code, Unit: unit, Quantity: total,
		ProducedOn: on, Origin: origin, Attributes: attrs}, on)
	if err != nil {
		return res, nil, err
	}
	var inputs []map[string]any
	for _, l := range lines {
		if err := insertEdge(ctx, tx, l.code, c, "merge", l.qty); err != nil {
			return res, nil, err
		}
		inputs = append(inputs, map[string]any{"code": l.code, "quantity": fromMilli(l.qty)})
	}
	for _, al := range aliasesFromAttributes(p, attrs) {
		if err := insertAlias(ctx, tx, al[0], al[1], c, actor.UserID, "attributes"); err != nil {
			return res, nil, err
		}
	}
	res.Codes = []string{c}
	return res, nil, tx.Emit(ctx, platform.Event{Action: "batch.merge", ResourceType: "trace_code", ResourceID: c, Data: map[string]any{
		"event_type": "TransformationEvent", "biz_step": "commissioning", "transformation_id": res.ID, "inputs": inputs,
		"output": c, "quantity": fromMilli(total), "unit": unit, "product_code": p.Code, "at": on}})
}

// Transform consumes inputs and produces outputs of other products
// (slaughter, cutting, processing). Every output is linked to every input.
func (s *Service) Transform(ctx context.Context, actor *auth.Actor, in TransformInput) (TransformResult, error) {
	r, err := s.prepareTransform(ctx, actor, in, s.actorOperator)
	if err != nil {
		return TransformResult{}, err
	}
	var res TransformResult
	var short *shortage
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		var err error
		res, short, err = s.transformTx(ctx, tx, actor, r)
		return err
	})
	s.recordShortage(ctx, short)
	return res, err
}

// transformOutput is one validated output of a transformation.
type transformOutput struct {
	p   Product
	qty int64
	o   OutputSpec // trimmed, unit defaulted
}

// transformRequest is a validated TransformInput and the acting operator.
type transformRequest struct {
	lines      []consumeLine
	outs       []transformOutput
	producedAt string
	note       string
	override   string
	op         operator.Operator
	products   map[string]Product      // the catalogue
	rules      map[[2]string]yieldRule // yield rules
}

// prepareTransform authorizes and validates a transformation before its transaction.
func (s *Service) prepareTransform(ctx context.Context, actor *auth.Actor, in TransformInput, opOf operatorOf) (transformRequest, error) {
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{}); err != nil {
		return transformRequest{}, err
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
	in.Note, in.OverrideReason = strings.TrimSpace(in.Note), strings.TrimSpace(in.OverrideReason)
	v.MaxLen("note", in.Note, 500)
	v.MaxLen("override_reason", in.OverrideReason, 500)
	outs := make([]transformOutput, len(in.Outputs))
	for i := range in.Outputs {
		o := in.Outputs[i]
		pre := fmt.Sprintf("outputs[%d].", i)
		o.ProductCode, o.Unit, o.Origin = strings.TrimSpace(o.ProductCode), strings.TrimSpace(o.Unit), strings.TrimSpace(o.Origin)
		p, ok := s.productAndUnit(ctx, &v, pre, o.ProductCode, o.Unit)
		if ok && o.Unit == "" {
			o.Unit = p.Units[0].Code
		}
		outs[i].p, outs[i].o = p, o
		outs[i].qty, _ = toMilli(&v, pre+"quantity", o.Quantity, o.Unit)
		v.MaxLen(pre+"origin", o.Origin, 200)
	}
	if in.ProducedAt != "" {
		checkDate(&v, "produced_at", in.ProducedAt, "9999-12-31", "", "", "")
	}
	if err := v.Err(); err != nil {
		return transformRequest{}, err
	}
	op, err := opOf(ctx, actor)
	if err != nil {
		return transformRequest{}, err
	}
	cat, err := s.catalogue(ctx)
	if err != nil {
		return transformRequest{}, err
	}
	rules, err := s.yieldRules(ctx)
	if err != nil {
		return transformRequest{}, err
	}
	return transformRequest{lines: lines, outs: outs, producedAt: in.ProducedAt, note: in.Note, override: in.OverrideReason, op: op,
		products: cat.products, rules: rules}, nil
}

// transformTx writes a transformation inside tx: it locks the inputs,
// checks time and stock, and writes the outputs. A refused over-shipment is
// returned as a shortage for the caller to record after the rollback.
func (s *Service) transformTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, r transformRequest) (TransformResult, *shortage, error) {
	res := TransformResult{Kind: "transform"}
	lines, outs := r.lines, r.outs
	today := platform.Today(tx.Now())
	on := r.producedAt
	if on == "" {
		on = today
	}
	var v platform.Validator
	attrs := make([]map[string]any, len(outs))
	for i, o := range outs {
		attrs[i] = validateAttributes(&v, fmt.Sprintf("outputs[%d].attributes.", i), o.p, o.o.Attributes, today)
	}
	if err := v.Err(); err != nil {
		return res, nil, err
	}
	sh, err := s.consume(ctx, tx, actor, lines, "transform", on, today, "produced_at")
	if err != nil {
		return res, sh, err
	}
	issues, unrelated := checkYields(lines, outs, r.products, r.rules)
	if len(issues) > 0 && r.override == "" {
		var v platform.Validator
		for _, is := range issues {
			v.Add(fmt.Sprintf("outputs[%d].quantity", is.out), "yield", is.zh, is.en)
		}
		return res, nil, v.Err()
	}
	if res.ID, err = s.newTransformation(ctx, tx, actor, "transform", r.op.ID, on, r.note); err != nil {
		return res, nil, err
	}
	if err := writeConsumption(ctx, tx, lines, res.ID, on); err != nil {
		return res, nil, err
	}
	var inputs, outputs []map[string]any
	for _, l := range lines {
		inputs = append(inputs, map[string]any{"code": l.code, "quantity": fromMilli(l.qty), "unit": l.row.Unit})
	}
	for i, o := range outs {
		origin := o.o.Origin
		if origin == "" {
			origin = lines[0].row.Origin
		}
		c, err := s.writeOutput(ctx, tx, actor, r.op, res.ID, "transform", newCodeRow{ProductCode: o.p.Code, Unit: o.o.Unit, Quantity: o.qty,
			ProducedOn: on, Origin: origin, Attributes: attrs[i]}, on)
		if err != nil {
			return res, nil, err
		}
		for _, l := range lines {
			if err := insertEdge(ctx, tx, l.code, c, "transform", o.qty); err != nil {
				return res, nil, err
			}
		}
		for _, al := range aliasesFromAttributes(o.p, attrs[i]) {
			if err := insertAlias(ctx, tx, al[0], al[1], c, actor.UserID, fmt.Sprintf("outputs[%d].attributes", i)); err != nil {
				return res, nil, err
			}
		}
		res.Codes = append(res.Codes, c)
		outputs = append(outputs, map[string]any{"code": c, "product_code": o.p.Code, "quantity": fromMilli(o.qty), "unit": o.o.Unit})
	}
	if err := s.flagTransformation(ctx, tx, r, res, issues, unrelated, inputs, today); err != nil {
		return res, nil, err
	}
	return res, nil, tx.Emit(ctx, platform.Event{Action: "batch.transform", ResourceType: "transformation", ResourceID: fmt.Sprint(res.ID), Data: map[string]any{
		"event_type": "TransformationEvent", "biz_step": "commissioning", "transformation_id": res.ID, "inputs": inputs, "outputs": outputs, "at": on,
		"override": r.override != "" && len(issues) > 0}})
}

// flagTransformation records the findings of an accepted transformation:
// outputs outside their yield range (accepted with an override reason) and
// outputs unrelated to the inputs that are outside the operator's
// registered business.
func (s *Service) flagTransformation(ctx context.Context, tx *platform.Tx, r transformRequest, res TransformResult, issues []yieldIssue,
	unrelated []int, inputs []map[string]any, today string) error {
	for _, is := range issues {
		d := is.detail
		d["transformation_id"], d["inputs"], d["override_reason"], d["message"] = res.ID, inputs, r.override, is.zh
		if err := addFinding(ctx, tx, FindingYield, res.Codes[is.out], r.op.ID, r.op.RegionCode, today, d); err != nil {
			return err
		}
	}
	for _, i := range unrelated {
		o := r.outs[i]
		if inBusiness(r.op, o.p) {
			continue
		}
		if err := addFinding(ctx, tx, FindingUnrelatedOutput, res.Codes[i], r.op.ID, r.op.RegionCode, today, map[string]any{
			"transformation_id": res.ID, "product_code": o.p.Code, "product": o.p.Name, "inputs": inputs,
			"registered_products": r.op.Products}); err != nil {
			return err
		}
	}
	return nil
}
