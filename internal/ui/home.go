package ui

import (
	"net/http"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/monitoring"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/supervision"
	"agtrace/internal/trace"
)

// tile is a tile on a role's home page: its title key, where it leads and
// the action it needs (staff accounts see only what their permissions
// allow). Href "" means the feature arrives in a later release (shown,
// greyed, so people know what the platform will do).
type tile struct {
	Key    string
	Href   string
	Action auth.Action
	Queue  queue // what waits behind the tile, counted on the home page ("" none)
}

// queue names a work queue a home tile counts.
type queue string

const (
	queueReviews    queue = "reviews"    // registrations and changes to review (and how many overdue)
	queueIncoming   queue = "incoming"   // sales to the actor's operator waiting for confirmation
	queueAgreements queue = "agreements" // agreements issued to the actor's operator, not signed
	queueMarket     queue = "market"     // market entries of the clerk's region not yet checked
	queueFindings   queue = "findings"   // findings open or in progress in the jurisdiction (and how many past due)
	queueTasks      queue = "tasks"      // the inspector's pending draw tasks (and how many past due)
	queueCases      queue = "cases"      // open enforcement cases in the jurisdiction (and how many past their step's deadline)
	queueRecalls    queue = "recalls"    // recalls holding batches in the jurisdiction, not yet closed or released
	queueWarnings   queue = "warnings"   // early warnings of the jurisdiction not yet closed or dismissed
	queueIncidents  queue = "incidents"  // open incident tasks assigned to the actor (and how many past due)
)

// queueCap is where a count stops ("99+"): the lists behind it page.
const queueCap = 100

// tileCount is a tile on the home page with what waits behind it.
type tileCount struct {
	tile
	Waiting int
	Overdue int
	More    bool // Waiting reached queueCap
}

// The tiles, each declared once with its link.
var (
	tileMyOperator  = tile{Key: "task.myoperator", Href: "/my/operator", Action: auth.ActOperatorEdit}
	tileNewBatch    = tile{Key: "task.newbatch", Href: "/batches/new", Action: auth.ActBatchWrite}
	tileBatches     = tile{Key: "task.batches", Href: "/batches", Action: auth.ActBatchRead}
	tileSell        = tile{Key: "task.sell", Href: "/sell", Action: auth.ActTransferSell}
	tileIncoming    = tile{Key: "task.incoming", Href: "/transfers", Action: auth.ActTransferConfirm, Queue: queueIncoming}
	tileStaff       = tile{Key: "task.staff", Href: "/my/staff", Action: auth.ActStaffManage}
	tileSign        = tile{Key: "task.agreements", Href: "/agreements", Action: auth.ActAgreementSign, Queue: queueAgreements}
	tileIssue       = tile{Key: "task.agreements", Href: "/agreements", Action: auth.ActAgreementIssue}
	tileReview      = tile{Key: "task.review", Href: "/reviews", Action: auth.ActOperatorReview, Queue: queueReviews}
	tileOperators   = tile{Key: "task.operators", Href: "/operators", Action: auth.ActOperatorExport}
	tileRoster      = tile{Key: "task.roster", Href: "/roster", Action: auth.ActRosterWrite}
	tileCoverage    = tile{Key: "task.coverage", Href: "/coverage", Action: auth.ActRosterRead}
	tileMarketCheck = tile{Key: "task.marketcheck", Href: "/market", Action: auth.ActMarketAccept, Queue: queueMarket}
	tileTrace       = tile{Key: "task.trace", Href: "/trace", Action: auth.ActTraceRead}
	tileFindings    = tile{Key: "task.findings", Href: "/findings", Action: auth.ActFindingsRead, Queue: queueFindings}
	tileUsers       = tile{Key: "admin.users", Href: "/admin/users", Action: auth.ActUserManage}
	tileAgencies    = tile{Key: "admin.agencies", Href: "/admin/agencies", Action: auth.ActAgencyManage}
	tileCalendar    = tile{Key: "admin.calendar", Href: "/admin/calendar", Action: auth.ActCalendarEdit}
	tileAudit       = tile{Key: "admin.audit", Href: "/admin/audit", Action: auth.ActAuditRead}
	tileMarkets     = tile{Key: "task.markets", Href: "/markets", Action: auth.ActMarketManage}
	tileAPI         = tile{Key: "task.api", Href: "/api/v1/openapi.json"}
	tileInspection  = tile{Key: "task.inspection", Href: "/inspections", Action: auth.ActInspectionRead, Queue: queueTasks}
	tileDraws       = tile{Key: "task.draws", Href: "/draws", Action: auth.ActDrawRead}
	tileMonitoring  = tile{Key: "task.monitoring", Href: "/admin/monitoring", Action: auth.ActMonitorSettings}
	tileSampling    = tile{Key: "task.sampling", Href: "/samples", Action: auth.ActSampleRead, Queue: queueRecalls}
	tileLimits      = tile{Key: "task.limits", Href: "/limits"}
	tileRecalls     = tile{Key: "task.recalls", Href: "/samples", Action: auth.ActRecallRead, Queue: queueRecalls}
	tileCases       = tile{Key: "task.cases", Href: "/cases", Action: auth.ActCaseRead, Queue: queueCases}
	tileDashboard   = tile{Key: "task.dashboard", Href: "/dashboard", Action: auth.ActStatsRead}
	tileComplaints  = tile{Key: "task.complaints", Href: "/complaints", Action: auth.ActComplaintRead}
	tileFeedback    = tile{Key: "task.feedback", Href: "/admin/feedback", Action: auth.ActFeedbackTriage}
	tileAssess      = tile{Key: "task.assessments", Href: "/assessments", Action: auth.ActAssessRead}
	tileSheets      = tile{Key: "task.assessment_sheets", Href: "/admin/assessment-sheets", Action: auth.ActAssessSheet}
	tileExchange    = tile{Key: "task.exchange", Href: "/admin/exchange", Action: auth.ActExchangeStatus}
	tileWarnings    = tile{Key: "task.warnings", Href: "/warnings", Action: auth.ActWarningRead, Queue: queueWarnings}
	tilePort        = tile{Key: "task.exchangeport", Href: "/admin/exchange/port", Action: auth.ActExchangeImport}
	tileClients     = tile{Key: "admin.integrations", Href: "/admin/integrations", Action: auth.ActTokenManage}
	tileIncidents   = tile{Key: "task.incidents", Href: "/incidents", Action: auth.ActIncidentRead, Queue: queueIncidents}
)

// homeTiles is the home page of each role, in display order.
var homeTiles = map[auth.Role][]tile{
	auth.RoleAdmin: {tileReview, tileWarnings, tileIncidents, tileOperators, tileCoverage, tileTrace, tileFindings, tileInspection, tileDraws, tileCases, tileComplaints, tileMonitoring, tileLimits, tileMarkets,
		tileUsers, tileAgencies, tileCalendar, tileAudit, tileFeedback, tileAssess, tileSheets, tileExchange, tilePort, tileClients, tileAPI},
	auth.RoleReviewer:    {tileReview, tileOperators, tileCoverage, tileIssue, tileTrace, tileFindings, tileMarkets},
	auth.RoleSupervisor:  {tileDashboard, tileAssess, tileWarnings, tileIncidents, tileDraws, tileInspection, tileCases, tileComplaints, tileSampling, tileFindings, tileOperators, tileCoverage, tileIssue, tileTrace, tileMarkets, tileMonitoring},
	auth.RoleTownship:    {tileRoster, tileCoverage, tileTrace},
	auth.RoleInspector:   {tileIncidents, tileInspection, tileFindings, tileTrace, tileDraws, tileCases},
	auth.RoleTester:      {tileTrace, tileSampling, tileLimits, tileIncidents},
	auth.RoleEnforcer:    {tileCases, tileComplaints, tileIncidents, tileFindings, tileInspection, tileTrace, tileDraws},
	auth.RoleAnalyst:     {tileDashboard, tileAssess, tileWarnings, tileIncidents, tileOperators, tileCoverage, tileTrace, tileFindings, tileInspection, tileCases, tileComplaints},
	auth.RoleOperator:    {tileMyOperator, tileNewBatch, tileBatches, tileSell, tileIncoming, tileStaff, tileSign, tileRecalls},
	auth.RoleStaff:       {tileNewBatch, tileBatches, tileSell, tileIncoming},
	auth.RoleMarket:      {tileMarketCheck, tileMarkets, tileTrace},
	auth.RoleIntegration: {tilePort, tileAPI},
}

// tilesFor is the actor's home page: its role's tiles whose action it may take.
func tilesFor(a *auth.Actor) []tile {
	var out []tile
	for _, t := range homeTiles[a.Role] {
		if t.Action == "" || a.Can(t.Action) {
			out = append(out, t)
		}
	}
	return out
}

// homePages: the landing page for visitors, the workspace for actors.
type homePages struct{ *Server }

func (s homePages) routes() []route {
	return []route{
		{"GET /{$}", anyone, s.home},
		{"GET /favicon.ico", anyone, s.favicon},
		{"GET /sw.js", anyone, s.serviceWorker},
		{"GET /", anyone, s.notFound},
	}
}

// notFound answers a GET of a path no route has: the styled error page in
// the visitor's language (an API path gets the API's problem document).
func (s homePages) notFound(w http.ResponseWriter, r *http.Request) {
	err := platform.NotFound("页面不存在", "page not found")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		httpx.WriteProblem(w, r, err)
		return
	}
	s.fail(w, r, err)
}

// serviceWorker serves static/sw.js from the site's root, the scope it
// keeps pages for (static/offline.js registers it).
func (s homePages) serviceWorker(w http.ResponseWriter, r *http.Request) {
	b, err := staticFS.ReadFile("static/sw.js")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache") // a new version reaches phones on their next visit
	_, _ = w.Write(b)
}

// favicon sends browsers that ask for /favicon.ico to the site's icon.
func (s homePages) favicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
}

type homeData struct {
	Tasks      []tileCount
	RegionName string
}

// count is how many items wait in q for the actor, and how many of them
// are overdue. A queue that cannot be read counts nothing: the home page
// still opens, and the tile leads to the list that says why.
func (s homePages) count(r *http.Request, a *auth.Actor, q queue) (waiting, overdue int) {
	ctx := r.Context()
	switch q {
	case queueReviews:
		items, err := s.svc.Operators.Queue(ctx, a)
		if err != nil {
			return 0, 0
		}
		for _, it := range items {
			if it.Overdue {
				overdue++
			}
		}
		return len(items), overdue
	case queueIncoming, queueMarket:
		if s.svc.Trace == nil {
			return 0, 0
		}
		f := trace.TransferFilter{Direction: "incoming", Status: trace.TransferPending, Limit: queueCap}
		if q == queueMarket {
			f = trace.TransferFilter{Status: trace.TransferIssued, Limit: queueCap}
		}
		list, err := s.svc.Trace.ListTransfers(ctx, a, f)
		if err != nil {
			return 0, 0
		}
		return len(list), 0
	case queueFindings:
		if s.svc.Trace == nil {
			return 0, 0
		}
		list, err := s.svc.Trace.Findings(ctx, a, trace.FindingFilter{Status: "active", Limit: queueCap})
		if err != nil {
			return 0, 0
		}
		for _, f := range list {
			if f.Overdue {
				overdue++
			}
		}
		return len(list), overdue
	case queueTasks, queueCases:
		return s.supervisionCount(r, a, q)
	case queueWarnings:
		return s.warningCount(r, a)
	case queueIncidents:
		if s.svc.Incidents == nil {
			return 0, 0
		}
		open, overdue, err := s.svc.Incidents.MyTasks(ctx, a)
		if err != nil {
			return 0, 0
		}
		return open, overdue
	case queueRecalls:
		return s.recallCount(r, a)
	case queueAgreements:
		if a.OperatorID == 0 {
			return 0, 0
		}
		list, err := s.svc.Operators.Agreements(ctx, a, operator.AgreementFilter{Status: "issued", OperatorID: a.OperatorID})
		if err != nil {
			return 0, 0
		}
		return len(list), 0
	}
	return 0, 0
}

func (s homePages) home(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	if a == nil {
		s.render(w, r, "landing", s.page(r, "app.name", nil))
		return
	}
	d := homeData{RegionName: s.regionName(r, a.Region), Tasks: s.tasks(r, a)}
	if dashboardHome[a.Role] && a.Can(auth.ActStatsRead) && s.svc.Insight != nil {
		if dashboardPages(s).home(w, r, d.Tasks) {
			return
		}
	}
	s.render(w, r, "home", s.page(r, "home.title", d))
}

// dashboardHome are the roles whose home page is their jurisdiction's
// dashboard, with their task tiles above it (the analysts' and
// supervisors' work starts from the figures).
var dashboardHome = map[auth.Role]bool{auth.RoleAnalyst: true, auth.RoleSupervisor: true}

// tasks are the actor's tiles with what waits behind each.
func (s homePages) tasks(r *http.Request, a *auth.Actor) []tileCount {
	var out []tileCount
	for _, t := range tilesFor(a) {
		c := tileCount{tile: t}
		if t.Queue != "" {
			c.Waiting, c.Overdue = s.count(r, a, t.Queue)
			c.More = c.Waiting >= queueCap
		}
		out = append(out, c)
	}
	return out
}

// supervisionCount counts the inspector's pending tasks or the open cases.
func (s homePages) supervisionCount(r *http.Request, a *auth.Actor, q queue) (waiting, overdue int) {
	if s.svc.Supervision == nil {
		return 0, 0
	}
	if q == queueTasks {
		if !a.Can(auth.ActInspect) {
			return 0, 0
		}
		list, err := s.svc.Supervision.MyTasks(r.Context(), a, supervision.TaskPending)
		if err != nil {
			return 0, 0
		}
		for _, t := range list {
			if t.Overdue {
				overdue++
			}
		}
		return len(list), overdue
	}
	list, err := s.svc.Supervision.Cases(r.Context(), a, supervision.CaseFilter{Status: "open", Limit: queueCap})
	if err != nil {
		return 0, 0
	}
	for _, c := range list {
		if c.Overdue {
			overdue++
		}
	}
	return len(list), overdue
}

// recallCount counts the recalls holding batches in the actor's reach.
func (s homePages) recallCount(r *http.Request, a *auth.Actor) (waiting, overdue int) {
	if s.svc.Monitoring == nil {
		return 0, 0
	}
	list, err := s.svc.Monitoring.Recalls(r.Context(), a)
	if err != nil {
		return 0, 0
	}
	for _, x := range list {
		if x.Status == monitoring.RecallOpen || x.Status == monitoring.RecallConfirmed {
			waiting++
		}
	}
	return waiting, 0
}
