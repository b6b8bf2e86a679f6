package operator

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/region"
)

// Change is a change request of an approved operator. The approved details
// stay in force until the change is approved.
type Change struct {
	ID          int64       `json:"id"`
	OperatorID  int64       `json:"operator_id"`
	Status      string      `json:"status" doc:"pending | approved | rejected"`
	Reason      string      `json:"reason,omitempty"`
	RequestedAt time.Time   `json:"requested_at"`
	ReviewDue   string      `json:"review_due"`
	Overdue     bool        `json:"overdue,omitempty"`
	DecidedAt   *time.Time  `json:"decided_at,omitempty"`
	Diff        []FieldDiff `json:"diff" doc:"for a pending change: against the details in force; afterwards: as requested"`
}

// FieldDiff is one changed field (personal numbers masked).
type FieldDiff struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// current returns the stored form of the operator's details in force.
func (s *Service) current(ctx context.Context, q platform.Querier, o Operator) (stored, error) {
	st := stored{Name: o.Name, Kind: o.Kind, Category: o.Category, CreditCode: o.CreditCode, LegalRep: o.LegalRep, ContactName: o.ContactName,
		RegionCode: o.RegionCode, CountyCode: o.CountyCode, Address: o.Address, Location: o.Location, Products: o.Products,
		AnnualOutput: o.AnnualOutput, AnnualOutputUnit: o.AnnualOutputUnit, LeadingEnterprise: o.LeadingEnterprise,
		DemoCooperative: o.DemoCooperative, Certifications: o.Certifications}
	err := q.QueryRow(ctx, `SELECT id_number_enc, id_number_hash, id_number_masked, phone_enc, phone_hash, phone_masked FROM operators WHERE id = $1`, o.ID).
		Scan(&st.IDNumber.Enc, &st.IDNumber.Hash, &st.IDNumber.Masked, &st.Phone.Enc, &st.Phone.Hash, &st.Phone.Masked)
	return st, err
}

func fmtFloat(p *float64, unit string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(strconv.FormatFloat(*p, 'f', -1, 64) + " " + unit)
}

func fmtLoc(l *Location) string {
	if l == nil {
		return ""
	}
	return fmt.Sprintf("%.6f, %.6f", l.Lat, l.Lng)
}

func fmtCerts(cs []Certification) string {
	var parts []string
	for _, c := range cs {
		p := c.Kind + " " + c.Number
		if c.ValidUntil != "" {
			p += " (" + c.ValidUntil + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// diff lists the fields that differ between a and b.
func diff(a, b stored) []FieldDiff {
	out := []FieldDiff{}
	add := func(field, x, y string) {
		if x != y {
			out = append(out, FieldDiff{Field: field, Old: x, New: y})
		}
	}
	add("name", a.Name, b.Name)
	add("kind", a.Kind, b.Kind)
	add("category", a.Category, b.Category)
	add("credit_code", a.CreditCode, b.CreditCode)
	if a.IDNumber.Hash != b.IDNumber.Hash {
		out = append(out, FieldDiff{Field: "id_number", Old: a.IDNumber.Masked, New: b.IDNumber.Masked})
	}
	add("legal_rep", a.LegalRep, b.LegalRep)
	add("contact_name", a.ContactName, b.ContactName)
	if a.Phone.Hash != b.Phone.Hash {
		out = append(out, FieldDiff{Field: "phone", Old: a.Phone.Masked, New: b.Phone.Masked})
	}
	add("region_code", a.RegionCode, b.RegionCode)
	add("address", a.Address, b.Address)
	add("location", fmtLoc(a.Location), fmtLoc(b.Location))
	add("products", strings.Join(a.Products, "、"), strings.Join(b.Products, "、"))
	add("annual_output", fmtFloat(a.AnnualOutput, a.AnnualOutputUnit), fmtFloat(b.AnnualOutput, b.AnnualOutputUnit))
	add("leading_enterprise", a.LeadingEnterprise, b.LeadingEnterprise)
	add("demo_cooperative", strconv.FormatBool(a.DemoCooperative), strconv.FormatBool(b.DemoCooperative))
	add("certifications", fmtCerts(a.Certifications), fmtCerts(b.Certifications))
	return out
}

// RequestChange submits new details for an approved operator (its main
// account). The credit code and the category cannot change (the code
// depends on them) and the region must stay in the same county. One change
// request may be pending at a time.
func (s *Service) RequestChange(ctx context.Context, actor *auth.Actor, id int64, d Details) (Change, error) {
	o, err := s.readable(ctx, actor, id, auth.ActOperatorEdit)
	if err != nil {
		return Change{}, err
	}
	if o.Status != StatusApproved && o.Status != StatusSuspended {
		return Change{}, platform.Conflict("只有已审核通过的主体可以申请变更；草稿请直接修改", "only an approved operator requests changes; edit a draft directly").With("status", o.Status)
	}
	d.normalize()
	var v platform.Validator
	s.validate(ctx, &v, &d, "")
	v.Check(d.CreditCode == o.CreditCode, "credit_code", "immutable", "统一社会信用代码不能变更；如主体变化请重新注册", "the credit code cannot change; a different organisation registers anew")
	v.Check(d.Category == o.Category, "category", "immutable", "主体类别决定主体编码，不能变更", "the category is part of the operator code and cannot change")
	v.Check(d.RegionCode == "" || region.CountyOf(d.RegionCode) == o.CountyCode, "region_code", "other_county", "不能变更到其他县（市、区）", "the region must stay in the same county")
	if err := v.Err(); err != nil {
		return Change{}, err
	}
	st, err := s.seal(ctx, d)
	if err != nil {
		return Change{}, err
	}
	var c Change
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		cur, err := s.load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		curSt, err := s.current(ctx, tx, cur)
		if err != nil {
			return err
		}
		if len(diff(curSt, st)) == 0 {
			return platform.Invalid(platform.FieldError{Field: "(body)", Code: "unchanged", ZH: "没有任何变更", EN: "nothing changed"})
		}
		var pending int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM operator_changes WHERE operator_id = $1 AND status = 'pending'`, id).Scan(&pending); err != nil {
			return err
		}
		if pending > 0 {
			return platform.Conflict("已有一项变更申请在审核中", "a change request is already pending review")
		}
		now := tx.Now()
		due, err := s.dueDate(ctx, now)
		if err != nil {
			return err
		}
		c = Change{OperatorID: id, Status: "pending", RequestedAt: now, ReviewDue: due}
		if err := tx.QueryRow(ctx, `INSERT INTO operator_changes (operator_id, status, data, requested_by, requested_at, review_due)
			VALUES ($1, 'pending', $2, $3, $4, $5) RETURNING id`, id, jsonText(st), platform.NullInt(actor.UserID), now, due).Scan(&c.ID); err != nil {
			return err
		}
		c.Diff = diff(curSt, st)
		return tx.Emit(ctx, platform.Event{Action: "operator.change.request", ResourceType: "operator", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"change_id": c.ID, "fields": fieldNames(c.Diff)}})
	})
	return c, err
}

func fieldNames(d []FieldDiff) []string {
	out := make([]string, len(d))
	for i, f := range d {
		out[i] = f.Field
	}
	return out
}

// Changes lists an operator's change requests, newest first, each with its diff.
func (s *Service) Changes(ctx context.Context, actor *auth.Actor, id int64) ([]Change, error) {
	o, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	cur, err := s.current(ctx, s.db, o)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, status, data, reason, requested_at, review_due, decided_at FROM operator_changes
		WHERE operator_id = $1 ORDER BY id DESC`, id)
	today := s.today()
	return platform.Collect(rows, err, func(r *sql.Rows) (Change, error) {
		c := Change{OperatorID: id}
		var data string
		var decided sql.NullTime
		if err := r.Scan(&c.ID, &c.Status, &data, &c.Reason, &c.RequestedAt, &c.ReviewDue, &decided); err != nil {
			return c, err
		}
		if decided.Valid {
			c.DecidedAt = &decided.Time
		}
		var st stored
		if err := json.Unmarshal([]byte(data), &st); err != nil {
			return c, err
		}
		if c.Status == "pending" {
			c.Diff = diff(cur, st)
			c.Overdue = c.ReviewDue < today
		} else {
			c.Diff = []FieldDiff{}
			for _, f := range diff(stored{}, st) {
				f.Old = ""
				c.Diff = append(c.Diff, f)
			}
		}
		return c, nil
	})
}

// DecideChange approves (details replaced) or rejects (with a reason) a
// pending change request; the decision is signed and kept.
func (s *Service) DecideChange(ctx context.Context, actor *auth.Actor, changeID int64, approve bool, reason string) (Operator, error) {
	var opID int64
	err := s.db.QueryRow(ctx, `SELECT operator_id FROM operator_changes WHERE id = $1`, changeID).Scan(&opID)
	if errors.Is(err, sql.ErrNoRows) {
		return Operator{}, platform.NotFound("变更申请不存在", "change request not found")
	}
	if err != nil {
		return Operator{}, err
	}
	if _, err := s.readable(ctx, actor, opID, auth.ActOperatorReview); err != nil {
		return Operator{}, err
	}
	if !approve {
		if reason, err = requireReason(reason); err != nil {
			return Operator{}, err
		}
	}
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		o, err := s.load(ctx, tx, opID, true)
		if err != nil {
			return err
		}
		var status, data string
		if err := tx.QueryRow(ctx, `SELECT status, data FROM operator_changes WHERE id = $1 FOR UPDATE`, changeID).Scan(&status, &data); err != nil {
			return err
		}
		if status != "pending" {
			return platform.Conflict("该变更申请已处理", "this change request was decided already").With("status", status)
		}
		kind, newStatus := "change_reject", "rejected"
		if approve {
			kind, newStatus = "change_approve", "approved"
			var st stored
			if err := json.Unmarshal([]byte(data), &st); err != nil {
				return err
			}
			if err := writeDetails(ctx, tx, opID, st); err != nil {
				return err
			}
			if err := linkRoster(ctx, tx, opID, st); err != nil {
				return err
			}
			o.Name = st.Name
		}
		if _, err := tx.Exec(ctx, `UPDATE operator_changes SET status = $1, reason = $2, decided_by = $3, decided_at = $4 WHERE id = $5`,
			newStatus, reason, platform.NullInt(actor.UserID), tx.Now(), changeID); err != nil {
			return err
		}
		if err := s.decide(ctx, tx, actor, opID, changeID, kind, reason, &o); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "operator." + strings.Replace(kind, "_", ".", 1), ResourceType: "operator", ResourceID: fmt.Sprint(opID),
			Data: map[string]any{"change_id": changeID, "reason": reason}})
	})
	if err != nil {
		return Operator{}, err
	}
	return s.ByID(ctx, opID)
}
