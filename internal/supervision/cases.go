package supervision

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// Case sources, violations, statuses, steps and decisions (annex art. 17).
const (
	SourceInspection = "inspection"
	SourceSample     = "sample"
	SourceComplaint  = "complaint"
	SourceFinding    = "finding"
	SourceManual     = "manual"

	ViolationFalseRecords = "false_records" // art. 17 (1)
	ViolationBrokenChain  = "broken_chain"  // art. 17 (2)
	ViolationForgedCodes  = "forged_codes"  // art. 17 (3)
	ViolationBatchMixing  = "batch_mixing"  // art. 17 (4)
	ViolationOther        = "other"

	CaseDraft        = "draft" // a case lead (案源) the platform opened, e.g. from a failed sample: to file or decline
	CaseFiled        = "filed"
	CaseInvestigated = "investigated"
	CaseDecided      = "decided"
	CaseFollowUp     = "follow_up"
	CaseClosed       = "closed"

	StepFiled        = "filed" // recorded when a case is filed; taken to file a draft
	StepInvestigated = "investigated"
	StepDecision     = "decision"
	StepFollowUp     = "follow_up"
	StepClosed       = "closed"

	DecisionRectify           = "rectify"
	DecisionPenalty           = "penalty"
	DecisionRectifyAndPenalty = "rectify_and_penalty"
	DecisionNoViolation       = "no_violation"
)

// The lists, in display order.
var (
	CaseSources   = []string{SourceInspection, SourceSample, SourceComplaint, SourceFinding, SourceManual}
	Violations    = []string{ViolationFalseRecords, ViolationBrokenChain, ViolationForgedCodes, ViolationBatchMixing, ViolationOther}
	CaseStatuses  = []string{CaseDraft, CaseFiled, CaseInvestigated, CaseDecided, CaseFollowUp, CaseClosed}
	CaseSteps     = []string{StepFiled, StepInvestigated, StepDecision, StepFollowUp, StepClosed}
	Decisions     = []string{DecisionRectify, DecisionPenalty, DecisionRectifyAndPenalty, DecisionNoViolation}
	EvidenceKinds = []string{"batch", "inspection", "sample", "finding", "document", "note"}
)

// Working-day deadlines of a case's open step.
const (
	DraftWorkdays       = 10 // draft → filed or declined (about the 15 days a lead is checked in; see docs/supervision.md)
	InvestigateWorkdays = 20 // filed → investigated
	DecideWorkdays      = 20 // investigated → decision (and again after a failed follow-up)
	CloseWorkdays       = 10 // decided without rectification, or followed up → closed
	MaxCaseOperators    = 20
	MaxPenaltyYuan      = 10_000_000
)

// Evidence is one item of a case's evidence.
type Evidence struct {
	Kind string `json:"kind" doc:"batch | inspection | sample | finding | document | note"`
	Ref  string `json:"ref,omitempty" doc:"a batch code, inspection number or id, sample number, finding id, document name"`
	Note string `json:"note,omitempty"`
}

// CaseInput files a case.
type CaseInput struct {
	Source        string     `json:"source" validate:"required" doc:"inspection | sample | complaint | finding | manual"`
	SourceID      string     `json:"source_id,omitempty" doc:"the inspection, sample, complaint or finding id (not for manual)"`
	OperatorCodes []string   `json:"operator_codes" validate:"required"`
	Violation     string     `json:"violation" validate:"required" doc:"false_records | broken_chain | forged_codes | batch_mixing | other"`
	Summary       string     `json:"summary" validate:"required" doc:"the facts (≤ 4000 characters)"`
	Evidence      []Evidence `json:"evidence,omitempty"`
}

// StepInput takes a case's next step.
type StepInput struct {
	Step          string  `json:"step" validate:"required" doc:"investigated | decision | follow_up | closed"`
	Note          string  `json:"note,omitempty" doc:"required to close"`
	Decision      string  `json:"decision,omitempty" doc:"with step decision: rectify | penalty | rectify_and_penalty | no_violation"`
	RectifyDays   int     `json:"rectify_days,omitempty" doc:"working days to rectify (rectify decisions, 1–60)"`
	PenaltyAmount float64 `json:"penalty_amount,omitempty" doc:"yuan (penalty decisions)"`
	LegalBasis    string  `json:"legal_basis,omitempty" doc:"the law and article (penalty decisions)"`
	Rectified     *bool   `json:"rectified,omitempty" doc:"with step follow_up: whether the rectification was done (false sends the case back for a new decision)"`
}

// CaseStep is a recorded step.
type CaseStepRecord struct {
	Step       string         `json:"step"`
	FromStatus string         `json:"from_status"`
	ToStatus   string         `json:"to_status"`
	Detail     map[string]any `json:"detail,omitempty"`
	Note       string         `json:"note,omitempty"`
	DueOn      string         `json:"due_on,omitempty"`
	ActorName  string         `json:"actor_name"`
	Date       string         `json:"date"`
}

// CaseParty is an operator a case concerns.
type CaseParty struct {
	ID   int64  `json:"id"`
	Code string `json:"operator_code"`
	Name string `json:"name"`
}

// Case is an enforcement case.
type Case struct {
	ID            int64            `json:"id"`
	Number        string           `json:"number"`
	Source        string           `json:"source"`
	SourceID      string           `json:"source_id,omitempty"`
	Violation     string           `json:"violation"`
	Summary       string           `json:"summary"`
	Evidence      []Evidence       `json:"evidence"`
	RegionCode    string           `json:"region_code"`
	Operators     []CaseParty      `json:"operators"`
	Status        string           `json:"status" doc:"filed | investigated | decided | follow_up | closed"`
	Decision      string           `json:"decision,omitempty"`
	RectifyDays   int              `json:"rectify_days,omitempty"`
	PenaltyAmount float64          `json:"penalty_amount,omitempty" doc:"yuan"`
	LegalBasis    string           `json:"legal_basis,omitempty"`
	DueOn         string           `json:"due_on,omitempty" doc:"the open step's deadline, YYYY-MM-DD (working days)"`
	Overdue       bool             `json:"overdue"`
	FiledOn       string           `json:"filed_on"`
	DecidedOn     string           `json:"decided_on,omitempty"`
	FiledByName   string           `json:"filed_by_name"`
	Steps         []CaseStepRecord `json:"steps,omitempty"`
	Next          []string         `json:"next" doc:"the steps that may come next"`
}

// caseMoves: which step leaves which status, and where it goes.
var caseMoves = map[string][]string{
	StepFiled:        {CaseDraft},
	StepInvestigated: {CaseFiled},
	StepDecision:     {CaseInvestigated},
	StepFollowUp:     {CaseDecided},
	StepClosed:       {CaseDraft, CaseDecided, CaseFollowUp}, // closing a draft declines it (不予立案)
}

// NextSteps lists what may follow a case's status and decision.
func NextSteps(status, decision string) []string {
	switch status {
	case CaseDraft:
		return []string{StepFiled, StepClosed}
	case CaseFiled:
		return []string{StepInvestigated}
	case CaseInvestigated:
		return []string{StepDecision}
	case CaseDecided:
		if hasRectify(decision) {
			return []string{StepFollowUp}
		}
		return []string{StepClosed}
	case CaseFollowUp:
		return []string{StepClosed}
	}
	return []string{}
}

func hasRectify(d string) bool { return d == DecisionRectify || d == DecisionRectifyAndPenalty }
func hasPenalty(d string) bool { return d == DecisionPenalty || d == DecisionRectifyAndPenalty }

// casePlan is a validated case, ready for its transaction.
type casePlan struct {
	in          CaseInput
	ops         []operator.Operator
	findingID   int64
	complaintID int64 // a platform complaint the case is filed from (linked in the case's transaction)
}

// prepareCase authorizes and validates a case before its transaction.
func (s *Service) prepareCase(ctx context.Context, actor *auth.Actor, in CaseInput) (casePlan, error) {
	if err := auth.Authorize(actor, auth.ActCaseWrite, auth.Resource{}); err != nil {
		return casePlan{}, err
	}
	in.Summary = strings.TrimSpace(in.Summary)
	in.SourceID = strings.TrimSpace(in.SourceID)
	p := casePlan{in: in}
	var v platform.Validator
	if v.Require("source", in.Source) {
		v.OneOf("source", in.Source, CaseSources...)
	}
	if v.Require("violation", in.Violation) {
		v.OneOf("violation", in.Violation, Violations...)
	}
	if v.Require("summary", in.Summary) {
		v.MaxLen("summary", in.Summary, 4000)
	}
	if in.Source != SourceManual && in.Source != "" {
		v.Require("source_id", in.SourceID)
	}
	v.MaxLen("source_id", in.SourceID, 100)
	if !hasCode(in.OperatorCodes) {
		v.Add("operator_codes", "required", "请填写涉案主体代码", "give the operators concerned")
	}
	if len(in.OperatorCodes) > MaxCaseOperators {
		v.Add("operator_codes", "too_many", fmt.Sprintf("最多 %d 个涉案主体", MaxCaseOperators), fmt.Sprintf("at most %d operators", MaxCaseOperators))
	}
	seen := map[int64]bool{}
	for i, c := range in.OperatorCodes {
		if strings.TrimSpace(c) == "" {
			continue // an empty box of the form (its index stays the box's)
		}
		o, err := s.operatorInReach(ctx, actor, auth.ActCaseWrite, operatorCodeOf(strings.TrimSpace(c)))
		if err != nil {
			if k := platform.KindOf(err); k == platform.KindNotFound || k == platform.KindInvalid {
				v.Add(fmt.Sprintf("operator_codes[%d]", i), "unknown", "主体代码“"+c+"”不存在或不在您的辖区内", "no operator "+c+" in your jurisdiction")
				continue
			}
			return casePlan{}, err
		}
		if !seen[o.ID] {
			seen[o.ID] = true
			p.ops = append(p.ops, o)
		}
	}
	if err := s.checkEvidence(ctx, actor, &v, &p); err != nil {
		return casePlan{}, err
	}
	if err := v.Err(); err != nil {
		return casePlan{}, err
	}
	return p, s.checkSource(ctx, actor, &p)
}

// checkEvidence: known kinds, a reference for all but notes, batches that exist.
func (s *Service) checkEvidence(ctx context.Context, actor *auth.Actor, v *platform.Validator, p *casePlan) error {
	if len(p.in.Evidence) > 100 {
		v.Add("evidence", "too_many", "证据最多 100 项", "at most 100 items of evidence")
		return nil
	}
	for i := range p.in.Evidence {
		e := &p.in.Evidence[i]
		f := fmt.Sprintf("evidence[%d]", i)
		e.Ref, e.Note = strings.TrimSpace(e.Ref), strings.TrimSpace(e.Note)
		if !v.OneOf(f+".kind", e.Kind, EvidenceKinds...) {
			continue
		}
		v.MaxLen(f+".ref", e.Ref, 200)
		v.MaxLen(f+".note", e.Note, 1000)
		switch e.Kind {
		case "note":
			v.Check(e.Note != "", f+".note", "required", "请写明证据内容", "say what the evidence is")
		case "batch":
			code, err := s.tr.Resolve(ctx, e.Ref)
			if err != nil {
				if k := platform.KindOf(err); k == platform.KindNotFound || k == platform.KindInvalid {
					v.Add(f+".ref", "unknown", "追溯码“"+e.Ref+"”不存在", "no batch "+e.Ref)
					continue
				}
				return err
			}
			e.Ref = code
		default:
			v.Require(f+".ref", e.Ref)
		}
	}
	return nil
}

// checkSource: an inspection or finding source must exist in reach (a
// finding is taken up in the case's transaction).
func (s *Service) checkSource(ctx context.Context, actor *auth.Actor, p *casePlan) error {
	id, _ := strconv.ParseInt(p.in.SourceID, 10, 64)
	switch p.in.Source {
	case SourceInspection:
		if id == 0 {
			var err error
			if id, err = s.inspectionIDByNumber(ctx, p.in.SourceID); err != nil {
				return err
			}
		}
		if _, err := s.Inspection(ctx, actor, id); err != nil {
			return sourceErr(err)
		}
		p.in.SourceID = strconv.FormatInt(id, 10)
	case SourceFinding:
		if _, err := s.tr.Finding(ctx, actor, id); err != nil {
			return sourceErr(err)
		}
		p.findingID = id
	case SourceComplaint:
		// a complaint filed on the platform (its ticket or id) is linked to
		// the case; any other reference (a 12316 hotline number) is kept as given
		var cid int64
		var region string
		err := s.db.QueryRow(ctx, `SELECT id, region_code FROM complaints WHERE ticket = $1 OR CAST(id AS TEXT) = $1`, strings.ToUpper(p.in.SourceID)).Scan(&cid, &region)
		switch {
		case err == nil:
			if auth.Authorize(actor, auth.ActComplaintRead, auth.Resource{Region: region}) != nil {
				return sourceErr(platform.NotFound("举报不存在", "complaint not found"))
			}
			p.complaintID = cid
		case errors.Is(err, sql.ErrNoRows):
			if strings.HasPrefix(strings.ToUpper(p.in.SourceID), "JB-") {
				return sourceErr(platform.NotFound("举报不存在", "complaint not found"))
			}
		default:
			return err
		}
	case SourceSample:
		id, err := s.sampleInReach(ctx, actor, p.in.SourceID)
		if err != nil {
			return err
		}
		p.in.SourceID = strconv.FormatInt(id, 10)
	}
	return nil
}

// sampleInReach finds a sample by id or sample number in the actor's
// jurisdiction (422 on source_id otherwise).
func (s *Service) sampleInReach(ctx context.Context, actor *auth.Actor, ref string) (int64, error) {
	var id int64
	var region string
	err := s.db.QueryRow(ctx, `SELECT id, region_code FROM samples WHERE sample_no = $1 OR CAST(id AS TEXT) = $1 ORDER BY id LIMIT 1`, ref).Scan(&id, &region)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, sourceErr(platform.NotFound("抽样记录不存在", "sample not found"))
		}
		return 0, err
	}
	if err := auth.Authorize(actor, auth.ActCaseWrite, auth.Resource{Region: region}); err != nil {
		return 0, sourceErr(platform.NotFound("抽样记录不存在", "sample not found"))
	}
	return id, nil
}

func (s *Service) inspectionIDByNumber(ctx context.Context, number string) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT id FROM inspections WHERE number = $1`, number).Scan(&id)
	if err != nil {
		return 0, sourceErr(errInspectionNotFound)
	}
	return id, nil
}

func sourceErr(err error) error {
	if k := platform.KindOf(err); k == platform.KindNotFound || k == platform.KindForbidden {
		return platform.Invalid(platform.FieldError{Field: "source_id", Code: "unknown", ZH: "案件来源记录不存在或不在您的辖区内", EN: "the source record does not exist in your jurisdiction"})
	}
	return err
}

// FileCase files an enforcement case (立案): status filed, the
// investigation due in InvestigateWorkdays working days.
func (s *Service) FileCase(ctx context.Context, actor *auth.Actor, in CaseInput) (Case, error) {
	p, err := s.prepareCase(ctx, actor, in)
	if err != nil {
		return Case{}, err
	}
	today := s.Today()
	due, err := s.addWorkdays(ctx, today, InvestigateWorkdays)
	if err != nil {
		return Case{}, err
	}
	var id int64
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		id, err = s.fileCaseTx(ctx, tx, actor, p, today, due)
		return err
	})
	if err != nil {
		return Case{}, err
	}
	return s.caseByID(ctx, id)
}

func (s *Service) fileCaseTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, p casePlan, today, due string) (int64, error) {
	id, number, err := insertCaseTx(ctx, tx, actor, p, CaseFiled, today, due)
	if err != nil {
		return 0, err
	}
	if p.findingID != 0 {
		if err := s.tr.TakeUpTx(ctx, tx, actor, p.findingID, "已立案 "+number); err != nil {
			return 0, err
		}
	}
	if p.complaintID != 0 {
		if _, err := tx.Exec(ctx, `UPDATE complaints SET case_id = $1, updated_at = $2 WHERE id = $3`, id, tx.Now(), p.complaintID); err != nil {
			return 0, err
		}
	}
	return id, tx.Emit(ctx, platform.Event{Action: "case.file", ResourceType: "case", ResourceID: fmt.Sprint(id),
		Data: map[string]any{"number": number, "source": p.in.Source, "violation": p.in.Violation, "operators": len(p.ops), "due_on": due}})
}

// Draft is a case lead the platform opens for an enforcer to file or
// decline: a failed sample's, for the sampled operator.
type Draft struct {
	Operator  operator.Operator
	Source    string
	SourceID  string
	Violation string
	Summary   string
	Evidence  []Evidence
	DueOn     string // from DraftDue, computed before the transaction
}

// DraftDue is when a draft opened today must be filed or declined.
func (s *Service) DraftDue(ctx context.Context, today string) (string, error) {
	return s.addWorkdays(ctx, today, DraftWorkdays)
}

// DraftCaseTx opens a draft case in the writer's transaction (the failed
// sample's): status draft in the operator's region, its number taken now,
// the step and the event written with it.
func (s *Service) DraftCaseTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, d Draft) (int64, string, error) {
	p := casePlan{in: CaseInput{Source: d.Source, SourceID: d.SourceID, Violation: d.Violation, Summary: d.Summary, Evidence: d.Evidence},
		ops: []operator.Operator{d.Operator}}
	today := platform.Today(tx.Now())
	id, number, err := insertCaseTx(ctx, tx, actor, p, CaseDraft, today, d.DueOn)
	if err != nil {
		return 0, "", err
	}
	return id, number, tx.Emit(ctx, platform.Event{Action: "case.draft", ResourceType: "case", ResourceID: fmt.Sprint(id),
		Data: map[string]any{"number": number, "source": d.Source, "source_id": d.SourceID, "violation": d.Violation, "due_on": d.DueOn}})
}

// insertCaseTx writes a case, its operators and its first step.
func insertCaseTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, p casePlan, status, today, due string) (int64, string, error) {
	first := p.ops[0]
	n, err := tx.NextSerial(ctx, "case:"+first.CountyCode+":"+today[:4])
	if err != nil {
		return 0, "", err
	}
	number := fmt.Sprintf("AJ-%s-%s-%04d", first.CountyCode, today[:4], n)
	ev := p.in.Evidence
	if ev == nil {
		ev = []Evidence{}
	}
	evJSON, _ := json.Marshal(ev)
	now := tx.Now()
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO cases (number, source, source_id, violation, summary, evidence, region_code, status, due_on, filed_on,
		filed_by, filed_by_name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id`,
		number, p.in.Source, p.in.SourceID, p.in.Violation, p.in.Summary, string(evJSON), first.RegionCode, status, platform.NullString(due), today,
		platform.NullInt(actor.UserID), actor.Name, now).Scan(&id); err != nil {
		return 0, "", fmt.Errorf("insert case: %w", err)
	}
	for _, o := range p.ops {
		if _, err := tx.Exec(ctx, `INSERT INTO case_operators (case_id, operator_id) VALUES ($1, $2)`, id, o.ID); err != nil {
			return 0, "", err
		}
	}
	step := StepFiled
	if status == CaseDraft {
		step = CaseDraft
	}
	return id, number, insertStep(ctx, tx, actor, id, step, "", status, nil, "", due, today)
}

func insertStep(ctx context.Context, tx *platform.Tx, actor *auth.Actor, caseID int64, step, from, to string, detail map[string]any, note, due, on string) error {
	if detail == nil {
		detail = map[string]any{}
	}
	b, _ := json.Marshal(detail)
	_, err := tx.Exec(ctx, `INSERT INTO case_steps (case_id, step, from_status, to_status, detail, note, due_on, actor_id, actor_name, on_date, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, caseID, step, from, to, string(b), note, platform.NullString(due),
		platform.NullInt(actor.UserID), actor.Name, on, tx.Now())
	return err
}

// checkStep validates a step's fields (not its order, which needs the case).
func checkStep(in *StepInput) error {
	in.Note, in.LegalBasis = strings.TrimSpace(in.Note), strings.TrimSpace(in.LegalBasis)
	var v platform.Validator
	if v.Require("step", in.Step) {
		v.OneOf("step", in.Step, CaseSteps...)
	}
	v.MaxLen("note", in.Note, 2000)
	v.MaxLen("legal_basis", in.LegalBasis, 500)
	switch in.Step {
	case StepDecision:
		if v.Require("decision", in.Decision) && v.OneOf("decision", in.Decision, Decisions...) {
			checkDecision(&v, in)
		}
	case StepFollowUp:
		v.Check(in.Rectified != nil, "rectified", "required", "请说明是否已整改到位", "say whether the rectification was done")
	case StepClosed:
		v.Check(in.Note != "", "note", "required", "结案时请写明处理结果", "say how the case ended (required to close)")
	}
	if in.Step != StepDecision {
		v.Check(in.Decision == "" && in.RectifyDays == 0 && in.PenaltyAmount == 0 && in.LegalBasis == "", "decision", "not_allowed",
			"处理决定只能在“作出决定”一步填写", "a decision goes with step decision only")
	}
	if in.Step != StepFollowUp {
		v.Check(in.Rectified == nil, "rectified", "not_allowed", "整改情况只在“跟踪检查”一步填写", "rectified goes with step follow_up only")
	}
	return v.Err()
}

func checkDecision(v *platform.Validator, in *StepInput) {
	if hasRectify(in.Decision) {
		if in.RectifyDays == 0 {
			v.Add("rectify_days", "required", "责令整改请填写整改期限（工作日）", "a rectification needs a deadline in working days")
		} else {
			v.Check(in.RectifyDays >= 1 && in.RectifyDays <= MaxRectifyDays, "rectify_days", "range",
				fmt.Sprintf("整改期限应为 1–%d 个工作日", MaxRectifyDays), fmt.Sprintf("must be 1–%d working days", MaxRectifyDays))
		}
	} else {
		v.Check(in.RectifyDays == 0, "rectify_days", "not_allowed", "该决定不设整改期限", "this decision has no rectification deadline")
	}
	if hasPenalty(in.Decision) {
		switch {
		case in.PenaltyAmount == 0:
			v.Add("penalty_amount", "required", "请填写罚款金额（元）", "give the penalty amount in yuan")
		case math.IsNaN(in.PenaltyAmount) || in.PenaltyAmount < 0 || in.PenaltyAmount > MaxPenaltyYuan:
			v.Add("penalty_amount", "range", "罚款金额应大于 0 且不超过 1000 万元", "must be above 0 and at most 10,000,000 yuan")
		case math.Abs(in.PenaltyAmount*100-math.Round(in.PenaltyAmount*100)) > 1e-6:
			v.Add("penalty_amount", "precision", "金额最多两位小数", "at most two decimals")
		}
		v.Check(in.LegalBasis != "", "legal_basis", "required", "行政处罚须写明法律依据", "a penalty needs its legal basis")
	} else {
		v.Check(in.PenaltyAmount == 0 && in.LegalBasis == "", "penalty_amount", "not_allowed", "该决定不含罚款", "this decision has no penalty")
	}
}

// outOfOrder is the 422 for a step the case's status does not allow.
func outOfOrder(step, status, decision string) error {
	next := NextSteps(status, decision)
	return platform.Invalid(platform.FieldError{Field: "step", Code: "out_of_order",
		ZH: "案件当前为“" + caseStatusZH[status] + "”，下一步只能是：" + strings.Join(stepNamesZH(next), "、"),
		EN: "the case is " + status + "; the next step can only be " + strings.Join(next, ", ")})
}

var caseStatusZH = map[string]string{CaseDraft: "待立案（草稿）", CaseFiled: "已立案", CaseInvestigated: "已调查", CaseDecided: "已决定", CaseFollowUp: "已跟踪检查", CaseClosed: "已结案"}

var stepZH = map[string]string{StepFiled: "立案", StepInvestigated: "调查取证", StepDecision: "作出决定", StepFollowUp: "跟踪检查", StepClosed: "结案"}

func stepNamesZH(steps []string) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = stepZH[s]
	}
	if len(out) == 0 {
		return []string{"（无）"}
	}
	return out
}

func allowedFrom(step, status string) bool { return slices.Contains(caseMoves[step], status) }

func hasCode(list []string) bool {
	for _, c := range list {
		if strings.TrimSpace(c) != "" {
			return true
		}
	}
	return false
}
