package supervision

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// Credit levels (信用档案), from best to worst. An operator's level is the
// worst of its entries in force today; with none it is clean.
const (
	CreditClean       = "clean"
	CreditWarned      = "warned"
	CreditRectifying  = "rectifying"
	CreditPenalised   = "penalised"
	CreditBlacklisted = "blacklisted"
)

// CreditLevels lists them from best to worst.
var CreditLevels = []string{CreditClean, CreditWarned, CreditRectifying, CreditPenalised, CreditBlacklisted}

func creditRank(level string) int {
	for i, l := range CreditLevels {
		if l == level {
			return i
		}
	}
	return 0
}

// CreditRule is one rule of the credit record: what event moves an
// operator to which level, and for how long. The rules are data: listed
// here, shown on the help page, documented in docs/supervision.md.
type CreditRule struct {
	Key   string `json:"key"`
	Event string `json:"event"` // what triggers it
	Level string `json:"level"`
	// Days the entry lasts from its date; 0 = until lifted (a rectification
	// is lifted by a passing follow-up).
	Days int    `json:"days"`
	ZH   string `json:"zh"`
	EN   string `json:"en"`
}

// Credit rule keys.
const (
	RuleInspectionRectify   = "inspection_rectify"
	RuleInspectionViolation = "inspection_violation"
	RuleCaseRectify         = "case_rectify"
	RuleCasePenalty         = "case_penalty"
	RuleRepeatPenalty       = "repeat_penalty"
	RuleForgery             = "forgery_penalty"
)

// RepeatWindowDays: a second penalty within this many days of an earlier
// one blacklists the operator.
const RepeatWindowDays = 730

// CreditRules are the rules, in the order they are checked.
var CreditRules = []CreditRule{
	{RuleInspectionRectify, "inspection result rectify", CreditRectifying, 0,
		"检查结论为责令整改：整改中，直至复查合格", "inspection ordered rectification: rectifying until a passing re-inspection"},
	{RuleInspectionViolation, "inspection result violation", CreditWarned, 180,
		"检查发现违法违规：警示 180 天（另行立案处理）", "inspection found a violation: warned for 180 days (a case follows)"},
	{RuleCaseRectify, "case decision rectify", CreditRectifying, 0,
		"案件决定责令整改：整改中，直至跟踪检查确认整改到位", "case ordered rectification: rectifying until the follow-up check confirms it"},
	{RuleCasePenalty, "case decision penalty", CreditPenalised, 365,
		"案件作出行政处罚：处罚记录 365 天", "case imposed a penalty: penalised for 365 days"},
	{RuleRepeatPenalty, "second penalty within 730 days", CreditBlacklisted, 1095,
		"两年内再次受到行政处罚：列入黑名单 3 年", "penalised again within two years: blacklisted for 3 years"},
	{RuleForgery, "penalty for forged or misused codes", CreditBlacklisted, 1095,
		"伪造、冒用追溯码、合格证或标签受到处罚：列入黑名单 3 年", "penalised for forged or misused codes, certificates or labels: blacklisted for 3 years"},
}

func creditRule(key string) CreditRule {
	for _, r := range CreditRules {
		if r.Key == key {
			return r
		}
	}
	panic("supervision: unknown credit rule " + key)
}

// CreditEntry is one mark on an operator's credit record.
type CreditEntry struct {
	ID           int64  `json:"id"`
	Level        string `json:"level" doc:"warned | rectifying | penalised | blacklisted"`
	Rule         string `json:"rule"`
	Reason       string `json:"reason"`
	CaseID       int64  `json:"case_id,omitempty"`
	InspectionID int64  `json:"inspection_id,omitempty"`
	From         string `json:"from"`
	Until        string `json:"until,omitempty" doc:"last day in force; empty = until lifted"`
	Lifted       string `json:"lifted,omitempty" doc:"the day a rectification was confirmed"`
	InForce      bool   `json:"in_force"`
}

// Credit is an operator's credit record.
type Credit struct {
	OperatorID int64         `json:"operator_id"`
	Level      string        `json:"level" doc:"clean | warned | rectifying | penalised | blacklisted"`
	Since      string        `json:"since,omitempty"`
	Entries    []CreditEntry `json:"entries"`
}

// addCreditTx writes an entry made by rule, dated on.
func addCreditTx(ctx context.Context, tx *platform.Tx, operatorID int64, rule, reason, on string, caseID, inspectionID int64) error {
	r := creditRule(rule)
	var until sql.NullString
	if r.Days > 0 {
		t, _ := time.Parse(time.DateOnly, on)
		until = sql.NullString{String: t.AddDate(0, 0, r.Days-1).Format(time.DateOnly), Valid: true}
	}
	_, err := tx.Exec(ctx, `INSERT INTO credit_entries (operator_id, level, rule, reason, case_id, inspection_id, from_on, until_on, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, operatorID, r.Level, rule, reason, platform.NullInt(caseID), platform.NullInt(inspectionID),
		on, until, tx.Now())
	if err != nil {
		return fmt.Errorf("credit entry: %w", err)
	}
	return tx.Emit(ctx, platform.Event{Action: "credit.entry", ResourceType: "operator", ResourceID: fmt.Sprint(operatorID),
		Data: map[string]any{"level": r.Level, "rule": rule, "from": on, "until": until.String}})
}

// liftTx ends the rectifying entries an event resolves: a passing
// inspection lifts the operator's inspection rectifications; a confirmed
// follow-up lifts the case's.
func liftTx(ctx context.Context, tx *platform.Tx, where string, on string, args ...any) error {
	_, err := tx.Exec(ctx, `UPDATE credit_entries SET lifted_on = $1 WHERE lifted_on IS NULL AND level = 'rectifying' AND `+where,
		append([]any{on}, args...)...)
	return err
}

// inspectionCreditTx applies the inspection rules.
func inspectionCreditTx(ctx context.Context, tx *platform.Tx, operatorID, inspectionID int64, number, result, on string) error {
	switch result {
	case ResultPass:
		return liftTx(ctx, tx, "operator_id = $2 AND rule = $3", on, operatorID, RuleInspectionRectify)
	case ResultRectify:
		return addCreditTx(ctx, tx, operatorID, RuleInspectionRectify, "检查 "+number+" 责令整改", on, 0, inspectionID)
	case ResultViolation:
		return addCreditTx(ctx, tx, operatorID, RuleInspectionViolation, "检查 "+number+" 发现违法违规", on, 0, inspectionID)
	}
	return nil
}

// Credit returns an operator's credit record (the operator itself and
// officials with jurisdiction; 404 for others).
func (s *Service) Credit(ctx context.Context, actor *auth.Actor, operatorID int64) (Credit, error) {
	if _, err := s.operatorByID(ctx, actor, auth.ActCreditRead, operatorID); err != nil {
		return Credit{}, err
	}
	return s.credit(ctx, operatorID)
}

// credit reads a record (no authorization).
func (s *Service) credit(ctx context.Context, operatorID int64) (Credit, error) {
	today := s.Today()
	rows, err := s.db.Query(ctx, `SELECT id, level, rule, reason, COALESCE(case_id, 0), COALESCE(inspection_id, 0), from_on,
		COALESCE(until_on, ''), COALESCE(lifted_on, '') FROM credit_entries WHERE operator_id = $1 ORDER BY from_on DESC, id DESC`, operatorID)
	entries, err := platform.Collect(rows, err, func(r *sql.Rows) (CreditEntry, error) {
		var e CreditEntry
		err := r.Scan(&e.ID, &e.Level, &e.Rule, &e.Reason, &e.CaseID, &e.InspectionID, &e.From, &e.Until, &e.Lifted)
		e.InForce = inForce(e, today)
		return e, err
	})
	if err != nil {
		return Credit{}, err
	}
	c := Credit{OperatorID: operatorID, Level: CreditClean, Entries: entries}
	if c.Entries == nil {
		c.Entries = []CreditEntry{}
	}
	for _, e := range entries {
		if e.InForce && (creditRank(e.Level) > creditRank(c.Level) || (e.Level == c.Level && e.From < c.Since)) {
			c.Level, c.Since = e.Level, e.From
		}
	}
	return c, nil
}

func inForce(e CreditEntry, today string) bool {
	return e.From <= today && (e.Until == "" || e.Until >= today) && e.Lifted == ""
}

// creditLevelSQL is the SQL of an operator's level today ($today), for
// lists and draw filters: the worst entry in force, else clean.
const creditLevelSQL = `COALESCE((SELECT CASE MAX(CASE ce.level WHEN 'warned' THEN 1 WHEN 'rectifying' THEN 2 WHEN 'penalised' THEN 3 WHEN 'blacklisted' THEN 4 END)
	WHEN 1 THEN 'warned' WHEN 2 THEN 'rectifying' WHEN 3 THEN 'penalised' WHEN 4 THEN 'blacklisted' END
	FROM credit_entries ce WHERE ce.operator_id = o.id AND ce.lifted_on IS NULL AND ce.from_on <= %[1]s AND (ce.until_on IS NULL OR ce.until_on >= %[1]s)), 'clean')`

// Risk levels a draw filters by: derived from the credit level.
const (
	RiskLow    = "low"    // clean
	RiskMedium = "medium" // warned or rectifying
	RiskHigh   = "high"   // penalised or blacklisted
)

// RiskOf maps a credit level to a risk level.
func RiskOf(level string) string {
	switch level {
	case CreditWarned, CreditRectifying:
		return RiskMedium
	case CreditPenalised, CreditBlacklisted:
		return RiskHigh
	}
	return RiskLow
}

// PublicLevel is the part of the credit record the public sees: the level
// in force today (no reasons, no cases).
func (s *Service) PublicLevel(ctx context.Context, operatorID int64) (string, error) {
	c, err := s.credit(ctx, operatorID)
	return c.Level, err
}
