package ui

import (
	"net/http"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
)

// tile is a tile on a role's home page: its title key, where it leads and
// the action it needs (staff accounts see only what their permissions
// allow). Href "" means the feature arrives in a later release (shown,
// greyed, so people know what the platform will do).
type tile struct {
	Key    string
	Href   string
	Action auth.Action
}

// The tiles, each declared once with its link.
var (
	tileMyOperator  = tile{Key: "task.myoperator", Href: "/my/operator", Action: auth.ActOperatorEdit}
	tileNewBatch    = tile{Key: "task.newbatch", Href: "/batches/new", Action: auth.ActBatchWrite}
	tileBatches     = tile{Key: "task.batches", Href: "/batches", Action: auth.ActBatchRead}
	tileSell        = tile{Key: "task.sell", Href: "/sell", Action: auth.ActTransferSell}
	tileIncoming    = tile{Key: "task.incoming", Href: "/transfers", Action: auth.ActTransferConfirm}
	tileStaff       = tile{Key: "task.staff", Href: "/my/staff", Action: auth.ActStaffManage}
	tileSign        = tile{Key: "task.agreements", Href: "/agreements", Action: auth.ActAgreementSign}
	tileIssue       = tile{Key: "task.agreements", Href: "/agreements", Action: auth.ActAgreementIssue}
	tileReview      = tile{Key: "task.review", Href: "/reviews", Action: auth.ActOperatorReview}
	tileOperators   = tile{Key: "task.operators", Href: "/operators", Action: auth.ActOperatorExport}
	tileRoster      = tile{Key: "task.roster", Href: "/roster", Action: auth.ActRosterWrite}
	tileCoverage    = tile{Key: "task.coverage", Href: "/coverage", Action: auth.ActRosterRead}
	tileMarketCheck = tile{Key: "task.marketcheck", Href: "/market", Action: auth.ActMarketAccept}
	tileTrace       = tile{Key: "task.trace", Href: "/trace", Action: auth.ActTraceRead}
	tileFindings    = tile{Key: "task.findings", Href: "/findings", Action: auth.ActFindingsRead}
	tileUsers       = tile{Key: "admin.users", Href: "/admin/users", Action: auth.ActUserManage}
	tileAgencies    = tile{Key: "admin.agencies", Href: "/admin/agencies", Action: auth.ActAgencyManage}
	tileCalendar    = tile{Key: "admin.calendar", Href: "/admin/calendar", Action: auth.ActCalendarEdit}
	tileAudit       = tile{Key: "admin.audit", Href: "/admin/audit", Action: auth.ActAuditRead}
	tileAPI         = tile{Key: "task.api", Href: "/api/v1/openapi.json"}
	tileInspection  = tile{Key: "task.inspection"}
	tileSampling    = tile{Key: "task.sampling"}
	tileCases       = tile{Key: "task.cases"}
	tileDashboard   = tile{Key: "task.dashboard"}
)

// homeTiles is the home page of each role, in display order.
var homeTiles = map[auth.Role][]tile{
	auth.RoleAdmin:       {tileReview, tileOperators, tileCoverage, tileTrace, tileFindings, tileUsers, tileAgencies, tileCalendar, tileAudit, tileAPI},
	auth.RoleReviewer:    {tileReview, tileOperators, tileCoverage, tileIssue, tileTrace, tileFindings},
	auth.RoleSupervisor:  {tileOperators, tileCoverage, tileIssue, tileTrace, tileFindings, tileInspection, tileDashboard},
	auth.RoleTownship:    {tileRoster, tileCoverage, tileTrace},
	auth.RoleInspector:   {tileTrace, tileFindings, tileInspection},
	auth.RoleTester:      {tileTrace, tileSampling},
	auth.RoleEnforcer:    {tileTrace, tileFindings, tileCases},
	auth.RoleAnalyst:     {tileOperators, tileCoverage, tileTrace, tileFindings, tileDashboard},
	auth.RoleOperator:    {tileMyOperator, tileNewBatch, tileBatches, tileSell, tileIncoming, tileStaff, tileSign},
	auth.RoleStaff:       {tileNewBatch, tileBatches, tileSell, tileIncoming},
	auth.RoleMarket:      {tileMarketCheck, tileTrace},
	auth.RoleIntegration: {tileAPI},
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

// favicon sends browsers that ask for /favicon.ico to the site's icon.
func (s homePages) favicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
}

type homeData struct {
	Tasks      []tile
	RegionName string
}

func (s homePages) home(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	if a == nil {
		s.render(w, r, "landing", s.page(r, "app.name", nil))
		return
	}
	s.render(w, r, "home", s.page(r, "home.title", homeData{Tasks: tilesFor(a), RegionName: s.regionName(r, a.Region)}))
}
