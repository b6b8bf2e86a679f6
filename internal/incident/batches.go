package incident

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// BatchStateInput records what has become of an affected batch.
type BatchStateInput struct {
	State string `json:"state" validate:"required" doc:"sealed | destroyed | released | cleared (one of the batch's next)"`
	Note  string `json:"note,omitempty" doc:"how (≤ 2000 characters); required for destroyed, released and cleared"`
	From  string `json:"from,omitempty" doc:"the state you saw: when the batch has moved since, the answer is 409 and nothing changes"`
}

var errBatchMoved = platform.Conflict("该批次的处置状态刚被他人更新，请刷新后再试", "the batch's state was just changed by someone else; reload it")

var errBatchNotFound = platform.NotFound("该批次不在本事件的受影响批次中", "the batch is not one of the incident's affected batches")

// SetBatchState records a batch's state (officials commanding the batch's
// region): a guarded UPDATE on the state read (409 when it changed
// meanwhile); the incident resolves in the same transaction when this was
// the last thing open.
func (s *Service) SetBatchState(ctx context.Context, actor *auth.Actor, incidentID int64, code string, in BatchStateInput) (Incident, error) {
	inc, err := s.Get(ctx, actor, incidentID)
	if err != nil {
		return Incident{}, err
	}
	var b *Batch
	for i := range inc.Batches {
		if inc.Batches[i].Code == code {
			b = &inc.Batches[i]
		}
	}
	if b == nil {
		return Incident{}, errBatchNotFound
	}
	if err := auth.Authorize(actor, auth.ActIncidentManage, auth.Resource{Region: b.RegionCode}); err != nil {
		return Incident{}, platform.Forbidden("只有批次所在地的监管部门可以登记其处置状态", "only officials commanding the batch's region may record its state")
	}
	if inc.Status != StatusOpen {
		return Incident{}, errResolved
	}
	if in.From = strings.TrimSpace(in.From); in.From != "" && in.From != string(b.State) {
		return Incident{}, errBatchMoved
	}
	in.State = strings.TrimSpace(in.State)
	in.Note = strings.TrimSpace(strings.ReplaceAll(in.Note, "\r\n", "\n"))
	var v platform.Validator
	if v.Require("state", in.State) && v.OneOf("state", in.State, names(BatchStates[1:])...) {
		v.Check(slices.Contains(NextStates(b.State), BatchState(in.State)), "state", "out_of_order",
			"该批次当前不能改为这一状态", "this state cannot follow the batch's state ("+string(b.State)+")")
		if BatchState(in.State).Resolved() {
			v.Check(in.Note != "", "note", "required", "处置批次时须说明如何处置", "say how the batch was dealt with")
		}
	}
	v.MaxLen("note", in.Note, maxNote)
	if err := v.Err(); err != nil {
		return Incident{}, err
	}
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		if err := lockOpen(ctx, tx, incidentID); err != nil {
			return err
		}
		if _, err := syncTx(ctx, tx, incidentID); err != nil {
			return err
		}
		if err := setStateTx(ctx, tx, actor, incidentID, code, b.State, BatchState(in.State), in.Note); err != nil {
			return err
		}
		return settleTx(ctx, tx, incidentID)
	})
	if err != nil {
		return Incident{}, err
	}
	return s.Get(ctx, actor, incidentID)
}

// setStateTx moves a batch from one state to another (409 when it is no
// longer in from) and records the event.
func setStateTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, incidentID int64, code string, from, to BatchState, note string) error {
	res, err := tx.Exec(ctx, `UPDATE incident_batches SET state = $1, note = $2, updated_by = $3, updated_at = $4
		WHERE incident_id = $5 AND code = $6 AND state = $7`, string(to), note, actor.Name, tx.Now(), incidentID, code, string(from))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errBatchMoved
	}
	data := map[string]any{"code": code, "state": string(to)}
	if note != "" {
		data["note"] = note
	}
	return tx.Emit(ctx, platform.Event{Action: "incident.batch.state", ResourceType: "incident", ResourceID: strconv.FormatInt(incidentID, 10), Data: data})
}

// lockOpen locks the incident's row for the rest of the transaction (the
// writes of one incident run one after the other, so the last of two
// concurrent writes sees the other's work when it decides whether the
// incident is resolved) and refuses a resolved incident.
func lockOpen(ctx context.Context, tx *platform.Tx, id int64) error {
	var st string
	err := tx.QueryRow(ctx, `SELECT status FROM incidents WHERE id = $1 FOR UPDATE`, id).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	if Status(st) != StatusOpen {
		return errResolved
	}
	return nil
}

// syncTx adds the batches reached downstream of the source batches since
// the incident last looked (goods sold on after it was declared) as
// unresolved, with an event naming how many.
func syncTx(ctx context.Context, tx *platform.Tx, id int64) (int, error) {
	rows, err := tx.Query(ctx, `SELECT code FROM incident_batches WHERE incident_id = $1 AND depth = 0 ORDER BY code`, id)
	roots, err := platform.Collect(rows, err, platform.Scalar[string])
	if err != nil {
		return 0, err
	}
	batches, err := walk(ctx, tx, roots)
	if err != nil {
		return 0, err
	}
	added, err := insertBatches(ctx, tx, id, batches)
	if err != nil || len(added) == 0 {
		return 0, err
	}
	n := len(added)
	if n > 20 {
		added = added[:20] // the event names the first ones
	}
	return n, tx.Emit(ctx, platform.Event{Action: "incident.batches.add", ResourceType: "incident", ResourceID: strconv.FormatInt(id, 10),
		Data: map[string]any{"batches": n, "codes": added}})
}

// settleTx resolves the incident when every affected batch is resolved and
// no task is open or in progress (the caller synced the batches first).
func settleTx(ctx context.Context, tx *platform.Tx, id int64) error {
	res, err := tx.Exec(ctx, `UPDATE incidents SET status = $1, resolved_at = $2 WHERE id = $3 AND status = $4
		AND NOT EXISTS (SELECT 1 FROM incident_batches b WHERE b.incident_id = $3 AND b.state NOT IN ($5, $6, $7))
		AND NOT EXISTS (SELECT 1 FROM incident_tasks t WHERE t.incident_id = $3 AND t.status IN ($8, $9))`,
		string(StatusResolved), tx.Now(), id, string(StatusOpen), string(StateDestroyed), string(StateReleased), string(StateCleared),
		string(TaskOpen), string(TaskInProgress))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil
	}
	var batches int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM incident_batches WHERE incident_id = $1`, id).Scan(&batches); err != nil {
		return err
	}
	return tx.Emit(ctx, platform.Event{Action: "incident.resolve", ResourceType: "incident", ResourceID: strconv.FormatInt(id, 10),
		Data: map[string]any{"batches": batches}})
}
