package monitoring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// Sample returns a sample with its items (and its recall) in the actor's reach.
func (s *Service) Sample(ctx context.Context, actor *auth.Actor, id int64) (Sample, error) {
	if err := auth.Authorize(actor, auth.ActSampleRead, auth.Resource{}); err != nil {
		return Sample{}, err
	}
	x, err := s.sample(ctx, id)
	if err != nil {
		return Sample{}, err
	}
	o, err := s.ops.ByCode(ctx, x.OperatorCode)
	if err != nil || auth.Authorize(actor, auth.ActSampleRead, auth.Resource{Region: x.RegionCode, OperatorID: o.ID}) != nil {
		return Sample{}, errSampleNotFound
	}
	return x, nil
}

func (s *Service) sample(ctx context.Context, id int64) (Sample, error) {
	var x Sample
	var recallID sql.NullInt64
	err := s.db.QueryRow(ctx, `SELECT s.id, s.sample_no, s.kind, o.code, o.name, s.batch_code, s.product_code, s.region_code, s.sampled_on, s.place,
		s.agency, s.method, s.verdict, s.tester_name, s.at, s.recall_id FROM samples s JOIN operators o ON o.id = s.operator_id WHERE s.id = $1`, id).Scan(
		&x.ID, &x.SampleNo, &x.Kind, &x.OperatorCode, &x.OperatorName, &x.BatchCode, &x.ProductCode, &x.RegionCode, &x.SampledAt, &x.Place,
		&x.Agency, &x.Method, &x.Verdict, &x.TesterName, &x.At, &recallID)
	if errors.Is(err, sql.ErrNoRows) {
		return Sample{}, errSampleNotFound
	}
	if err != nil {
		return Sample{}, err
	}
	rows, err := s.db.Query(ctx, `SELECT i.substance, COALESCE(sb.name, ''), i.value, i.unit, i.lod, i.result, i.limit_value, i.limit_unit, i.judgement,
		i.standard, i.edition, i.verdict, i.reason, i.in_limit_unit FROM sample_items i LEFT JOIN substances sb ON sb.code = i.substance
		WHERE i.sample_id = $1 ORDER BY i.position`, id)
	x.Results, err = platform.Collect(rows, err, func(r *sql.Rows) (SampleItem, error) {
		var it SampleItem
		var val, lod, lim sql.NullFloat64
		err := r.Scan(&it.Substance, &it.Name, &val, &it.Unit, &lod, &it.Result, &lim, &it.LimitUnit, &it.Judgement, &it.Standard, &it.Edition,
			&it.Verdict, &it.Reason, &it.InLimitUnit)
		it.Value, it.LOD, it.Limit = optional(val), optional(lod), optional(lim)
		return it, err
	})
	if err != nil {
		return Sample{}, err
	}
	if recallID.Valid {
		r, err := s.recall(ctx, recallID.Int64)
		if err != nil {
			return Sample{}, err
		}
		x.Recall = &r
	}
	return x, nil
}

func optional(f sql.NullFloat64) *float64 {
	if !f.Valid {
		return nil
	}
	return &f.Float64
}

// Confirm confirms a recall (a supervisor of any county in its scope).
func (s *Service) Confirm(ctx context.Context, actor *auth.Actor, id int64) (Recall, error) {
	return s.decide(ctx, actor, id, RecallConfirmed, "")
}

// Release releases a recall's holds, with a reason (required).
func (s *Service) Release(ctx context.Context, actor *auth.Actor, id int64, reason string) (Recall, error) {
	reason = strings.TrimSpace(reason)
	var v platform.Validator
	if v.Require("reason", reason) {
		v.MaxLen("reason", reason, 1000)
	}
	if err := v.Err(); err != nil {
		return Recall{}, err
	}
	return s.decide(ctx, actor, id, RecallReleased, reason)
}

// decide moves an open (or confirmed, for a release) recall on, guarded on its status.
func (s *Service) decide(ctx context.Context, actor *auth.Actor, id int64, to, reason string) (Recall, error) {
	if err := auth.Authorize(actor, auth.ActRecallManage, auth.Resource{}); err != nil {
		return Recall{}, err
	}
	r, err := s.Recall(ctx, actor, id)
	if err != nil {
		return Recall{}, err
	}
	if !slices.ContainsFunc(r.Batches, func(b RecallBatch) bool {
		return auth.Authorize(actor, auth.ActRecallManage, auth.Resource{Region: b.RegionCode}) == nil
	}) {
		return Recall{}, errRecallNotFound
	}
	if r.SourceNode != "" {
		return Recall{}, errNational
	}
	from := []string{RecallOpen}
	if to == RecallReleased {
		from = append(from, RecallConfirmed)
	}
	if !slices.Contains(from, r.Status) {
		return Recall{}, platform.Conflict("召回当前状态为 "+r.Status+"，不能执行此操作", "the recall is "+r.Status)
	}
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE recalls SET status = $1, decided_by = $2, decided_at = $3, release_reason = $4 WHERE id = $5 AND status = $6`,
			to, actor.Name, tx.Now(), reason, id, r.Status)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return platform.Conflict("召回刚被他人处理，请刷新后再试", "the recall was just decided by someone else")
		}
		if to == RecallReleased {
			if err := trace.ReleaseTx(ctx, tx, id, nil); err != nil {
				return err
			}
		}
		return tx.Emit(ctx, platform.Event{Action: "recall." + to, ResourceType: "recall", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"number": r.Number, "reason": reason}})
	})
	if err != nil {
		return Recall{}, err
	}
	return s.Recall(ctx, actor, id)
}

// DispositionInput is what a holder did with a held batch.
type DispositionInput struct {
	Action   string  `json:"action" validate:"required" doc:"destroyed | returned | retested"`
	Quantity float64 `json:"quantity" doc:"how much (in the batch's unit); default: the stock held"`
	Note     string  `json:"note,omitempty" doc:"required for retested (the new sample number) and returned (to whom)"`
}

// Dispose records what the holder did with a held batch; the recall
// closes when every batch in its scope is accounted for. The batch stays
// held (destroyed or returned goods are not sold again).
func (s *Service) Dispose(ctx context.Context, actor *auth.Actor, code string, in DispositionInput) (Recall, error) {
	in.Note = strings.TrimSpace(in.Note)
	var v platform.Validator
	v.OneOf("action", in.Action, Dispositions...)
	v.Check(!math.IsNaN(in.Quantity) && in.Quantity >= 0, "quantity", "range", "数量不能为负", "cannot be negative")
	v.Check(in.Action == DispDestroyed || in.Note != "", "note", "required", "请写明去向或复检的抽样编号", "say where it went, or the new sample's number")
	v.MaxLen("note", in.Note, 1000)
	if err := v.Err(); err != nil {
		return Recall{}, err
	}
	var recallID, operatorID, stock int64
	var status, number, source string
	err := s.db.QueryRow(ctx, `SELECT rb.recall_id, rb.operator_id, rb.stock_milli, r.status, r.number, r.source_node FROM recall_batches rb
		JOIN recalls r ON r.id = rb.recall_id WHERE rb.code = $1 AND r.status IN ('open', 'confirmed') ORDER BY rb.recall_id LIMIT 1`, code).Scan(
		&recallID, &operatorID, &stock, &status, &number, &source)
	if errors.Is(err, sql.ErrNoRows) {
		return Recall{}, platform.NotFound("该批次不在进行中的召回范围内", "the batch is in no open recall")
	}
	if err != nil {
		return Recall{}, err
	}
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{OperatorID: operatorID}); err != nil {
		return Recall{}, err
	}
	qty := int64(math.Round(in.Quantity * 1000))
	if in.Quantity == 0 {
		qty = stock
	}
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE recall_batches SET disposition = $1, disposed_milli = $2, note = $3, disposed_by = $4, disposed_at = $5
			WHERE recall_id = $6 AND code = $7 AND disposition = ''`, in.Action, qty, in.Note, actor.Name, tx.Now(), recallID, code)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return platform.Conflict("该批次已登记处置", "the batch's disposition is already recorded")
		}
		// a national recall's copy is closed by the national node, which
		// gets the disposition with the batch (docs/exchange.md)
		left, err := closeIfAccounted(ctx, tx, recallID)
		if err != nil {
			return err
		}
		data := map[string]any{"recall_id": recallID, "number": number, "action": in.Action, "quantity": float64(qty) / 1000,
			"note": in.Note, "by": actor.Name, "closed": left == 0 && source == ""}
		if source != "" {
			data["source_node"] = source
		}
		return tx.Emit(ctx, platform.Event{Action: "recall.disposition", ResourceType: "trace_code", ResourceID: code, Data: data})
	})
	if err != nil {
		return Recall{}, err
	}
	return s.Recall(ctx, actor, recallID)
}
