package ui

import (
	"net/http"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
)

// adminUserPages: user accounts and agencies.
type adminUserPages struct{ *Server }

func (s adminUserPages) routes() []route {
	return []route{
		{"GET /admin/users", loggedIn, s.users},
		{"POST /admin/users", loggedIn, s.createUser},
		{"POST /admin/users/{id}/status", loggedIn, s.userStatus},
		{"POST /admin/users/{id}/login-throttle", loggedIn, s.clearThrottle},
		{"GET /admin/agencies", loggedIn, s.agencies},
		{"POST /admin/agencies", loggedIn, s.createAgency},
	}
}

type usersData struct {
	Users    []auth.User
	Roles    []auth.Role
	Perms    []string
	Agencies []auth.Agency
}

func (s adminUserPages) usersPage(r *http.Request) (*Page, error) {
	a := httpx.Actor(r)
	q := r.URL.Query()
	offset, fetch, pg := listPage(r)
	users, err := s.svc.Auth.ListUsers(r.Context(), a, auth.UserFilter{Role: q.Get("role"), Q: q.Get("q"), Region: q.Get("region"), Limit: fetch, Offset: offset})
	if err != nil {
		return nil, err
	}
	agencies, err := s.svc.Auth.ListAgencies(r.Context(), a, "")
	if err != nil {
		return nil, err
	}
	users = users[:pg.more(len(users))]
	p := s.page(r, "admin.users", usersData{Users: users, Roles: auth.Roles, Perms: auth.StaffPerms, Agencies: agencies})
	p.Pager = pg
	return p, nil
}

func (s adminUserPages) users(w http.ResponseWriter, r *http.Request) {
	p, err := s.usersPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "admin_users", p)
}

func (s adminUserPages) createUser(w http.ResponseWriter, r *http.Request) {
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

func (s adminUserPages) userStatus(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if err := s.svc.Auth.SetUserStatus(r.Context(), httpx.Actor(r), pathInt(r, "id"), r.PostForm.Get("status")); err != nil {
		s.refuse(w, r, err, s.users, "/admin/users")
		return
	}
	back := safeNext(r.PostForm.Get("back"))
	if back == "/" {
		back = "/admin/users"
	}
	redirect(w, r, back, "common.saved")
}

// clearThrottle forgets the login attempts counted against an account.
func (s adminUserPages) clearThrottle(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Auth.ClearLoginThrottle(r.Context(), httpx.Actor(r), pathInt(r, "id")); err != nil {
		s.refuse(w, r, err, s.users, "/admin/users")
		return
	}
	redirect(w, r, "/admin/users", "admin.throttle_cleared")
}

type agenciesData struct {
	Agencies []auth.Agency
	Kinds    []string
}

func (s adminUserPages) agencies(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.Auth.ListAgencies(r.Context(), httpx.Actor(r), r.URL.Query().Get("region"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "admin_agencies", s.page(r, "admin.agencies", agenciesData{Agencies: list, Kinds: auth.AgencyKinds}))
}

func (s adminUserPages) createAgency(w http.ResponseWriter, r *http.Request) {
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
