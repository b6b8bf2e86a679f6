package feedback

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// Filter narrows a list. A user's list is always their own; an
// administrator's is everyone's unless Mine.
type Filter struct {
	Mine     bool   // only the actor's own (an administrator's "my feedback")
	Status   string // "" = every status
	Category string // "" = every category
	Region   string // a region subtree of the authors' regions ("" = all)
	Month    string // YYYY-MM, filed in that month (China time); "" = any
	Limit    int
	Offset   int
}

var regionCode = regexp.MustCompile(`^[0-9]{6}([0-9]{3})?$`)

// MonthRange is the month's first instant and the next month's, China time
// (as UTC instants, the way timestamps are stored).
func MonthRange(month string) (from, to time.Time, err error) {
	t, err := time.ParseInLocation("2006-01", month, platform.ChinaTZ)
	if err != nil {
		return time.Time{}, time.Time{}, platform.Invalid(platform.FieldError{Field: "month", Code: "format", ZH: "月份格式应为 YYYY-MM", EN: "month must be YYYY-MM"})
	}
	return t.UTC(), t.AddDate(0, 1, 0).UTC(), nil
}

// List is feedback newest first: the actor's own, or (administrators)
// everyone's; the filters are checked field by field.
func (s *Service) List(ctx context.Context, actor *auth.Actor, f Filter) ([]Feedback, error) {
	triage := auth.Authorize(actor, auth.ActFeedbackTriage, auth.Resource{}) == nil
	if err := auth.Authorize(actor, auth.ActFeedbackFile, auth.Resource{}); err != nil && !triage {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	w := auth.NewWhere()
	if f.Mine || !triage {
		w.Add("f.user_id = " + w.Arg(actor.UserID))
	}
	var v platform.Validator
	if f.Status != "" && v.OneOf("status", f.Status, names(Statuses)...) {
		w.Add("f.status = " + w.Arg(f.Status))
	}
	if f.Category != "" && v.OneOf("category", f.Category, names(Categories)...) {
		w.Add("f.category = " + w.Arg(f.Category))
	}
	if f.Region != "" && v.Check(regionCode.MatchString(f.Region), "region", "format", "地区代码应为 6 位或 9 位数字", "region must be a 6- or 9-digit code") {
		w.Region("f.region_code", f.Region)
	}
	if f.Month != "" {
		from, to, err := MonthRange(f.Month)
		if err != nil {
			return nil, err
		}
		w.Add("f.created_at >= " + w.Arg(from))
		w.Add("f.created_at < " + w.Arg(to))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, selectCols+w.SQL()+` ORDER BY f.created_at DESC, f.id DESC LIMIT `+w.Arg(f.Limit)+` OFFSET `+w.Arg(max(f.Offset, 0)), w.Args()...)
	list, err := platform.Collect(rows, err, scan)
	for i := range list {
		list[i].Next = []Status{}
		if triage {
			list[i].Next = Next(list[i].Status)
		}
	}
	return list, err
}

// TriageInput is an administrator's decision on one item.
type TriageInput struct {
	Status   string `json:"status" validate:"required" doc:"open | in_progress | answered | closed (one of the item's next)"`
	Category string `json:"category,omitempty" doc:"a new category (default: unchanged)"`
	Reply    string `json:"reply,omitempty" doc:"what the user reads (≤ 2000 characters; default: unchanged; required to answer)"`
}

// Triage sets an item's status, category and reply: a guarded UPDATE on the
// status read (an item triaged meanwhile is 409), the event in the same
// transaction; a status that cannot follow is 422 naming status.
func (s *Service) Triage(ctx context.Context, actor *auth.Actor, id int64, in TriageInput) (Feedback, error) {
	if err := auth.Authorize(actor, auth.ActFeedbackTriage, auth.Resource{}); err != nil {
		return Feedback{}, err
	}
	f, err := s.Get(ctx, actor, id)
	if err != nil {
		return Feedback{}, err
	}
	in.Status, in.Category, in.Reply = strings.TrimSpace(in.Status), strings.TrimSpace(in.Category), strings.TrimSpace(in.Reply)
	var v platform.Validator
	if v.Require("status", in.Status) && v.OneOf("status", in.Status, names(Statuses)...) {
		v.Check(slices.Contains(f.Next, Status(in.Status)), "status", "out_of_order",
			"该反馈当前不能改为这一状态（已关闭的只能重新打开）", "this status cannot follow the feedback's status (a closed item can only be reopened)")
	}
	category, reply := f.Category, f.Reply
	if in.Category != "" && v.OneOf("category", in.Category, names(Categories)...) {
		category = Category(in.Category)
	}
	if in.Reply != "" && v.MaxLen("reply", in.Reply, MaxReply) {
		reply = in.Reply
	}
	v.Check(Status(in.Status) != StatusAnswered || reply != "", "reply", "required", "答复用户时须填写答复", "a reply is required to answer")
	if err := v.Err(); err != nil {
		return Feedback{}, err
	}
	to := Status(in.Status)
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE feedback SET status = $1, category = $2, reply = $3, triaged_by = $4, updated_at = $5 WHERE id = $6 AND status = $7`,
			string(to), string(category), reply, platform.NullInt(actor.UserID), tx.Now(), id, string(f.Status))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return platform.Conflict("该反馈刚被他人处理，请刷新后再试", "the feedback was just triaged by someone else; reload it")
		}
		return tx.Emit(ctx, platform.Event{Action: "feedback.triage", ResourceType: "feedback", ResourceID: strconv.FormatInt(id, 10),
			Data: map[string]any{"status": string(to), "recategorised": category != f.Category, "replied": reply != f.Reply}})
	})
	if err != nil {
		return Feedback{}, err
	}
	return s.Get(ctx, actor, id)
}
