package ui

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
)

// integrationPages: the administrators' integration clients (接口客户端):
// the integration accounts with their tokens (label, scopes, rate, dates,
// revoke), a new account with its first token (shown once), more tokens,
// each token's rate, and each client's recent calls and per-day counts by
// route (docs/security.md, "Integration clients").
type integrationPages struct{ *Server }

func (s integrationPages) routes() []route {
	return []route{
		{"GET /admin/integrations", loggedIn, s.list},
		{"POST /admin/integrations", loggedIn, s.create},
		{"GET /admin/integrations/{id}", loggedIn, s.client},
		{"POST /admin/integrations/{id}/tokens", loggedIn, s.issue},
		{"POST /admin/integrations/tokens/{tid}/rate", loggedIn, s.rate},
		{"POST /admin/integrations/tokens/{tid}/revoke", loggedIn, s.revoke},
	}
}

// icClient is an integration account with its tokens.
type icClient struct {
	User   auth.User
	Tokens []auth.Token
}

type icListData struct {
	Clients  []icClient
	Scopes   []auth.Action
	Default  auth.ClientRate
	NewToken *auth.Session // just issued: shown once
}

type icClientData struct {
	Client   icClient
	Calls    []auth.Call
	Counts   []auth.RouteCount
	Scopes   []auth.Action
	Default  auth.ClientRate
	NewToken *auth.Session
}

func (s integrationPages) clients(r *http.Request) ([]icClient, error) {
	a := httpx.Actor(r)
	users, err := s.svc.Auth.ListUsers(r.Context(), a, auth.UserFilter{Role: string(auth.RoleIntegration), Limit: 500})
	if err != nil {
		return nil, err
	}
	out := make([]icClient, 0, len(users))
	for _, u := range users {
		toks, err := s.svc.Auth.ListTokens(r.Context(), a, u.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, icClient{User: u, Tokens: toks})
	}
	return out, nil
}

func (s integrationPages) listPage(r *http.Request, issued *auth.Session) (*Page, error) {
	// the page is the administrators': others are told so before anything is read
	if err := auth.Authorize(httpx.Actor(r), auth.ActTokenManage, auth.Resource{}); err != nil {
		return nil, err
	}
	list, err := s.clients(r)
	if err != nil {
		return nil, err
	}
	return s.page(r, "admin.integrations", icListData{Clients: list, Scopes: auth.IntegrationScopes(), Default: auth.DefaultClientRate, NewToken: issued}), nil
}

func (s integrationPages) list(w http.ResponseWriter, r *http.Request) {
	p, err := s.listPage(r, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "integrations", p)
}

// tokenForm reads a token's fields from the form.
func tokenForm(r *http.Request) auth.TokenRequest {
	f := r.PostForm
	days, _ := strconv.Atoi(strings.TrimSpace(f.Get("valid_days")))
	per, _ := strconv.Atoi(strings.TrimSpace(f.Get("rate_per_minute")))
	burst, _ := strconv.Atoi(strings.TrimSpace(f.Get("rate_burst")))
	return auth.TokenRequest{Name: f.Get("token_name"), Scopes: f["scopes"], ValidDays: days, Rate: auth.ClientRate{PerMinute: per, Burst: burst}}
}

// create makes an integration account (it authenticates by its tokens: its
// password is random and never shown) and issues its first token.
func (s integrationPages) create(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	a, f := httpx.Actor(r), r.PostForm
	tr := tokenForm(r)
	if strings.TrimSpace(tr.Name) == "" {
		tr.Name = strings.TrimSpace(f.Get("name"))
	}
	fail := func(err error) {
		p, perr := s.listPage(r, nil)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		s.render(w, r, "integrations", p, formError(p, r, err))
	}
	if err := auth.Authorize(a, auth.ActTokenManage, auth.Resource{}); err != nil {
		s.fail(w, r, err)
		return
	}
	u, err := s.svc.Auth.CreateUser(r.Context(), a, auth.NewUser{Username: strings.TrimSpace(f.Get("username")), Password: randomPassword(),
		Name: strings.TrimSpace(f.Get("name")), Role: string(auth.RoleIntegration), RegionCode: strings.TrimSpace(f.Get("region_code"))})
	if err != nil {
		fail(err)
		return
	}
	sess, err := s.svc.Auth.IssueClientToken(r.Context(), a, u.ID, tr)
	if err != nil {
		// the account exists: its page offers the token form again, with the reason
		r.SetPathValue("id", strconv.FormatInt(u.ID, 10))
		s.refuse(w, r, err, s.client, fmt.Sprintf("/admin/integrations/%d", u.ID))
		return
	}
	p, err := s.listPage(r, &sess)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Flash = p.T("ic.issued")
	s.render(w, r, "integrations", p)
}

func randomPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "ic-" + base64.RawURLEncoding.EncodeToString(b)
}

func (s integrationPages) clientPage(r *http.Request, issued *auth.Session) (*Page, error) {
	a, id := httpx.Actor(r), pathInt(r, "id")
	if err := auth.Authorize(a, auth.ActTokenManage, auth.Resource{}); err != nil {
		return nil, err
	}
	u, err := s.svc.Auth.GetUser(r.Context(), id)
	if err != nil {
		return nil, err
	}
	calls, err := s.svc.Auth.Calls(r.Context(), a, id, 100)
	if err != nil {
		return nil, err
	}
	counts, err := s.svc.Auth.CallCounts(r.Context(), a, id, 14)
	if err != nil {
		return nil, err
	}
	toks, err := s.svc.Auth.ListTokens(r.Context(), a, id)
	if err != nil {
		return nil, err
	}
	return s.page(r, "ic.client", icClientData{Client: icClient{User: u, Tokens: toks}, Calls: calls, Counts: counts,
		Scopes: auth.IntegrationScopes(), Default: auth.DefaultClientRate, NewToken: issued}), nil
}

func (s integrationPages) client(w http.ResponseWriter, r *http.Request) {
	p, err := s.clientPage(r, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "integration", p)
}

// issue gives an existing integration account another token (shown once).
func (s integrationPages) issue(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id := pathInt(r, "id")
	sess, err := s.svc.Auth.IssueClientToken(r.Context(), httpx.Actor(r), id, tokenForm(r))
	if err != nil {
		s.refuse(w, r, err, s.client, fmt.Sprintf("/admin/integrations/%d", id))
		return
	}
	p, err := s.clientPage(r, &sess)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Flash = p.T("ic.issued")
	s.render(w, r, "integration", p)
}

// back is where a token form returns: the client's page it was sent from, or the list.
func icBack(r *http.Request) string {
	if b := safeNext(r.PostForm.Get("back")); strings.HasPrefix(b, "/admin/integrations") {
		return b
	}
	return "/admin/integrations"
}

func (s integrationPages) rate(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	per, _ := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("per_minute")))
	burst, _ := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("burst")))
	if _, err := s.svc.Auth.SetTokenRate(r.Context(), httpx.Actor(r), r.PathValue("tid"), auth.ClientRate{PerMinute: per, Burst: burst}); err != nil {
		s.refuse(w, r, err, s.list, "/admin/integrations")
		return
	}
	redirect(w, r, icBack(r), "common.saved")
}

func (s integrationPages) revoke(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if err := s.svc.Auth.RevokeToken(r.Context(), httpx.Actor(r), r.PathValue("tid")); err != nil {
		s.refuse(w, r, err, s.list, "/admin/integrations")
		return
	}
	redirect(w, r, icBack(r), "ic.revoked")
}
