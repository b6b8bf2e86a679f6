package supervision

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// Draw statuses and task statuses.
const (
	DrawOpen    = "open"
	DrawClosed  = "closed"
	TaskPending = "pending"
	TaskDone    = "done"
)

// Draw defaults and limits.
const (
	DefaultPerTask  = 2  // 双随机: at least two inspectors per task
	DefaultDrawDays = 20 // working days to carry the tasks out
	MaxDrawSize     = 2000
)

// DrawFilter narrows a draw's population (approved operators of the region).
type DrawFilter struct {
	Kinds            []string `json:"kinds,omitempty" doc:"operator kinds: enterprise | cooperative | family_farm | slaughterhouse | individual"`
	Product          string   `json:"product,omitempty" doc:"a catalogue product code or name the operator registered"`
	KeyOnly          bool     `json:"key_only,omitempty" doc:"key operators only (leading enterprises, demonstration cooperatives, certified producers)"`
	Risk             []string `json:"risk,omitempty" doc:"risk levels from the credit record: low | medium | high"`
	NotInspectedDays int      `json:"not_inspected_days,omitempty" doc:"only operators not inspected for this many days"`
	ExcludeDrawnDays int      `json:"exclude_drawn_days,omitempty" doc:"leave out operators drawn in another draw within this many days (default 365)"`
}

// Recusal takes an inspector off an operator (回避).
type Recusal struct {
	Inspector    string `json:"inspector"`
	OperatorCode string `json:"operator_code"`
	Reason       string `json:"reason,omitempty"`
}

// DrawInput defines a random draw.
type DrawInput struct {
	Title      string     `json:"title,omitempty"`
	RegionCode string     `json:"region_code" validate:"required" doc:"the population's region (within the supervisor's jurisdiction)"`
	Filter     DrawFilter `json:"filter"`
	Size       int        `json:"size,omitempty" doc:"how many operators to draw; or percent"`
	Percent    float64    `json:"percent,omitempty" doc:"share of the population to draw, rounded up (0–100]"`
	Inspectors []string   `json:"inspectors" validate:"required" doc:"the pool of inspectors (usernames)"`
	PerTask    int        `json:"per_task,omitempty" doc:"inspectors per task, at least 2 (default 2)"`
	Recusals   []Recusal  `json:"recusals,omitempty"`
	Seed       string     `json:"seed,omitempty" doc:"any text; default 32 random bytes in hex. The same seed and inputs give the same selections"`
	DueDays    int        `json:"due_days,omitempty" doc:"working days to carry the tasks out (default 20)"`
}

// Task is a drawn operator to inspect.
type Task struct {
	ID             int64    `json:"id"`
	DrawID         int64    `json:"draw_id"`
	DrawNumber     string   `json:"draw_number,omitempty"`
	Position       int      `json:"position"`
	OperatorID     int64    `json:"operator_id"`
	OperatorCode   string   `json:"operator_code"`
	OperatorName   string   `json:"operator_name"`
	RegionCode     string   `json:"region_code"`
	Inspectors     []string `json:"inspectors"`
	InspectorNames []string `json:"inspector_names,omitempty"`
	Status         string   `json:"status" doc:"pending | done"`
	InspectionID   int64    `json:"inspection_id,omitempty"`
	Result         string   `json:"result,omitempty"`
	DueOn          string   `json:"due_on"`
	Overdue        bool     `json:"overdue,omitempty"`
}

// Draw is a recorded draw.
type Draw struct {
	ID               int64       `json:"id"`
	Number           string      `json:"number"`
	Title            string      `json:"title"`
	RegionCode       string      `json:"region_code"`
	Seed             string      `json:"seed"`
	Algorithm        string      `json:"algorithm"`
	Population       int         `json:"population"`
	PopulationSHA256 string      `json:"population_sha256"`
	Spec             DrawSpec    `json:"spec"`
	Status           string      `json:"status" doc:"open | closed (every task done)"`
	DueOn            string      `json:"due_on"`
	CreatedByName    string      `json:"created_by_name"`
	CreatedAt        time.Time   `json:"created_at"`
	ClosedAt         *time.Time  `json:"closed_at,omitempty"`
	Selections       []Selection `json:"selections"`
	Tasks            []Task      `json:"tasks"`
	TaskCount        int         `json:"task_count"`
	Done             int         `json:"done"`
}

// DrawSpec is what a draw was run on, stored with it: enough to re-run it.
type DrawSpec struct {
	Filter          DrawFilter `json:"filter"`
	Size            int        `json:"size"`
	Percent         float64    `json:"percent,omitempty"`
	PerTask         int        `json:"per_task"`
	Inspectors      []string   `json:"inspectors"`
	Recusals        []Recusal  `json:"recusals"`
	PopulationCodes []string   `json:"population_codes"`
	// SeedSource says who chose the seed: "platform" (32 random bytes, the
	// default) or "user" (given in the request — published as such, since
	// whoever knows the population could try seeds until one suits them).
	SeedSource string `json:"seed_source"`
	// Ineligible lists inspector→operator pairs out of the inspector's
	// jurisdiction (with the recusals, what Eligible said no to).
	Ineligible []Recusal `json:"ineligible,omitempty"`
}

// drawPlan is a validated draw, ready for its transaction.
type drawPlan struct {
	in         DrawInput
	spec       DrawSpec
	selections []Selection
	ops        map[string]candidate
	names      map[string]string
	due        string
}

type candidate struct {
	id            int64
	code          string
	name          string
	region        string
	kind          string
	products      []string
	key           bool
	risk          string
	lastInspected string
}

// prepareDraw authorizes and validates a draw, reads its population and runs it.
func (s *Service) prepareDraw(ctx context.Context, actor *auth.Actor, in DrawInput) (drawPlan, error) {
	in.RegionCode = strings.TrimSpace(in.RegionCode)
	in.Title = strings.TrimSpace(in.Title)
	if err := auth.Authorize(actor, auth.ActDrawManage, auth.Resource{Region: in.RegionCode}); err != nil {
		return drawPlan{}, err
	}
	if in.PerTask == 0 {
		in.PerTask = DefaultPerTask
	}
	if in.DueDays == 0 {
		in.DueDays = DefaultDrawDays
	}
	if in.Filter.ExcludeDrawnDays == 0 {
		in.Filter.ExcludeDrawnDays = 365
	}
	var v platform.Validator
	if v.Require("region_code", in.RegionCode) {
		if _, err := s.regions.Get(ctx, in.RegionCode); err != nil {
			v.Add("region_code", "unknown", "行政区划代码不存在", "no such region")
		}
	}
	v.MaxLen("title", in.Title, 200)
	checkDrawNumbers(&v, in)
	for i, k := range in.Filter.Kinds {
		v.OneOf(fmt.Sprintf("filter.kinds[%d]", i), k, operator.Kinds...)
	}
	for i, r := range in.Filter.Risk {
		v.OneOf(fmt.Sprintf("filter.risk[%d]", i), r, RiskLow, RiskMedium, RiskHigh)
	}
	pool, names := s.checkPool(ctx, &v, in)
	if err := v.Err(); err != nil {
		return drawPlan{}, err
	}
	seedSource := SeedByUser
	if in.Seed == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		in.Seed, seedSource = hex.EncodeToString(b), SeedByPlatform
	}
	ops, err := s.population(ctx, in.RegionCode, in.Filter)
	if err != nil {
		return drawPlan{}, err
	}
	p, err := s.runDraw(ctx, in, ops, pool, names)
	p.spec.SeedSource = seedSource
	return p, err
}

// Who chose a draw's seed.
const (
	SeedByPlatform = "platform"
	SeedByUser     = "user"
)

func checkDrawNumbers(v *platform.Validator, in DrawInput) {
	switch {
	case in.Size == 0 && in.Percent == 0:
		v.Add("size", "required", "请填写抽取数量或比例", "give a size or a percent")
	case in.Size != 0 && in.Percent != 0:
		v.Add("percent", "not_allowed", "数量和比例只填一项", "give a size or a percent, not both")
	case in.Size < 0 || in.Size > MaxDrawSize:
		v.Add("size", "range", fmt.Sprintf("抽取数量应为 1–%d", MaxDrawSize), fmt.Sprintf("must be 1–%d", MaxDrawSize))
	case in.Size == 0 && (math.IsNaN(in.Percent) || in.Percent <= 0 || in.Percent > 100):
		v.Add("percent", "range", "比例应大于 0 且不超过 100", "must be above 0 and at most 100")
	}
	v.Check(in.PerTask >= DefaultPerTask && in.PerTask <= 10, "per_task", "range", "每个任务至少 2 名检查人员（最多 10 名）",
		"at least 2 inspectors per task (at most 10)")
	v.Check(in.DueDays >= 1 && in.DueDays <= 250, "due_days", "range", "完成期限应为 1–250 个工作日", "must be 1–250 working days")
	v.Check(in.Filter.NotInspectedDays >= 0 && in.Filter.ExcludeDrawnDays >= 0, "filter", "range", "天数不能为负", "days cannot be negative")
	v.MaxLen("seed", in.Seed, 200)
}

type poolMember struct {
	name   string
	region string
}

// checkPool: the inspectors exist, are active inspectors or enforcers, and
// are at least per_task.
func (s *Service) checkPool(ctx context.Context, v *platform.Validator, in DrawInput) (map[string]poolMember, map[string]string) {
	pool := map[string]poolMember{}
	names := map[string]string{}
	for i, u := range in.Inspectors {
		u = strings.TrimSpace(u)
		var m poolMember
		var role, status string
		err := s.db.QueryRow(ctx, `SELECT name, role, region_code, status FROM users WHERE username = $1`, u).Scan(&m.name, &role, &m.region, &status)
		f := fmt.Sprintf("inspectors[%d]", i)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			v.Add(f, "unknown", "账号“"+u+"”不存在", "no account "+u)
		case err != nil:
			v.Add(f, "unknown", "无法读取账号", "cannot read the account")
		case role != string(auth.RoleInspector) && role != string(auth.RoleEnforcer):
			v.Add(f, "role", "“"+u+"”不是检查或执法人员", u+" is not an inspector or enforcer")
		case status != "active":
			v.Add(f, "inactive", "账号“"+u+"”已停用", "account "+u+" is disabled")
		case !auth.Within(in.RegionCode, m.region) && !auth.Within(m.region, in.RegionCode):
			v.Add(f, "region", "“"+u+"”的辖区与抽查范围无交集", u+"'s jurisdiction does not overlap the draw's region")
		default:
			pool[u] = m
			names[u] = m.name
		}
	}
	if len(in.Inspectors) == 0 {
		v.Add("inspectors", "required", "请选择检查人员", "choose the inspectors")
	} else if len(pool) < in.PerTask && v.Err() == nil {
		v.Add("inspectors", "too_few", fmt.Sprintf("检查人员不足：每个任务需要 %d 名，名单中只有 %d 名", in.PerTask, len(pool)),
			fmt.Sprintf("too few inspectors: %d per task, %d in the pool", in.PerTask, len(pool)))
	}
	return pool, names
}

// population reads the approved operators of the region that pass the filter.
func (s *Service) population(ctx context.Context, regionCode string, f DrawFilter) ([]candidate, error) {
	today := s.Today()
	w := auth.NewWhere(today)
	w.Add("o.status = 'approved'")
	w.Add("o.category <> 'temporary'")
	w.Add(w.RegionCond(regionCode, "o.region_code"))
	rows, err := s.db.Query(ctx, `SELECT o.id, o.code, o.name, o.region_code, o.kind, o.products,
		(o.leading_enterprise IS NOT NULL OR o.demo_cooperative OR o.certifications <> '[]'),
		`+fmt.Sprintf(creditLevelSQL, "$1")+`, COALESCE((SELECT MAX(i.on_date) FROM inspections i WHERE i.operator_id = o.id), '')
		FROM operators o`+w.SQL(), w.Args()...)
	all, err := platform.Collect(rows, err, func(r *sql.Rows) (candidate, error) {
		var c candidate
		var products string
		err := r.Scan(&c.id, &c.code, &c.name, &c.region, &c.kind, &products, &c.key, &c.risk, &c.lastInspected)
		_ = json.Unmarshal([]byte(products), &c.products)
		c.risk = RiskOf(c.risk)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	drawn := map[int64]bool{}
	if f.ExcludeDrawnDays > 0 {
		since := s.clock.Now().AddDate(0, 0, -f.ExcludeDrawnDays)
		rows, err := s.db.Query(ctx, `SELECT DISTINCT t.operator_id FROM draw_tasks t JOIN draws d ON d.id = t.draw_id WHERE d.created_at >= $1`, since)
		ids, err := platform.Collect(rows, err, func(r *sql.Rows) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		})
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			drawn[id] = true
		}
	}
	cutoff := ""
	if f.NotInspectedDays > 0 {
		cutoff = s.todayTime().AddDate(0, 0, -f.NotInspectedDays).Format(time.DateOnly)
	}
	var out []candidate
	for _, c := range all {
		switch {
		case drawn[c.id],
			len(f.Kinds) > 0 && !slices.Contains(f.Kinds, c.kind),
			f.KeyOnly && !c.key,
			len(f.Risk) > 0 && !slices.Contains(f.Risk, c.risk),
			cutoff != "" && c.lastInspected > cutoff,
			f.Product != "" && !s.registers(ctx, c.products, f.Product):
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// registers reports whether an operator's registered products name the
// product (by catalogue code or name).
func (s *Service) registers(ctx context.Context, products []string, want string) bool {
	name := want
	if p, err := s.tr.Product(ctx, want); err == nil {
		name = p.Name
	}
	for _, p := range products {
		if p == want || p == name || strings.Contains(p, name) {
			return true
		}
	}
	return false
}

// runDraw sizes the draw and runs the algorithm.
func (s *Service) runDraw(ctx context.Context, in DrawInput, ops []candidate, pool map[string]poolMember, names map[string]string) (drawPlan, error) {
	p := drawPlan{in: in, ops: map[string]candidate{}, names: names}
	codes := make([]string, len(ops))
	for i, c := range ops {
		codes[i] = c.code
		p.ops[c.code] = c
	}
	size := in.Size
	if size == 0 {
		size = percentOf(in.Percent, len(ops))
	}
	if size > len(ops) || size == 0 {
		return drawPlan{}, platform.Invalid(platform.FieldError{Field: "size", Code: "exceeds_population",
			ZH: fmt.Sprintf("抽取数量 %d 超过符合条件的主体数 %d", size, len(ops)), EN: fmt.Sprintf("the draw of %d exceeds its population of %d", size, len(ops))})
	}
	recused := map[[2]string]bool{}
	recusals := []Recusal{} // as applied (bare codes), so that the published spec re-runs
	for _, r := range in.Recusals {
		r.Inspector, r.OperatorCode = strings.TrimSpace(r.Inspector), operatorCodeOf(strings.TrimSpace(r.OperatorCode))
		recused[[2]string{r.Inspector, r.OperatorCode}] = true
		recusals = append(recusals, r)
	}
	var ineligible []Recusal
	inspectors := make([]string, 0, len(pool))
	for u := range pool {
		inspectors = append(inspectors, u)
	}
	slices.Sort(inspectors)
	eligible := func(u, code string) bool {
		if recused[[2]string{u, code}] {
			return false
		}
		if !auth.Within(p.ops[code].region, pool[u].region) {
			ineligible = append(ineligible, Recusal{Inspector: u, OperatorCode: code, Reason: "jurisdiction"})
			return false
		}
		return true
	}
	sel, err := drawRun{Seed: in.Seed, Population: codes, Size: size, Pool: inspectors, PerTask: in.PerTask, Eligible: eligible}.run()
	var un errTaskUnstaffed
	if errors.As(err, &un) {
		return drawPlan{}, platform.Invalid(platform.FieldError{Field: "recusals", Code: "unstaffed",
			ZH: "回避和辖区限制后，主体 " + un.code + " 的可选检查人员不足 " + fmt.Sprint(in.PerTask) + " 名",
			EN: "after recusals and jurisdiction, operator " + un.code + " has fewer than " + fmt.Sprint(in.PerTask) + " eligible inspectors"})
	}
	if err != nil {
		return drawPlan{}, err
	}
	for i := range sel {
		sel[i].OperatorName = p.ops[sel[i].OperatorCode].name
	}
	slices.Sort(codes)
	p.selections = sel
	p.spec = DrawSpec{Filter: in.Filter, Size: size, Percent: in.Percent, PerTask: in.PerTask, Inspectors: inspectors,
		Recusals: recusals, PopulationCodes: codes, Ineligible: ineligible}
	p.due, err = s.addWorkdays(ctx, s.Today(), in.DueDays)
	return p, err
}

// CreateDraw runs and records a draw: its seed, algorithm and population
// digest, and one inspection task per drawn operator.
func (s *Service) CreateDraw(ctx context.Context, actor *auth.Actor, in DrawInput) (Draw, error) {
	p, err := s.prepareDraw(ctx, actor, in)
	if err != nil {
		return Draw{}, err
	}
	var id int64
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		id, err = s.createDrawTx(ctx, tx, actor, p)
		return err
	})
	if err != nil {
		return Draw{}, err
	}
	return s.draw(ctx, id)
}

func (s *Service) createDrawTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, p drawPlan) (int64, error) {
	year := s.Today()[:4]
	n, err := tx.NextSerial(ctx, "draw:"+p.in.RegionCode+":"+year)
	if err != nil {
		return 0, err
	}
	number := fmt.Sprintf("CJ-%s-%s-%04d", p.in.RegionCode, year, n)
	title := p.in.Title
	if title == "" {
		title = "双随机抽查 " + number
	}
	spec, err := json.Marshal(p.spec)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO draws (number, title, region_code, spec, seed, algorithm, population, population_sha256, status, due_on,
		created_by, created_by_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $11, $12) RETURNING id`,
		number, title, p.in.RegionCode, string(spec), p.in.Seed, DrawAlgorithm, len(p.spec.PopulationCodes), populationDigest(p.spec.PopulationCodes),
		p.due, platform.NullInt(actor.UserID), actor.Name, tx.Now()).Scan(&id); err != nil {
		return 0, fmt.Errorf("insert draw: %w", err)
	}
	for i, sel := range p.selections {
		c := p.ops[sel.OperatorCode]
		ins, _ := json.Marshal(sel.Inspectors)
		if _, err := tx.Exec(ctx, `INSERT INTO draw_tasks (draw_id, position, operator_id, region_code, inspectors, status)
			VALUES ($1, $2, $3, $4, $5, 'pending')`, id, i+1, c.id, c.region, string(ins)); err != nil {
			return 0, err
		}
	}
	return id, tx.Emit(ctx, platform.Event{Action: "draw.create", ResourceType: "draw", ResourceID: fmt.Sprint(id),
		Data: map[string]any{"number": number, "region_code": p.in.RegionCode, "seed": p.in.Seed, "population": len(p.spec.PopulationCodes),
			"size": len(p.selections), "per_task": p.in.PerTask}})
}

// completeTaskTx marks a draw task done by an inspection of its operator
// by one of its inspectors, and closes the draw when its last task is done.
func completeTaskTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, taskID, operatorID, inspectionID int64, result string) error {
	var status, inspectors string
	var opID, drawID int64
	// the draw's row first: two inspections finishing its last two tasks at
	// once must not both see the other's task pending (PostgreSQL, READ
	// COMMITTED) and leave the draw open forever
	var drawStatus string
	if err := tx.QueryRow(ctx, `SELECT status FROM draws WHERE id = (SELECT draw_id FROM draw_tasks WHERE id = $1) FOR UPDATE`, taskID).Scan(&drawStatus); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	err := tx.QueryRow(ctx, `SELECT status, operator_id, draw_id, inspectors FROM draw_tasks WHERE id = $1`, taskID).Scan(&status, &opID, &drawID, &inspectors)
	var assigned []string
	_ = json.Unmarshal([]byte(inspectors), &assigned)
	switch {
	case errors.Is(err, sql.ErrNoRows), err == nil && opID != operatorID:
		return platform.Invalid(platform.FieldError{Field: "task_id", Code: "unknown", ZH: "抽查任务不存在或不是该主体的任务", EN: "no such task for this operator"})
	case err != nil:
		return err
	case !slices.Contains(assigned, actor.Username):
		return platform.Invalid(platform.FieldError{Field: "task_id", Code: "not_assigned", ZH: "您不是该抽查任务的检查人员", EN: "you are not assigned to this task"})
	}
	res, err := tx.Exec(ctx, `UPDATE draw_tasks SET status = 'done', inspection_id = $1, result = $2, done_at = $3 WHERE id = $4 AND status = 'pending'`,
		inspectionID, result, tx.Now(), taskID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// the other inspector of the pair recorded it first: say so on the field
		return platform.Invalid(platform.FieldError{Field: "task_id", Code: "done", ZH: "该抽查任务已由同组检查人员完成，请不选任务后提交",
			EN: "the task was already completed by the other inspector of the pair; submit without the task"})
	}
	var pending int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM draw_tasks WHERE draw_id = $1 AND status = 'pending'`, drawID).Scan(&pending); err != nil {
		return err
	}
	if pending == 0 {
		if _, err := tx.Exec(ctx, `UPDATE draws SET status = 'closed', closed_at = $1 WHERE id = $2 AND status = 'open'`, tx.Now(), drawID); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "draw.close", ResourceType: "draw", ResourceID: fmt.Sprint(drawID)})
	}
	return nil
}

// PoolMember is an inspector or enforcer a draw may assign.
type PoolMember struct {
	Username string `json:"username"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Region   string `json:"region_code"`
}

// Pool lists the active inspectors and enforcers a draw in region may
// assign: those at or below the region, and those above it that are still
// inside the actor's own jurisdiction (a city supervisor may send a city
// inspector to a county; a county supervisor sees only its county's).
func (s *Service) Pool(ctx context.Context, actor *auth.Actor, region string) ([]PoolMember, error) {
	if err := auth.Authorize(actor, auth.ActDrawManage, auth.Resource{}); err != nil {
		return nil, err
	}
	if region == "" {
		region = actor.Region
	}
	if err := auth.Authorize(actor, auth.ActDrawManage, auth.Resource{Region: region}); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT username, name, role, region_code FROM users WHERE role IN ($1, $2) AND status = 'active'
		ORDER BY region_code, username`, string(auth.RoleInspector), string(auth.RoleEnforcer))
	all, err := platform.Collect(rows, err, func(r *sql.Rows) (PoolMember, error) {
		var m PoolMember
		return m, r.Scan(&m.Username, &m.Name, &m.Role, &m.Region)
	})
	if err != nil {
		return nil, err
	}
	out := []PoolMember{}
	for _, m := range all {
		if auth.Within(m.Region, region) || (auth.Within(region, m.Region) && auth.Within(m.Region, actor.Region)) {
			out = append(out, m)
		}
	}
	return out, nil
}

// percentOf is percent % of n rounded up, in integers (hundredths of a
// percent): 7 % of 100 is 7, not ⌈7.000000000000001⌉ = 8.
func percentOf(percent float64, n int) int {
	hp := int64(math.Round(percent * 100))
	return int((hp*int64(n) + 9999) / 10000)
}
