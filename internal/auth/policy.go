// Package auth holds users, sessions, API tokens, roles and jurisdiction, and
// the one function that answers "may actor X do action Y on resource Z".
package auth

import (
	"slices"
	"strings"

	"agtrace/internal/platform"
)

// Role is a user's single role.
type Role string

const (
	RoleAdmin       Role = "admin"
	RoleReviewer    Role = "reviewer"
	RoleSupervisor  Role = "supervisor"
	RoleTownship    Role = "township"
	RoleInspector   Role = "inspector"
	RoleTester      Role = "tester"
	RoleEnforcer    Role = "enforcer"
	RoleAnalyst     Role = "analyst"
	RoleOperator    Role = "operator"
	RoleStaff       Role = "staff"
	RoleMarket      Role = "market"
	RoleIntegration Role = "integration"
	// RoleSystem is the platform itself (the CLI, the demo loader): never an
	// account, so it cannot log in; allowed every action of the policy table.
	RoleSystem Role = "system"
)

// SystemName is how the system actor appears in the audit log.
const SystemName = "system"

// System returns the actor for work the platform does itself (CLI commands,
// the demo loader). Services treat a nil actor as unauthenticated (401).
func System() *Actor {
	return &Actor{Username: SystemName, Name: "系统", Role: RoleSystem, Region: "000000"}
}

// SystemOrigin is the audit origin of the system actor's writes; via says
// what ran them ("cli", "demo").
func SystemOrigin(via string) platform.Origin {
	return platform.Origin{Username: SystemName, Addr: via}
}

// Roles lists every role an account may have, in display order (not RoleSystem).
var Roles = []Role{RoleAdmin, RoleReviewer, RoleSupervisor, RoleTownship, RoleInspector, RoleTester,
	RoleEnforcer, RoleAnalyst, RoleOperator, RoleStaff, RoleMarket, RoleIntegration}

// ValidRole reports whether s names a role.
func ValidRole(s string) bool { return slices.Contains(Roles, Role(s)) }

// Action is something an actor may try to do.
type Action string

const (
	// foundation
	ActUserManage   Action = "user.manage"
	ActAgencyManage Action = "agency.manage"
	ActCalendarEdit Action = "calendar.edit"
	ActAuditRead    Action = "audit.read"
	ActTokenManage  Action = "token.manage"
	ActTokenSelf    Action = "token.self" // an integration account lists / revokes its own tokens
	ActRegionRead   Action = "region.read"
	ActOwnAccount   Action = "account.self"
	// operators
	ActOperatorRead    Action = "operator.read"
	ActOperatorEdit    Action = "operator.edit"    // the operator edits its own draft / change request
	ActOperatorReview  Action = "operator.review"  // approve / reject registrations and changes
	ActOperatorSuspend Action = "operator.suspend" // suspend / cancel
	ActOperatorExport  Action = "operator.export"
	ActStaffManage     Action = "staff.manage"
	ActDocumentRead    Action = "document.read"
	ActRosterWrite     Action = "roster.write"
	ActRosterRead      Action = "roster.read"
	ActAgreementIssue  Action = "agreement.issue"
	ActAgreementSign   Action = "agreement.sign"
	ActAgreementRead   Action = "agreement.read"
	// trace
	ActBatchWrite      Action = "batch.write"
	ActBatchRead       Action = "batch.read"
	ActLabelPrint      Action = "label.print"
	ActTransferSell    Action = "transfer.sell"
	ActTransferConfirm Action = "transfer.confirm"
	ActMarketAccept    Action = "market.accept"
	ActTempOperator    Action = "operator.temporary" // record a smallholder under a temporary code
	ActTraceRead       Action = "trace.read"
	ActFindingsRead    Action = "findings.read"
	ActFindingHandle   Action = "findings.handle" // take up, close or reopen a finding
	ActMarketManage    Action = "market.manage"   // register markets (places sellers pick)
	// supervision and enforcement
	ActInspect        Action = "inspection.record" // record a site or enforcement inspection
	ActInspectionRead Action = "inspection.read"
	ActDrawManage     Action = "draw.manage" // define and run random draws (双随机)
	ActDrawRead       Action = "draw.read"
	ActCaseWrite      Action = "case.write" // file enforcement cases and take their steps
	ActCaseRead       Action = "case.read"
	ActCreditRead     Action = "credit.read"
	// complaints from the public (举报)
	ActComplaintRead   Action = "complaint.read"
	ActComplaintHandle Action = "complaint.handle" // assign, reply to and close complaints
	ActMonitorSettings Action = "monitor.settings" // online-monitoring thresholds per region
	// monitoring
	ActLimitManage  Action = "limits.manage" // edit and import residue limits
	ActSampleRecord Action = "sample.record" // record a sampling test
	ActSampleRead   Action = "sample.read"
	ActRecallManage Action = "recall.manage" // confirm or release a recall
	ActRecallRead   Action = "recall.read"
	// feedback on the platform itself (问题反馈)
	ActFeedbackFile   Action = "feedback.file"   // file feedback and follow one's own (every role)
	ActFeedbackTriage Action = "feedback.triage" // read everyone's feedback, triage it, the monthly summary
	// analysis and decision (分析决策)
	ActStatsRead Action = "stats.read" // dashboards, figures and maps of a jurisdiction
	// pilot performance assessment (绩效考核)
	ActAssessRead  Action = "assessment.read"  // assessments ranking the regions of a jurisdiction, their scores and reports
	ActAssessRun   Action = "assessment.run"   // compute an assessment on demand (a month, a level, a jurisdiction)
	ActAssessSheet Action = "assessment.sheet" // edit the scoring sheets (indicators, weights, targets)
	// emergency command (应急指挥)
	ActIncidentRead   Action = "incident.read"   // incidents touching the jurisdiction, their batches, tasks, timeline, report
	ActIncidentManage Action = "incident.manage" // declare incidents, assign tasks, record batch states
	ActIncidentTask   Action = "incident.task"   // report progress on a task assigned to oneself
	// early warning (预警)
	ActWarningRead   Action = "warning.read"   // warnings of a jurisdiction, their evidence and handling
	ActWarningHandle Action = "warning.handle" // acknowledge, close or dismiss a warning
	// standard import/export and the changes feed (数据交换)
	ActExchangeExport  Action = "exchange.export"  // export operators, batches and stage records of a region (NY/T 4712 field set)
	ActExchangeImport  Action = "exchange.import"  // import them: rows written through the services on behalf of their operators
	ActChangesRead     Action = "changes.read"     // the changes feed: events since a position, in the actor's reach
	ActIntegrationPush Action = "integration.push" // write as an approved operator of the region (Agtrace-Operator header; docs/security.md)
	// province ↔ national nodes over NATS JetStream (docs/exchange.md)
	ActExchangeStatus Action = "exchange.status" // the node's stream positions, lag and parked messages
	ActExchangeRetry  Action = "exchange.retry"  // apply a parked message again
)

// Staff permissions an operator grants to its sub-accounts.
const (
	PermRecord = "record" // record batches, split/merge/transform
	PermSell   = "sell"   // sell and confirm incoming transfers
	PermPrint  = "print"  // print labels and certificates
)

// StaffPerms lists the grantable permissions.
var StaffPerms = []string{PermRecord, PermSell, PermPrint}

type scope int

const (
	scopeAll         scope = iota // everywhere (admin)
	scopeRegion                   // the actor's region subtree
	scopeOwnOperator              // only resources of the actor's operator
	scopeSelf                     // only the actor's own account
)

type grant struct {
	scope scope
	perm  string // staff permission needed, if any
}

// policy is the whole authorization table: role → action → how far it reaches.
// Anything not listed is refused.
var policy = map[Role]map[Action]grant{
	RoleAdmin: {
		ActExchangeExport: {scope: scopeAll}, ActExchangeImport: {scope: scopeAll}, ActChangesRead: {scope: scopeAll},
		ActExchangeStatus: {scope: scopeAll}, ActExchangeRetry: {scope: scopeAll},
		ActIncidentRead: {scope: scopeAll}, ActIncidentManage: {scope: scopeAll}, ActIncidentTask: {scope: scopeAll},
		ActUserManage: {scope: scopeAll}, ActAgencyManage: {scope: scopeAll}, ActCalendarEdit: {scope: scopeAll},
		ActAuditRead: {scope: scopeAll}, ActTokenManage: {scope: scopeAll}, ActRegionRead: {scope: scopeAll},
		ActOwnAccount: {scope: scopeSelf}, ActOperatorRead: {scope: scopeAll}, ActOperatorReview: {scope: scopeAll},
		ActOperatorSuspend: {scope: scopeAll}, ActOperatorExport: {scope: scopeAll}, ActDocumentRead: {scope: scopeAll},
		ActRosterRead: {scope: scopeAll}, ActAgreementRead: {scope: scopeAll}, ActBatchRead: {scope: scopeAll},
		ActTraceRead: {scope: scopeAll}, ActFindingsRead: {scope: scopeAll}, ActFindingHandle: {scope: scopeAll},
		ActMarketManage:   {scope: scopeAll},
		ActInspectionRead: {scope: scopeAll}, ActDrawRead: {scope: scopeAll}, ActDrawManage: {scope: scopeAll}, ActCaseRead: {scope: scopeAll},
		ActCreditRead: {scope: scopeAll}, ActMonitorSettings: {scope: scopeAll}, ActLimitManage: {scope: scopeAll},
		ActSampleRead: {scope: scopeAll}, ActRecallManage: {scope: scopeAll}, ActRecallRead: {scope: scopeAll},
		ActComplaintRead: {scope: scopeAll}, ActComplaintHandle: {scope: scopeAll},
		ActFeedbackFile: {scope: scopeSelf}, ActFeedbackTriage: {scope: scopeAll}, ActStatsRead: {scope: scopeAll},
		ActAssessRead: {scope: scopeAll}, ActAssessRun: {scope: scopeAll}, ActAssessSheet: {scope: scopeAll},
		ActWarningRead: {scope: scopeAll}, ActWarningHandle: {scope: scopeAll},
	},
	RoleReviewer: {
		ActRegionRead: {}, ActOwnAccount: {scope: scopeSelf}, ActFeedbackFile: {scope: scopeSelf}, ActStatsRead: {scope: scopeRegion},
		ActOperatorRead: {scope: scopeRegion}, ActOperatorReview: {scope: scopeRegion}, ActOperatorSuspend: {scope: scopeRegion},
		ActOperatorExport: {scope: scopeRegion}, ActDocumentRead: {scope: scopeRegion}, ActRosterRead: {scope: scopeRegion},
		ActAgreementIssue: {scope: scopeRegion}, ActAgreementRead: {scope: scopeRegion},
		ActBatchRead: {scope: scopeRegion}, ActTraceRead: {scope: scopeRegion}, ActFindingsRead: {scope: scopeRegion}, ActMarketManage: {scope: scopeRegion},
		ActInspectionRead: {scope: scopeRegion}, ActCaseRead: {scope: scopeRegion}, ActCreditRead: {scope: scopeRegion},
	},
	RoleSupervisor: {
		ActAssessRead: {scope: scopeRegion}, ActAssessRun: {scope: scopeRegion},
		ActIncidentRead: {scope: scopeRegion}, ActIncidentManage: {scope: scopeRegion}, ActIncidentTask: {scope: scopeRegion},
		ActRegionRead: {}, ActOwnAccount: {scope: scopeSelf}, ActFeedbackFile: {scope: scopeSelf}, ActStatsRead: {scope: scopeRegion},
		ActOperatorRead: {scope: scopeRegion}, ActOperatorSuspend: {scope: scopeRegion}, ActOperatorExport: {scope: scopeRegion},
		ActDocumentRead: {scope: scopeRegion}, ActRosterRead: {scope: scopeRegion}, ActAgreementIssue: {scope: scopeRegion},
		ActAgreementRead: {scope: scopeRegion}, ActBatchRead: {scope: scopeRegion}, ActTraceRead: {scope: scopeRegion},
		ActFindingsRead: {scope: scopeRegion}, ActFindingHandle: {scope: scopeRegion}, ActMarketManage: {scope: scopeRegion},
		ActInspect: {scope: scopeRegion}, ActInspectionRead: {scope: scopeRegion}, ActDrawManage: {scope: scopeRegion}, ActDrawRead: {scope: scopeRegion},
		ActCaseRead: {scope: scopeRegion}, ActCreditRead: {scope: scopeRegion}, ActMonitorSettings: {scope: scopeRegion},
		ActSampleRead: {scope: scopeRegion}, ActRecallManage: {scope: scopeRegion}, ActRecallRead: {scope: scopeRegion},
		ActComplaintRead: {scope: scopeRegion}, ActComplaintHandle: {scope: scopeRegion},
		ActWarningRead: {scope: scopeRegion}, ActWarningHandle: {scope: scopeRegion},
	},
	RoleTownship: {
		ActRegionRead: {}, ActOwnAccount: {scope: scopeSelf}, ActFeedbackFile: {scope: scopeSelf},
		ActOperatorRead: {scope: scopeRegion}, ActRosterWrite: {scope: scopeRegion}, ActRosterRead: {scope: scopeRegion},
		ActBatchRead: {scope: scopeRegion}, ActTraceRead: {scope: scopeRegion},
	},
	RoleInspector: {
		ActIncidentRead: {scope: scopeRegion}, ActIncidentTask: {scope: scopeRegion},
		ActRegionRead: {}, ActOwnAccount: {scope: scopeSelf}, ActFeedbackFile: {scope: scopeSelf}, ActStatsRead: {scope: scopeRegion},
		ActOperatorRead: {scope: scopeRegion}, ActBatchRead: {scope: scopeRegion}, ActTraceRead: {scope: scopeRegion},
		ActFindingsRead: {scope: scopeRegion}, ActAgreementRead: {scope: scopeRegion}, ActFindingHandle: {scope: scopeRegion},
		ActInspect: {scope: scopeRegion}, ActInspectionRead: {scope: scopeRegion}, ActDrawRead: {scope: scopeRegion},
		ActCaseRead: {scope: scopeRegion}, ActCreditRead: {scope: scopeRegion},
		ActSampleRead: {scope: scopeRegion}, ActRecallRead: {scope: scopeRegion},
		ActWarningRead: {scope: scopeRegion},
	},
	RoleTester: {
		ActIncidentRead: {scope: scopeRegion}, ActIncidentTask: {scope: scopeRegion},
		ActRegionRead: {}, ActOwnAccount: {scope: scopeSelf}, ActFeedbackFile: {scope: scopeSelf},
		ActOperatorRead: {scope: scopeRegion}, ActBatchRead: {scope: scopeRegion}, ActTraceRead: {scope: scopeRegion},
		ActInspectionRead: {scope: scopeRegion}, ActCreditRead: {scope: scopeRegion},
		ActSampleRecord: {scope: scopeRegion}, ActSampleRead: {scope: scopeRegion}, ActRecallRead: {scope: scopeRegion},
	},
	RoleEnforcer: {
		ActIncidentRead: {scope: scopeRegion}, ActIncidentTask: {scope: scopeRegion},
		ActRegionRead: {}, ActOwnAccount: {scope: scopeSelf}, ActFeedbackFile: {scope: scopeSelf}, ActStatsRead: {scope: scopeRegion},
		ActOperatorRead: {scope: scopeRegion}, ActDocumentRead: {scope: scopeRegion}, ActBatchRead: {scope: scopeRegion},
		ActTraceRead: {scope: scopeRegion}, ActFindingsRead: {scope: scopeRegion}, ActAgreementRead: {scope: scopeRegion},
		ActFindingHandle: {scope: scopeRegion},
		ActInspect:       {scope: scopeRegion}, ActInspectionRead: {scope: scopeRegion}, ActDrawRead: {scope: scopeRegion},
		ActCaseWrite: {scope: scopeRegion}, ActCaseRead: {scope: scopeRegion}, ActCreditRead: {scope: scopeRegion},
		ActSampleRead: {scope: scopeRegion}, ActRecallRead: {scope: scopeRegion},
		ActComplaintRead: {scope: scopeRegion}, ActComplaintHandle: {scope: scopeRegion},
		ActWarningRead: {scope: scopeRegion},
	},
	RoleAnalyst: {
		ActAssessRead: {scope: scopeRegion}, ActIncidentRead: {scope: scopeRegion}, ActRegionRead: {}, ActOwnAccount: {scope: scopeSelf}, ActFeedbackFile: {scope: scopeSelf}, ActStatsRead: {scope: scopeRegion},
		ActOperatorRead: {scope: scopeRegion}, ActOperatorExport: {scope: scopeRegion}, ActRosterRead: {scope: scopeRegion},
		ActAgreementRead: {scope: scopeRegion}, ActBatchRead: {scope: scopeRegion}, ActTraceRead: {scope: scopeRegion},
		ActFindingsRead:   {scope: scopeRegion},
		ActInspectionRead: {scope: scopeRegion}, ActDrawRead: {scope: scopeRegion}, ActCaseRead: {scope: scopeRegion}, ActCreditRead: {scope: scopeRegion},
		ActSampleRead: {scope: scopeRegion}, ActRecallRead: {scope: scopeRegion}, ActComplaintRead: {scope: scopeRegion},
		ActWarningRead: {scope: scopeRegion},
	},
	RoleOperator: {
		ActRegionRead: {}, ActOwnAccount: {scope: scopeSelf}, ActFeedbackFile: {scope: scopeSelf}, ActChangesRead: {scope: scopeOwnOperator},
		ActOperatorRead: {scope: scopeOwnOperator}, ActOperatorEdit: {scope: scopeOwnOperator},
		ActStaffManage: {scope: scopeOwnOperator}, ActDocumentRead: {scope: scopeOwnOperator},
		ActAgreementSign: {scope: scopeOwnOperator}, ActAgreementRead: {scope: scopeOwnOperator},
		ActBatchWrite: {scope: scopeOwnOperator}, ActBatchRead: {scope: scopeOwnOperator},
		ActLabelPrint: {scope: scopeOwnOperator}, ActTransferSell: {scope: scopeOwnOperator},
		ActTransferConfirm: {scope: scopeOwnOperator}, ActTraceRead: {scope: scopeOwnOperator},
		ActTempOperator:   {scope: scopeRegion},
		ActInspectionRead: {scope: scopeOwnOperator}, ActCaseRead: {scope: scopeOwnOperator}, ActCreditRead: {scope: scopeOwnOperator},
		ActSampleRead: {scope: scopeOwnOperator}, ActRecallRead: {scope: scopeOwnOperator},
	},
	RoleStaff: {
		ActRegionRead: {}, ActOwnAccount: {scope: scopeSelf}, ActFeedbackFile: {scope: scopeSelf},
		ActOperatorRead: {scope: scopeOwnOperator},
		ActBatchWrite:   {scope: scopeOwnOperator, perm: PermRecord}, ActBatchRead: {scope: scopeOwnOperator},
		ActLabelPrint: {scope: scopeOwnOperator, perm: PermPrint}, ActTransferSell: {scope: scopeOwnOperator, perm: PermSell},
		ActTransferConfirm: {scope: scopeOwnOperator, perm: PermSell}, ActTraceRead: {scope: scopeOwnOperator},
	},
	RoleMarket: {
		ActRegionRead: {}, ActOwnAccount: {scope: scopeSelf}, ActFeedbackFile: {scope: scopeSelf},
		ActMarketAccept: {scope: scopeRegion}, ActBatchRead: {scope: scopeRegion}, ActTraceRead: {scope: scopeRegion},
		ActTempOperator: {scope: scopeRegion}, ActOperatorRead: {scope: scopeRegion}, ActMarketManage: {scope: scopeRegion},
	},
	RoleIntegration: {
		ActExchangeExport: {scope: scopeRegion}, ActExchangeImport: {scope: scopeRegion}, ActChangesRead: {scope: scopeRegion},
		ActIntegrationPush: {scope: scopeRegion},
		ActRegionRead:      {}, ActOperatorRead: {scope: scopeRegion}, ActBatchRead: {scope: scopeRegion},
		ActTraceRead: {scope: scopeRegion}, ActTokenSelf: {scope: scopeSelf}, ActFeedbackFile: {scope: scopeSelf},
	},
}

func init() {
	// the system actor may take every action the table knows, everywhere
	all := map[Action]grant{}
	for _, acts := range policy {
		for act := range acts {
			all[act] = grant{scope: scopeAll}
		}
	}
	policy[RoleSystem] = all
}

// readActions answer 404 instead of 403 outside the actor's reach, so that the
// existence of a resource is not revealed.
var readActions = map[Action]bool{
	ActOperatorRead: true, ActDocumentRead: true, ActRosterRead: true, ActAgreementRead: true,
	ActBatchRead: true, ActTraceRead: true, ActFindingsRead: true, ActAuditRead: true, ActRegionRead: true,
	ActInspectionRead: true, ActDrawRead: true, ActCaseRead: true, ActCreditRead: true, ActSampleRead: true, ActRecallRead: true,
	ActComplaintRead: true, ActStatsRead: true, ActAssessRead: true,
	ActExchangeExport: true, ActChangesRead: true, ActExchangeStatus: true,
	ActIncidentRead: true,
	ActWarningRead:  true,
}

// IsRead reports whether a is a read-only action.
func IsRead(a Action) bool { return readActions[a] }

// Resource is what an action touches: where it is, and whose it is.
// A zero Resource means "nothing in particular" (a list, a create form).
type Resource struct {
	Region     string // GB/T 2260 code of the resource (county or township)
	OperatorID int64  // owning operator, if any
	UserID     int64  // the account concerned, for account.self
}

// Actor is an authenticated user (or machine client) making a request.
type Actor struct {
	UserID      int64
	Username    string
	Name        string
	Role        Role
	Region      string // jurisdiction root: the actor reaches this region's subtree
	OperatorID  int64  // for operator and staff accounts
	Permissions []string
	Scopes      []string   // for integration tokens: allowed actions (empty = role default)
	TokenID     string     // for integration tokens: the token's id (rate limit, call log)
	Rate        ClientRate // for integration tokens: the token's rate limit, defaulted
}

// Can reports whether a may do act at all, somewhere (used to build menus).
func (a *Actor) Can(act Action) bool {
	if a == nil {
		return false
	}
	g, ok := policy[a.Role][act]
	return ok && a.hasPerm(g.perm) && a.scopeAllows(act)
}

func (a *Actor) hasPerm(p string) bool { return p == "" || slices.Contains(a.Permissions, p) }

func (a *Actor) scopeAllows(act Action) bool {
	return len(a.Scopes) == 0 || slices.Contains(a.Scopes, string(act))
}

// Authorize is the single answer to "may actor do act on res". It returns nil,
// or a platform error: 401 without an actor, 404 for reads out of reach, 403 otherwise.
func Authorize(a *Actor, act Action, res Resource) error {
	if a == nil {
		return platform.Unauthorized("请先登录", "authentication required")
	}
	g, ok := policy[a.Role][act]
	if !ok || !a.hasPerm(g.perm) || !a.scopeAllows(act) {
		return deny(act)
	}
	switch g.scope {
	case scopeAll:
		return nil
	case scopeSelf:
		if res.UserID == 0 || res.UserID == a.UserID {
			return nil
		}
	case scopeOwnOperator:
		if res.OperatorID == 0 && res.Region == "" {
			return nil // a list or a create: the service restricts it to the actor's operator
		}
		if a.OperatorID != 0 && res.OperatorID == a.OperatorID {
			return nil
		}
	case scopeRegion:
		if res.Region == "" || Within(res.Region, a.Region) {
			return nil
		}
	}
	return deny(act)
}

func deny(act Action) error {
	if readActions[act] {
		return platform.NotFound("未找到，或不在您的管辖范围内", "not found or outside your jurisdiction")
	}
	return platform.Forbidden("您无权执行此操作", "you are not allowed to do this")
}

// Within reports whether region code x lies in the subtree of root. GB/T 2260
// codes are hierarchical: PP0000 province, PPCC00 prefecture, PPCCDD county,
// PPCCDDTTT township; "000000" (or "") is the whole country.
func Within(x, root string) bool {
	p := RegionPrefix(root)
	return strings.HasPrefix(x, p)
}

// RegionPrefix returns the code prefix shared by everything in root's subtree.
func RegionPrefix(root string) string {
	switch {
	case root == "" || root == "000000":
		return ""
	case len(root) == 6 && strings.HasSuffix(root, "0000"):
		return root[:2]
	case len(root) == 6 && strings.HasSuffix(root, "00"):
		return root[:4]
	default:
		return root
	}
}
