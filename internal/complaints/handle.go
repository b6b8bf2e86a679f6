package complaints

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/secure"
)

// Filter narrows the officials' list.
type Filter struct {
	Region string // a subtree of the jurisdiction ("" = all of it)
	Status string // "" = all open (not closed); or one status; "all"
	Limit  int
	Offset int
}

const listCols = `SELECT c.id, c.ticket, c.category, c.description, c.code, c.typed_code, COALESCE(c.operator_id, 0), COALESCE(o.code, ''),
	COALESCE(o.name, ''), c.region_code, c.contact, c.status, c.assignee_name, c.reply, COALESCE(c.case_id, 0), c.created_at, c.updated_at
	FROM complaints c LEFT JOIN operators o ON o.id = c.operator_id`

// List is the complaints in the actor's jurisdiction, newest first.
func (s *Service) List(ctx context.Context, actor *auth.Actor, f Filter) ([]Complaint, error) {
	sc := auth.ListScope(actor, auth.ActComplaintRead)
	if err := sc.Err(actor, auth.ActComplaintRead); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if f.Region != "" && sc.Kind == auth.ScopeRegion && !auth.Within(f.Region, sc.Region) {
		return nil, platform.Invalid(platform.FieldError{Field: "region", Code: "jurisdiction", ZH: "不在您的管辖范围内", EN: "outside your jurisdiction"})
	}
	w := auth.NewWhere()
	w.Scope(sc, auth.Columns{Region: []string{"c.region_code"}})
	w.Region("c.region_code", f.Region)
	switch {
	case f.Status == "":
		w.Add("c.status <> " + w.Arg(StatusClosed))
	case f.Status == "all":
	case slices.Contains(Statuses, f.Status):
		w.Add("c.status = " + w.Arg(f.Status))
	default:
		return nil, platform.Invalid(platform.FieldError{Field: "status", Code: "not_allowed", ZH: "状态无效", EN: "unknown status"})
	}
	rows, err := s.db.Query(ctx, listCols+w.SQL()+` ORDER BY c.created_at DESC, c.id DESC LIMIT `+w.Arg(f.Limit)+` OFFSET `+w.Arg(max(f.Offset, 0)), w.Args()...)
	return platform.Collect(rows, err, s.scan)
}

func (s *Service) scan(r *sql.Rows) (Complaint, error) {
	var c Complaint
	var contact string
	err := r.Scan(&c.ID, &c.Ticket, &c.Category, &c.Description, &c.Code, &c.TypedCode, &c.OperatorID, &c.OperatorCode, &c.OperatorName,
		&c.RegionCode, &contact, &c.Status, &c.AssigneeName, &c.Reply, &c.CaseID, &c.CreatedAt, &c.UpdatedAt)
	if err == nil && contact != "" {
		if plain, err := secure.DecryptString(s.cipher, contact, "complaint.contact"); err == nil {
			c.Contact = maskContact(plain)
		} else {
			c.Contact = "***"
		}
	}
	c.Next = NextSteps(c.Status)
	c.Photos = []string{}
	return c, err
}

// maskContact shows a phone as 138****5678 and an e-mail as a***@host.
func maskContact(v string) string {
	if at := strings.IndexByte(v, '@'); at > 0 {
		return v[:1] + "***" + v[at:]
	}
	return secure.MaskPhone(v)
}

// NextSteps lists what may follow a status.
func NextSteps(status string) []string {
	switch status {
	case StatusReceived, StatusAssigned:
		return []string{StepAssign, StepReply, StepClose}
	case StatusReplied:
		return []string{StepReply, StepClose}
	}
	return []string{}
}

// Get is one complaint in the actor's jurisdiction (404 otherwise).
func (s *Service) Get(ctx context.Context, actor *auth.Actor, id int64) (Complaint, error) {
	if err := auth.Authorize(actor, auth.ActComplaintRead, auth.Resource{}); err != nil {
		return Complaint{}, err
	}
	rows, err := s.db.Query(ctx, listCols+` WHERE c.id = $1`, id)
	list, err := platform.Collect(rows, err, s.scan)
	if err != nil {
		return Complaint{}, err
	}
	if len(list) == 0 || auth.Authorize(actor, auth.ActComplaintRead, auth.Resource{Region: list[0].RegionCode}) != nil {
		return Complaint{}, errNotFound
	}
	c := list[0]
	rows, err = s.db.Query(ctx, `SELECT sha256 FROM complaint_photos WHERE complaint_id = $1 ORDER BY id`, id)
	if c.Photos, err = platform.Collect(rows, err, platform.Scalar[string]); err != nil {
		return Complaint{}, err
	}
	return c, nil
}

// StepInput moves a complaint on.
type StepInput struct {
	Step     string `json:"step" validate:"required" doc:"assign | reply | close"`
	Assignee string `json:"assignee,omitempty" doc:"with assign: the official's username (default: yourself)"`
	Reply    string `json:"reply,omitempty" doc:"with reply and close: what the reporter reads (required)"`
}

// Step assigns, replies to or closes a complaint: a guarded UPDATE on its
// status, the event in the same transaction; a complaint moved meanwhile is
// 409, a step out of order 422 naming step.
func (s *Service) Step(ctx context.Context, actor *auth.Actor, id int64, in StepInput) (Complaint, error) {
	if err := auth.Authorize(actor, auth.ActComplaintHandle, auth.Resource{}); err != nil {
		return Complaint{}, err
	}
	c, err := s.Get(ctx, actor, id)
	if err != nil {
		return Complaint{}, err
	}
	if err := auth.Authorize(actor, auth.ActComplaintHandle, auth.Resource{Region: c.RegionCode}); err != nil {
		return Complaint{}, err
	}
	in.Reply, in.Assignee = strings.TrimSpace(in.Reply), strings.TrimSpace(in.Assignee)
	var v platform.Validator
	if v.Require("step", in.Step) && v.OneOf("step", in.Step, Steps...) {
		v.Check(slices.Contains(c.Next, in.Step), "step", "out_of_order", "该举报当前不能进行这一步", "this step cannot follow the complaint's status ("+c.Status+")")
	}
	if in.Step == StepReply || in.Step == StepClose {
		if v.Require("reply", in.Reply) {
			v.Check(len([]rune(in.Reply)) <= MaxDescription, "reply", "too_long", "答复不能超过 2000 字", "at most 2000 characters")
		}
	}
	assigneeID, assigneeName := actor.UserID, actor.Name
	if in.Step == StepAssign && in.Assignee != "" && in.Assignee != actor.Username {
		id, name, err := s.official(ctx, in.Assignee, c.RegionCode)
		if err != nil {
			v.Add("assignee", "unknown", "没有这个可处理该举报的账号", "no official of this jurisdiction with that username")
		}
		assigneeID, assigneeName = id, name
	}
	if err := v.Err(); err != nil {
		return Complaint{}, err
	}
	to := map[string]string{StepAssign: StatusAssigned, StepReply: StatusReplied, StepClose: StatusClosed}[in.Step]
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		now := tx.Now()
		var res sql.Result
		var err error
		switch in.Step {
		case StepAssign:
			res, err = tx.Exec(ctx, `UPDATE complaints SET status = $1, assignee_id = $2, assignee_name = $3, updated_at = $4 WHERE id = $5 AND status = $6`,
				to, platform.NullInt(assigneeID), assigneeName, now, id, c.Status)
		case StepReply:
			res, err = tx.Exec(ctx, `UPDATE complaints SET status = $1, reply = $2, updated_at = $3 WHERE id = $4 AND status = $5`, to, in.Reply, now, id, c.Status)
		default:
			res, err = tx.Exec(ctx, `UPDATE complaints SET status = $1, reply = $2, updated_at = $3, closed_at = $3 WHERE id = $4 AND status = $5`, to, in.Reply, now, id, c.Status)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return platform.Conflict("举报刚被他人处理，请刷新后再试", "the complaint was just handled by someone else; reload it")
		}
		return tx.Emit(ctx, platform.Event{Action: "complaint." + in.Step, ResourceType: "complaint", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"ticket": c.Ticket, "status": to, "assignee": assigneeName}})
	})
	if err != nil {
		return Complaint{}, err
	}
	return s.Get(ctx, actor, id)
}

// official finds an active official who may handle complaints in region.
func (s *Service) official(ctx context.Context, username, region string) (int64, string, error) {
	var id int64
	var name, role, userRegion string
	err := s.db.QueryRow(ctx, `SELECT id, name, role, region_code FROM users WHERE username = $1 AND status = 'active'`, username).Scan(&id, &name, &role, &userRegion)
	if err != nil {
		return 0, "", errors.New("no such user")
	}
	a := &auth.Actor{UserID: id, Role: auth.Role(role), Region: userRegion}
	if auth.Authorize(a, auth.ActComplaintHandle, auth.Resource{Region: region}) != nil {
		return 0, "", errors.New("not an official of the region")
	}
	return id, name, nil
}

// Photo opens a complaint's photo for an official who may see the complaint.
func (s *Service) Photo(ctx context.Context, actor *auth.Actor, id int64, sha string) (io.ReadCloser, string, error) {
	if _, err := s.Get(ctx, actor, id); err != nil {
		return nil, "", err
	}
	var ctype string
	if err := s.db.QueryRow(ctx, `SELECT content_type FROM complaint_photos WHERE complaint_id = $1 AND sha256 = $2`, id, sha).Scan(&ctype); err != nil {
		return nil, "", errNotFound
	}
	rc, err := s.blobs.Open(sha)
	return rc, ctype, err
}
