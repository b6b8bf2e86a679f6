package ui

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
	"agtrace/internal/region"
)

// Task is a tile on a role's home page. Href "" means the feature arrives in
// a later release (shown, greyed, so people know what the platform will do).
type Task struct {
	Key    string
	Href   string
	Action auth.Action
	Roles  []auth.Role // alternatively, show to these roles
}

// tasks lists every home-page tile; each is shown to actors who may do its action.
var tasks = []Task{
	{Key: "task.myoperator", Href: "", Action: auth.ActOperatorEdit},
	{Key: "task.newbatch", Href: "", Action: auth.ActBatchWrite},
	{Key: "task.batches", Href: "", Action: auth.ActBatchRead, Roles: []auth.Role{auth.RoleOperator, auth.RoleStaff}},
	{Key: "task.sell", Href: "", Action: auth.ActTransferSell},
	{Key: "task.incoming", Href: "", Action: auth.ActTransferConfirm},
	{Key: "task.staff", Href: "", Action: auth.ActStaffManage},
	{Key: "task.agreements", Href: "", Action: auth.ActAgreementSign},
	{Key: "task.review", Href: "", Action: auth.ActOperatorReview},
	{Key: "task.operators", Href: "", Action: auth.ActOperatorExport},
	{Key: "task.roster", Href: "", Action: auth.ActRosterWrite},
	{Key: "task.coverage", Href: "", Action: auth.ActRosterRead},
	{Key: "task.agreements", Href: "", Action: auth.ActAgreementIssue},
	{Key: "task.marketcheck", Href: "", Action: auth.ActMarketAccept},
	{Key: "task.trace", Href: "", Action: auth.ActTraceRead, Roles: []auth.Role{auth.RoleAdmin, auth.RoleReviewer, auth.RoleSupervisor, auth.RoleTownship, auth.RoleInspector, auth.RoleTester, auth.RoleEnforcer, auth.RoleAnalyst, auth.RoleMarket}},
	{Key: "task.findings", Href: "", Action: auth.ActFindingsRead},
	{Key: "task.inspection", Roles: []auth.Role{auth.RoleInspector, auth.RoleSupervisor}},
	{Key: "task.sampling", Roles: []auth.Role{auth.RoleTester}},
	{Key: "task.cases", Roles: []auth.Role{auth.RoleEnforcer}},
	{Key: "task.dashboard", Roles: []auth.Role{auth.RoleAnalyst, auth.RoleSupervisor}},
	{Key: "admin.users", Href: "/admin/users", Action: auth.ActUserManage},
	{Key: "admin.agencies", Href: "/admin/agencies", Action: auth.ActAgencyManage},
	{Key: "admin.calendar", Href: "/admin/calendar", Action: auth.ActCalendarEdit},
	{Key: "admin.audit", Href: "/admin/audit", Action: auth.ActAuditRead},
	{Key: "task.api", Href: "/api/v1/openapi.json", Roles: []auth.Role{auth.RoleAdmin, auth.RoleIntegration}},
}

// SetTaskHref points a home tile at its page once the feature exists.
func SetTaskHref(key, href string) {
	for i := range tasks {
		if tasks[i].Key == key {
			tasks[i].Href = href
		}
	}
}

func tasksFor(a *auth.Actor) []Task {
	var out []Task
	seen := map[string]bool{}
	for _, t := range tasks {
		show := false
		if t.Action != "" && a.Can(t.Action) {
			show = true
			if len(t.Roles) > 0 {
				show = false
				for _, r := range t.Roles {
					show = show || r == a.Role
				}
			}
		} else if t.Action == "" {
			for _, r := range t.Roles {
				show = show || r == a.Role
			}
		}
		if show && !seen[t.Key] {
			seen[t.Key] = true
			out = append(out, t)
		}
	}
	return out
}

type homeData struct {
	Tasks      []Task
	RegionName string
}

func (s *Server) foundationPages() {
	s.mux.HandleFunc("GET /{$}", s.home)
	s.mux.HandleFunc("GET /lookup", s.lookup)
	s.mux.HandleFunc("GET /login", s.loginForm)
	s.mux.HandleFunc("POST /login", s.loginSubmit)
	s.mux.HandleFunc("POST /logout", s.logout)
	s.mux.HandleFunc("GET /lang/{lang}", s.setLang)
	s.mux.HandleFunc("GET /account", s.requireLogin(s.account))
	s.mux.HandleFunc("POST /account/password", s.requireLogin(s.changePassword))
	s.mux.HandleFunc("GET /admin/users", s.requireLogin(s.adminUsers))
	s.mux.HandleFunc("POST /admin/users", s.requireLogin(s.adminCreateUser))
	s.mux.HandleFunc("POST /admin/users/{id}/status", s.requireLogin(s.adminUserStatus))
	s.mux.HandleFunc("GET /admin/agencies", s.requireLogin(s.adminAgencies))
	s.mux.HandleFunc("POST /admin/agencies", s.requireLogin(s.adminCreateAgency))
	s.mux.HandleFunc("GET /admin/calendar", s.requireLogin(s.adminCalendar))
	s.mux.HandleFunc("POST /admin/calendar/day", s.requireLogin(s.adminCalendarDay))
	s.mux.HandleFunc("GET /admin/audit", s.requireLogin(s.adminAudit))
}

func (s *Server) regionName(r *http.Request, code string) string {
	if code == "" || code == "000000" {
		return translate(langOf(r), "region.national")
	}
	n, err := s.svc.Regions.FullName(r.Context(), code)
	if err != nil {
		return code
	}
	return n
}

func init() {
	addMessages(map[string][2]string{"region.national": {"全国", "Nationwide"}})
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	if a == nil {
		s.render(w, r, "landing", s.page(r, "app.name", nil))
		return
	}
	s.render(w, r, "home", s.page(r, "home.title", homeData{Tasks: tasksFor(a), RegionName: s.regionName(r, a.Region)}))
}

var digitsOnly = regexp.MustCompile(`[\s-]`)

// lookup sends a typed code to its public page.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) {
	code := digitsOnly.ReplaceAllString(r.URL.Query().Get("code"), "")
	switch len(code) {
	case 20:
		http.Redirect(w, r, "/q/"+url.PathEscape(code), http.StatusSeeOther)
	case 18:
		http.Redirect(w, r, "/o/"+url.PathEscape(code), http.StatusSeeOther)
	default:
		p := s.page(r, "app.name", nil)
		p.Error = p.T("landing.badcode")
		s.render(w, r, "landing", p, http.StatusUnprocessableEntity)
	}
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if httpx.Actor(r) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, "login", s.page(r, "login.title", nil))
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, platform.BadRequest("表单无效", "invalid form"))
		return
	}
	p := s.page(r, "login.title", nil)
	sess, err := s.svc.Auth.Login(r.Context(), strings.TrimSpace(r.PostForm.Get("username")), r.PostForm.Get("password"),
		platform.OriginFrom(r.Context()).Addr, "browser")
	if err != nil {
		status := httpx.StatusOf(err)
		switch status {
		case http.StatusTooManyRequests:
			p.Error = p.T("login.locked")
		case http.StatusForbidden:
			p.Error = p.T("login.disabled")
		case http.StatusUnauthorized:
			p.Error = p.T("login.failed")
		default:
			s.fail(w, r, err)
			return
		}
		p.Form = url.Values{"username": {r.PostForm.Get("username")}}
		s.render(w, r, "login", p, status)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: httpx.SessionCookie, Value: sess.Token, Path: "/", HttpOnly: true,
		Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode, Expires: sess.ExpiresAt})
	http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if tok := httpx.RequestToken(r); tok != "" {
		_ = s.svc.Auth.Logout(r.Context(), tok)
	}
	http.SetCookie(w, &http.Cookie{Name: httpx.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if lang != "en" {
		lang = "zh"
	}
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: 365 * 86400, SameSite: http.SameSiteLaxMode})
	back := safeNext(r.URL.Query().Get("back"))
	http.Redirect(w, r, back, http.StatusSeeOther)
}

type accountData struct {
	User       auth.User
	RegionName string
}

func (s *Server) account(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	u, err := s.svc.Auth.GetUser(r.Context(), a.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "account", s.page(r, "account.title", accountData{User: u, RegionName: s.regionName(r, u.RegionCode)}))
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	a := httpx.Actor(r)
	if err := s.svc.Auth.ChangePassword(r.Context(), a, r.PostForm.Get("old_password"), r.PostForm.Get("new_password")); err != nil {
		u, _ := s.svc.Auth.GetUser(r.Context(), a.UserID)
		p := s.page(r, "account.title", accountData{User: u, RegionName: s.regionName(r, u.RegionCode)})
		st := formError(p, r, err)
		p.Form = nil // never echo passwords
		s.render(w, r, "account", p, st)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: httpx.SessionCookie, Value: "", Path: "/", MaxAge: -1})
	redirect(w, r, "/login", "account.changed")
}

type usersData struct {
	Users    []auth.User
	Roles    []auth.Role
	Perms    []string
	Agencies []auth.Agency
}

func (s *Server) usersPage(r *http.Request) (*Page, error) {
	a := httpx.Actor(r)
	q := r.URL.Query()
	users, err := s.svc.Auth.ListUsers(r.Context(), a, auth.UserFilter{Role: q.Get("role"), Q: q.Get("q"), Region: q.Get("region")})
	if err != nil {
		return nil, err
	}
	agencies, err := s.svc.Auth.ListAgencies(r.Context(), a, "")
	if err != nil {
		return nil, err
	}
	return s.page(r, "admin.users", usersData{Users: users, Roles: auth.Roles, Perms: auth.StaffPerms, Agencies: agencies}), nil
}

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request) {
	p, err := s.usersPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "admin_users", p)
}

func (s *Server) adminCreateUser(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	agency, _ := strconv.ParseInt(f.Get("agency_id"), 10, 64)
	opID, _ := strconv.ParseInt(f.Get("operator_id"), 10, 64)
	_, err := s.svc.Auth.CreateUser(r.Context(), httpx.Actor(r), auth.NewUser{Username: f.Get("username"), Password: f.Get("password"),
		Name: f.Get("name"), Role: f.Get("role"), RegionCode: strings.TrimSpace(f.Get("region_code")), AgencyID: agency, OperatorID: opID, Permissions: f["permissions"]})
	if err != nil {
		p, perr := s.usersPage(r)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		st := formError(p, r, err)
		p.Form.Del("password")
		s.render(w, r, "admin_users", p, st)
		return
	}
	redirect(w, r, "/admin/users", "common.saved")
}

func (s *Server) adminUserStatus(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := s.svc.Auth.SetUserStatus(r.Context(), httpx.Actor(r), id, r.PostForm.Get("status")); err != nil {
		s.fail(w, r, err)
		return
	}
	back := safeNext(r.PostForm.Get("back"))
	if back == "/" {
		back = "/admin/users"
	}
	redirect(w, r, back, "common.saved")
}

type agenciesData struct {
	Agencies []auth.Agency
	Kinds    []string
}

func (s *Server) adminAgencies(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.Auth.ListAgencies(r.Context(), httpx.Actor(r), r.URL.Query().Get("region"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "admin_agencies", s.page(r, "admin.agencies", agenciesData{Agencies: list, Kinds: auth.AgencyKinds}))
}

func (s *Server) adminCreateAgency(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	_, err := s.svc.Auth.CreateAgency(r.Context(), httpx.Actor(r), auth.Agency{Name: strings.TrimSpace(f.Get("name")), Kind: f.Get("kind"), RegionCode: strings.TrimSpace(f.Get("region_code"))})
	if err != nil {
		list, lerr := s.svc.Auth.ListAgencies(r.Context(), httpx.Actor(r), "")
		if lerr != nil {
			s.fail(w, r, lerr)
			return
		}
		p := s.page(r, "admin.agencies", agenciesData{Agencies: list, Kinds: auth.AgencyKinds})
		s.render(w, r, "admin_agencies", p, formError(p, r, err))
		return
	}
	redirect(w, r, "/admin/agencies", "common.saved")
}

type calendarData struct {
	Year     int
	Complete bool
	Days     []region.Day
	Years    []int
	From     string
	N        string
	Result   string
	Fallback bool
}

func (s *Server) adminCalendar(w http.ResponseWriter, r *http.Request) {
	if err := auth.Authorize(httpx.Actor(r), auth.ActCalendarEdit, auth.Resource{}); err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	year, err := strconv.Atoi(q.Get("year"))
	if err != nil {
		year = time.Now().In(platform.ChinaTZ).Year()
	}
	days, complete, err := s.svc.Calendar.Year(r.Context(), year)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	years, _ := s.svc.Calendar.Years(r.Context())
	d := calendarData{Year: year, Complete: complete, Days: days, Years: years, From: q.Get("from"), N: q.Get("days")}
	p := s.page(r, "admin.calendar", &d)
	if d.From != "" {
		from, err1 := time.Parse(time.DateOnly, d.From)
		n, err2 := strconv.Atoi(d.N)
		if err1 == nil && err2 == nil {
			res, ok, err := s.svc.Calendar.AddWorkdays(r.Context(), from, n)
			if err == nil {
				d.Result, d.Fallback = res.Format(time.DateOnly), !ok
			} else {
				p.Error = err.Error()
			}
		}
	}
	s.render(w, r, "admin_calendar", p)
}

func (s *Server) adminCalendarDay(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	date := f.Get("date")
	year := date
	if len(date) >= 4 {
		year = date[:4]
	}
	var err error
	if f.Get("mark_year") != "" {
		y, _ := strconv.Atoi(f.Get("year"))
		days, _, yerr := s.svc.Calendar.Year(r.Context(), y)
		if yerr != nil {
			s.fail(w, r, yerr)
			return
		}
		var in region.YearInput
		for _, d := range days {
			if d.Kind == "holiday" {
				in.Holidays = append(in.Holidays, d)
			} else {
				in.Workdays = append(in.Workdays, d)
			}
		}
		err = s.svc.Calendar.SetYear(r.Context(), httpx.Actor(r), y, in)
		year = f.Get("year")
	} else {
		err = s.svc.Calendar.SetDay(r.Context(), httpx.Actor(r), date, f.Get("kind"), strings.TrimSpace(f.Get("name")))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/calendar?year="+url.QueryEscape(year), "common.saved")
}

type auditData struct {
	Entries []auth.AuditEntry
	NextID  int64
}

func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before_id"), 10, 64)
	list, err := s.svc.Auth.ListAudit(r.Context(), httpx.Actor(r), auth.AuditFilter{Action: q.Get("action"), Actor: q.Get("actor"),
		ResourceType: q.Get("resource_type"), ResourceID: q.Get("resource_id"), BeforeID: before, Limit: 50})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := auditData{Entries: list}
	if len(list) == 50 {
		d.NextID = list[len(list)-1].ID
	}
	s.render(w, r, "admin_audit", s.page(r, "admin.audit", d))
}
