// Package feedback is the users' channel about the platform itself (问题反馈):
// a logged-in user of any role reports a problem or makes a suggestion and
// follows it; administrators triage it (category, status, reply) and read a
// monthly summary by category and region, as a table, CSV or xlsx
// (docs/public.md).
package feedback

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/region"
)

// Category is what a piece of feedback is about.
type Category string

// The categories, in display order (Categories).
const (
	CategoryBug        Category = "bug"        // 程序错误: something does not work
	CategoryUsability  Category = "usability"  // 使用不便: it works, but is hard to use
	CategoryData       Category = "data"       // 数据问题: wrong or missing data (regions, products, limits …)
	CategorySuggestion Category = "suggestion" // 功能建议: something the platform should do
	CategoryOther      Category = "other"      // 其他
)

// Status is where a piece of feedback stands.
type Status string

// The statuses, in display order (Statuses).
const (
	StatusOpen       Status = "open"        // filed, nobody has looked at it yet
	StatusInProgress Status = "in_progress" // an administrator is on it
	StatusAnswered   Status = "answered"    // the user has a reply
	StatusClosed     Status = "closed"      // done (a closed item may be reopened)
)

// Limits of what a user types.
const (
	MaxTitle = 100
	MaxBody  = 2000
	MaxPage  = 300
	MaxReply = 2000
)

// The lists, in display order.
var (
	Categories = []Category{CategoryBug, CategoryUsability, CategoryData, CategorySuggestion, CategoryOther}
	Statuses   = []Status{StatusOpen, StatusInProgress, StatusAnswered, StatusClosed}
)

// next is what a triage may set from each status: the same status (a new
// category or reply) or a move; a closed item can only be reopened.
var next = map[Status][]Status{
	StatusOpen:       {StatusOpen, StatusInProgress, StatusAnswered, StatusClosed},
	StatusInProgress: {StatusInProgress, StatusAnswered, StatusClosed},
	StatusAnswered:   {StatusAnswered, StatusInProgress, StatusClosed},
	StatusClosed:     {StatusOpen},
}

// Next lists the statuses a triage may set on an item in status st.
func Next(st Status) []Status { return slices.Clone(next[st]) }

func names[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

// Service files, lists and triages feedback.
type Service struct {
	db      *platform.DB
	clock   platform.Clock
	regions *region.Service
}

// NewService returns the feedback service.
func NewService(db *platform.DB, clock platform.Clock, regions *region.Service) *Service {
	return &Service{db: db, clock: clock, regions: regions}
}

// Input is what a user files.
type Input struct {
	Category string `json:"category" validate:"required" doc:"bug | usability | data | suggestion | other"`
	Title    string `json:"title" validate:"required" doc:"one line (≤ 100 characters)"`
	Body     string `json:"body" validate:"required" doc:"what happened or what you suggest (≤ 2000 characters)"`
	Page     string `json:"page,omitempty" doc:"the page it is about, e.g. /batches/new (≤ 300 characters)"`
}

// Feedback is one item as its author and the administrators see it.
type Feedback struct {
	ID         int64     `json:"id"`
	UserID     int64     `json:"user_id"`
	Username   string    `json:"username"`
	UserName   string    `json:"user_name"`
	Role       string    `json:"role" doc:"the author's role when filed"`
	RegionCode string    `json:"region_code" doc:"the author's region when filed (000000: a national account)"`
	Category   Category  `json:"category" doc:"bug | usability | data | suggestion | other"`
	Title      string    `json:"title"`
	Body       string    `json:"body"`
	Page       string    `json:"page,omitempty"`
	Status     Status    `json:"status" doc:"open | in_progress | answered | closed"`
	Reply      string    `json:"reply,omitempty"`
	TriagedBy  string    `json:"triaged_by,omitempty" doc:"the administrator who last triaged it"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Next       []Status  `json:"next" doc:"the statuses a triage may set (empty unless you may triage)"`
}

var errNotFound = platform.NotFound("反馈不存在", "feedback not found")

// control matches characters a one-line field may not hold.
var control = regexp.MustCompile(`[\x00-\x1f\x7f]`)

// validate trims and checks a filing, field by field.
func validate(in *Input) error {
	in.Category, in.Title, in.Page = strings.TrimSpace(in.Category), strings.TrimSpace(in.Title), strings.TrimSpace(in.Page)
	in.Body = strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n")) // a form's line breaks
	var v platform.Validator
	if v.Require("category", in.Category) {
		v.OneOf("category", in.Category, names(Categories)...)
	}
	if v.Require("title", in.Title) && v.MaxLen("title", in.Title, MaxTitle) {
		v.Check(!control.MatchString(in.Title), "title", "format", "标题只能有一行", "the title must be one line")
	}
	if v.Require("body", in.Body) {
		v.MaxLen("body", in.Body, MaxBody)
	}
	if v.MaxLen("page", in.Page, MaxPage) {
		v.Check(!control.MatchString(in.Page), "page", "format", "页面地址只能有一行", "the page must be one line")
	}
	return v.Err()
}

// File records a user's feedback (status open) with the user's role and
// region, and the event in the same transaction.
func (s *Service) File(ctx context.Context, actor *auth.Actor, in Input) (Feedback, error) {
	if err := auth.Authorize(actor, auth.ActFeedbackFile, auth.Resource{}); err != nil {
		return Feedback{}, err
	}
	if actor.UserID == 0 { // the system actor is nobody to answer
		return Feedback{}, platform.Forbidden("只有登录账号可以提交反馈", "only an account can file feedback")
	}
	if err := validate(&in); err != nil {
		return Feedback{}, err
	}
	var id int64
	err := s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		now := tx.Now()
		if err := tx.QueryRow(ctx, `INSERT INTO feedback (user_id, role, region_code, category, title, body, page, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`, actor.UserID, string(actor.Role), actor.Region, in.Category,
			in.Title, in.Body, in.Page, StatusOpen, now).Scan(&id); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "feedback.file", ResourceType: "feedback", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"role": string(actor.Role), "region": actor.Region, "category": in.Category}})
	})
	if err != nil {
		return Feedback{}, err
	}
	return s.Get(ctx, actor, id)
}

const selectCols = `SELECT f.id, f.user_id, u.username, u.name, f.role, f.region_code, f.category, f.title, f.body, f.page, f.status, f.reply,
	COALESCE(t.name, ''), f.created_at, f.updated_at
	FROM feedback f JOIN users u ON u.id = f.user_id LEFT JOIN users t ON t.id = f.triaged_by`

func scan(r *sql.Rows) (Feedback, error) {
	var f Feedback
	err := r.Scan(&f.ID, &f.UserID, &f.Username, &f.UserName, &f.Role, &f.RegionCode, &f.Category, &f.Title, &f.Body, &f.Page,
		&f.Status, &f.Reply, &f.TriagedBy, &f.CreatedAt, &f.UpdatedAt)
	return f, err
}

// Get is one item: its author's, or any for an administrator (404 otherwise).
func (s *Service) Get(ctx context.Context, actor *auth.Actor, id int64) (Feedback, error) {
	triage := auth.Authorize(actor, auth.ActFeedbackTriage, auth.Resource{}) == nil
	if err := auth.Authorize(actor, auth.ActFeedbackFile, auth.Resource{}); err != nil && !triage {
		return Feedback{}, err
	}
	rows, err := s.db.Query(ctx, selectCols+` WHERE f.id = $1`, id)
	list, err := platform.Collect(rows, err, scan)
	if err != nil {
		return Feedback{}, err
	}
	if len(list) == 0 {
		return Feedback{}, errNotFound
	}
	f := list[0]
	if !triage && auth.Authorize(actor, auth.ActFeedbackFile, auth.Resource{UserID: f.UserID}) != nil {
		return Feedback{}, errNotFound // another user's: its existence is not revealed
	}
	f.Next = []Status{}
	if triage {
		f.Next = Next(f.Status)
	}
	return f, nil
}
