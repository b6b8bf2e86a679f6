package supervision

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

var errCaseNotFound = platform.NotFound("案件不存在", "case not found")

// TakeStep moves a case one step on: a guarded UPDATE … WHERE status = …,
// its step row, its deadline on the working-day calendar, the credit rules
// and the event, in one transaction. A step out of order → 422 naming
// "step"; a case someone moved meanwhile → 409.
func (s *Service) TakeStep(ctx context.Context, actor *auth.Actor, id int64, in StepInput) (Case, error) {
	if err := auth.Authorize(actor, auth.ActCaseWrite, auth.Resource{}); err != nil {
		return Case{}, err
	}
	c, err := s.Case(ctx, actor, id)
	if err != nil {
		return Case{}, err
	}
	if err := auth.Authorize(actor, auth.ActCaseWrite, auth.Resource{Region: c.RegionCode}); err != nil {
		return Case{}, err
	}
	if err := checkStep(&in); err != nil {
		return Case{}, err
	}
	if !allowedFrom(in.Step, c.Status) || (in.Step == StepFollowUp && !hasRectify(c.Decision)) ||
		(in.Step == StepClosed && c.Status == CaseDecided && hasRectify(c.Decision)) {
		return Case{}, outOfOrder(in.Step, c.Status, c.Decision)
	}
	today := s.Today()
	to, due, err := s.stepOutcome(ctx, in, today)
	if err != nil {
		return Case{}, err
	}
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		return s.stepTx(ctx, tx, actor, c, in, to, due, today)
	})
	if err != nil {
		return Case{}, err
	}
	return s.caseByID(ctx, id)
}

// stepOutcome is where a step takes the case and its next deadline.
func (s *Service) stepOutcome(ctx context.Context, in StepInput, today string) (string, string, error) {
	var to string
	days := 0
	switch in.Step {
	case StepFiled:
		to, days = CaseFiled, InvestigateWorkdays
	case StepInvestigated:
		to, days = CaseInvestigated, DecideWorkdays
	case StepDecision:
		to, days = CaseDecided, CloseWorkdays
		if hasRectify(in.Decision) {
			days = in.RectifyDays
		}
	case StepFollowUp:
		to, days = CaseFollowUp, CloseWorkdays
		if !*in.Rectified {
			to, days = CaseInvestigated, DecideWorkdays // not rectified: decide again (e.g. a penalty)
		}
	case StepClosed:
		return CaseClosed, "", nil
	}
	due, err := s.addWorkdays(ctx, today, days)
	return to, due, err
}

func (s *Service) stepTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, c Case, in StepInput, to, due, today string) error {
	now := tx.Now()
	detail := map[string]any{}
	var res sql.Result
	var err error
	switch in.Step {
	case StepDecision:
		detail["decision"] = in.Decision
		if in.RectifyDays > 0 {
			detail["rectify_days"] = in.RectifyDays
		}
		if in.PenaltyAmount > 0 {
			detail["penalty_amount"], detail["legal_basis"] = in.PenaltyAmount, in.LegalBasis
		}
		res, err = tx.Exec(ctx, `UPDATE cases SET status = $1, due_on = $2, decision = $3, rectify_days = $4, penalty_fen = $5, legal_basis = $6,
			decided_on = $7, updated_at = $8 WHERE id = $9 AND status = $10`, to, platform.NullString(due), in.Decision, nullDays(in.RectifyDays),
			platform.NullInt(int64(math.Round(in.PenaltyAmount*100))), in.LegalBasis, today, now, c.ID, c.Status)
	case StepFiled: // a draft filed: its filing date and official are the enforcer's
		res, err = tx.Exec(ctx, `UPDATE cases SET status = $1, due_on = $2, filed_on = $3, filed_by = $4, filed_by_name = $5, updated_at = $6
			WHERE id = $7 AND status = $8`, to, platform.NullString(due), today, platform.NullInt(actor.UserID), actor.Name, now, c.ID, c.Status)
	case StepClosed:
		res, err = tx.Exec(ctx, `UPDATE cases SET status = $1, due_on = NULL, closed_at = $2, updated_at = $2 WHERE id = $3 AND status = $4`,
			to, now, c.ID, c.Status)
	default:
		if in.Rectified != nil {
			detail["rectified"] = *in.Rectified
		}
		res, err = tx.Exec(ctx, `UPDATE cases SET status = $1, due_on = $2, updated_at = $3 WHERE id = $4 AND status = $5 AND decision = $6`,
			to, platform.NullString(due), now, c.ID, c.Status, c.Decision)
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return platform.Conflict("案件刚被他人处理，请刷新后再试", "the case was just moved on by someone else; reload it")
	}
	if err := insertStep(ctx, tx, actor, c.ID, in.Step, c.Status, to, detail, in.Note, due, today); err != nil {
		return err
	}
	if err := caseCreditTx(ctx, tx, c, in, today); err != nil {
		return err
	}
	return tx.Emit(ctx, platform.Event{Action: "case." + in.Step, ResourceType: "case", ResourceID: fmt.Sprint(c.ID),
		Data: map[string]any{"number": c.Number, "status": to, "due_on": due, "decision": in.Decision}})
}

// caseCreditTx applies the case rules to every operator of the case: a
// rectification marks it rectifying until a follow-up confirms it; a
// penalty marks it penalised, or blacklisted for forged codes or a second
// penalty within RepeatWindowDays.
func caseCreditTx(ctx context.Context, tx *platform.Tx, c Case, in StepInput, today string) error {
	switch {
	case in.Step == StepFollowUp && *in.Rectified:
		return liftTx(ctx, tx, "case_id = $2", today, c.ID)
	case in.Step != StepDecision:
		return nil
	}
	// a new decision (after a follow-up found the rectification not done)
	// replaces the case's earlier rectification order
	if err := liftTx(ctx, tx, "case_id = $2", today, c.ID); err != nil {
		return err
	}
	for _, o := range c.Operators {
		if hasRectify(in.Decision) {
			if err := addCreditTx(ctx, tx, o.ID, RuleCaseRectify, "案件 "+c.Number+" 责令整改", today, c.ID, 0); err != nil {
				return err
			}
		}
		if !hasPenalty(in.Decision) {
			continue
		}
		rule := RuleCasePenalty
		if c.Violation == ViolationForgedCodes {
			rule = RuleForgery
		} else if repeat, err := penalisedWithin(ctx, tx, o.ID, c.ID, today); err != nil {
			return err
		} else if repeat {
			rule = RuleRepeatPenalty
		}
		if err := addCreditTx(ctx, tx, o.ID, rule, fmt.Sprintf("案件 %s 行政处罚 %.2f 元", c.Number, in.PenaltyAmount), today, c.ID, 0); err != nil {
			return err
		}
	}
	return nil
}

// penalisedWithin reports whether the operator was penalised within the
// repeat window before today, in another case (a case decided again after
// a failed follow-up is not a repeat offence).
func penalisedWithin(ctx context.Context, tx *platform.Tx, operatorID, caseID int64, today string) (bool, error) {
	t, err := parseDate(today)
	if err != nil {
		return false, err
	}
	since := t.AddDate(0, 0, -RepeatWindowDays).Format("2006-01-02")
	var n int
	err = tx.QueryRow(ctx, `SELECT COUNT(*) FROM credit_entries WHERE operator_id = $1 AND level IN ($2, $3) AND from_on >= $4
		AND (case_id IS NULL OR case_id <> $5)`, operatorID, CreditPenalised, CreditBlacklisted, since, caseID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return n > 0, err
}
