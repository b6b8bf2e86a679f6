package exchange

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// Parked message states.
const (
	ParkedStatus  = "parked"  // waiting for an administrator
	AppliedStatus = "applied" // applied by a retry (or found applied already)
)

// Parked is a message the apply loop gave up on after MaxDeliver deliveries.
type Parked struct {
	ID         int64      `json:"id"`
	Node       string     `json:"node" doc:"source node"`
	Seq        int64      `json:"seq" doc:"source outbox id (negative: an unreadable message, minus its stream sequence)"`
	StreamSeq  int64      `json:"stream_seq"`
	Subject    string     `json:"subject"`
	Topic      string     `json:"topic"`
	Error      string     `json:"error" doc:"why it was refused (the last attempt)"`
	Deliveries int64      `json:"deliveries"`
	Status     string     `json:"status" doc:"parked | applied"`
	Retries    int64      `json:"retries" doc:"retries by an administrator"`
	ParkedAt   time.Time  `json:"parked_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	Body       string     `json:"body,omitempty" doc:"the message as it arrived (one message only)"`
}

const parkedColumns = `id, node, seq, stream_seq, subject, topic, error, deliveries, status, retries, parked_at, resolved_at`

func scanParked(rs interface{ Scan(...any) error }, extra ...any) (Parked, error) {
	var p Parked
	var resolved sql.NullTime
	err := rs.Scan(append([]any{&p.ID, &p.Node, &p.Seq, &p.StreamSeq, &p.Subject, &p.Topic, &p.Error, &p.Deliveries, &p.Status,
		&p.Retries, &p.ParkedAt, &resolved}, extra...)...)
	p.ResolvedAt = nullTime(resolved)
	return p, err
}

// ParkedFilter narrows ParkedList.
type ParkedFilter struct {
	Status string // parked (default) | applied | all
	Limit  int
}

// ParkedList lists parked messages, newest first.
func (n *Node) ParkedList(ctx context.Context, actor *auth.Actor, f ParkedFilter) ([]Parked, error) {
	if err := auth.Authorize(actor, auth.ActExchangeStatus, auth.Resource{}); err != nil {
		return nil, err
	}
	if f.Status == "" {
		f.Status = ParkedStatus
	}
	var v platform.Validator
	v.OneOf("status", f.Status, ParkedStatus, AppliedStatus, "all")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	return list(ctx, n.db, func(rs *sql.Rows) (Parked, error) { return scanParked(rs) }, `SELECT `+parkedColumns+` FROM exchange_parked WHERE ($1 = 'all' OR status = $1)
		ORDER BY id DESC LIMIT $2`, f.Status, f.Limit)
}

// ParkedOne returns one parked message with its body.
func (n *Node) ParkedOne(ctx context.Context, actor *auth.Actor, id int64) (Parked, error) {
	if err := auth.Authorize(actor, auth.ActExchangeStatus, auth.Resource{}); err != nil {
		return Parked{}, err
	}
	var body string
	p, err := scanParked(n.db.QueryRow(ctx, `SELECT `+parkedColumns+`, body FROM exchange_parked WHERE id = $1`, id), &body)
	if errors.Is(err, sql.ErrNoRows) {
		return p, errParkedNotFound
	}
	p.Body = body
	return p, err
}

var errParkedNotFound = platform.NotFound("暂存消息不存在", "parked message not found")

// RetryResult is the answer to a retry.
type RetryResult struct {
	Parked  Parked `json:"parked"`
	Outcome string `json:"outcome" doc:"applied | duplicate (applied before) | ignored (nothing the national node keeps)"`
}

// prepareRetry authorizes a retry before its transaction.
func prepareRetry(actor *auth.Actor, id int64) error {
	if err := auth.Authorize(actor, auth.ActExchangeRetry, auth.Resource{}); err != nil {
		return err
	}
	var v platform.Validator
	v.Check(id > 0, "id", "positive", "编号无效", "invalid id")
	return v.Err()
}

// Retry applies a parked message again, from the copy kept with it. On
// success it is marked applied (409 if another retry got there first); a
// refusal answers 422 with the message's fields, and the attempt and its
// error are recorded on the parked message after the refused transaction
// rolled back.
func (n *Node) Retry(ctx context.Context, actor *auth.Actor, id int64) (RetryResult, error) {
	if err := prepareRetry(actor, id); err != nil {
		return RetryResult{}, err
	}
	var res RetryResult
	err := n.db.InTx(ctx, func(tx *platform.Tx) error {
		var err error
		res, err = n.retryTx(ctx, tx, actor, id)
		return err
	})
	if err != nil {
		if k := platform.KindOf(err); k == platform.KindInvalid || k == platform.KindInternal {
			n.noteRetryFailed(ctx, id, err)
		}
		return RetryResult{}, err
	}
	if res.Outcome == OutcomeApplied {
		n.consumer.note(func(s *consumerState) { s.applied++ })
	}
	return res, nil
}

// retryTx applies the parked message id inside tx and marks it applied.
func (n *Node) retryTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, id int64) (RetryResult, error) {
	var body string
	p, err := scanParked(tx.QueryRow(ctx, `SELECT `+parkedColumns+`, body FROM exchange_parked WHERE id = $1 FOR UPDATE`, id), &body)
	if errors.Is(err, sql.ErrNoRows) {
		return RetryResult{}, errParkedNotFound
	}
	if err != nil {
		return RetryResult{}, err
	}
	if p.Status != ParkedStatus {
		return RetryResult{}, errAlreadyApplied
	}
	m, err := decode([]byte(body), p.Node)
	if err != nil {
		return RetryResult{}, err
	}
	c := newTxCache()
	out, err := n.apply(ctx, tx, c, m, uint64(max(p.StreamSeq, 0)))
	if err == nil {
		err = c.finish(ctx, tx)
	}
	if err != nil {
		return RetryResult{}, err
	}
	now := tx.Now()
	r, err := tx.Exec(ctx, `UPDATE exchange_parked SET status = $3, retries = retries + 1, resolved_at = $4, resolved_by = $5
		WHERE id = $1 AND status = $2`, id, ParkedStatus, AppliedStatus, now, platform.NullInt(actor.UserID))
	if err != nil {
		return RetryResult{}, err
	}
	if k, _ := r.RowsAffected(); k != 1 {
		return RetryResult{}, errAlreadyApplied
	}
	p.Status, p.Retries, p.ResolvedAt = AppliedStatus, p.Retries+1, &now
	return RetryResult{Parked: p, Outcome: out}, tx.Emit(ctx, platform.Event{Action: "exchange.retry", ResourceType: "exchange_message",
		ResourceID: strconv.FormatInt(id, 10), Data: map[string]any{"node": p.Node, "seq": p.Seq, "topic": p.Topic, "outcome": out}})
}

var errAlreadyApplied = platform.Conflict("该消息已重新应用", "the message has already been applied")

// noteRetryFailed records a refused retry (its own transaction: the
// refused one rolled back).
func (n *Node) noteRetryFailed(ctx context.Context, id int64, cause error) {
	err := n.db.InTx(ctx, func(tx *platform.Tx) error {
		r, err := tx.Exec(ctx, `UPDATE exchange_parked SET retries = retries + 1, error = $3 WHERE id = $1 AND status = $2`,
			id, ParkedStatus, truncate(errorText(cause), 2000))
		if err != nil {
			return err
		}
		if k, _ := r.RowsAffected(); k == 0 {
			return nil
		}
		return tx.Emit(ctx, platform.Event{Action: "exchange.retry_failed", ResourceType: "exchange_message", ResourceID: strconv.FormatInt(id, 10)})
	})
	if err != nil {
		n.log.Warn("recording a refused retry", "parked", id, "err", err)
	}
}
