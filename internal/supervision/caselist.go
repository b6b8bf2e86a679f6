package supervision

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

const caseColumns = `c.id, c.number, c.source, c.source_id, c.violation, c.summary, c.evidence, c.region_code, c.status, c.decision,
	COALESCE(c.rectify_days, 0), COALESCE(c.penalty_fen, 0), c.legal_basis, COALESCE(c.due_on, ''), c.filed_on, COALESCE(c.decided_on, ''), c.filed_by_name`

func (s *Service) scanCase(r interface{ Scan(...any) error }) (Case, error) {
	var c Case
	var ev string
	var fen int64
	if err := r.Scan(&c.ID, &c.Number, &c.Source, &c.SourceID, &c.Violation, &c.Summary, &ev, &c.RegionCode, &c.Status, &c.Decision,
		&c.RectifyDays, &fen, &c.LegalBasis, &c.DueOn, &c.FiledOn, &c.DecidedOn, &c.FiledByName); err != nil {
		return c, err
	}
	_ = json.Unmarshal([]byte(ev), &c.Evidence)
	c.PenaltyAmount = float64(fen) / 100
	c.Overdue = c.Status != CaseClosed && c.DueOn != "" && c.DueOn < s.Today()
	c.Next = NextSteps(c.Status, c.Decision)
	c.Operators = []CaseParty{}
	return c, nil
}

// Case returns a case with its operators and steps (officials with
// jurisdiction over any of its operators, and those operators; 404 for others).
func (s *Service) Case(ctx context.Context, actor *auth.Actor, id int64) (Case, error) {
	if err := auth.Authorize(actor, auth.ActCaseRead, auth.Resource{}); err != nil {
		return Case{}, err
	}
	c, err := s.caseByID(ctx, id)
	if err != nil {
		return Case{}, err
	}
	// officials by the case's jurisdiction (the filing county, as the lists
	// scope it); an operator when the case names it
	if auth.Authorize(actor, auth.ActCaseRead, auth.Resource{Region: c.RegionCode}) == nil && actor.OperatorID == 0 {
		return c, nil
	}
	for _, o := range c.Operators {
		if actor.OperatorID != 0 && o.ID == actor.OperatorID && auth.Authorize(actor, auth.ActCaseRead, auth.Resource{OperatorID: o.ID}) == nil {
			return c, nil
		}
	}
	return Case{}, errCaseNotFound
}

func (s *Service) caseByID(ctx context.Context, id int64) (Case, error) {
	c, err := s.scanCase(s.db.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Case{}, errCaseNotFound
	}
	if err != nil {
		return Case{}, err
	}
	rows, err := s.db.Query(ctx, `SELECT o.id, o.code, o.name FROM case_operators co JOIN operators o ON o.id = co.operator_id
		WHERE co.case_id = $1 ORDER BY o.code`, id)
	c.Operators, err = platform.Collect(rows, err, func(r *sql.Rows) (CaseParty, error) {
		var p CaseParty
		return p, r.Scan(&p.ID, &p.Code, &p.Name)
	})
	if err != nil {
		return Case{}, err
	}
	rows, err = s.db.Query(ctx, `SELECT step, from_status, to_status, detail, note, COALESCE(due_on, ''), actor_name, on_date
		FROM case_steps WHERE case_id = $1 ORDER BY id`, id)
	c.Steps, err = platform.Collect(rows, err, func(r *sql.Rows) (CaseStepRecord, error) {
		var st CaseStepRecord
		var detail string
		err := r.Scan(&st.Step, &st.FromStatus, &st.ToStatus, &detail, &st.Note, &st.DueOn, &st.ActorName, &st.Date)
		_ = json.Unmarshal([]byte(detail), &st.Detail)
		return st, err
	})
	return c, err
}

// CaseFilter narrows Cases.
type CaseFilter struct {
	Region     string
	Status     string // a status, or "open" (not closed)
	Overdue    bool
	OperatorID int64
	Violation  string
	Limit      int
	Offset     int
}

// Cases lists cases in the actor's reach, overdue and soonest due first
// (an operator account sees its own).
func (s *Service) Cases(ctx context.Context, actor *auth.Actor, f CaseFilter) ([]Case, error) {
	sc := auth.ListScope(actor, auth.ActCaseRead)
	if err := sc.Err(actor, auth.ActCaseRead); err != nil {
		return nil, err
	}
	if err := auth.Authorize(actor, auth.ActCaseRead, auth.Resource{Region: f.Region}); err != nil {
		return nil, err
	}
	var v platform.Validator
	if f.Status != "" {
		v.OneOf("status", f.Status, append([]string{"open"}, CaseStatuses...)...)
	}
	if f.Violation != "" {
		v.OneOf("violation", f.Violation, Violations...)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	w := auth.NewWhere()
	if sc.Kind == auth.ScopeOperator { // an operator sees the cases that name it, whoever's region they are in
		w.Add("c.id IN (SELECT case_id FROM case_operators WHERE operator_id = " + w.Arg(sc.OperatorID) + ")")
	} else {
		w.Scope(sc, auth.Columns{Region: []string{"c.region_code"}})
	}
	if auth.RegionPrefix(f.Region) != "" {
		w.Add(w.RegionCond(f.Region, "c.region_code"))
	}
	switch f.Status {
	case "":
	case "open":
		w.Add("c.status <> 'closed'")
	default:
		w.Add("c.status = " + w.Arg(f.Status))
	}
	if f.Overdue {
		w.Add("c.status <> 'closed' AND c.due_on < " + w.Arg(s.Today()))
	}
	if f.OperatorID != 0 {
		w.Add("c.id IN (SELECT case_id FROM case_operators WHERE operator_id = " + w.Arg(f.OperatorID) + ")")
	}
	if f.Violation != "" {
		w.Add("c.violation = " + w.Arg(f.Violation))
	}
	rows, err := s.db.Query(ctx, `SELECT `+caseColumns+` FROM cases c`+w.SQL()+
		` ORDER BY CASE WHEN c.status = 'closed' THEN 1 ELSE 0 END, COALESCE(c.due_on, '9999'), c.id DESC LIMIT `+w.Arg(f.Limit)+
		` OFFSET `+w.Arg(max(f.Offset, 0)), w.Args()...)
	out, err := platform.Collect(rows, err, s.scanCase)
	if err != nil {
		return nil, err
	}
	for i := range out {
		r, err := s.db.Query(ctx, `SELECT o.id, o.code, o.name FROM case_operators co JOIN operators o ON o.id = co.operator_id WHERE co.case_id = $1 ORDER BY o.code`, out[i].ID)
		out[i].Operators, err = platform.Collect(r, err, func(r *sql.Rows) (CaseParty, error) {
			var p CaseParty
			return p, r.Scan(&p.ID, &p.Code, &p.Name)
		})
		if err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = []Case{}
	}
	return out, nil
}
