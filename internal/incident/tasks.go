package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// TaskInput is a task as a commanding official assigns it.
type TaskInput struct {
	Kind         string `json:"kind" validate:"required" doc:"check | seal | sample | report"`
	Assignee     string `json:"assignee" validate:"required" doc:"the official's username: a supervisor, inspector, tester or enforcer in your jurisdiction (for a batch: of the batch's region)"`
	BatchCode    string `json:"batch_code,omitempty" doc:"the affected batch it is about (default: the incident as a whole)"`
	DueAt        string `json:"due_at" validate:"required" doc:"when it is due: RFC 3339, or YYYY-MM-DDTHH:MM or YYYY-MM-DD in China time (a date means 18:00); in the future, within a year"`
	Instructions string `json:"instructions,omitempty" doc:"what to do, ≤ 1000 characters"`
}

// taskPlan is a checked task, ready to write.
type taskPlan struct {
	in         TaskInput
	assignee   official
	region     string
	due        time.Time
	batchState BatchState
}

// official is an account that may be given a task.
type official struct {
	id                   int64
	username, name, role string
	region               string
}

// AddTask assigns a task of an open incident to a county official (in the
// actor's jurisdiction; for a batch, one who covers the batch's region).
// The incident row is locked, so tasks and batch states of one incident
// are written one after the other.
func (s *Service) AddTask(ctx context.Context, actor *auth.Actor, incidentID int64, in TaskInput) (Task, error) {
	p, err := s.prepareTask(ctx, actor, incidentID, in)
	if err != nil {
		return Task{}, err
	}
	var id int64
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		var err error
		id, err = s.addTaskTx(ctx, tx, actor, incidentID, p)
		return err
	})
	if err != nil {
		return Task{}, err
	}
	return s.Task(ctx, actor, id)
}

func (s *Service) prepareTask(ctx context.Context, actor *auth.Actor, incidentID int64, in TaskInput) (taskPlan, error) {
	inc, err := s.Get(ctx, actor, incidentID)
	if err != nil {
		return taskPlan{}, err
	}
	if err := auth.Authorize(actor, auth.ActIncidentManage, auth.Resource{}); err != nil {
		return taskPlan{}, err
	}
	if inc.Status != StatusOpen {
		return taskPlan{}, errResolved
	}
	in.Kind, in.Assignee, in.BatchCode = strings.TrimSpace(in.Kind), strings.TrimSpace(in.Assignee), strings.TrimSpace(in.BatchCode)
	in.Instructions = strings.TrimSpace(strings.ReplaceAll(in.Instructions, "\r\n", "\n"))
	p := taskPlan{in: in}
	var v platform.Validator
	if v.Require("kind", in.Kind) {
		v.OneOf("kind", in.Kind, names(TaskKinds)...)
	}
	v.MaxLen("instructions", in.Instructions, maxInstructions)
	p.due = s.dueTime(in.DueAt, &v)
	var batch *Batch
	if in.BatchCode != "" {
		for i := range inc.Batches {
			if inc.Batches[i].Code == in.BatchCode {
				batch = &inc.Batches[i]
			}
		}
		if batch == nil {
			v.Add("batch_code", "unknown", "该批次不在本事件的受影响批次中", "the batch is not one of the incident's affected batches")
		} else if auth.Authorize(actor, auth.ActIncidentManage, auth.Resource{Region: batch.RegionCode}) != nil {
			v.Add("batch_code", "outside", "该批次不在您的管辖范围内，请由其所在地的监管部门分派", "the batch is outside your jurisdiction: its region's officials assign its tasks")
			batch = nil
		}
	}
	if v.Require("assignee", in.Assignee) {
		p.assignee, p.region = s.checkAssignee(ctx, actor, in.Assignee, batch, &v)
	}
	return p, v.Err()
}

// checkAssignee finds the official a task goes to and the region the task
// is in: the batch's, else the official's. The official must be in the
// actor's jurisdiction and able to act where the task is.
func (s *Service) checkAssignee(ctx context.Context, actor *auth.Actor, username string, batch *Batch, v *platform.Validator) (official, string) {
	var o official
	err := s.db.QueryRow(ctx, `SELECT id, username, name, role, region_code FROM users WHERE username = $1 AND status = 'active'`, username).
		Scan(&o.id, &o.username, &o.name, &o.role, &o.region)
	if err != nil {
		if !errors.Is(err, sql.ErrNoRows) {
			v.Add("assignee", "unknown", "无法查询该账号", "the account cannot be looked up")
			return o, ""
		}
		v.Add("assignee", "unknown", "没有这个账号", "no active account with that username")
		return o, ""
	}
	region := o.region
	if batch != nil {
		region = batch.RegionCode
	}
	oa := &auth.Actor{UserID: o.id, Role: auth.Role(o.role), Region: o.region}
	switch {
	case auth.Authorize(actor, auth.ActIncidentManage, auth.Resource{Region: o.region}) != nil:
		v.Add("assignee", "outside", "只能分派给您管辖范围内的监管人员", "you may assign tasks only to officials in your jurisdiction")
	case auth.Authorize(oa, auth.ActIncidentTask, auth.Resource{Region: region}) != nil:
		v.Add("assignee", "not_official", "该账号不能承担这一任务（须为该地区的监管、巡查、检测或执法人员）",
			"this account cannot take the task: it must be a supervisor, inspector, tester or enforcer of the task's region")
	}
	return o, region
}

// dueTime parses a due time (RFC 3339, or China time) that lies ahead.
func (s *Service) dueTime(raw string, v *platform.Validator) time.Time {
	raw = strings.TrimSpace(raw)
	if !v.Require("due_at", raw) {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		t, err = time.ParseInLocation("2006-01-02T15:04", raw, platform.ChinaTZ)
	}
	if err != nil {
		t, err = time.ParseInLocation(time.DateOnly, raw, platform.ChinaTZ)
		t = t.Add(18 * time.Hour)
	}
	if !v.Check(err == nil, "due_at", "format", "截止时间格式应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM", "due_at must be YYYY-MM-DD, YYYY-MM-DDTHH:MM or RFC 3339") {
		return time.Time{}
	}
	now := s.clock.Now()
	if !v.Check(t.After(now), "due_at", "past", "截止时间应晚于现在", "due_at must be in the future") {
		return time.Time{}
	}
	v.Check(t.Before(now.AddDate(0, 0, maxDueDays)), "due_at", "too_far", "截止时间不能超过一年", "due_at must be within a year")
	return t.UTC()
}

func (s *Service) addTaskTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, incidentID int64, p taskPlan) (int64, error) {
	if err := lockOpen(ctx, tx, incidentID); err != nil {
		return 0, err
	}
	if _, err := syncTx(ctx, tx, incidentID); err != nil {
		return 0, err
	}
	if p.in.BatchCode != "" {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM incident_batches WHERE incident_id = $1 AND code = $2`, incidentID, p.in.BatchCode).Scan(&n); err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, platform.Invalid(platform.FieldError{Field: "batch_code", Code: "unknown", ZH: "该批次不在本事件的受影响批次中", EN: "the batch is not one of the incident's affected batches"})
		}
	}
	now := tx.Now()
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO incident_tasks (incident_id, kind, batch_code, region_code, assignee_id, assignee_name, instructions, due_at,
		status, assigned_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id`,
		incidentID, p.in.Kind, p.in.BatchCode, p.region, p.assignee.id, p.assignee.name, p.in.Instructions, p.due, string(TaskOpen), actor.Name, now).Scan(&id); err != nil {
		return 0, err
	}
	data := map[string]any{"task": id, "task_kind": p.in.Kind, "assignee": p.assignee.name, "due": p.due.In(platform.ChinaTZ).Format("2006-01-02 15:04")}
	if p.in.BatchCode != "" {
		data["code"] = p.in.BatchCode
	}
	return id, tx.Emit(ctx, platform.Event{Action: "incident.task.assign", ResourceType: "incident", ResourceID: strconv.FormatInt(incidentID, 10), Data: data})
}

// TaskStatusInput moves a task on.
type TaskStatusInput struct {
	Status     string `json:"status" validate:"required" doc:"in_progress | done | cannot_complete (one of the task's next)"`
	Note       string `json:"note,omitempty" doc:"the report back (≤ 2000 characters); required for cannot_complete, and when it resolves the batch"`
	BatchState string `json:"batch_state,omitempty" doc:"with done, on a task about a batch: the batch's new state (sealed | destroyed | released | cleared)"`
	From       string `json:"from,omitempty" doc:"the status you saw: when the task has moved since, the answer is 409 and nothing changes"`
}

// SetTaskStatus records a task's progress: by its assignee, or by an
// official commanding the task's region. A guarded UPDATE on the status
// read (a task moved meanwhile is 409); a done task may record its batch's
// state in the same transaction, and the incident resolves there when it
// was the last thing open.
func (s *Service) SetTaskStatus(ctx context.Context, actor *auth.Actor, taskID int64, in TaskStatusInput) (Task, error) {
	t, inc, err := s.taskFor(ctx, actor, taskID)
	if err != nil {
		return Task{}, err
	}
	if !s.mayWork(actor, t) {
		return Task{}, platform.Forbidden("只有任务承办人或其上级监管部门可以更新任务", "only the assignee or an official commanding the task's region may update it")
	}
	if inc.Status != StatusOpen {
		return Task{}, errResolved
	}
	if in.From = strings.TrimSpace(in.From); in.From != "" && in.From != string(t.Status) {
		return Task{}, errTaskMoved
	}
	in.Status, in.BatchState = strings.TrimSpace(in.Status), strings.TrimSpace(in.BatchState)
	in.Note = strings.TrimSpace(strings.ReplaceAll(in.Note, "\r\n", "\n"))
	var v platform.Validator
	if v.Require("status", in.Status) && v.OneOf("status", in.Status, names(TaskStatuses)...) {
		v.Check(slices.Contains(NextTaskStatuses(t.Status), TaskStatus(in.Status)), "status", "out_of_order",
			"该任务当前不能改为这一状态", "this status cannot follow the task's status ("+string(t.Status)+")")
	}
	v.MaxLen("note", in.Note, maxNote)
	if TaskStatus(in.Status) == TaskCannot {
		v.Check(in.Note != "", "note", "required", "无法完成时须说明原因", "say why the task cannot be completed")
	}
	var from BatchState
	if in.BatchState != "" {
		from = s.checkTaskBatch(t, inc, in, &v)
	}
	if err := v.Err(); err != nil {
		return Task{}, err
	}
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		return s.taskStatusTx(ctx, tx, actor, t, in, from)
	})
	if err != nil {
		return Task{}, err
	}
	return s.Task(ctx, actor, taskID)
}

// checkTaskBatch checks a batch state reported with a task and returns the
// batch's state it moves from.
func (s *Service) checkTaskBatch(t Task, inc Incident, in TaskStatusInput, v *platform.Validator) BatchState {
	if !v.Check(TaskStatus(in.Status) == TaskDone && t.BatchCode != "", "batch_state", "not_allowed",
		"只有完成一项针对某批次的任务时才能登记批次状态", "a batch state goes only with a done task about a batch") {
		return ""
	}
	if !v.OneOf("batch_state", in.BatchState, names(BatchStates[1:])...) {
		return ""
	}
	for _, b := range inc.Batches {
		if b.Code == t.BatchCode {
			v.Check(slices.Contains(NextStates(b.State), BatchState(in.BatchState)), "batch_state", "out_of_order",
				"该批次当前不能改为这一状态", "this state cannot follow the batch's state ("+string(b.State)+")")
			if BatchState(in.BatchState).Resolved() {
				v.Check(in.Note != "", "note", "required", "处置批次时须说明如何处置", "say how the batch was dealt with")
			}
			return b.State
		}
	}
	v.Add("batch_state", "unknown", "任务所涉批次已不在本事件中", "the task's batch is no longer in the incident")
	return ""
}

func (s *Service) taskStatusTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, t Task, in TaskStatusInput, from BatchState) error {
	if err := lockOpen(ctx, tx, t.IncidentID); err != nil {
		return err
	}
	if _, err := syncTx(ctx, tx, t.IncidentID); err != nil {
		return err
	}
	res, err := tx.Exec(ctx, `UPDATE incident_tasks SET status = $1, report = CASE WHEN $2 = '' THEN report ELSE $2 END, updated_at = $3
		WHERE id = $4 AND status = $5`, in.Status, in.Note, tx.Now(), t.ID, string(t.Status))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errTaskMoved
	}
	id := strconv.FormatInt(t.IncidentID, 10)
	data := map[string]any{"task": t.ID, "task_kind": string(t.Kind), "task_status": in.Status}
	if in.Note != "" {
		data["note"] = in.Note
	}
	if err := tx.Emit(ctx, platform.Event{Action: "incident.task.status", ResourceType: "incident", ResourceID: id, Data: data}); err != nil {
		return err
	}
	if in.BatchState != "" {
		if err := setStateTx(ctx, tx, actor, t.IncidentID, t.BatchCode, from, BatchState(in.BatchState), in.Note); err != nil {
			return err
		}
	}
	return settleTx(ctx, tx, t.IncidentID)
}

var errTaskMoved = platform.Conflict("该任务刚被他人更新，请刷新后再试", "the task was just updated by someone else; reload it")

// mayWork reports whether actor may move task t: its assignee (who may take
// tasks where it is), or an official commanding its region.
func (s *Service) mayWork(actor *auth.Actor, t Task) bool {
	if t.assigneeID == actor.UserID && auth.Authorize(actor, auth.ActIncidentTask, auth.Resource{Region: t.RegionCode}) == nil {
		return true
	}
	return auth.Authorize(actor, auth.ActIncidentManage, auth.Resource{Region: t.RegionCode}) == nil
}

// Task is one task in the actor's reach (its incident's, or the actor's own).
func (s *Service) Task(ctx context.Context, actor *auth.Actor, id int64) (Task, error) {
	t, _, err := s.taskFor(ctx, actor, id)
	return t, err
}

// taskFor loads a task and its incident for actor (404 outside its reach).
func (s *Service) taskFor(ctx context.Context, actor *auth.Actor, id int64) (Task, Incident, error) {
	if err := auth.Authorize(actor, auth.ActIncidentRead, auth.Resource{}); err != nil {
		return Task{}, Incident{}, err
	}
	var incidentID int64
	err := s.db.QueryRow(ctx, `SELECT incident_id FROM incident_tasks WHERE id = $1`, id).Scan(&incidentID)
	if errors.Is(err, sql.ErrNoRows) {
		return Task{}, Incident{}, errTaskNotFound
	}
	if err != nil {
		return Task{}, Incident{}, err
	}
	inc, err := s.Get(ctx, actor, incidentID)
	if platform.IsNotFound(err) {
		return Task{}, Incident{}, errTaskNotFound
	}
	if err != nil {
		return Task{}, Incident{}, err
	}
	for _, t := range inc.Tasks {
		if t.ID == id {
			return t, inc, nil
		}
	}
	return Task{}, Incident{}, fmt.Errorf("incident %d lost task %d", incidentID, id)
}
