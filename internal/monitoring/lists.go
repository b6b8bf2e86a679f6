package monitoring

import (
	"context"
	"database/sql"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// SampleSummary is one row of a sample list.
type SampleSummary struct {
	ID           int64     `json:"id"`
	SampleNo     string    `json:"sample_no"`
	Kind         string    `json:"kind"`
	OperatorName string    `json:"operator_name"`
	BatchCode    string    `json:"batch_code"`
	SampledAt    string    `json:"sampled_at"`
	Verdict      string    `json:"verdict"`
	RecallID     int64     `json:"recall_id,omitempty"`
	At           time.Time `json:"at"`
}

// Samples lists the samples in the actor's reach, newest first.
func (s *Service) Samples(ctx context.Context, actor *auth.Actor, limit, offset int) ([]SampleSummary, error) {
	sc := auth.ListScope(actor, auth.ActSampleRead)
	if err := sc.Err(actor, auth.ActSampleRead); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	w := auth.NewWhere()
	w.Scope(sc, auth.Columns{Region: []string{"s.region_code"}, Operator: []string{"s.operator_id"}})
	rows, err := s.db.Query(ctx, `SELECT s.id, s.sample_no, s.kind, o.name, s.batch_code, s.sampled_on, s.verdict, COALESCE(s.recall_id, 0), s.at
		FROM samples s JOIN operators o ON o.id = s.operator_id`+w.SQL()+` ORDER BY s.at DESC, s.id DESC LIMIT `+w.Arg(limit)+` OFFSET `+w.Arg(max(offset, 0)), w.Args()...)
	out, err := platform.Collect(rows, err, func(r *sql.Rows) (SampleSummary, error) {
		var x SampleSummary
		return x, r.Scan(&x.ID, &x.SampleNo, &x.Kind, &x.OperatorName, &x.BatchCode, &x.SampledAt, &x.Verdict, &x.RecallID, &x.At)
	})
	if out == nil {
		out = []SampleSummary{}
	}
	return out, err
}

// RecallSummary is one row of a recall list.
type RecallSummary struct {
	ID        int64     `json:"id"`
	Number    string    `json:"number"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason"`
	Batches   int       `json:"batches"`
	Accounted int       `json:"accounted"`
	OpenedAt  time.Time `json:"opened_at"`
}

// Recalls lists the recalls holding batches in the actor's reach (an
// operator: those holding its batches), open ones first.
func (s *Service) Recalls(ctx context.Context, actor *auth.Actor) ([]RecallSummary, error) {
	sc := auth.ListScope(actor, auth.ActRecallRead)
	if err := sc.Err(actor, auth.ActRecallRead); err != nil {
		return nil, err
	}
	w := auth.NewWhere()
	if cond := w.ScopeCond(sc, auth.Columns{Region: []string{"rb.region_code"}, Operator: []string{"rb.operator_id"}}); cond != "" {
		w.Add("r.id IN (SELECT rb.recall_id FROM recall_batches rb WHERE " + cond + ")")
	}
	rows, err := s.db.Query(ctx, `SELECT r.id, r.number, r.status, r.reason, r.opened_at,
		(SELECT COUNT(*) FROM recall_batches b WHERE b.recall_id = r.id), (SELECT COUNT(*) FROM recall_batches b WHERE b.recall_id = r.id AND b.disposition <> '')
		FROM recalls r`+w.SQL()+` ORDER BY CASE WHEN r.status IN ('open', 'confirmed') THEN 0 ELSE 1 END, r.opened_at DESC LIMIT 200`, w.Args()...)
	out, err := platform.Collect(rows, err, func(r *sql.Rows) (RecallSummary, error) {
		var x RecallSummary
		return x, r.Scan(&x.ID, &x.Number, &x.Status, &x.Reason, &x.OpenedAt, &x.Batches, &x.Accounted)
	})
	if out == nil {
		out = []RecallSummary{}
	}
	return out, err
}
