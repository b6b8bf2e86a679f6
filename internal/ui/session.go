package ui

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
)

// sessionPages: logging in and out, the language switch, and the landing
// page's code look-up.
type sessionPages struct{ *Server }

func (s sessionPages) routes() []route {
	return []route{
		{"GET /lookup", anyone, s.lookup},
		{"GET /login", anyone, s.loginForm},
		{"POST /login", anyone, s.loginSubmit},
		{"POST /logout", anyone, s.logout},
		{"GET /lang/{lang}", anyone, s.setLang},
	}
}

var digitsOnly = regexp.MustCompile(`[\s-]`)

// lookup sends a typed code to its public page.
func (s sessionPages) lookup(w http.ResponseWriter, r *http.Request) {
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

func (s sessionPages) loginForm(w http.ResponseWriter, r *http.Request) {
	if httpx.Actor(r) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, "login", s.page(r, "login.title", nil))
}

func (s sessionPages) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, platform.BadRequest("表单无效", "invalid form"))
		return
	}
	p := s.page(r, "login.title", nil)
	in := auth.LoginInput{Username: strings.TrimSpace(r.PostForm.Get("username")), Password: r.PostForm.Get("password"),
		Addr: platform.OriginFrom(r.Context()).Addr, Kind: "browser"}
	if c, err := r.Cookie(auth.DeviceCookie); err == nil {
		in.Device = c.Value
	}
	res, err := s.svc.Auth.LoginDevice(r.Context(), in)
	if err != nil {
		status := httpx.StatusOf(err)
		switch status {
		case http.StatusTooManyRequests:
			p.Error = p.T("login.locked")
			var pe *platform.Error
			if errors.As(err, &pe) {
				if secs, ok := pe.Extra["retry_after_seconds"].(int); ok {
					w.Header().Set("Retry-After", strconv.Itoa(secs))
					p.Error = p.T("login.wait", (secs+59)/60)
				}
			}
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
	s.setSession(w, res.Session.Token, res.Session.ExpiresAt)
	if res.Device != "" {
		http.SetCookie(w, &http.Cookie{Name: auth.DeviceCookie, Value: res.Device, Path: "/login", MaxAge: int(auth.DeviceTTL.Seconds()),
			HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteStrictMode})
	}
	http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
}

func (s sessionPages) logout(w http.ResponseWriter, r *http.Request) {
	if tok := httpx.RequestToken(r); tok != "" {
		_ = s.svc.Auth.Logout(r.Context(), tok)
	}
	http.SetCookie(w, &http.Cookie{Name: httpx.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s sessionPages) setLang(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if lang != "en" {
		lang = "zh"
	}
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: 365 * 86400, SameSite: http.SameSiteLaxMode})
	back := safeNext(r.URL.Query().Get("back"))
	http.Redirect(w, r, back, http.StatusSeeOther)
}
