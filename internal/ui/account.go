package ui

import (
	"net/http"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
)

// accountPages: the actor's own account.
type accountPages struct{ *Server }

func (s accountPages) routes() []route {
	return []route{
		{"GET /account", loggedIn, s.account},
		{"POST /account/password", loggedIn, s.changePassword},
	}
}

type accountData struct {
	User       auth.User
	RegionName string
}

func (s accountPages) account(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	u, err := s.svc.Auth.GetUser(r.Context(), a.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "account", s.page(r, "account.title", accountData{User: u, RegionName: s.regionName(r, u.RegionCode)}))
}

func (s accountPages) changePassword(w http.ResponseWriter, r *http.Request) {
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
