// Package incident is emergency command (应急指挥): an incident declared
// from a failed sample's recall, a warning, a complaint (cluster) or by
// hand; its affected batches — the source batches and every batch made or
// sold from them, walked by the trace graph's downstream query
// (trace.DownstreamTx) — with holders, quantities and regions; tasks
// assigned to county officials (check, seal, sample, report back) with due
// times and progress; each batch's state until every one is resolved; the
// timeline, read from the audit log; and the printable situation report
// (态势报告, a PDF). See docs/insight.md, "Emergency command".
package incident

import (
	"slices"
	"time"

	"agtrace/internal/platform"
	"agtrace/internal/region"
	"agtrace/internal/secure"
	"agtrace/internal/trace"
)

// Status is where an incident stands.
type Status string

// The incident statuses: open until every affected batch is resolved and no
// task is still open or in progress, then resolved (in the same
// transaction as the write that completed it).
const (
	StatusOpen     Status = "open"
	StatusResolved Status = "resolved"
)

// SourceKind is what an incident was declared from.
type SourceKind string

// The sources, in display order (SourceKinds).
const (
	SourceRecall    SourceKind = "recall"    // a failed sample's recall (monitoring)
	SourceWarning   SourceKind = "warning"   // an early warning (insight)
	SourceComplaint SourceKind = "complaint" // a complaint from the public (one of a cluster)
	SourceManual    SourceKind = "manual"    // declared by hand
)

// BatchState is what has become of an affected batch.
type BatchState string

// The batch states. sealed is a step, not an end: sealed goods still wait
// for a decision. destroyed, released and cleared resolve the batch.
const (
	StateUnresolved BatchState = "unresolved" // nobody has dealt with it yet
	StateSealed     BatchState = "sealed"     // 查封/暂扣: the goods are held where they are, pending a decision
	StateDestroyed  BatchState = "destroyed"  // 销毁: destroyed or rendered harmless under supervision
	StateReleased   BatchState = "released"   // 放行: a test or check cleared the goods for sale
	StateCleared    BatchState = "cleared"    // 排查完毕: checked, nothing of it is left to act on (sold to consumers, used up, returned and accounted for upstream)
)

// TaskKind is what a task asks an official to do.
type TaskKind string

// The task kinds, in display order (TaskKinds).
const (
	TaskCheck  TaskKind = "check"  // 核查: go and check the holder's stock and records
	TaskSeal   TaskKind = "seal"   // 查封: seal the goods
	TaskSample TaskKind = "sample" // 抽样: take a sample for testing
	TaskReport TaskKind = "report" // 报告: report back (a situation, a count, a decision)
)

// TaskStatus is where a task stands.
type TaskStatus string

// The task statuses: open → in_progress → done | cannot_complete (with a
// report saying why); done and cannot_complete are final.
const (
	TaskOpen       TaskStatus = "open"
	TaskInProgress TaskStatus = "in_progress"
	TaskDone       TaskStatus = "done"
	TaskCannot     TaskStatus = "cannot_complete"
)

// Limits of what an incident holds and what people type.
const (
	maxRoots        = 50    // source batch codes per incident
	MaxBatches      = 20000 // affected batches per incident (more: declare several)
	maxTitle        = 100   // characters
	maxDescription  = 4000  // characters
	maxNote         = 2000  // characters of a report or a batch note
	maxInstructions = 1000  // characters
	maxDueDays      = 366   // days ahead a task may be due
	maxList         = 200   // rows of a list page
	defaultList     = 50    // rows when no limit is asked
)

// The lists, in display order.
var (
	Statuses     = []Status{StatusOpen, StatusResolved}
	SourceKinds  = []SourceKind{SourceRecall, SourceWarning, SourceComplaint, SourceManual}
	BatchStates  = []BatchState{StateUnresolved, StateSealed, StateDestroyed, StateReleased, StateCleared}
	TaskKinds    = []TaskKind{TaskCheck, TaskSeal, TaskSample, TaskReport}
	TaskStatuses = []TaskStatus{TaskOpen, TaskInProgress, TaskDone, TaskCannot}
)

// Resolved reports whether a batch in state st needs nothing more.
func (st BatchState) Resolved() bool {
	return st == StateDestroyed || st == StateReleased || st == StateCleared
}

// nextState is what a batch may become from each state; a resolved batch
// stays as it is.
var nextState = map[BatchState][]BatchState{
	StateUnresolved: {StateSealed, StateDestroyed, StateReleased, StateCleared},
	StateSealed:     {StateDestroyed, StateReleased, StateCleared},
}

// NextStates lists the states a batch in st may move to.
func NextStates(st BatchState) []BatchState { return slices.Clone(nextState[st]) }

// nextTask is what a task may become from each status.
var nextTask = map[TaskStatus][]TaskStatus{
	TaskOpen:       {TaskInProgress, TaskDone, TaskCannot},
	TaskInProgress: {TaskDone, TaskCannot},
}

// NextTaskStatuses lists the statuses a task in st may move to.
func NextTaskStatuses(st TaskStatus) []TaskStatus { return slices.Clone(nextTask[st]) }

// Open reports whether a task still waits for work.
func (st TaskStatus) Open() bool { return st == TaskOpen || st == TaskInProgress }

func names[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

// Service declares incidents, assigns and tracks their tasks, records the
// batches' states, and reads incidents, their timeline and their report.
type Service struct {
	db        *platform.DB
	clock     platform.Clock
	trace     *trace.Service
	regions   *region.Service
	signer    secure.Signer
	publicURL string
}

// NewService returns the incident service.
func NewService(db *platform.DB, clock platform.Clock, tr *trace.Service, regions *region.Service, signer secure.Signer, publicURL string) *Service {
	return &Service{db: db, clock: clock, trace: tr, regions: regions, signer: signer, publicURL: publicURL}
}

// Now is the service clock's time (pages offer due times from it).
func (s *Service) Now() time.Time { return s.clock.Now() }

// Source is what an incident was declared from.
type Source struct {
	Kind SourceKind `json:"kind" doc:"recall | warning | complaint | manual (default manual)"`
	ID   int64      `json:"id,omitempty" doc:"the recall's, warning's or complaint's id (none when manual)"`
}

// Incident is one incident with everything its page shows.
type Incident struct {
	ID          int64         `json:"id"`
	Number      string        `json:"number" doc:"YJ-<year>-<serial>"`
	Title       string        `json:"title"`
	Description string        `json:"description"`
	Source      Source        `json:"source"`
	SourceRef   string        `json:"source_ref,omitempty" doc:"the source in words: the recall's number, the complaint's ticket"`
	RegionCode  string        `json:"region_code" doc:"the jurisdiction that declared it"`
	ProductCode string        `json:"product_code"`
	ProductName string        `json:"product_name"`
	Status      Status        `json:"status" doc:"open | resolved"`
	DeclaredBy  string        `json:"declared_by"`
	DeclaredAt  time.Time     `json:"declared_at"`
	ResolvedAt  *time.Time    `json:"resolved_at,omitempty"`
	Batches     []Batch       `json:"batches" doc:"the affected batches: the source batches (depth 0) and everything made or sold from them"`
	Regions     []RegionCount `json:"regions" doc:"the counties holding affected batches"`
	Tasks       []Task        `json:"tasks"`
	Timeline    []Event       `json:"timeline" doc:"what was done, oldest first (the incident's audit rows, and its source's)"`
	Resolved    int           `json:"resolved" doc:"affected batches resolved (destroyed, released or cleared)"`
	OpenTasks   int           `json:"open_tasks"`
	CanManage   bool          `json:"can_manage" doc:"you may assign tasks (and record the states of the batches in your jurisdiction)"`
}

// Batch is an affected batch and what has become of it.
type Batch struct {
	Code        string       `json:"code"`
	Depth       int          `json:"depth" doc:"0 = a source batch, 1 = made or sold from one, …"`
	HolderCode  string       `json:"holder_code"`
	Holder      string       `json:"holder"`
	RegionCode  string       `json:"region_code" doc:"where the goods are (a market entry: the market's region)"`
	ProductCode string       `json:"product_code"`
	Unit        string       `json:"unit"`
	Quantity    float64      `json:"quantity" doc:"as recorded"`
	Stock       float64      `json:"stock" doc:"stock now, from the trace records"`
	State       BatchState   `json:"state" doc:"unresolved | sealed | destroyed | released | cleared"`
	Note        string       `json:"note,omitempty"`
	UpdatedBy   string       `json:"updated_by,omitempty"`
	UpdatedAt   *time.Time   `json:"updated_at,omitempty"`
	Next        []BatchState `json:"next" doc:"the states you may record (empty when you may not)"`
	operatorID  int64
	recorded    bool // a row of incident_batches (not only reached by the walk now)
}

// RegionCount is how many affected batches a county holds.
type RegionCount struct {
	Code       string `json:"code"`
	Batches    int    `json:"batches"`
	Unresolved int    `json:"unresolved"`
}

// Task is a task of an incident.
type Task struct {
	ID           int64        `json:"id"`
	IncidentID   int64        `json:"incident_id"`
	Kind         TaskKind     `json:"kind" doc:"check | seal | sample | report"`
	BatchCode    string       `json:"batch_code,omitempty"`
	RegionCode   string       `json:"region_code" doc:"the assignee's jurisdiction when assigned"`
	Assignee     string       `json:"assignee" doc:"the official's username"`
	AssigneeName string       `json:"assignee_name"`
	Instructions string       `json:"instructions,omitempty"`
	DueAt        time.Time    `json:"due_at"`
	Overdue      bool         `json:"overdue" doc:"still open after its due time"`
	Status       TaskStatus   `json:"status" doc:"open | in_progress | done | cannot_complete"`
	Report       string       `json:"report,omitempty" doc:"what the assignee reported back"`
	AssignedBy   string       `json:"assigned_by"`
	CreatedAt    time.Time    `json:"created_at"`
	UpdatedAt    time.Time    `json:"updated_at"`
	Next         []TaskStatus `json:"next" doc:"the statuses you may set (empty when you may not)"`
	assigneeID   int64
}

// Event is one line of an incident's timeline.
type Event struct {
	At       time.Time      `json:"at"`
	Actor    string         `json:"actor"`
	Action   string         `json:"action" doc:"e.g. incident.declare, incident.task.status, recall.open"`
	Resource string         `json:"resource" doc:"incident, or the source's kind"`
	Detail   map[string]any `json:"detail,omitempty"`
}

// Summary is one row of an incident list.
type Summary struct {
	ID         int64      `json:"id"`
	Number     string     `json:"number"`
	Title      string     `json:"title"`
	SourceKind SourceKind `json:"source_kind"`
	RegionCode string     `json:"region_code"`
	Status     Status     `json:"status"`
	Batches    int        `json:"batches"`
	Resolved   int        `json:"resolved"`
	OpenTasks  int        `json:"open_tasks"`
	MyTasks    int        `json:"my_tasks" doc:"open tasks assigned to you"`
	DeclaredAt time.Time  `json:"declared_at"`
}

var (
	errNotFound     = platform.NotFound("应急事件不存在，或不在您的管辖范围内", "incident not found or outside your jurisdiction")
	errTaskNotFound = platform.NotFound("任务不存在，或不在您的管辖范围内", "task not found or outside your jurisdiction")
	errResolved     = platform.Conflict("该应急事件已处置完毕，不能再更改", "the incident is resolved; it can no longer change")
)
