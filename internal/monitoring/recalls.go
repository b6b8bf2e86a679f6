package monitoring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/supervision"
	"agtrace/internal/trace"
)

// Recall statuses and dispositions.
const (
	RecallOpen      = "open"      // started by a failed sample: the batches are held
	RecallConfirmed = "confirmed" // a supervisor confirmed it
	RecallReleased  = "released"  // a supervisor released the hold, with a reason
	RecallClosed    = "closed"    // every batch in scope accounted for

	DispDestroyed = "destroyed" // 销毁
	DispReturned  = "returned"  // 退回供货方
	DispRetested  = "retested"  // re-tested (the new sample named in the note)
)

// Dispositions lists what a holder may record.
var Dispositions = []string{DispDestroyed, DispReturned, DispRetested}

// RecallBatch is a batch in a recall's scope and what was done with it.
type RecallBatch struct {
	trace.ScopeBatch
	Disposition string  `json:"disposition,omitempty" doc:"destroyed | returned | retested (empty: not accounted for)"`
	Disposed    float64 `json:"disposed,omitempty"`
	Note        string  `json:"note,omitempty"`
	DisposedBy  string  `json:"disposed_by,omitempty"`
}

// Recall is what a failed sample started.
type Recall struct {
	ID            int64         `json:"id"`
	Number        string        `json:"number"`
	SampleID      int64         `json:"sample_id" doc:"0 for a recall decided at the national node (its sample is there)"`
	RootCode      string        `json:"root_code" doc:"the sampled batch (empty when it is another node's code not known here)"`
	SourceNode    string        `json:"source_node,omitempty" doc:"the node that decided it, for a national recall kept on a province node"`
	RegionCode    string        `json:"region_code"`
	Status        string        `json:"status" doc:"open | confirmed | released | closed"`
	Reason        string        `json:"reason"`
	OpenedAt      time.Time     `json:"opened_at"`
	DecidedBy     string        `json:"decided_by,omitempty"`
	ReleaseReason string        `json:"release_reason,omitempty"`
	Batches       []RecallBatch `json:"batches"`
	Accounted     int           `json:"accounted" doc:"batches with a disposition"`
	Regions       []string      `json:"regions" doc:"the counties holding batches in scope"`
	Suspects      []string      `json:"suspects" doc:"upstream batches (inputs of the failed one): to sample, not held"`
}

// RecordSample records a sampling test. A failed lab test, in the same
// transaction, holds the sampled batch and every batch downstream of it
// under a new recall and raises a recall_hold finding in every county that
// holds one (the officials' inbox); a positive quick test raises a
// quick_positive finding asking for a confirmatory test. Nothing is
// written when anything is refused, and a failed sample never commits
// without its holds.
func (s *Service) RecordSample(ctx context.Context, actor *auth.Actor, in SampleInput) (Sample, error) {
	p, err := s.prepareSample(ctx, actor, in)
	if err != nil {
		return Sample{}, err
	}
	var id int64
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		var err error
		id, err = s.recordSampleTx(ctx, tx, actor, p)
		return err
	})
	if platform.IsUniqueViolation(err) {
		return Sample{}, platform.Invalid(platform.FieldError{Field: "sample_no", Code: "taken", ZH: "抽样编号已存在", EN: "the sample number is taken"})
	}
	if err != nil {
		return Sample{}, err
	}
	return s.sample(ctx, id)
}

func (s *Service) recordSampleTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, p samplePlan) (int64, error) {
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO samples (sample_no, kind, operator_id, batch_code, product_code, region_code, sampled_on, place, agency, method,
		verdict, tester_id, tester_name, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		p.in.SampleNo, p.in.Kind, p.op.ID, p.batch, p.product, p.op.RegionCode, p.in.SampledAt, strings.TrimSpace(p.in.Place),
		strings.TrimSpace(p.in.Agency), strings.TrimSpace(p.in.Method), p.verdict, platform.NullInt(actor.UserID), actor.Name, tx.Now()).Scan(&id); err != nil {
		return 0, err
	}
	for i, it := range p.items {
		if _, err := tx.Exec(ctx, `INSERT INTO sample_items (sample_id, position, substance, known, value, unit, lod, result, limit_id, limit_value, limit_unit,
			judgement, standard, edition, verdict, reason, in_limit_unit) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
			id, i+1, it.Substance, it.Name != "", it.Value, it.Unit, it.LOD, it.Result, platform.NullInt(it.limitID), it.Limit, it.LimitUnit,
			it.Judgement, it.Standard, it.Edition, it.Verdict, it.Reason, it.InLimitUnit); err != nil {
			return 0, err
		}
	}
	if err := tx.Emit(ctx, platform.Event{Action: "sample.record", ResourceType: "sample", ResourceID: fmt.Sprint(id),
		Data: map[string]any{"sample_no": p.in.SampleNo, "kind": p.in.Kind, "code": p.batch, "verdict": p.verdict}}); err != nil {
		return 0, err
	}
	switch p.verdict {
	case VerdictFail:
		return id, s.openRecallTx(ctx, tx, actor, id, p)
	case QuickPositive:
		_, err := trace.RaiseTx(ctx, tx, platform.Today(tx.Now()), trace.RuleFinding{Kind: trace.FindingQuickPositive, Key: p.in.SampleNo,
			Code: p.batch, OperatorID: p.op.ID, Region: p.op.RegionCode, Detail: map[string]any{"sample_no": p.in.SampleNo, "operator": p.op.Name}})
		return id, err
	}
	return id, nil
}

// openRecallTx holds the failed batch and its downstream under a new recall.
func (s *Service) openRecallTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, sampleID int64, p samplePlan) error {
	scope, err := trace.DownstreamTx(ctx, tx, p.batch)
	if err != nil {
		return err
	}
	today := platform.Today(tx.Now())
	n, err := tx.NextSerial(ctx, "recall:"+today[:4])
	if err != nil {
		return err
	}
	number := s.recallNumber(today[:4], n)
	var failed []string
	for _, it := range p.items {
		if it.Verdict == VerdictFail {
			failed = append(failed, it.Substance)
		}
	}
	reason := "抽样 " + p.in.SampleNo + " 不合格：" + strings.Join(failed, "、")
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO recalls (number, sample_id, root_code, region_code, status, reason, opened_at) VALUES ($1, $2, $3, $4, 'open', $5, $6) RETURNING id`,
		number, sampleID, p.batch, p.op.RegionCode, reason, tx.Now()).Scan(&id); err != nil {
		return err
	}
	codes := make([]string, len(scope))
	counties := map[string]int{}
	for i, b := range scope {
		codes[i] = b.Code
		counties[countyOf(b.RegionCode)]++
		if _, err := tx.Exec(ctx, `INSERT INTO recall_batches (recall_id, code, depth, operator_id, region_code, quantity_milli, stock_milli)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, b.Code, b.Depth, b.OperatorID, b.RegionCode, b.QuantityMilli, b.StockMilli); err != nil {
			return err
		}
	}
	if err := trace.HoldTx(ctx, tx, id, codes); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE samples SET recall_id = $1 WHERE id = $2`, id, sampleID); err != nil {
		return err
	}
	for _, c := range sortedKeys(counties) {
		// the sampled operator's county names it, so an enforcer turns the
		// alert into a case in one step (立案 on the findings page)
		var opID int64
		if c == countyOf(p.op.RegionCode) {
			opID = p.op.ID
		}
		if _, err := trace.RaiseTx(ctx, tx, today, trace.RuleFinding{Kind: trace.FindingRecallHold, Key: number + ":" + c, Code: number, Region: c, OperatorID: opID,
			Detail: map[string]any{"number": number, "recall_id": id, "batches": counties[c], "sample_no": p.in.SampleNo, "reason": reason}}); err != nil {
			return err
		}
	}
	if err := tx.Emit(ctx, platform.Event{Action: "recall.open", ResourceType: "recall", ResourceID: fmt.Sprint(id),
		Data: map[string]any{"number": number, "code": p.batch, "batches": len(scope), "regions": sortedKeys(counties)}}); err != nil {
		return err
	}
	return s.draftCaseTx(ctx, tx, actor, sampleID, number, p)
}

// draftCaseTx opens the failed sample's draft enforcement case in the
// sampled operator's county: the failed items with their limits and
// standards, the sample and the batch as evidence.
func (s *Service) draftCaseTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, sampleID int64, recallNumber string, p samplePlan) error {
	var failed []string
	for _, it := range p.items {
		if it.Verdict != VerdictFail {
			continue
		}
		name := it.Name
		if name == "" {
			name = it.Substance
		}
		value := ""
		if it.Value != nil {
			value = trace.FormatQty(*it.Value) + " " + it.Unit
		}
		failed = append(failed, fmt.Sprintf("%s %s（限量 %s，%s-%s）", name, value, limitText(it), it.Standard, it.Edition))
	}
	summary := fmt.Sprintf("抽样检测不合格：样品 %s，%s 抽自 %s（%s）的批次 %s。不合格项目：%s。已启动召回 %s，所涉批次已暂停销售。",
		p.in.SampleNo, p.in.SampledAt, p.op.Name, p.op.Code, p.batch, strings.Join(failed, "；"), recallNumber)
	_, _, err := s.cases.DraftCaseTx(ctx, tx, actor, supervision.Draft{Operator: p.op, Source: supervision.SourceSample, SourceID: fmt.Sprint(sampleID),
		Violation: supervision.ViolationOther, Summary: summary, DueOn: p.draftDue,
		Evidence: []supervision.Evidence{{Kind: "sample", Ref: p.in.SampleNo}, {Kind: "batch", Ref: p.batch}}})
	return err
}

func countyOf(region string) string {
	if len(region) > 6 {
		return region[:6]
	}
	return region
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var errRecallNotFound = platform.NotFound("召回不存在", "recall not found")

// Recall returns a recall with its scope (officials of any county in
// scope; a holder sees its own batches only).
func (s *Service) Recall(ctx context.Context, actor *auth.Actor, id int64) (Recall, error) {
	if err := auth.Authorize(actor, auth.ActRecallRead, auth.Resource{}); err != nil {
		return Recall{}, err
	}
	r, err := s.recall(ctx, id)
	if err != nil {
		return Recall{}, err
	}
	var mine []RecallBatch
	for _, b := range r.Batches {
		if auth.Authorize(actor, auth.ActRecallRead, auth.Resource{Region: b.RegionCode, OperatorID: b.OperatorID}) == nil {
			mine = append(mine, b)
		}
	}
	if len(mine) == 0 {
		return Recall{}, errRecallNotFound
	}
	if actor.OperatorID != 0 { // a holder: its own batches, not the rest of the chain
		r.Batches, r.Suspects = mine, nil
	}
	return r, nil
}

func (s *Service) recall(ctx context.Context, id int64) (Recall, error) {
	var r Recall
	var decided sql.NullTime
	err := s.db.QueryRow(ctx, `SELECT id, number, COALESCE(sample_id, 0), COALESCE(root_code, ''), region_code, status, reason, opened_at, decided_by,
		decided_at, release_reason, source_node FROM recalls WHERE id = $1`, id).Scan(&r.ID, &r.Number, &r.SampleID, &r.RootCode, &r.RegionCode,
		&r.Status, &r.Reason, &r.OpenedAt, &r.DecidedBy, &decided, &r.ReleaseReason, &r.SourceNode)
	if errors.Is(err, sql.ErrNoRows) {
		return Recall{}, errRecallNotFound
	}
	if err != nil {
		return Recall{}, err
	}
	rows, err := s.db.Query(ctx, `SELECT rb.code, rb.depth, rb.operator_id, COALESCE(o.code, ''), o.name, rb.region_code, t.product_code, t.unit,
		rb.quantity_milli, rb.stock_milli, rb.disposition, COALESCE(rb.disposed_milli, 0), rb.note, rb.disposed_by
		FROM recall_batches rb JOIN trace_codes t ON t.code = rb.code JOIN operators o ON o.id = rb.operator_id
		WHERE rb.recall_id = $1 ORDER BY rb.depth, rb.code`, id)
	r.Batches, err = platform.Collect(rows, err, func(row *sql.Rows) (RecallBatch, error) {
		var b RecallBatch
		var disposed int64
		err := row.Scan(&b.Code, &b.Depth, &b.OperatorID, &b.OperatorCode, &b.OperatorName, &b.RegionCode, &b.ProductCode, &b.Unit,
			&b.QuantityMilli, &b.StockMilli, &b.Disposition, &disposed, &b.Note, &b.DisposedBy)
		b.Quantity, b.Stock, b.Disposed = float64(b.QuantityMilli)/1000, float64(b.StockMilli)/1000, float64(disposed)/1000
		return b, err
	})
	if err != nil {
		return Recall{}, err
	}
	regions := map[string]int{}
	for _, b := range r.Batches {
		regions[countyOf(b.RegionCode)]++
		if b.Disposition != "" {
			r.Accounted++
		}
	}
	r.Regions = sortedKeys(regions)
	rows, err = s.db.Query(ctx, `SELECT from_code FROM trace_edges WHERE to_code = $1 ORDER BY from_code`, r.RootCode)
	r.Suspects, err = platform.Collect(rows, err, func(row *sql.Rows) (string, error) {
		var c string
		return c, row.Scan(&c)
	})
	return r, err
}
