package trace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// Handling a finding: what the data reveals is worth nothing until someone
// follows it up. Every recorded finding — and every later kind
// (inspections, samples, monitoring rules) — goes
//
//	open → in_progress (an official takes it up, with a due date)
//	     → closed      (with a note saying what was done)
//	closed → in_progress (reopened, with a note)
//
// A transfer left unconfirmed is a finding computed from the transfer
// itself (it has no id): it closes when the buyer answers.

// Finding statuses.
const (
	FindingOpen       = "open"
	FindingInProgress = "in_progress"
	FindingClosed     = "closed"
)

// FindingStatuses lists them in workflow order.
var FindingStatuses = []string{FindingOpen, FindingInProgress, FindingClosed}

// Finding actions.
const (
	FindingStart  = "start"  // take up (open → in_progress), with a due date
	FindingClose  = "close"  // close with a note (open or in_progress → closed)
	FindingReopen = "reopen" // reopen with a note (closed → in_progress)
)

// findingMoves is the workflow: action → the statuses it leaves and where it goes.
var findingMoves = map[string]struct {
	from []string
	to   string
}{
	FindingStart:  {from: []string{FindingOpen}, to: FindingInProgress},
	FindingClose:  {from: []string{FindingOpen, FindingInProgress}, to: FindingClosed},
	FindingReopen: {from: []string{FindingClosed}, to: FindingInProgress},
}

// FindingAction is one step of handling a finding.
type FindingAction struct {
	Action string `json:"action" validate:"required" doc:"start | close | reopen"`
	DueOn  string `json:"due_on,omitempty" doc:"YYYY-MM-DD, today or later; with start (default: 5 working days from today)"`
	Note   string `json:"note,omitempty" doc:"what was done or found; required to close or reopen (≤ 1000 characters)"`
}

// FindingStep is a recorded step of a finding's handling.
type FindingStep struct {
	At         time.Time `json:"at"`
	ActorName  string    `json:"actor_name"`
	Action     string    `json:"action"`
	FromStatus string    `json:"from_status"`
	ToStatus   string    `json:"to_status"`
	DueOn      string    `json:"due_on,omitempty"`
	Note       string    `json:"note,omitempty"`
}

// HandleWorkdays is the default time to handle a finding once taken up.
const HandleWorkdays = 5

// prepareFindingAction authorizes and validates a step before its transaction.
func (s *Service) prepareFindingAction(ctx context.Context, actor *auth.Actor, in *FindingAction) error {
	if err := auth.Authorize(actor, auth.ActFindingHandle, auth.Resource{}); err != nil {
		return err
	}
	in.Note = strings.TrimSpace(in.Note)
	in.DueOn = strings.TrimSpace(in.DueOn)
	var v platform.Validator
	if v.Require("action", in.Action) {
		v.OneOf("action", in.Action, FindingStart, FindingClose, FindingReopen)
	}
	if in.Action == FindingClose || in.Action == FindingReopen {
		v.Check(in.Note != "", "note", "required", "结案或重新处理时请写明处理情况", "say what was done (required to close or reopen)")
	}
	v.MaxLen("note", in.Note, 1000)
	today := s.today()
	if in.DueOn != "" {
		if in.Action != FindingStart && in.Action != FindingReopen {
			v.Add("due_on", "not_allowed", "只有接手处理时才设定期限", "a due date goes with start or reopen")
		} else if d, err := time.Parse(time.DateOnly, in.DueOn); err != nil || d.Format(time.DateOnly) != in.DueOn {
			v.Add("due_on", "format", "日期格式应为 YYYY-MM-DD", "must be a date YYYY-MM-DD")
		} else {
			v.Check(in.DueOn >= today, "due_on", "past", "期限不能早于今天（"+today+"）", "must be today or later (today is "+today+")")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	if in.DueOn == "" && (in.Action == FindingStart || in.Action == FindingReopen) {
		t, _ := time.Parse(time.DateOnly, today)
		due, _, err := s.cal.AddWorkdays(ctx, t, HandleWorkdays)
		if err != nil {
			return err
		}
		in.DueOn = due.Format(time.DateOnly)
	}
	return nil
}

// HandleFinding takes a step of a finding's handling (404 outside the
// actor's jurisdiction; 409 when the finding is not in a status the step
// leaves, e.g. closing it twice).
func (s *Service) HandleFinding(ctx context.Context, actor *auth.Actor, id int64, in FindingAction) (Finding, error) {
	if err := s.prepareFindingAction(ctx, actor, &in); err != nil {
		return Finding{}, err
	}
	err := s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		return s.handleFindingTx(ctx, tx, actor, id, in)
	})
	if err != nil {
		return Finding{}, err
	}
	return s.finding(ctx, actor, id)
}

// handleFindingTx writes one step inside tx: a guarded status change, its
// history row and its event.
func (s *Service) handleFindingTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, id int64, in FindingAction) error {
	var status, region, region2 string
	err := tx.QueryRow(ctx, `SELECT status, region_code, region2 FROM findings WHERE id = $1`, id).Scan(&status, &region, &region2)
	if errors.Is(err, sql.ErrNoRows) {
		return errFindingNotFound
	}
	if err != nil {
		return err
	}
	if !findingInReach(actor, auth.ActFindingHandle, region, region2) {
		return errFindingNotFound
	}
	move := findingMoves[in.Action]
	if !slices.Contains(move.from, status) {
		return platform.Conflict("该问题线索当前状态为“"+findingStatusZH[status]+"”，不能执行此操作",
			"the finding is "+status+"; it cannot be "+in.Action+"ed").With("status", status)
	}
	now := tx.Now()
	assignee, assigneeName := platform.NullInt(actor.UserID), actor.Name
	if assigneeName == "" {
		assigneeName = actor.Username
	}
	res, err := tx.Exec(ctx, `UPDATE findings SET status = $2, assignee_id = COALESCE($3, assignee_id), assignee_name = $4,
		due_on = COALESCE($5, due_on), note = CASE WHEN $6 = '' THEN note ELSE $6 END, handled_at = $7 WHERE id = $1 AND status = $8`,
		id, move.to, assignee, assigneeName, platform.NullString(in.DueOn), in.Note, now, status)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return platform.Conflict("该问题线索刚被他人处理，请刷新后再试", "the finding was just handled by someone else; reload it").With("status", status)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO finding_actions (finding_id, at, actor_id, actor_name, action, from_status, to_status, due_on, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, now, assignee, assigneeName, in.Action, status, move.to,
		platform.NullString(in.DueOn), in.Note); err != nil {
		return err
	}
	return tx.Emit(ctx, platform.Event{Action: "finding." + in.Action, ResourceType: "finding", ResourceID: fmt.Sprint(id),
		Data: map[string]any{"status": move.to, "due_on": in.DueOn, "region_code": region}})
}

var errFindingNotFound = platform.NotFound("问题线索不存在", "finding not found")

// findingStatusZH names a status in Chinese for messages.
var findingStatusZH = map[string]string{FindingOpen: "待处理", FindingInProgress: "处理中", FindingClosed: "已结案"}

// findingInReach: act on the finding is allowed in the actor's
// jurisdiction, on either side of a transfer (region2).
func findingInReach(actor *auth.Actor, act auth.Action, region, region2 string) bool {
	if auth.Authorize(actor, act, auth.Resource{Region: region}) == nil {
		return true
	}
	return region2 != "" && auth.Authorize(actor, act, auth.Resource{Region: region2}) == nil
}

// Finding returns one recorded finding with its handling history (404
// outside the actor's jurisdiction).
func (s *Service) Finding(ctx context.Context, actor *auth.Actor, id int64) (Finding, error) {
	if err := auth.Authorize(actor, auth.ActFindingsRead, auth.Resource{}); err != nil {
		return Finding{}, err
	}
	return s.finding(ctx, actor, id)
}

// finding reads one recorded finding with its handling history.
func (s *Service) finding(ctx context.Context, actor *auth.Actor, id int64) (Finding, error) {
	x, region2, err := scanFinding(s.db.QueryRow(ctx, `SELECT `+findingColumns+` `+findingFrom+` WHERE f.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Finding{}, errFindingNotFound
	}
	if err != nil {
		return Finding{}, err
	}
	if !findingInReach(actor, auth.ActFindingsRead, x.RegionCode, region2) {
		return Finding{}, errFindingNotFound
	}
	rows, err := s.db.Query(ctx, `SELECT at, actor_name, action, from_status, to_status, COALESCE(due_on, ''), note
		FROM finding_actions WHERE finding_id = $1 ORDER BY id`, id)
	x.Steps, err = platform.Collect(rows, err, func(r interface{ Scan(...any) error }) (FindingStep, error) {
		var st FindingStep
		err := r.Scan(&st.At, &st.ActorName, &st.Action, &st.FromStatus, &st.ToStatus, &st.DueOn, &st.Note)
		return st, err
	})
	return x, err
}

// TakeUpTx takes up an open finding inside the caller's transaction (an
// enforcement case filed from it): open → in_progress with the note. A
// finding already taken up or closed is left as it is.
func (s *Service) TakeUpTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, id int64, note string) error {
	in := FindingAction{Action: FindingStart, Note: note}
	if err := s.prepareFindingAction(ctx, actor, &in); err != nil {
		return err
	}
	var status string
	if err := tx.QueryRow(ctx, `SELECT status FROM findings WHERE id = $1`, id).Scan(&status); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return errFindingNotFound
		}
		return err
	}
	if status != FindingOpen {
		return nil
	}
	return s.handleFindingTx(ctx, tx, actor, id, in)
}

// FindingStatusInput moves a finding to a status (the status form of
// FindingAction): in_progress takes it up (or reopens a closed one),
// closed closes it with a note.
type FindingStatusInput struct {
	Status string `json:"status" validate:"required" doc:"in_progress | closed"`
	DueOn  string `json:"due_on,omitempty" doc:"YYYY-MM-DD with in_progress (default: 5 working days from today)"`
	Note   string `json:"note,omitempty" doc:"required to close or reopen"`
}

// SetFindingStatus maps a status change onto the workflow's actions.
func (s *Service) SetFindingStatus(ctx context.Context, actor *auth.Actor, id int64, in FindingStatusInput) (Finding, error) {
	var v platform.Validator
	if !v.OneOf("status", in.Status, FindingInProgress, FindingClosed) {
		return Finding{}, v.Err()
	}
	if in.Status == FindingClosed {
		return s.HandleFinding(ctx, actor, id, FindingAction{Action: FindingClose, Note: in.Note})
	}
	cur, err := s.Finding(ctx, actor, id)
	if err != nil {
		return Finding{}, err
	}
	act := FindingStart
	if cur.Status == FindingClosed {
		act = FindingReopen
	}
	return s.HandleFinding(ctx, actor, id, FindingAction{Action: act, DueOn: in.DueOn, Note: in.Note})
}
