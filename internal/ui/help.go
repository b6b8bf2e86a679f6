package ui

import (
	"net/http"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
)

// helpPages: a short manual per role — what to do each day, step by step,
// with screenshots of the real pages. The screenshots are made by the
// browser test TestManualScreenshots from the demo data (`make manual`
// renews them), so they show the pages as they are.
type helpPages struct{ *Server }

func (s helpPages) routes() []route {
	return []route{
		{"GET /help", anyone, s.index},
		{"GET /help/{role}", anyone, s.manual},
	}
}

// manualStep is one step of a manual: its text (a message key) and the
// screenshot that shows it (static/manual/<Shot>.png, "" none).
type manualStep struct {
	Text string
	Shot string
}

// manual is one role's manual.
type manual struct {
	Role  auth.Role
	Steps []manualStep
}

// manuals are the roles' manuals, in the order the index lists them.
var manuals = []manual{
	{auth.RoleOperator, []manualStep{
		{"help.operator.1", "operator-home"},
		{"help.operator.2", "operator-batch-new"},
		{"help.operator.3", "operator-batch"},
		{"help.operator.4", "operator-sell"},
		{"help.operator.5", "operator-transfers"},
		{"help.operator.6", ""},
	}},
	{auth.RoleReviewer, []manualStep{
		{"help.reviewer.1", "reviewer-home"},
		{"help.reviewer.2", "reviewer-queue"},
		{"help.reviewer.3", "reviewer-operator"},
	}},
	{auth.RoleSupervisor, []manualStep{
		{"help.supervisor.0", "supervisor-home"},
		{"help.supervisor.1", "supervisor-findings"},
		{"help.supervisor.2", ""},
		{"help.supervisor.3", "supervisor-markets"},
		{"help.supervisor.4", "supervisor-draw"},
		{"help.supervisor.5", "supervisor-monitoring"},
	}},
	{auth.RoleInspector, []manualStep{
		{"help.inspector.1", "inspector-tasks"},
		{"help.inspector.2", "inspector-form"},
		{"help.inspector.3", ""},
	}},
	{auth.RoleEnforcer, []manualStep{
		{"help.enforcer.1", "enforcer-cases"},
		{"help.enforcer.2", "enforcer-case"},
		{"help.enforcer.3", ""},
	}},
	{auth.RoleAnalyst, []manualStep{
		{"help.analyst.1", "analyst-dashboard"},
		{"help.analyst.2", ""},
		{"help.analyst.3", ""},
		{"help.analyst.4", ""},
	}},
	{auth.RoleMarket, []manualStep{
		{"help.market.1", "market-check"},
		{"help.market.2", ""},
		{"help.market.3", ""},
	}},
}

// manualFor finds a role's manual (staff read the operator's).
func manualFor(role auth.Role) (manual, bool) {
	if role == auth.RoleStaff {
		role = auth.RoleOperator
	}
	for _, m := range manuals {
		if m.Role == role {
			return m, true
		}
	}
	return manual{}, false
}

type helpData struct {
	Manuals []manual
	Manual  manual
	Mine    auth.Role
}

func (s helpPages) index(w http.ResponseWriter, r *http.Request) {
	d := helpData{Manuals: manuals}
	if a := httpx.Actor(r); a != nil {
		d.Mine = a.Role
	}
	s.render(w, r, "help", s.page(r, "help.title", d))
}

func (s helpPages) manual(w http.ResponseWriter, r *http.Request) {
	m, ok := manualFor(auth.Role(r.PathValue("role")))
	if !ok {
		s.fail(w, r, platform.NotFound("没有这个角色的使用手册", "no manual for this role"))
		return
	}
	p := s.page(r, "help.title", helpData{Manual: m, Manuals: manuals})
	p.Title = p.T("help.title") + " · " + p.RoleName(m.Role)
	s.render(w, r, "help", p)
}
