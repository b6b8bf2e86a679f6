package operator

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/platform"
	"agtrace/internal/secure"
)

func decrypt(s *Service, enc, ad string) (string, error) {
	if enc == "" {
		return "", nil
	}
	return secure.DecryptString(s.cipher, enc, ad)
}

// Decision is one entry of an operator's history.
type Decision struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind" doc:"submit | approve | reject | change_approve | change_reject | suspend | cancel | reinstate"`
	ChangeID  int64     `json:"change_id,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	ActorID   int64     `json:"actor_id,omitempty"`
	ActorName string    `json:"actor_name"`
	At        time.Time `json:"at"`
	Payload   string    `json:"payload,omitempty" doc:"canonical JSON signed by the platform (SM2)"`
	Signature string    `json:"signature,omitempty" doc:"base64 SM2 signature over payload"`
}

// decisionPayload is what the platform signs for a decision.
type decisionPayload struct {
	Type         string `json:"type"`
	Decision     string `json:"decision"`
	OperatorID   int64  `json:"operator_id"`
	OperatorCode string `json:"operator_code,omitempty"`
	Name         string `json:"name"`
	CreditCode   string `json:"credit_code,omitempty"`
	CountyCode   string `json:"county_code"`
	ChangeID     int64  `json:"change_id,omitempty"`
	Reason       string `json:"reason,omitempty"`
	By           string `json:"by"`
	ByID         int64  `json:"by_id"`
	At           string `json:"at"`
}

// decide appends a decision; official decisions (o != nil) are signed.
func (s *Service) decide(ctx context.Context, tx *platform.Tx, actor *auth.Actor, id, changeID int64, kind, reason string, o *Operator) error {
	var actorID int64
	name := "system"
	if actor != nil {
		actorID, name = actor.UserID, actor.Username
	}
	var payload, sig string
	if o != nil {
		p := decisionPayload{Type: "agtrace.operator.decision", Decision: kind, OperatorID: id, OperatorCode: o.Code, Name: o.Name,
			CreditCode: o.CreditCode, CountyCode: o.CountyCode, ChangeID: changeID, Reason: reason, By: name, ByID: actorID,
			At: tx.Now().Format(time.RFC3339Nano)}
		raw, err := json.Marshal(p)
		if err != nil {
			return err
		}
		signature, err := s.signer.Sign(raw)
		if err != nil {
			return err
		}
		payload, sig = string(raw), base64.StdEncoding.EncodeToString(signature)
	}
	_, err := tx.Exec(ctx, `INSERT INTO operator_decisions (operator_id, change_id, kind, reason, actor_id, actor_name, at, payload, signature)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, platform.NullInt(changeID), kind, reason, platform.NullInt(actorID), name, tx.Now(), payload, sig)
	return err
}

// Decisions lists an operator's history, oldest first.
func (s *Service) Decisions(ctx context.Context, actor *auth.Actor, id int64) ([]Decision, error) {
	if _, err := s.Get(ctx, actor, id); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, kind, COALESCE(change_id, 0), reason, COALESCE(actor_id, 0), actor_name, at, payload, signature
		FROM operator_decisions WHERE operator_id = $1 ORDER BY id`, id)
	return platform.Collect(rows, err, func(r *sql.Rows) (Decision, error) {
		var d Decision
		err := r.Scan(&d.ID, &d.Kind, &d.ChangeID, &d.Reason, &d.ActorID, &d.ActorName, &d.At, &d.Payload, &d.Signature)
		return d, err
	})
}

// VerifyDecision checks a decision's SM2 signature with the platform's public key.
func (s *Service) VerifyDecision(d Decision) bool {
	sig, err := base64.StdEncoding.DecodeString(d.Signature)
	if err != nil || d.Payload == "" {
		return false
	}
	return secure.Verify(s.signer.PublicKeyPEM(), []byte(d.Payload), sig)
}

// QueueItem is a pending registration or change request in a reviewer's queue.
type QueueItem struct {
	OperatorID  int64     `json:"operator_id"`
	Name        string    `json:"name"`
	Kind        string    `json:"kind" doc:"registration | change"`
	ChangeID    int64     `json:"change_id,omitempty"`
	RegionCode  string    `json:"region_code"`
	SubmittedAt time.Time `json:"submitted_at"`
	ReviewDue   string    `json:"review_due"`
	Overdue     bool      `json:"overdue"`
	DaysLeft    int       `json:"days_left" doc:"working days until review_due (negative when overdue)"`
}

// Queue lists the pending registrations and change requests in the
// reviewer's jurisdiction, earliest due first; overdue ones are marked.
func (s *Service) Queue(ctx context.Context, actor *auth.Actor) ([]QueueItem, error) {
	sc := auth.ListScope(actor, auth.ActOperatorReview)
	if err := sc.Err(actor, auth.ActOperatorReview); err != nil {
		return nil, err
	}
	today := s.today()
	out := []QueueItem{}
	for _, q := range []struct{ sql, col string }{
		{`SELECT id, name, 'registration', 0, region_code, submitted_at, review_due FROM operators
		WHERE status = 'pending'`, "region_code"},
		{`SELECT o.id, o.name, 'change', c.id, o.region_code, c.requested_at, c.review_due FROM operator_changes c JOIN operators o ON o.id = c.operator_id
		WHERE c.status = 'pending'`, "o.region_code"},
	} {
		w := auth.NewWhere()
		w.Scope(sc, auth.Columns{Region: []string{q.col}})
		rows, err := s.db.Query(ctx, q.sql+w.And(), w.Args()...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var q QueueItem
			var submitted sql.NullTime
			if err := rows.Scan(&q.OperatorID, &q.Name, &q.Kind, &q.ChangeID, &q.RegionCode, &submitted, &q.ReviewDue); err != nil {
				rows.Close()
				return nil, err
			}
			if submitted.Valid {
				q.SubmittedAt = submitted.Time
			}
			q.Overdue = q.ReviewDue < today
			out = append(out, q)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ReviewDue != out[j].ReviewDue {
			return out[i].ReviewDue < out[j].ReviewDue
		}
		return out[i].SubmittedAt.Before(out[j].SubmittedAt)
	})
	t, _ := time.Parse(time.DateOnly, today)
	for i := range out {
		due, err := time.Parse(time.DateOnly, out[i].ReviewDue)
		if err != nil {
			continue
		}
		if due.After(t) {
			n, err := s.cal.WorkdaysBetween(ctx, t, due)
			if err == nil {
				out[i].DaysLeft = n
			}
		} else if due.Before(t) {
			n, err := s.cal.WorkdaysBetween(ctx, due, t)
			if err == nil {
				out[i].DaysLeft = -n
			}
		}
	}
	return out, nil
}

// Approval is the answer to an approval.
type Approval struct {
	Status       string `json:"status"`
	OperatorCode string `json:"operator_code"`
}

// Approve approves a pending registration in one transaction: status
// approved, the operator code issued from the county's sequence, the main
// account activated, and the decision signed with the platform's SM2 key.
// A reviewer outside the operator's jurisdiction gets 404; approving an
// operator that is not pending is a 409.
func (s *Service) Approve(ctx context.Context, actor *auth.Actor, id int64) (Operator, error) {
	if _, err := s.readable(ctx, actor, id, auth.ActOperatorReview); err != nil {
		return Operator{}, err
	}
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		o, err := s.load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if o.Status != StatusPending {
			if o.Status == StatusApproved {
				return platform.Conflict("该主体已审核通过", "this operator is already approved").With("operator_code", o.Code)
			}
			return platform.Conflict("只有待审核的申请可以审核通过", "only a pending registration can be approved").With("status", o.Status)
		}
		if o.Code == "" {
			cat, err := codes.ParseOperatorCategory(o.Category)
			if err != nil {
				return err
			}
			serial, err := tx.NextSerial(ctx, "operator:"+o.CountyCode)
			if err != nil {
				return err
			}
			code, err := codes.NewOperatorCode(cat, o.CountyCode, serial)
			if err != nil {
				return err
			}
			o.Code = code
		}
		now := tx.Now()
		res, err := tx.Exec(ctx, `UPDATE operators SET status = 'approved', code = $1, approved_at = $2, status_reason = '', updated_at = $2
			WHERE id = $3 AND status = 'pending'`, o.Code, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return platform.Conflict("该主体已被他人审核", "this operator was reviewed meanwhile")
		}
		// Activate the operator's accounts (the main account was usable for the
		// registration already; a disabled one is re-enabled by approval).
		if _, err := tx.Exec(ctx, `UPDATE users SET status = 'active', updated_at = $1 WHERE id = $2 AND status <> 'active'`,
			now, o.OwnerUserID); err != nil {
			return err
		}
		if err := s.decide(ctx, tx, actor, id, 0, "approve", "", &o); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "operator.approve", ResourceType: "operator", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"operator_code": o.Code, "county_code": o.CountyCode}})
	})
	if err != nil {
		return Operator{}, err
	}
	return s.ByID(ctx, id)
}

func requireReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", platform.Invalid(platform.FieldError{Field: "reason", Code: "required", ZH: "请填写理由", EN: "a reason is required"})
	}
	if len([]rune(reason)) > 500 {
		return "", platform.Invalid(platform.FieldError{Field: "reason", Code: "too_long", ZH: "理由不能超过 500 个字符", EN: "reason must be at most 500 characters"})
	}
	return reason, nil
}

// Reject returns a pending registration to the operator with a reason; it
// can be corrected and resubmitted.
func (s *Service) Reject(ctx context.Context, actor *auth.Actor, id int64, reason string) (Operator, error) {
	if _, err := s.readable(ctx, actor, id, auth.ActOperatorReview); err != nil {
		return Operator{}, err
	}
	reason, err := requireReason(reason)
	if err != nil {
		return Operator{}, err
	}
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		o, err := s.load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if o.Status != StatusPending {
			return platform.Conflict("只有待审核的申请可以退回", "only a pending registration can be rejected").With("status", o.Status)
		}
		if _, err := tx.Exec(ctx, `UPDATE operators SET status = 'rejected', status_reason = $1, updated_at = $2 WHERE id = $3`, reason, tx.Now(), id); err != nil {
			return err
		}
		if err := s.decide(ctx, tx, actor, id, 0, "reject", reason, &o); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "operator.reject", ResourceType: "operator", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"reason": reason}})
	})
	if err != nil {
		return Operator{}, err
	}
	return s.ByID(ctx, id)
}

// SetStatus suspends, cancels or reinstates an operator (county officials), with a reason.
// action is "suspend" (approved → suspended), "cancel" (approved or
// suspended → cancelled) or "reinstate" (suspended → approved).
func (s *Service) SetStatus(ctx context.Context, actor *auth.Actor, id int64, action, reason string) (Operator, error) {
	if _, err := s.readable(ctx, actor, id, auth.ActOperatorSuspend); err != nil {
		return Operator{}, err
	}
	reason, err := requireReason(reason)
	if err != nil {
		return Operator{}, err
	}
	var from []string
	var to string
	switch action {
	case "suspend":
		from, to = []string{StatusApproved}, StatusSuspended
	case "cancel":
		from, to = []string{StatusApproved, StatusSuspended}, StatusCancelled
	case "reinstate":
		from, to = []string{StatusSuspended}, StatusApproved
	default:
		return Operator{}, platform.Invalid(platform.FieldError{Field: "action", Code: "not_allowed", ZH: "操作无效", EN: "action must be suspend, cancel or reinstate"})
	}
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		o, err := s.load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		ok := false
		for _, f := range from {
			ok = ok || o.Status == f
		}
		if !ok {
			return platform.Conflict("当前状态下不能执行此操作", "not possible in the operator's current status").With("status", o.Status)
		}
		statusReason := reason
		if to == StatusApproved {
			statusReason = ""
		}
		if _, err := tx.Exec(ctx, `UPDATE operators SET status = $1, status_reason = $2, updated_at = $3 WHERE id = $4`, to, statusReason, tx.Now(), id); err != nil {
			return err
		}
		if err := s.decide(ctx, tx, actor, id, 0, action, reason, &o); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "operator." + action, ResourceType: "operator", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"reason": reason, "status": to}})
	})
	if err != nil {
		return Operator{}, err
	}
	return s.ByID(ctx, id)
}
