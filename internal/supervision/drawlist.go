package supervision

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/secure"
)

var errDrawNotFound = platform.NotFound("抽查不存在", "draw not found")

const drawColumns = `d.id, d.number, d.title, d.region_code, d.seed, d.algorithm, d.population, d.population_sha256, d.spec, d.status, d.due_on,
	d.created_by_name, d.created_at, d.closed_at`

func scanDraw(r interface{ Scan(...any) error }) (Draw, error) {
	var d Draw
	var spec string
	var closed sql.NullTime
	if err := r.Scan(&d.ID, &d.Number, &d.Title, &d.RegionCode, &d.Seed, &d.Algorithm, &d.Population, &d.PopulationSHA256, &spec, &d.Status,
		&d.DueOn, &d.CreatedByName, &d.CreatedAt, &closed); err != nil {
		return d, err
	}
	_ = json.Unmarshal([]byte(spec), &d.Spec)
	if closed.Valid {
		d.ClosedAt = &closed.Time
	}
	return d, nil
}

// Draw returns a draw with its selections and tasks (officials who may read draws in its region).
func (s *Service) Draw(ctx context.Context, actor *auth.Actor, id int64) (Draw, error) {
	if err := auth.Authorize(actor, auth.ActDrawRead, auth.Resource{}); err != nil {
		return Draw{}, err
	}
	d, err := s.draw(ctx, id)
	if err != nil {
		return Draw{}, err
	}
	if auth.Authorize(actor, auth.ActDrawRead, auth.Resource{Region: d.RegionCode}) == nil {
		return d, nil
	}
	// a county inspector reads a city's draw only for the tasks in the
	// county: the other counties' targets are not announced to it
	var mine []Task
	for _, t := range d.Tasks {
		if auth.Authorize(actor, auth.ActDrawRead, auth.Resource{Region: t.RegionCode}) == nil {
			mine = append(mine, t)
		}
	}
	if len(mine) == 0 {
		return Draw{}, errDrawNotFound
	}
	d.Tasks, d.TaskCount, d.Done = mine, len(mine), 0
	d.Selections = d.Selections[:0]
	for _, t := range mine {
		d.Selections = append(d.Selections, Selection{OperatorCode: t.OperatorCode, OperatorName: t.OperatorName, Inspectors: t.Inspectors})
		if t.Status == TaskDone {
			d.Done++
		}
	}
	d.Spec.PopulationCodes, d.Spec.Ineligible = nil, nil
	return d, nil
}

func (s *Service) draw(ctx context.Context, id int64) (Draw, error) {
	d, err := scanDraw(s.db.QueryRow(ctx, `SELECT `+drawColumns+` FROM draws d WHERE d.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Draw{}, errDrawNotFound
	}
	if err != nil {
		return Draw{}, err
	}
	d.Tasks, err = s.tasks(ctx, "t.draw_id = $1", id)
	if err != nil {
		return Draw{}, err
	}
	d.TaskCount = len(d.Tasks)
	d.Selections = make([]Selection, len(d.Tasks))
	for i, t := range d.Tasks {
		d.Selections[i] = Selection{OperatorCode: t.OperatorCode, OperatorName: t.OperatorName, Inspectors: t.Inspectors}
		if t.Status == TaskDone {
			d.Done++
		}
	}
	return d, nil
}

const taskColumns = `t.id, t.draw_id, d.number, t.position, t.operator_id, o.code, o.name, t.region_code, t.inspectors, t.status,
	COALESCE(t.inspection_id, 0), t.result, d.due_on`

// tasks reads tasks matching cond, in draw then position order.
func (s *Service) tasks(ctx context.Context, cond string, args ...any) ([]Task, error) {
	today := s.Today()
	rows, err := s.db.Query(ctx, `SELECT `+taskColumns+` FROM draw_tasks t JOIN draws d ON d.id = t.draw_id JOIN operators o ON o.id = t.operator_id
		WHERE `+cond+` ORDER BY d.due_on, t.draw_id, t.position`, args...)
	out, err := platform.Collect(rows, err, func(r *sql.Rows) (Task, error) {
		var t Task
		var ins string
		err := r.Scan(&t.ID, &t.DrawID, &t.DrawNumber, &t.Position, &t.OperatorID, &t.OperatorCode, &t.OperatorName, &t.RegionCode, &ins,
			&t.Status, &t.InspectionID, &t.Result, &t.DueOn)
		_ = json.Unmarshal([]byte(ins), &t.Inspectors)
		t.Overdue = t.Status == TaskPending && t.DueOn < today
		return t, err
	})
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for i := range out {
		for _, u := range out[i].Inspectors {
			if _, ok := names[u]; !ok {
				var n string
				_ = s.db.QueryRow(ctx, `SELECT name FROM users WHERE username = $1`, u).Scan(&n)
				names[u] = n
			}
			out[i].InspectorNames = append(out[i].InspectorNames, names[u])
		}
	}
	if out == nil {
		out = []Task{}
	}
	return out, nil
}

// MyTasks lists the actor's draw tasks (pending first, then done).
func (s *Service) MyTasks(ctx context.Context, actor *auth.Actor, status string) ([]Task, error) {
	return s.Tasks(ctx, actor, TaskFilter{Mine: true, Status: status})
}

// TaskFilter narrows Tasks.
type TaskFilter struct {
	Mine   bool   // only tasks the actor is assigned to
	Status string // pending (default) | done | all
	Region string
}

// Tasks lists draw tasks in the actor's jurisdiction, soonest due first.
func (s *Service) Tasks(ctx context.Context, actor *auth.Actor, f TaskFilter) ([]Task, error) {
	sc := auth.ListScope(actor, auth.ActDrawRead)
	if err := sc.Err(actor, auth.ActDrawRead); err != nil {
		return nil, err
	}
	if err := auth.Authorize(actor, auth.ActDrawRead, auth.Resource{Region: f.Region}); err != nil {
		return nil, err
	}
	if f.Status == "" {
		f.Status = TaskPending
	}
	var v platform.Validator
	if v.OneOf("status", f.Status, TaskPending, TaskDone, "all"); v.Err() != nil {
		return nil, v.Err()
	}
	w := auth.NewWhere()
	w.Add("1 = 1")
	w.Scope(sc, auth.Columns{Region: []string{"t.region_code"}})
	if auth.RegionPrefix(f.Region) != "" {
		w.Add(w.RegionCond(f.Region, "t.region_code"))
	}
	if f.Mine {
		w.Add("t.inspectors LIKE " + w.Arg(`%"`+actor.Username+`"%`))
	}
	if f.Status != "all" {
		w.Add("t.status = " + w.Arg(f.Status))
	}
	list, err := s.tasks(ctx, w.Conds(), w.Args()...)
	if f.Mine {
		list = assignedTo(list, actor.Username)
	}
	return list, err
}

// assignedTo keeps the tasks whose inspectors name username exactly: the
// LIKE that narrows the query takes '_' and '%' in a username as
// wildcards (and ignores case on SQLite).
func assignedTo(list []Task, username string) []Task {
	out := []Task{}
	for _, t := range list {
		if slices.Contains(t.Inspectors, username) {
			out = append(out, t)
		}
	}
	return out
}

// PendingTasks are the actor's open tasks at one operator (the inspection form offers them).
func (s *Service) PendingTasks(ctx context.Context, actor *auth.Actor, operatorID int64) ([]Task, error) {
	if !actor.Can(auth.ActInspect) {
		return []Task{}, nil
	}
	list, err := s.tasks(ctx, `t.inspectors LIKE $1 AND t.status = 'pending' AND t.operator_id = $2`, `%"`+actor.Username+`"%`, operatorID)
	return assignedTo(list, actor.Username), err
}

// DrawFilterList narrows Draws.
type DrawFilterList struct {
	Region string
	Status string
	Limit  int
	Offset int
}

// Draws lists draws in the actor's reach, newest first (without tasks).
func (s *Service) Draws(ctx context.Context, actor *auth.Actor, f DrawFilterList) ([]Draw, error) {
	sc := auth.ListScope(actor, auth.ActDrawRead)
	if err := sc.Err(actor, auth.ActDrawRead); err != nil {
		return nil, err
	}
	if f.Status != "" {
		var v platform.Validator
		v.OneOf("status", f.Status, DrawOpen, DrawClosed)
		if err := v.Err(); err != nil {
			return nil, err
		}
	}
	w := auth.NewWhere()
	w.Scope(sc, auth.Columns{Region: []string{"d.region_code"}})
	if auth.RegionPrefix(f.Region) != "" {
		w.Add(w.RegionCond(f.Region, "d.region_code"))
	}
	if f.Status != "" {
		w.Add("d.status = " + w.Arg(f.Status))
	}
	return s.drawList(ctx, w, f.Limit, f.Offset)
}

func (s *Service) drawList(ctx context.Context, w *auth.Where, limit, offset int) ([]Draw, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.db.Query(ctx, `SELECT `+drawColumns+`, (SELECT COUNT(*) FROM draw_tasks t WHERE t.draw_id = d.id),
		(SELECT COUNT(*) FROM draw_tasks t WHERE t.draw_id = d.id AND t.status = 'done') FROM draws d`+w.SQL()+
		` ORDER BY d.created_at DESC, d.id DESC LIMIT `+w.Arg(limit)+` OFFSET `+w.Arg(max(offset, 0)), w.Args()...)
	out, err := platform.Collect(rows, err, func(r *sql.Rows) (Draw, error) {
		var total, done int
		d, err := scanDraw(scanTail{r, []any{&total, &done}})
		d.TaskCount, d.Done = total, done
		d.Spec.PopulationCodes = nil // lists stay small; the draw itself has them
		return d, err
	})
	if out == nil {
		out = []Draw{}
	}
	return out, err
}

// scanTail scans a row's first columns with one scanner and the rest into extra.
type scanTail struct {
	r     interface{ Scan(...any) error }
	extra []any
}

func (t scanTail) Scan(dest ...any) error { return t.r.Scan(append(dest, t.extra...)...) }

// PublicTask is what the public list (一公开) shows of a drawn operator.
type PublicTask struct {
	OperatorCode string `json:"operator_code"`
	OperatorName string `json:"operator_name"`
	Result       string `json:"result" doc:"pass | rectify | violation"`
	Date         string `json:"date"`
}

// PublicDraw is a closed draw as published: what was checked and the outcome.
type PublicDraw struct {
	Number           string       `json:"number"`
	Title            string       `json:"title"`
	RegionCode       string       `json:"region_code"`
	Seed             string       `json:"seed"`
	SeedSource       string       `json:"seed_source" doc:"platform (random) | user (chosen by whoever ran the draw)"`
	Algorithm        string       `json:"algorithm"`
	Population       int          `json:"population"`
	PopulationSHA256 string       `json:"population_sha256"`
	DrawnOn          string       `json:"drawn_on"`
	ClosedOn         string       `json:"closed_on"`
	Tasks            []PublicTask `json:"tasks"`
}

// PublicDraws lists closed draws for everyone (no login), newest first;
// individuals' names are masked.
func (s *Service) PublicDraws(ctx context.Context, region string, limit int) ([]PublicDraw, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	w := auth.NewWhere()
	w.Add("d.status = 'closed'")
	if auth.RegionPrefix(region) != "" {
		w.Add(w.RegionCond(region, "d.region_code"))
	}
	rows, err := s.db.Query(ctx, `SELECT d.id, d.number, d.title, d.region_code, d.seed, d.spec, d.algorithm, d.population, d.population_sha256,
		d.created_at, d.closed_at FROM draws d`+w.SQL()+` ORDER BY d.closed_at DESC, d.id DESC LIMIT `+w.Arg(limit), w.Args()...)
	type row struct {
		id int64
		d  PublicDraw
	}
	list, err := platform.Collect(rows, err, func(r *sql.Rows) (row, error) {
		var x row
		var created time.Time
		var closed sql.NullTime
		var spec string
		err := r.Scan(&x.id, &x.d.Number, &x.d.Title, &x.d.RegionCode, &x.d.Seed, &spec, &x.d.Algorithm, &x.d.Population, &x.d.PopulationSHA256, &created, &closed)
		var sp DrawSpec
		_ = json.Unmarshal([]byte(spec), &sp)
		x.d.SeedSource = sp.SeedSource
		x.d.DrawnOn = platform.Today(created)
		if closed.Valid {
			x.d.ClosedOn = platform.Today(closed.Time)
		}
		return x, err
	})
	if err != nil {
		return nil, err
	}
	out := make([]PublicDraw, 0, len(list))
	for _, x := range list {
		r, err := s.db.Query(ctx, `SELECT o.code, o.name, o.kind, t.result, COALESCE(i.on_date, '') FROM draw_tasks t JOIN operators o ON o.id = t.operator_id
			LEFT JOIN inspections i ON i.id = t.inspection_id WHERE t.draw_id = $1 ORDER BY t.position`, x.id)
		x.d.Tasks, err = platform.Collect(r, err, func(r *sql.Rows) (PublicTask, error) {
			var t PublicTask
			var kind string
			err := r.Scan(&t.OperatorCode, &t.OperatorName, &kind, &t.Result, &t.Date)
			if kind == operator.KindIndividual {
				// a person: neither the name nor the code that leads to it
				t.OperatorName, t.OperatorCode = secure.MaskName(t.OperatorName), maskCode(t.OperatorCode)
			}
			return t, err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, x.d)
	}
	return out, nil
}

// maskCode keeps a code's region digits (the first six) and hides the rest.
func maskCode(code string) string {
	if len(code) <= 6 {
		return code
	}
	return code[:6] + strings.Repeat("*", len(code)-6)
}
