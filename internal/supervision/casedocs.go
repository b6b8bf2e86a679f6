package supervision

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/printing"
)

// Case documents (执法文书).
const (
	DocFiling  = "filing"  // 立案审批表
	DocRectify = "rectify" // 责令整改通知书
	DocPenalty = "penalty" // 行政处罚决定书
)

// CaseDocuments lists the documents a case has so far.
func CaseDocuments(c Case) []string {
	docs := []string{DocFiling}
	if c.DecidedOn != "" && hasRectify(c.Decision) {
		docs = append(docs, DocRectify)
	}
	if c.DecidedOn != "" && hasPenalty(c.Decision) {
		docs = append(docs, DocPenalty)
	}
	return docs
}

// Words for documents, in Chinese (the documents are Chinese legal texts).
var (
	violationZH = map[string]string{
		ViolationFalseRecords: "虚假记录或未如实记录（第十七条第一项）",
		ViolationBrokenChain:  "未按规定传递追溯信息、追溯链条断裂（第十七条第二项）",
		ViolationForgedCodes:  "伪造、冒用或违规使用追溯码、合格证、标签（第十七条第三项）",
		ViolationBatchMixing:  "批次混杂、线上记录与实物不符（第十七条第四项）",
		ViolationOther:        "其他违法违规行为",
	}
	sourceZH   = map[string]string{SourceInspection: "检查", SourceSample: "抽样检测", SourceComplaint: "投诉举报", SourceFinding: "在线监测线索", SourceManual: "执法人员录入"}
	decisionZH = map[string]string{DecisionRectify: "责令整改", DecisionPenalty: "行政处罚", DecisionRectifyAndPenalty: "责令整改并处罚款", DecisionNoViolation: "不予处罚（无违法事实）"}
)

// CaseDocumentPDF renders one of a case's documents, signed by the
// platform (SM2 over the document's data; the fingerprint is printed).
func (s *Service) CaseDocumentPDF(ctx context.Context, actor *auth.Actor, id int64, kind string) ([]byte, string, error) {
	c, err := s.Case(ctx, actor, id)
	if err != nil {
		return nil, "", err
	}
	if !slices.Contains(CaseDocuments(c), kind) {
		return nil, "", platform.NotFound("该案件尚无此文书", "the case has no such document yet")
	}
	d := printing.CaseDoc{Kind: printing.CaseDocKind(kind), Number: c.Number, Agency: s.caseAgency(ctx, c),
		Source: sourceZH[c.Source] + " " + c.SourceID, Violation: violationZH[c.Violation], Summary: c.Summary,
		FiledOn: c.FiledOn, FiledBy: c.FiledByName, DecidedOn: c.DecidedOn, Decision: decisionZH[c.Decision],
		LegalBasis: c.LegalBasis, Officer: caseOfficer(c, kind), VerifyURL: fmt.Sprintf("%s/cases/%d", strings.TrimRight(s.publicURL, "/"), c.ID)}
	for _, p := range c.Operators {
		o, err := s.ops.ByID(ctx, p.ID)
		if err != nil {
			return nil, "", err
		}
		d.Parties = append(d.Parties, printing.CaseParty{Name: o.Name, Code: o.Code, CreditCode: o.CreditCode, Address: o.Address, LegalRep: o.LegalRep})
	}
	for _, e := range c.Evidence {
		d.Evidence = append(d.Evidence, strings.TrimSpace(evidenceZH[e.Kind]+" "+e.Ref+" "+e.Note))
	}
	for _, st := range c.Steps {
		d.Steps = append(d.Steps, printing.CaseStep{On: st.Date, Step: stepWordZH(st.Step), Actor: st.ActorName, Note: st.Note})
		if st.Step == StepDecision {
			d.RectifyDue = st.DueOn
		}
	}
	if hasRectify(c.Decision) {
		d.RectifyDays = c.RectifyDays
	}
	if hasPenalty(c.Decision) {
		d.PenaltyYuan = formatYuan(c.PenaltyAmount)
	}
	signed, _ := json.Marshal(d)
	sig, err := s.signer.Sign(signed)
	if err != nil {
		return nil, "", err
	}
	d.Signature = base64.StdEncoding.EncodeToString(sig)
	var buf bytes.Buffer
	if err := printing.CaseDocument(&buf, d); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), fmt.Sprintf("%s-%s.pdf", c.Number, kind), nil
}

// caseOfficer is the official a document names: whoever took the decision
// (rectification order, penalty), or filed the case — never whoever happens
// to download it.
func caseOfficer(c Case, kind string) string {
	if kind != DocFiling {
		for i := len(c.Steps) - 1; i >= 0; i-- {
			if c.Steps[i].Step == StepDecision {
				return c.Steps[i].ActorName
			}
		}
	}
	return c.FiledByName
}

var evidenceZH = map[string]string{"batch": "批次", "inspection": "检查记录", "sample": "抽样", "finding": "监测线索", "document": "材料", "note": "说明"}

func stepWordZH(step string) string {
	if step == StepFiled {
		return "立案"
	}
	return stepZH[step]
}

// caseAgency is the department that issues a case's documents: the
// agency of whoever filed it, else the county's agriculture bureau.
func (s *Service) caseAgency(ctx context.Context, c Case) string {
	var name string
	_ = s.db.QueryRow(ctx, `SELECT COALESCE(a.name, '') FROM cases c JOIN users u ON u.id = c.filed_by LEFT JOIN agencies a ON a.id = u.agency_id
		WHERE c.id = $1`, c.ID).Scan(&name)
	if name != "" {
		return name
	}
	if n, err := s.regions.FullName(ctx, c.RegionCode[:6]); err == nil && n != "" {
		return n + "农业农村局"
	}
	return "农业农村主管部门"
}

// formatYuan writes an amount as 5,000.00.
func formatYuan(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + "." + frac
}
