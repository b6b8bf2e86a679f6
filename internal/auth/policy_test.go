package auth

import (
	"testing"

	"agtrace/internal/platform"
)

// allActions lists every action the platform knows, so that a new action
// without an expectation below fails the test.
var allActions = []Action{
	ActUserManage, ActAgencyManage, ActCalendarEdit, ActAuditRead, ActTokenManage, ActTokenSelf, ActRegionRead, ActOwnAccount,
	ActOperatorRead, ActOperatorEdit, ActOperatorReview, ActOperatorSuspend, ActOperatorExport, ActStaffManage,
	ActDocumentRead, ActRosterWrite, ActRosterRead, ActAgreementIssue, ActAgreementSign, ActAgreementRead,
	ActBatchWrite, ActBatchRead, ActLabelPrint, ActTransferSell, ActTransferConfirm, ActMarketAccept,
	ActTempOperator, ActTraceRead, ActFindingsRead, ActFindingHandle, ActMarketManage,
	ActInspect, ActInspectionRead, ActDrawManage, ActDrawRead, ActCaseWrite, ActCaseRead, ActCreditRead, ActMonitorSettings, ActLimitManage,
	ActSampleRecord, ActSampleRead, ActRecallManage, ActRecallRead, ActComplaintRead, ActComplaintHandle,
	ActFeedbackFile, ActFeedbackTriage, ActStatsRead,
	ActAssessRead, ActAssessRun, ActAssessSheet,
	ActIncidentRead, ActIncidentManage, ActIncidentTask,
	ActWarningRead, ActWarningHandle,
	ActExchangeExport, ActExchangeImport, ActChangesRead,
	ActExchangeStatus, ActExchangeRetry,
	ActIntegrationPush,
}

// expect says, per role, where each action is allowed: "all" = inside and
// outside the actor's jurisdiction, "in" = only inside; absent = nowhere.
// It is written out independently of the policy table on purpose.
var expect = map[Role]map[Action]string{
	RoleAdmin: {ActExchangeStatus: "all", ActExchangeRetry: "all", ActExchangeExport: "all", ActExchangeImport: "all", ActChangesRead: "all", ActWarningRead: "all", ActWarningHandle: "all", ActIncidentRead: "all", ActIncidentManage: "all", ActIncidentTask: "all", ActUserManage: "all", ActAgencyManage: "all", ActCalendarEdit: "all", ActAuditRead: "all", ActTokenManage: "all",
		ActRegionRead: "all", ActOwnAccount: "in", ActOperatorRead: "all", ActOperatorReview: "all", ActOperatorSuspend: "all",
		ActOperatorExport: "all", ActDocumentRead: "all", ActRosterRead: "all", ActAgreementRead: "all", ActBatchRead: "all",
		ActTraceRead: "all", ActFindingsRead: "all", ActFindingHandle: "all", ActMarketManage: "all", ActInspectionRead: "all", ActDrawRead: "all", ActDrawManage: "all", ActCaseRead: "all", ActCreditRead: "all", ActMonitorSettings: "all", ActLimitManage: "all", ActSampleRead: "all", ActRecallManage: "all", ActRecallRead: "all", ActComplaintRead: "all", ActComplaintHandle: "all", ActFeedbackFile: "in", ActFeedbackTriage: "all", ActStatsRead: "all", ActAssessRead: "all", ActAssessRun: "all", ActAssessSheet: "all"},
	RoleReviewer: {ActRegionRead: "all", ActOwnAccount: "in", ActFeedbackFile: "in", ActStatsRead: "in", ActOperatorRead: "in", ActOperatorReview: "in", ActOperatorSuspend: "in",
		ActOperatorExport: "in", ActDocumentRead: "in", ActRosterRead: "in", ActAgreementIssue: "in", ActAgreementRead: "in",
		ActBatchRead: "in", ActTraceRead: "in", ActFindingsRead: "in", ActMarketManage: "in", ActInspectionRead: "in", ActCaseRead: "in", ActCreditRead: "in"},
	RoleSupervisor: {ActAssessRead: "in", ActAssessRun: "in", ActWarningRead: "in", ActWarningHandle: "in", ActIncidentRead: "in", ActIncidentManage: "in", ActIncidentTask: "in", ActRegionRead: "all", ActOwnAccount: "in", ActFeedbackFile: "in", ActStatsRead: "in", ActOperatorRead: "in", ActOperatorSuspend: "in", ActOperatorExport: "in",
		ActDocumentRead: "in", ActRosterRead: "in", ActAgreementIssue: "in", ActAgreementRead: "in", ActBatchRead: "in",
		ActTraceRead: "in", ActFindingsRead: "in", ActFindingHandle: "in", ActMarketManage: "in", ActInspect: "in", ActInspectionRead: "in", ActDrawManage: "in", ActDrawRead: "in", ActCaseRead: "in", ActCreditRead: "in", ActMonitorSettings: "in", ActSampleRead: "in", ActRecallManage: "in", ActRecallRead: "in", ActComplaintRead: "in", ActComplaintHandle: "in"},
	RoleTownship: {ActRegionRead: "all", ActOwnAccount: "in", ActFeedbackFile: "in", ActOperatorRead: "in", ActRosterWrite: "in", ActRosterRead: "in",
		ActBatchRead: "in", ActTraceRead: "in"},
	RoleInspector: {ActWarningRead: "in", ActIncidentRead: "in", ActIncidentTask: "in", ActRegionRead: "all", ActOwnAccount: "in", ActFeedbackFile: "in", ActStatsRead: "in", ActOperatorRead: "in", ActBatchRead: "in", ActTraceRead: "in",
		ActFindingsRead: "in", ActAgreementRead: "in", ActFindingHandle: "in", ActInspect: "in", ActInspectionRead: "in", ActDrawRead: "in", ActCaseRead: "in", ActCreditRead: "in", ActSampleRead: "in", ActRecallRead: "in"},
	RoleTester:   {ActIncidentRead: "in", ActIncidentTask: "in", ActRegionRead: "all", ActOwnAccount: "in", ActFeedbackFile: "in", ActOperatorRead: "in", ActBatchRead: "in", ActTraceRead: "in", ActInspectionRead: "in", ActCreditRead: "in", ActSampleRecord: "in", ActSampleRead: "in", ActRecallRead: "in"},
	RoleEnforcer: {ActWarningRead: "in", ActIncidentRead: "in", ActIncidentTask: "in", ActRegionRead: "all", ActOwnAccount: "in", ActFeedbackFile: "in", ActStatsRead: "in", ActOperatorRead: "in", ActDocumentRead: "in", ActBatchRead: "in", ActTraceRead: "in", ActFindingsRead: "in", ActAgreementRead: "in", ActFindingHandle: "in", ActInspect: "in", ActInspectionRead: "in", ActDrawRead: "in", ActCaseWrite: "in", ActCaseRead: "in", ActCreditRead: "in", ActSampleRead: "in", ActRecallRead: "in", ActComplaintRead: "in", ActComplaintHandle: "in"},
	RoleAnalyst: {ActAssessRead: "in", ActWarningRead: "in", ActIncidentRead: "in", ActRegionRead: "all", ActOwnAccount: "in", ActFeedbackFile: "in", ActStatsRead: "in", ActOperatorRead: "in", ActOperatorExport: "in", ActRosterRead: "in",
		ActAgreementRead: "in", ActBatchRead: "in", ActTraceRead: "in", ActFindingsRead: "in", ActInspectionRead: "in", ActDrawRead: "in", ActCaseRead: "in", ActCreditRead: "in", ActSampleRead: "in", ActRecallRead: "in", ActComplaintRead: "in"},
	RoleOperator: {ActChangesRead: "in", ActRegionRead: "all", ActOwnAccount: "in", ActFeedbackFile: "in", ActOperatorRead: "in", ActOperatorEdit: "in", ActStaffManage: "in",
		ActDocumentRead: "in", ActAgreementSign: "in", ActAgreementRead: "in", ActBatchWrite: "in", ActBatchRead: "in",
		ActLabelPrint: "in", ActTransferSell: "in", ActTransferConfirm: "in", ActTraceRead: "in", ActTempOperator: "in", ActInspectionRead: "in", ActCaseRead: "in", ActCreditRead: "in", ActSampleRead: "in", ActRecallRead: "in"},
	RoleStaff: {ActRegionRead: "all", ActOwnAccount: "in", ActFeedbackFile: "in", ActOperatorRead: "in", ActBatchWrite: "in", ActBatchRead: "in",
		ActLabelPrint: "in", ActTransferSell: "in", ActTransferConfirm: "in", ActTraceRead: "in"},
	RoleMarket: {ActRegionRead: "all", ActOwnAccount: "in", ActFeedbackFile: "in", ActMarketAccept: "in", ActBatchRead: "in", ActTraceRead: "in",
		ActTempOperator: "in", ActOperatorRead: "in", ActMarketManage: "in"},
	RoleIntegration: {ActIntegrationPush: "in", ActExchangeExport: "in", ActExchangeImport: "in", ActChangesRead: "in", ActRegionRead: "all", ActOperatorRead: "in", ActBatchRead: "in", ActTraceRead: "in", ActTokenSelf: "in", ActFeedbackFile: "in"},
}

func actorFor(role Role) *Actor {
	a := &Actor{UserID: 1, Username: "u", Role: role, Region: "370686"}
	if role == RoleAdmin {
		a.Region = "000000"
	}
	if role == RoleOperator || role == RoleStaff {
		a.OperatorID = 7
		a.Permissions = []string{PermRecord, PermSell, PermPrint}
	}
	return a
}

// inside is a resource in the actor's county (a township of it) owned by the
// actor's operator; outside is in another province, another operator, another user.
var (
	inside  = Resource{Region: "370686001", OperatorID: 7, UserID: 1}
	outside = Resource{Region: "510131001", OperatorID: 8, UserID: 2}
)

func TestAuthorizeTable(t *testing.T) {
	if len(expect) != len(Roles) {
		t.Fatalf("expectations cover %d roles, platform has %d", len(expect), len(Roles))
	}
	for _, role := range Roles {
		for _, act := range allActions {
			want := expect[role][act]
			for _, where := range []string{"inside", "outside"} {
				res := inside
				if where == "outside" {
					res = outside
				}
				allowed := want == "all" || (want == "in" && where == "inside")
				t.Run(string(role)+"/"+string(act)+"/"+where, func(t *testing.T) {
					err := Authorize(actorFor(role), act, res)
					if allowed {
						if err != nil {
							t.Fatalf("want allowed, got %v", err)
						}
						return
					}
					if err == nil {
						t.Fatal("want refused, got allowed")
					}
					wantKind := platform.KindForbidden
					if IsRead(act) {
						wantKind = platform.KindNotFound // reads out of reach do not reveal existence
					}
					if k := platform.KindOf(err); k != wantKind {
						t.Fatalf("refusal kind %v, want %v (%v)", k, wantKind, err)
					}
				})
			}
		}
	}
}

func TestPolicyCoversOnlyKnownActions(t *testing.T) {
	known := map[Action]bool{}
	for _, a := range allActions {
		known[a] = true
	}
	for role, acts := range policy {
		for act := range acts {
			if !known[act] {
				t.Errorf("role %s has action %s that the test does not know: add it to allActions and expect", role, act)
			}
		}
	}
}

func TestStaffNeedsPermission(t *testing.T) {
	cases := []struct {
		perms []string
		act   Action
		ok    bool
	}{
		{nil, ActBatchWrite, false},
		{[]string{PermRecord}, ActBatchWrite, true},
		{[]string{PermRecord}, ActTransferSell, false},
		{[]string{PermSell}, ActTransferSell, true},
		{[]string{PermSell}, ActTransferConfirm, true},
		{[]string{PermSell}, ActLabelPrint, false},
		{[]string{PermPrint}, ActLabelPrint, true},
		{nil, ActBatchRead, true},
	}
	for _, c := range cases {
		a := &Actor{UserID: 3, Role: RoleStaff, Region: "370686", OperatorID: 7, Permissions: c.perms}
		err := Authorize(a, c.act, inside)
		if (err == nil) != c.ok {
			t.Errorf("staff %v %s: err=%v, want ok=%v", c.perms, c.act, err, c.ok)
		}
	}
}

func TestIntegrationScopes(t *testing.T) {
	a := &Actor{UserID: 4, Role: RoleIntegration, Region: "370686", Scopes: []string{string(ActTraceRead)}}
	if err := Authorize(a, ActTraceRead, inside); err != nil {
		t.Fatalf("scoped action refused: %v", err)
	}
	if err := Authorize(a, ActBatchRead, inside); err == nil {
		t.Fatal("action outside the token's scopes was allowed")
	}
}

func TestAnonymousIsUnauthorized(t *testing.T) {
	if k := platform.KindOf(Authorize(nil, ActRegionRead, Resource{})); k != platform.KindUnauthorized {
		t.Fatalf("kind %v, want unauthorized", k)
	}
}

func TestWithin(t *testing.T) {
	cases := []struct {
		x, root string
		want    bool
	}{
		{"370686", "370686", true},
		{"370686001", "370686", true},
		{"370686", "370600", true},
		{"370686", "370000", true},
		{"370686", "000000", true},
		{"370686", "", true},
		{"371082", "370600", false},
		{"510131", "370000", false},
		{"370600", "370686", false},
		{"110101", "110100", true},
	}
	for _, c := range cases {
		if got := Within(c.x, c.root); got != c.want {
			t.Errorf("Within(%s, %s) = %v, want %v", c.x, c.root, got, c.want)
		}
	}
}

func TestPasswordPolicyAndHash(t *testing.T) {
	for pw, ok := range map[string]bool{"short": false, "1234567890": false, "12345678901234": false, "abcdefghij": true, "demo-pass-2026": true, "密码密码密码密码密码": true} {
		if got := CheckPasswordPolicy("password", pw) == nil; got != ok {
			t.Errorf("policy(%q) ok=%v, want %v", pw, got, ok)
		}
	}
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPassword(h, "correct horse battery") || CheckPassword(h, "correct horse batterx") {
		t.Fatal("argon2id hash does not verify correctly")
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
}
