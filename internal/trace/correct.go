package trace

// Correcting a production batch: a new version with a reason, never an
// overwrite; what a correction may hide is flagged.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// CorrectionInput is a new version of a production batch's facts; omitted
// fields keep their current value.
type CorrectionInput struct {
	Reason     string         `json:"reason" validate:"required"`
	Quantity   float64        `json:"quantity,omitempty"`
	ProducedAt string         `json:"produced_at,omitempty"`
	Origin     *string        `json:"origin,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty" doc:"replaces all extension fields when given"`
}

// Correct records a new version of a production batch with a reason. The
// old version stays; a quantity change is an adjust move (refused with 409
// if it would make the stock negative); a production date moved past what
// already happened downstream is recorded and flagged as a backward timeline.
func (s *Service) Correct(ctx context.Context, actor *auth.Actor, code string, in CorrectionInput) (Batch, error) {
	op, qty, err := s.prepareCorrection(ctx, actor, &in)
	if err != nil {
		return Batch{}, err
	}
	var short *shortage
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		var err error
		short, err = s.correctTx(ctx, tx, actor, op, code, in, qty)
		return err
	})
	s.recordShortage(ctx, short)
	if err != nil {
		return Batch{}, err
	}
	return s.batch(ctx, code)
}

// prepareCorrection authorizes and validates a correction before its
// transaction and returns the acting operator and the new quantity (0:
// unchanged).
func (s *Service) prepareCorrection(ctx context.Context, actor *auth.Actor, in *CorrectionInput) (operator.Operator, int64, error) {
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{}); err != nil {
		return operator.Operator{}, 0, err
	}
	op, err := s.actorOperator(ctx, actor)
	if err != nil {
		return operator.Operator{}, 0, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	var v platform.Validator
	if v.Require("reason", in.Reason) {
		v.MaxLen("reason", in.Reason, 500)
	}
	if in.Origin != nil {
		v.MaxLen("origin", strings.TrimSpace(*in.Origin), 200)
	}
	var qty int64
	if in.Quantity != 0 {
		qty, _ = toMilli(&v, "quantity", in.Quantity, "")
	}
	if in.Quantity == 0 && in.ProducedAt == "" && in.Origin == nil && in.Attributes == nil {
		v.Add("reason", "nothing", "没有要更正的内容", "nothing to correct: give quantity, produced_at, origin or attributes")
	}
	if err := v.Err(); err != nil {
		return operator.Operator{}, 0, err
	}
	return op, qty, nil
}

// correctTx writes a correction inside tx: the new version, the stock
// adjustment, aliases, the findings it raises and its event. A quantity
// below what already left the batch is refused and returned as a shortage.
func (s *Service) correctTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, op operator.Operator, code string, in CorrectionInput, qty int64) (*shortage, error) {
	var short *shortage
	today := platform.Today(tx.Now())
	r, err := loadCode(ctx, tx, code, true)
	if err != nil {
		return nil, err
	}
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{OperatorID: r.OperatorID, Region: r.RegionCode}); err != nil {
		return nil, err
	}
	if r.Type != 1 {
		return nil, invalid("code", "type", "只能更正生产批次（流通码与入市码随交易记录，请由卖方撤回后重新销售）",
			"only production batches can be corrected")
	}
	p, err := s.Product(ctx, r.ProductCode)
	if err != nil {
		return nil, err
	}
	next := r
	var v platform.Validator
	if qty != 0 {
		wholeUnits(&v, "quantity", r.Unit, qty)
	}
	if in.ProducedAt != "" {
		if checkDate(&v, "produced_at", in.ProducedAt, today, "", "", "") {
			next.ProducedOn = in.ProducedAt
		}
	}
	if in.Origin != nil {
		next.Origin = strings.TrimSpace(*in.Origin)
	}
	attrs := map[string]any{}
	_ = json.Unmarshal([]byte(r.Attributes), &attrs)
	if in.Attributes != nil {
		attrs = validateAttributes(&v, "attributes.", p, in.Attributes, today)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	stock, _, err := stockOf(ctx, tx, code)
	if err != nil {
		return nil, err
	}
	delta := int64(0)
	if qty != 0 {
		delta = qty - r.Quantity
		if stock+delta < 0 {
			short = &shortage{code: code, operatorID: r.OperatorID, region: r.RegionCode, op: "correct", requested: qty, available: r.Quantity - stock}
			return short, platform.Conflict(
				fmt.Sprintf("已发出或消耗 %s %s，更正后的数量不能少于此数", FormatMilli(r.Quantity-stock), UnitName(r.Unit)),
				fmt.Sprintf("%s %s already left this batch; the corrected quantity cannot be less", FormatMilli(r.Quantity-stock), r.Unit)).
				With("field", "quantity").With("available", fromMilli(stock)).With("minimum", fromMilli(r.Quantity-stock))
		}
		next.Quantity = qty
	}
	b, _ := json.Marshal(attrs)
	next.Version = r.Version + 1
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO batch_corrections (code, version, corrects, quantity_milli, produced_on, origin, attributes, reason, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`, code, next.Version, r.Version, next.Quantity, next.ProducedOn,
		next.Origin, string(b), in.Reason, platform.NullInt(actor.UserID), tx.Now()).Scan(&id); err != nil {
		if platform.IsUniqueViolation(err) {
			return nil, platform.Conflict("该批次刚被更正，请刷新后重试", "the batch was just corrected; reload and retry")
		}
		return nil, err
	}
	if delta != 0 {
		if err := insertMove(ctx, tx, code, delta, "adjust", fmt.Sprintf("correction:%d", id), today); err != nil {
			return nil, err
		}
	}
	for _, al := range aliasesFromAttributes(p, attrs) {
		if err := insertAliasIfNew(ctx, tx, al[0], al[1], code, actor.UserID); err != nil {
			return nil, err
		}
	}
	if err := s.correctionFindings(ctx, tx, code, r, next, delta, in.Reason, today); err != nil {
		return nil, err
	}
	return nil, tx.Emit(ctx, platform.Event{Action: "batch.correct", ResourceType: "trace_code", ResourceID: code, Data: map[string]any{
		"biz_step": "commissioning", "error_declaration": map[string]any{"reason": in.Reason, "corrects_version": r.Version},
		"version": next.Version, "operator_id": op.ID, "quantity": fromMilli(next.Quantity), "produced_at": next.ProducedOn}})
}

// correctionFindings flags what a correction may hide: a quantity raised
// while goods are downstream (goods from elsewhere laundered into the
// batch), and a production date moved after what already followed it; a
// moved date is checked against the inputs' safety intervals again.
func (s *Service) correctionFindings(ctx context.Context, tx *platform.Tx, code string, r codeRow, next codeRow, delta int64, reason, today string) error {
	in := CorrectionInput{Reason: reason}
	if delta > 0 {
		// more goods after some already left: possibly goods from elsewhere laundered into the batch
		var first string
		var moved int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MIN(CASE WHEN kind <> 'return' THEN on_date END), ''), CAST(COALESCE(-SUM(delta_milli), 0) AS BIGINT)
			FROM stock_moves WHERE code = $1 AND kind IN ('ship', 'consume', 'return')`, code).Scan(&first, &moved); err != nil {
			return err
		}
		if moved > 0 { // goods still downstream (a rejected or withdrawn sale came back)
			if err := addFinding(ctx, tx, FindingRaisedDownstream, code, r.OperatorID, r.RegionCode, today, map[string]any{
				"quantity": fromMilli(next.Quantity), "previous_quantity": fromMilli(r.Quantity), "unit": r.Unit,
				"moved_downstream": fromMilli(moved), "first_outgoing_at": first, "reason": in.Reason, "version": next.Version}); err != nil {
				return err
			}
		}
	}
	if next.ProducedOn != r.ProducedOn {
		// what already happened to the goods after production
		var first string
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MIN(on_date), '') FROM stock_moves WHERE code = $1 AND delta_milli < 0`, code).Scan(&first); err != nil {
			return err
		}
		if first != "" && first < next.ProducedOn {
			if err := addFinding(ctx, tx, FindingTimeline, code, r.OperatorID, r.RegionCode, today, map[string]any{
				"produced_at": next.ProducedOn, "previous_produced_at": r.ProducedOn, "first_outgoing_at": first, "reason": in.Reason,
				"version": next.Version}); err != nil {
				return err
			}
		}
		if err := s.recheckSafety(ctx, tx, code, next.ProducedOn, r, today, in.Reason); err != nil {
			return err
		}
	}
	return nil
}

// recheckSafety flags a corrected production date that falls inside a
// recorded input's safety interval.
func (s *Service) recheckSafety(ctx context.Context, tx *platform.Tx, code, producedOn string, r codeRow, today, reason string) error {
	rows, err := tx.Query(ctx, `SELECT name, reg_no, used_on, interval_days FROM batch_inputs WHERE code = $1 AND interval_days > 0`, code)
	if err != nil {
		return err
	}
	var flagged []map[string]any
	for rows.Next() {
		var name, reg, used string
		var days int
		if err := rows.Scan(&name, &reg, &used, &days); err != nil {
			rows.Close()
			return err
		}
		u, _ := time.Parse(time.DateOnly, used)
		safe := u.AddDate(0, 0, days).Format(time.DateOnly)
		if used <= producedOn && producedOn < safe {
			flagged = append(flagged, map[string]any{"input": name, "reg_no": reg, "used_at": used, "interval_days": days,
				"safe_from": safe, "produced_at": producedOn, "override_reason": "correction: " + reason})
		}
	}
	rows.Close()
	for _, f := range flagged {
		if err := addFinding(ctx, tx, FindingSafetyInterval, code, r.OperatorID, r.RegionCode, today, f); err != nil {
			return err
		}
	}
	return nil
}
