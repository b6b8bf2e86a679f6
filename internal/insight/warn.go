package insight

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// WarningStatus is where a warning stands.
type WarningStatus string

// The statuses, in display order (WarningStatuses).
const (
	WarningOpen         WarningStatus = "open"         // raised, nobody has taken it up yet
	WarningAcknowledged WarningStatus = "acknowledged" // an official is looking into it
	WarningClosed       WarningStatus = "closed"       // handled (with a note saying how)
	WarningDismissed    WarningStatus = "dismissed"    // not a real problem (with a note saying why)
)

// WarningStatuses lists the statuses in display order.
var WarningStatuses = []WarningStatus{WarningOpen, WarningAcknowledged, WarningClosed, WarningDismissed}

// warningNext is what a warning in each status may become; closed and
// dismissed are final (the rule may raise a new warning later).
var warningNext = map[WarningStatus][]WarningStatus{
	WarningOpen:         {WarningAcknowledged, WarningClosed, WarningDismissed},
	WarningAcknowledged: {WarningClosed, WarningDismissed},
}

// needsNote: the statuses that end a warning say how or why.
func needsNote(st WarningStatus) bool { return st == WarningClosed || st == WarningDismissed }

// active are the statuses of a warning still being handled.
var active = []WarningStatus{WarningOpen, WarningAcknowledged}

// MaxWarningNote bounds a handling note.
const MaxWarningNote = 1000

// Warning is one early warning.
type Warning struct {
	ID            int64           `json:"id"`
	Rule          RuleKey         `json:"rule" doc:"failure_rate | transfer_surge | complaint_cluster | clone_cluster | batch_drop | review_backlog"`
	RuleLabel     string          `json:"rule_label"`
	RuleLabelEN   string          `json:"rule_label_en"`
	RegionCode    string          `json:"region_code" doc:"the county"`
	RegionName    string          `json:"region_name"`
	ProductCode   string          `json:"product_code,omitempty"`
	ProductName   string          `json:"product_name,omitempty"`
	ProductNameEN string          `json:"product_name_en,omitempty"`
	WindowFrom    string          `json:"window_from"`
	WindowTo      string          `json:"window_to"`
	Statistic     float64         `json:"statistic" doc:"the tail probability (review backlog: the overdue count)"`
	Threshold     float64         `json:"threshold" doc:"the significance level (review backlog: the count that fires)"`
	Status        WarningStatus   `json:"status" doc:"open | acknowledged | closed | dismissed"`
	Note          string          `json:"note,omitempty" doc:"the last handling note"`
	RaisedAt      time.Time       `json:"raised_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	Records       string          `json:"records" doc:"the page listing the records behind the warning"`
	Evidence      *Evidence       `json:"evidence,omitempty" doc:"the series, baseline, threshold and statistic it was raised on (one warning's answer)"`
	Steps         []WarningStep   `json:"steps,omitempty" doc:"the handling history (one warning's answer)"`
	Next          []WarningStatus `json:"next" doc:"the statuses you may set (empty when you may not handle it)"`
}

// WarningStep is one line of a warning's handling history.
type WarningStep struct {
	Status WarningStatus `json:"status"`
	Note   string        `json:"note,omitempty"`
	By     string        `json:"by" doc:"the official's name ('' : the platform raised it)"`
	At     time.Time     `json:"at"`
}

var errWarningNotFound = platform.NotFound("预警不存在，或不在您的管辖范围内", "warning not found or outside your jurisdiction")

const warningCols = `SELECT w.id, w.rule, w.region_code, w.product_code, w.window_from, w.window_to, w.statistic, w.threshold,
	w.status, w.note, w.raised_at, w.updated_at, w.evidence FROM warnings w`

func scanWarning(r *sql.Rows) (Warning, string, error) {
	var w Warning
	var evidence string
	err := r.Scan(&w.ID, &w.Rule, &w.RegionCode, &w.ProductCode, &w.WindowFrom, &w.WindowTo, &w.Statistic, &w.Threshold,
		&w.Status, &w.Note, &w.RaisedAt, &w.UpdatedAt, &evidence)
	return w, evidence, err
}

// WarningFilter narrows Warnings.
type WarningFilter struct {
	Region string // a region within the actor's jurisdiction ("" all of it)
	Status string // open | acknowledged | closed | dismissed | active (open or acknowledged) | "" (all)
	Rule   string
	Limit  int
	Offset int
}

// Warnings lists the warnings of the actor's jurisdiction, newest first.
func (s *Service) Warnings(ctx context.Context, actor *auth.Actor, f WarningFilter) ([]Warning, error) {
	sc := auth.ListScope(actor, auth.ActWarningRead)
	if err := sc.Err(actor, auth.ActWarningRead); err != nil {
		return nil, err
	}
	f.Region = strings.TrimSpace(f.Region)
	if err := auth.Authorize(actor, auth.ActWarningRead, auth.Resource{Region: f.Region}); err != nil {
		return nil, err
	}
	var v platform.Validator
	if f.Status != "" {
		v.OneOf("status", f.Status, append([]string{"active"}, names(WarningStatuses)...)...)
	}
	if f.Rule != "" {
		v.OneOf("rule", f.Rule, RuleKeys()...)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	w := auth.NewWhere()
	w.Scope(sc, auth.Columns{Region: []string{"w.region_code"}})
	w.Region("w.region_code", f.Region)
	switch f.Status {
	case "":
	case "active":
		w.Add("w.status IN (" + w.Arg(string(WarningOpen)) + ", " + w.Arg(string(WarningAcknowledged)) + ")")
	default:
		w.Add("w.status = " + w.Arg(f.Status))
	}
	if f.Rule != "" {
		w.Add("w.rule = " + w.Arg(f.Rule))
	}
	rows, err := s.db.Query(ctx, warningCols+w.SQL()+` ORDER BY w.raised_at DESC, w.id DESC LIMIT `+w.Arg(f.Limit)+` OFFSET `+w.Arg(max(f.Offset, 0)), w.Args()...)
	list, err := platform.Collect(rows, err, func(r *sql.Rows) (Warning, error) {
		x, _, err := scanWarning(r)
		return x, err
	})
	if err != nil {
		return nil, err
	}
	if err := s.describe(ctx, actor, list); err != nil {
		return nil, err
	}
	return list, nil
}

// ActiveWarnings counts the open and acknowledged warnings of the actor's
// jurisdiction (the home page's queue), up to limit.
func (s *Service) ActiveWarnings(ctx context.Context, actor *auth.Actor, limit int) (int, error) {
	list, err := s.Warnings(ctx, actor, WarningFilter{Status: "active", Limit: limit})
	return len(list), err
}

// Warning is one warning with its evidence and history (404 outside the
// actor's jurisdiction).
func (s *Service) Warning(ctx context.Context, actor *auth.Actor, id int64) (Warning, error) {
	if err := auth.Authorize(actor, auth.ActWarningRead, auth.Resource{}); err != nil {
		return Warning{}, err
	}
	rows, err := s.db.Query(ctx, warningCols+` WHERE w.id = $1`, id)
	type full struct {
		w        Warning
		evidence string
	}
	list, err := platform.Collect(rows, err, func(r *sql.Rows) (full, error) {
		w, e, err := scanWarning(r)
		return full{w, e}, err
	})
	if err != nil {
		return Warning{}, err
	}
	if len(list) == 0 || auth.Authorize(actor, auth.ActWarningRead, auth.Resource{Region: list[0].w.RegionCode}) != nil {
		return Warning{}, errWarningNotFound
	}
	w := list[0].w
	var ev Evidence
	if err := json.Unmarshal([]byte(list[0].evidence), &ev); err != nil {
		return Warning{}, fmt.Errorf("warning %d: evidence: %w", id, err)
	}
	w.Evidence = &ev
	steps, err := s.db.Query(ctx, `SELECT status, note, user_name, at FROM warning_steps WHERE warning_id = $1 ORDER BY id`, id)
	w.Steps, err = platform.Collect(steps, err, func(r *sql.Rows) (WarningStep, error) {
		var st WarningStep
		return st, r.Scan(&st.Status, &st.Note, &st.By, &st.At)
	})
	if err != nil {
		return Warning{}, err
	}
	one := []Warning{w}
	if err := s.describe(ctx, actor, one); err != nil {
		return Warning{}, err
	}
	return one[0], nil
}

// describe fills in the words of a list: rule, region and product names,
// the records' page and what the actor may do next.
func (s *Service) describe(ctx context.Context, actor *auth.Actor, list []Warning) error {
	var products map[string][2]string
	for i := range list {
		w := &list[i]
		r, _ := LookupRule(string(w.Rule))
		w.RuleLabel, w.RuleLabelEN = r.ZH, r.EN
		w.RegionName = s.RegionName(ctx, w.RegionCode)
		if w.ProductCode != "" {
			if products == nil {
				var err error
				if products, err = s.productWords(ctx); err != nil {
					return err
				}
			}
			if p, ok := products[w.ProductCode]; ok {
				w.ProductName, w.ProductNameEN = p[0], p[1]
			}
		}
		w.Records = recordsLink(r, w.RegionCode)
		w.Next = []WarningStatus{}
		if auth.Authorize(actor, auth.ActWarningHandle, auth.Resource{Region: w.RegionCode}) == nil {
			w.Next = append(w.Next, warningNext[w.Status]...)
		}
	}
	return nil
}

// recordsLink is the list page behind a rule, filtered to the county.
func recordsLink(r WarnRule, county string) string {
	q := url.Values{"region": {county}}
	if r.ListQuery != "" {
		extra, _ := url.ParseQuery(r.ListQuery)
		for k, v := range extra {
			q[k] = v
		}
	}
	return r.List + "?" + q.Encode()
}

func (s *Service) productWords(ctx context.Context) (map[string][2]string, error) {
	list, err := s.Products(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][2]string, len(list))
	for _, p := range list {
		out[p.Code] = [2]string{p.Name, p.NameEN}
	}
	return out, nil
}

func names[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

// WarningStatusInput is an official's decision on a warning.
type WarningStatusInput struct {
	Status string `json:"status" validate:"required" doc:"acknowledged | closed | dismissed (one of the warning's next)"`
	Note   string `json:"note,omitempty" doc:"how it was handled or why it is dismissed (required to close or dismiss; ≤ 1000 characters)"`
	From   string `json:"from,omitempty" doc:"the status you saw: if the warning has moved on since, the answer is 409"`
}

// prepareWarningStatus checks a decision field by field against the
// warning as read: 422 naming the field, 409 when it moved on since the
// caller saw it.
func prepareWarningStatus(w Warning, in *WarningStatusInput) error {
	in.Status, in.Note, in.From = strings.TrimSpace(in.Status), strings.TrimSpace(strings.ReplaceAll(in.Note, "\r\n", "\n")), strings.TrimSpace(in.From)
	var v platform.Validator
	known := v.Require("status", in.Status) && v.OneOf("status", in.Status, names(WarningStatuses)...)
	if v.MaxLen("note", in.Note, MaxWarningNote) && known {
		v.Check(!needsNote(WarningStatus(in.Status)) || in.Note != "", "note", "required", "关闭或排除预警须说明处理情况或理由", "say how it was handled or why it is dismissed")
	}
	if in.From != "" {
		v.OneOf("from", in.From, names(WarningStatuses)...)
	}
	if err := v.Err(); err != nil {
		return err
	}
	if in.From != "" && WarningStatus(in.From) != w.Status {
		return platform.Conflict("该预警刚被他人处理，请刷新后再试", "the warning was just handled by someone else; reload it")
	}
	if !slices.Contains(warningNext[w.Status], WarningStatus(in.Status)) {
		return platform.Invalid(platform.FieldError{Field: "status", Code: "out_of_order", ZH: "该预警当前不能改为这一状态（已关闭或已排除的不能再改）",
			EN: "this status cannot follow the warning's status (a closed or dismissed warning is final)"})
	}
	return nil
}

// SetWarningStatus moves a warning on: acknowledge, close or dismiss (with
// a note). One transaction: the guarded UPDATE on the status read (409
// when another official moved it first), the history line and the event.
func (s *Service) SetWarningStatus(ctx context.Context, actor *auth.Actor, id int64, in WarningStatusInput) (Warning, error) {
	w, err := s.Warning(ctx, actor, id)
	if err != nil {
		return Warning{}, err
	}
	if err := auth.Authorize(actor, auth.ActWarningHandle, auth.Resource{Region: w.RegionCode}); err != nil {
		return Warning{}, err
	}
	if err := prepareWarningStatus(w, &in); err != nil {
		return Warning{}, err
	}
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		return setWarningStatusTx(ctx, tx, actor, w, WarningStatus(in.Status), in.Note)
	})
	if err != nil {
		return Warning{}, err
	}
	return s.Warning(ctx, actor, id)
}

func setWarningStatusTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, w Warning, to WarningStatus, note string) error {
	res, err := tx.Exec(ctx, `UPDATE warnings SET status = $1, note = $2, updated_at = $3 WHERE id = $4 AND status = $5`,
		string(to), note, tx.Now(), w.ID, string(w.Status))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return platform.Conflict("该预警刚被他人处理，请刷新后再试", "the warning was just handled by someone else; reload it")
	}
	if _, err := tx.Exec(ctx, `INSERT INTO warning_steps (warning_id, status, note, user_id, user_name, at) VALUES ($1, $2, $3, $4, $5, $6)`,
		w.ID, string(to), note, platform.NullInt(actor.UserID), actorName(actor), tx.Now()); err != nil {
		return err
	}
	return tx.Emit(ctx, platform.Event{Action: "warning.status", ResourceType: "warning", ResourceID: fmt.Sprint(w.ID),
		Data: map[string]any{"status": string(to), "region_code": w.RegionCode}})
}

func actorName(a *auth.Actor) string {
	if a.Name != "" {
		return a.Name
	}
	return a.Username
}
