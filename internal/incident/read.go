package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/region"
)

// Get is an incident with its affected batches (their stock now, and any
// batch reached downstream since the last write, as unresolved), tasks,
// counties and timeline. Officials see it when it was declared in their
// jurisdiction or touches it (an affected batch there), and an official
// sees the incidents of the tasks assigned to them; anyone else gets 404.
func (s *Service) Get(ctx context.Context, actor *auth.Actor, id int64) (Incident, error) {
	if err := auth.Authorize(actor, auth.ActIncidentRead, auth.Resource{}); err != nil {
		return Incident{}, err
	}
	inc, err := s.load(ctx, id)
	if err != nil {
		return Incident{}, err
	}
	stored, err := s.storedBatches(ctx, id)
	if err != nil {
		return Incident{}, err
	}
	if inc.Tasks, err = s.tasks(ctx, id); err != nil {
		return Incident{}, err
	}
	if !visible(actor, inc, stored) {
		return Incident{}, errNotFound
	}
	if inc.Batches, err = s.current(ctx, inc, stored); err != nil {
		return Incident{}, err
	}
	s.summarise(actor, &inc)
	if inc.Timeline, err = s.timeline(ctx, inc); err != nil {
		return Incident{}, err
	}
	if p, err := s.trace.Product(ctx, inc.ProductCode); err == nil {
		inc.ProductName = p.Name
	}
	return inc, nil
}

// visible reports whether actor may see the incident.
func visible(actor *auth.Actor, inc Incident, stored []Batch) bool {
	if auth.Authorize(actor, auth.ActIncidentRead, auth.Resource{Region: inc.RegionCode}) == nil {
		return true
	}
	for _, b := range stored {
		if auth.Authorize(actor, auth.ActIncidentRead, auth.Resource{Region: b.RegionCode}) == nil {
			return true
		}
	}
	for _, t := range inc.Tasks {
		if t.assigneeID == actor.UserID && actor.UserID != 0 {
			return true
		}
	}
	return false
}

// summarise fills the counts and what the actor may do.
func (s *Service) summarise(actor *auth.Actor, inc *Incident) {
	open := inc.Status == StatusOpen
	byCounty := map[string]*RegionCount{}
	inc.CanManage = open && auth.Authorize(actor, auth.ActIncidentManage, auth.Resource{Region: inc.RegionCode}) == nil
	for i := range inc.Batches {
		b := &inc.Batches[i]
		c := region.CountyOf(b.RegionCode)
		if byCounty[c] == nil {
			byCounty[c] = &RegionCount{Code: c}
		}
		byCounty[c].Batches++
		if b.State.Resolved() {
			inc.Resolved++
		} else {
			byCounty[c].Unresolved++
		}
		b.Next = []BatchState{}
		if open && auth.Authorize(actor, auth.ActIncidentManage, auth.Resource{Region: b.RegionCode}) == nil {
			b.Next = NextStates(b.State)
			inc.CanManage = true
		}
	}
	inc.Regions = make([]RegionCount, 0, len(byCounty))
	for _, c := range byCounty {
		inc.Regions = append(inc.Regions, *c)
	}
	sort.Slice(inc.Regions, func(i, j int) bool { return inc.Regions[i].Code < inc.Regions[j].Code })
	now := s.clock.Now()
	for i := range inc.Tasks {
		t := &inc.Tasks[i]
		t.Overdue = t.Status.Open() && now.After(t.DueAt)
		t.Next = []TaskStatus{}
		if t.Status.Open() {
			inc.OpenTasks++
			if open && s.mayWork(actor, *t) {
				t.Next = NextTaskStatuses(t.Status)
			}
		}
	}
}

// load reads an incident's own row.
func (s *Service) load(ctx context.Context, id int64) (Incident, error) {
	var inc Incident
	var sourceID sql.NullInt64
	var resolved sql.NullTime
	err := s.db.QueryRow(ctx, `SELECT id, number, title, description, source_kind, source_id, region_code, product_code, status, declared_name, declared_at, resolved_at
		FROM incidents WHERE id = $1`, id).Scan(&inc.ID, &inc.Number, &inc.Title, &inc.Description, &inc.Source.Kind, &sourceID, &inc.RegionCode,
		&inc.ProductCode, &inc.Status, &inc.DeclaredBy, &inc.DeclaredAt, &resolved)
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, errNotFound
	}
	if err != nil {
		return Incident{}, err
	}
	inc.Source.ID = sourceID.Int64
	if resolved.Valid {
		inc.ResolvedAt = &resolved.Time
	}
	inc.SourceRef = s.sourceRef(ctx, inc.Source)
	return inc, nil
}

// sourceRef is the source in words: the recall's number, the complaint's ticket.
func (s *Service) sourceRef(ctx context.Context, src Source) string {
	var ref string
	switch src.Kind {
	case SourceRecall:
		_ = s.db.QueryRow(ctx, `SELECT number FROM recalls WHERE id = $1`, src.ID).Scan(&ref)
	case SourceComplaint:
		_ = s.db.QueryRow(ctx, `SELECT ticket FROM complaints WHERE id = $1`, src.ID).Scan(&ref)
	case SourceWarning:
		ref = "#" + strconv.FormatInt(src.ID, 10)
	}
	return ref
}

// storedBatches reads the incident's recorded batches.
func (s *Service) storedBatches(ctx context.Context, id int64) ([]Batch, error) {
	rows, err := s.db.Query(ctx, `SELECT b.code, b.depth, b.operator_id, COALESCE(o.code, ''), COALESCE(o.name, ''), b.region_code, t.product_code, t.unit,
		b.quantity_milli, b.stock_milli, b.state, b.note, b.updated_by, b.updated_at
		FROM incident_batches b JOIN trace_codes t ON t.code = b.code LEFT JOIN operators o ON o.id = b.operator_id
		WHERE b.incident_id = $1 ORDER BY b.depth, b.code`, id)
	return platform.Collect(rows, err, func(r *sql.Rows) (Batch, error) {
		var b Batch
		var qty, stock int64
		var at sql.NullTime
		err := r.Scan(&b.Code, &b.Depth, &b.operatorID, &b.HolderCode, &b.Holder, &b.RegionCode, &b.ProductCode, &b.Unit, &qty, &stock,
			&b.State, &b.Note, &b.UpdatedBy, &at)
		b.Quantity, b.Stock, b.recorded = float64(qty)/1000, float64(stock)/1000, true
		if at.Valid {
			b.UpdatedAt = &at.Time
		}
		return b, err
	})
}

// current merges the recorded batches with the downstream walk now: stock
// as it stands, and (while the incident is open) batches reached since the
// last write, unresolved.
func (s *Service) current(ctx context.Context, inc Incident, stored []Batch) ([]Batch, error) {
	var roots []string
	idx := map[string]int{}
	for i, b := range stored {
		idx[b.Code] = i
		if b.Depth == 0 {
			roots = append(roots, b.Code)
		}
	}
	live, err := walk(ctx, s.db, roots)
	if err != nil {
		return nil, err
	}
	out := stored
	for _, b := range live {
		if i, ok := idx[b.Code]; ok {
			out[i].Stock = float64(b.StockMilli) / 1000
			continue
		}
		if inc.Status != StatusOpen {
			continue
		}
		out = append(out, Batch{Code: b.Code, Depth: b.Depth, HolderCode: b.OperatorCode, Holder: b.OperatorName, RegionCode: b.RegionCode,
			ProductCode: b.ProductCode, Unit: b.Unit, Quantity: b.Quantity, Stock: b.Stock, State: StateUnresolved, operatorID: b.OperatorID})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Depth != out[j].Depth {
			return out[i].Depth < out[j].Depth
		}
		return out[i].Code < out[j].Code
	})
	if out == nil {
		out = []Batch{}
	}
	return out, nil
}

// tasks reads the incident's tasks, oldest first.
func (s *Service) tasks(ctx context.Context, id int64) ([]Task, error) {
	rows, err := s.db.Query(ctx, `SELECT t.id, t.incident_id, t.kind, t.batch_code, t.region_code, t.assignee_id, COALESCE(u.username, ''), t.assignee_name,
		t.instructions, t.due_at, t.status, t.report, t.assigned_by, t.created_at, t.updated_at
		FROM incident_tasks t LEFT JOIN users u ON u.id = t.assignee_id WHERE t.incident_id = $1 ORDER BY t.id`, id)
	return platform.Collect(rows, err, func(r *sql.Rows) (Task, error) {
		var t Task
		err := r.Scan(&t.ID, &t.IncidentID, &t.Kind, &t.BatchCode, &t.RegionCode, &t.assigneeID, &t.Assignee, &t.AssigneeName,
			&t.Instructions, &t.DueAt, &t.Status, &t.Report, &t.AssignedBy, &t.CreatedAt, &t.UpdatedAt)
		return t, err
	})
}

// maxTimeline bounds the timeline read (the newest events are kept).
const maxTimeline = 500

// timeline is what was done, oldest first: the incident's audit rows and
// its source's (a recall's opening and dispositions, a complaint's steps).
func (s *Service) timeline(ctx context.Context, inc Incident) ([]Event, error) {
	q := `SELECT a.at, COALESCE(u.name, a.actor_name), a.action, a.resource_type, a.detail
		FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id WHERE a.resource_type = 'incident' AND a.resource_id = $1
		ORDER BY a.id DESC LIMIT $2`
	args := []any{strconv.FormatInt(inc.ID, 10), maxTimeline}
	if inc.Source.Kind == SourceRecall || inc.Source.Kind == SourceComplaint {
		q = `SELECT a.at, COALESCE(u.name, a.actor_name), a.action, a.resource_type, a.detail
			FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
			WHERE (a.resource_type = 'incident' AND a.resource_id = $1) OR (a.resource_type = $3 AND a.resource_id = $4)
			ORDER BY a.id DESC LIMIT $2`
		args = append(args, string(inc.Source.Kind), strconv.FormatInt(inc.Source.ID, 10))
	}
	rows, err := s.db.Query(ctx, q, args...)
	list, err := platform.Collect(rows, err, func(r *sql.Rows) (Event, error) {
		var e Event
		var detail string
		err := r.Scan(&e.At, &e.Actor, &e.Action, &e.Resource, &detail)
		if detail != "" {
			_ = json.Unmarshal([]byte(detail), &e.Detail)
		}
		return e, err
	})
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list, err
}

// Filter narrows an incident list.
type Filter struct {
	Status string // "" = every status
	Region string // incidents declared in or touching this subtree ("" = all in reach)
	Mine   bool   // only incidents with tasks assigned to the actor
	Limit  int
	Offset int
}

// List is the incidents in the actor's reach — declared in its
// jurisdiction, touching it (an affected batch there), or holding a task
// assigned to it — open ones first, newest first.
func (s *Service) List(ctx context.Context, actor *auth.Actor, f Filter) ([]Summary, error) {
	sc := auth.ListScope(actor, auth.ActIncidentRead)
	if err := sc.Err(actor, auth.ActIncidentRead); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > maxList {
		f.Limit = defaultList
	}
	w := auth.NewWhere(actor.UserID) // $1: the actor, for "my tasks"
	if inBatch := w.ScopeCond(sc, auth.Columns{Region: []string{"b.region_code"}}); inBatch != "" {
		declared := w.ScopeCond(sc, auth.Columns{Region: []string{"i.region_code"}})
		w.Add("(" + declared + " OR i.id IN (SELECT b.incident_id FROM incident_batches b WHERE " + inBatch +
			") OR i.id IN (SELECT mt.incident_id FROM incident_tasks mt WHERE mt.assignee_id = $1))")
	}
	var v platform.Validator
	if f.Status != "" {
		if v.OneOf("status", f.Status, names(Statuses)...) {
			w.Add("i.status = " + w.Arg(f.Status))
		}
	}
	if f.Region != "" && v.Check(regionCode.MatchString(f.Region), "region", "format", "地区代码应为 6 位或 9 位数字", "region must be a 6- or 9-digit code") {
		if err := auth.Authorize(actor, auth.ActIncidentRead, auth.Resource{Region: f.Region}); err != nil {
			return nil, err
		}
		if auth.RegionPrefix(f.Region) != "" {
			w.Add("(" + w.RegionCond(f.Region, "i.region_code") + " OR i.id IN (SELECT rb.incident_id FROM incident_batches rb WHERE " +
				w.RegionCond(f.Region, "rb.region_code") + "))")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if f.Mine {
		w.Add("i.id IN (SELECT mt.incident_id FROM incident_tasks mt WHERE mt.assignee_id = $1)")
	}
	rows, err := s.db.Query(ctx, `SELECT i.id, i.number, i.title, i.source_kind, i.region_code, i.status, i.declared_at,
		(SELECT COUNT(*) FROM incident_batches c WHERE c.incident_id = i.id),
		(SELECT COUNT(*) FROM incident_batches c WHERE c.incident_id = i.id AND c.state IN ('destroyed', 'released', 'cleared')),
		(SELECT COUNT(*) FROM incident_tasks t WHERE t.incident_id = i.id AND t.status IN ('open', 'in_progress')),
		(SELECT COUNT(*) FROM incident_tasks t WHERE t.incident_id = i.id AND t.status IN ('open', 'in_progress') AND t.assignee_id = $1)
		FROM incidents i`+w.SQL()+` ORDER BY CASE WHEN i.status = 'open' THEN 0 ELSE 1 END, i.declared_at DESC, i.id DESC
		LIMIT `+w.Arg(f.Limit)+` OFFSET `+w.Arg(max(f.Offset, 0)), w.Args()...)
	return platform.Collect(rows, err, func(r *sql.Rows) (Summary, error) {
		var x Summary
		err := r.Scan(&x.ID, &x.Number, &x.Title, &x.SourceKind, &x.RegionCode, &x.Status, &x.DeclaredAt, &x.Batches, &x.Resolved, &x.OpenTasks, &x.MyTasks)
		return x, err
	})
}

// Official is an account a task may be assigned to.
type Official struct {
	Username   string `json:"username"`
	Name       string `json:"name"`
	Role       string `json:"role"`
	RegionCode string `json:"region_code"`
}

// Assignees lists the active officials the actor may assign incident tasks
// to (those whose role takes tasks, in the actor's jurisdiction), by region.
func (s *Service) Assignees(ctx context.Context, actor *auth.Actor) ([]Official, error) {
	sc := auth.ListScope(actor, auth.ActIncidentManage)
	if err := sc.Err(actor, auth.ActIncidentManage); err != nil {
		return nil, err
	}
	w := auth.NewWhere()
	w.Scope(sc, auth.Columns{Region: []string{"region_code"}})
	w.Add("status = 'active'")
	var roles []string
	for _, r := range auth.Roles {
		if (&auth.Actor{Role: r}).Can(auth.ActIncidentTask) {
			roles = append(roles, w.Arg(string(r)))
		}
	}
	w.Add("role IN (" + strings.Join(roles, ", ") + ")")
	rows, err := s.db.Query(ctx, `SELECT username, name, role, region_code FROM users`+w.SQL()+` ORDER BY region_code, role, username LIMIT 500`, w.Args()...)
	return platform.Collect(rows, err, func(r *sql.Rows) (Official, error) {
		var o Official
		return o, r.Scan(&o.Username, &o.Name, &o.Role, &o.RegionCode)
	})
}

// MyTasks counts the open tasks assigned to the actor, and how many of
// them are past their due time (the home page's tile).
func (s *Service) MyTasks(ctx context.Context, actor *auth.Actor) (open, overdue int, err error) {
	if actor == nil || actor.UserID == 0 || !actor.Can(auth.ActIncidentTask) {
		return 0, 0, nil
	}
	err = s.db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN due_at < $2 THEN 1 ELSE 0 END), 0) FROM incident_tasks
		WHERE assignee_id = $1 AND status IN ('open', 'in_progress')`, actor.UserID, s.clock.Now()).Scan(&open, &overdue)
	return open, overdue, err
}
