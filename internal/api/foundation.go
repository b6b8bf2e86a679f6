package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
	"agtrace/internal/region"
)

type loginRequest struct {
	Username string `json:"username" validate:"required"`
	Password string `json:"password" validate:"required"`
}

type meResponse struct {
	User auth.User `json:"user"`
}

type passwordChange struct {
	OldPassword string `json:"old_password"`
	NewPassword string `json:"new_password"`
}

type addWorkdaysResponse struct {
	Date             string `json:"date"`
	CalendarComplete bool   `json:"calendar_complete"`
}

type yearResponse struct {
	Year     int          `json:"year"`
	Complete bool         `json:"complete"`
	Days     []region.Day `json:"days"`
}

type dayRequest struct {
	Kind string `json:"kind" validate:"required" doc:"holiday | workday"`
	Name string `json:"name"`
}

type statusRequest struct {
	Status string `json:"status" doc:"active | disabled"`
}

type passwordReset struct {
	Password string `json:"password"`
}

type tokenRequest struct {
	Name          string   `json:"name"`
	Scopes        []string `json:"scopes,omitempty"`
	ValidDays     int      `json:"valid_days,omitempty" doc:"1–365; default 365"`
	RatePerMinute int      `json:"rate_per_minute,omitempty" doc:"requests a minute the token may make, 1–60000; default 600"`
	RateBurst     int      `json:"rate_burst,omitempty" doc:"requests at once, 1–10000; default a tenth of rate_per_minute (60 with the default rate)"`
}

func (s *Server) foundationRoutes() {
	s.sessionRoutes()
	s.regionRoutes()
	s.adminRoutes()
}

// sessionRoutes registers login, logout and one's own account.
func (s *Server) sessionRoutes() {
	route(s, Route{Method: "POST", Path: "/api/v1/session", Summary: "Log in and receive a bearer token", Tag: "auth", Public: true},
		func(ctx context.Context, _ *auth.Actor, _ *http.Request, in loginRequest) (auth.Session, error) {
			return s.svc.Auth.Login(ctx, in.Username, in.Password, platform.OriginFrom(ctx).Addr, "api")
		})
	route(s, Route{Method: "DELETE", Path: "/api/v1/session", Summary: "Revoke the current token", Tag: "auth"},
		func(ctx context.Context, _ *auth.Actor, r *http.Request, _ NoBody) (NoContent, error) {
			return NoContent{}, s.svc.Auth.Logout(ctx, httpx.RequestToken(r))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/me", Summary: "The authenticated account", Tag: "auth"},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, _ NoBody) (meResponse, error) {
			u, err := s.svc.Auth.GetUser(ctx, a.UserID)
			return meResponse{User: u}, err
		})
	route(s, Route{Method: "PUT", Path: "/api/v1/me/password", Summary: "Change one's own password", Tag: "auth"},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, in passwordChange) (NoContent, error) {
			return NoContent{}, s.svc.Auth.ChangePassword(ctx, a, in.OldPassword, in.NewPassword)
		})
}

// regionRoutes registers regions and the working-day calendar.
func (s *Server) regionRoutes() {
	route(s, Route{Method: "GET", Path: "/api/v1/regions", Summary: "Provinces (top-level divisions)", Tag: "regions", Public: true},
		func(ctx context.Context, _ *auth.Actor, _ *http.Request, _ NoBody) (Items[region.Region], error) {
			return itemsOf(s.svc.Regions.Children(ctx, ""))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/regions/{code}", Summary: "One GB/T 2260 division", Tag: "regions", Public: true},
		func(ctx context.Context, _ *auth.Actor, r *http.Request, _ NoBody) (region.Region, error) {
			return s.svc.Regions.Get(ctx, r.PathValue("code"))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/regions/{code}/children", Summary: "Direct subdivisions of a division", Tag: "regions", Public: true},
		func(ctx context.Context, _ *auth.Actor, r *http.Request, _ NoBody) (Items[region.Region], error) {
			return itemsOf(s.svc.Regions.Children(ctx, r.PathValue("code")))
		})

	route(s, Route{Method: "GET", Path: "/api/v1/calendar/add-workdays", Summary: "Date N working days after a date (skips weekends and holidays, counts make-up workdays)",
		Tag: "calendar", Public: true, Query: []Param{{Name: "from", Description: "YYYY-MM-DD", Required: true}, {Name: "days", Description: "0–3660", Required: true}}}, s.addWorkdays)
	route(s, Route{Method: "GET", Path: "/api/v1/calendar/years/{year}", Summary: "A year's holidays and make-up workdays", Tag: "calendar", Public: true},
		func(ctx context.Context, _ *auth.Actor, r *http.Request, _ NoBody) (yearResponse, error) {
			y, err := pathYear(r)
			if err != nil {
				return yearResponse{}, err
			}
			days, complete, err := s.svc.Calendar.Year(ctx, y)
			return yearResponse{Year: y, Complete: complete, Days: days}, err
		})
	route(s, Route{Method: "PUT", Path: "/api/v1/calendar/years/{year}", Summary: "Publish a year's schedule (admin)", Tag: "calendar"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in region.YearInput) (NoContent, error) {
			y, err := pathYear(r)
			if err != nil {
				return NoContent{}, err
			}
			return NoContent{}, s.svc.Calendar.SetYear(ctx, a, y, in)
		})
	route(s, Route{Method: "PUT", Path: "/api/v1/calendar/days/{date}", Summary: "Set one day as holiday or make-up workday (admin)", Tag: "calendar"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in dayRequest) (NoContent, error) {
			return NoContent{}, s.svc.Calendar.SetDay(ctx, a, r.PathValue("date"), in.Kind, in.Name)
		})
	route(s, Route{Method: "DELETE", Path: "/api/v1/calendar/days/{date}", Summary: "Remove an exception (admin)", Tag: "calendar"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (NoContent, error) {
			return NoContent{}, s.svc.Calendar.SetDay(ctx, a, r.PathValue("date"), "", "")
		})
}

// adminRoutes registers accounts, tokens, agencies and the audit log.
func (s *Server) adminRoutes() {
	route(s, Route{Method: "GET", Path: "/api/v1/users", Summary: "List accounts (admin; operators see their staff)", Tag: "admin",
		Query: []Param{{Name: "role"}, {Name: "region"}, {Name: "q"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[auth.User], error) {
			q := r.URL.Query()
			return itemsOf(s.svc.Auth.ListUsers(ctx, a, auth.UserFilter{Role: q.Get("role"), Region: q.Get("region"), Q: q.Get("q")}))
		})
	route(s, Route{Method: "POST", Path: "/api/v1/users", Summary: "Create an account (admin)", Tag: "admin", Status: 201},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, in auth.NewUser) (auth.User, error) {
			return s.svc.Auth.CreateUser(ctx, a, in)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/users/{id}/status", Summary: "Enable or disable an account", Tag: "admin"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in statusRequest) (NoContent, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return NoContent{}, err
			}
			return NoContent{}, s.svc.Auth.SetUserStatus(ctx, a, id, in.Status)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/users/{id}/password", Summary: "Reset an account's password (admin)", Tag: "admin"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in passwordReset) (NoContent, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return NoContent{}, err
			}
			return NoContent{}, s.svc.Auth.SetPassword(ctx, a, id, in.Password)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/users/{id}/tokens", Summary: "Issue a long-lived scoped token to an integration account (admin)", Tag: "admin", Status: 201},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in tokenRequest) (auth.Session, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return auth.Session{}, err
			}
			return s.svc.Auth.IssueClientToken(ctx, a, id, auth.TokenRequest{Name: in.Name, Scopes: in.Scopes, ValidDays: in.ValidDays,
				Rate: auth.ClientRate{PerMinute: in.RatePerMinute, Burst: in.RateBurst}})
		})
	route(s, Route{Method: "GET", Path: "/api/v1/users/{id}/tokens", Summary: "An integration account's tokens: label, scopes, dates, never the token (admin, or the account itself)", Tag: "admin"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[auth.Token], error) {
			id, err := pathID(r, "id")
			if err != nil {
				return Items[auth.Token]{}, err
			}
			return itemsOf(s.svc.Auth.ListTokens(ctx, a, id))
		})
	route(s, Route{Method: "DELETE", Path: "/api/v1/users/{id}/login-throttle", Summary: "Forget the failed logins counted against an account, after a guessing attack (admin; audited)", Tag: "admin"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (NoContent, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return NoContent{}, err
			}
			return NoContent{}, s.svc.Auth.ClearLoginThrottle(ctx, a, id)
		})
	route(s, Route{Method: "DELETE", Path: "/api/v1/tokens/{id}", Summary: "Revoke one integration token by its id (admin, or the account itself)", Tag: "admin"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (NoContent, error) {
			return NoContent{}, s.svc.Auth.RevokeToken(ctx, a, r.PathValue("id"))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/agencies", Summary: "List agencies (admin)", Tag: "admin", Query: []Param{{Name: "region"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[auth.Agency], error) {
			return itemsOf(s.svc.Auth.ListAgencies(ctx, a, r.URL.Query().Get("region")))
		})
	route(s, Route{Method: "POST", Path: "/api/v1/agencies", Summary: "Create an agency (admin)", Tag: "admin", Status: 201},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, in auth.Agency) (auth.Agency, error) {
			return s.svc.Auth.CreateAgency(ctx, a, in)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/audit", Summary: "Audit log, newest first (admin)", Tag: "admin",
		Query: []Param{{Name: "action", Description: "prefix"}, {Name: "resource_type"}, {Name: "resource_id"}, {Name: "actor"}, {Name: "before_id"}, {Name: "limit"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[auth.AuditEntry], error) {
			q := r.URL.Query()
			before, _ := strconv.ParseInt(q.Get("before_id"), 10, 64)
			limit, _ := strconv.Atoi(q.Get("limit"))
			return itemsOf(s.svc.Auth.ListAudit(ctx, a, auth.AuditFilter{Action: q.Get("action"), ResourceType: q.Get("resource_type"),
				ResourceID: q.Get("resource_id"), Actor: q.Get("actor"), BeforeID: before, Limit: limit}))
		})
}

func (s *Server) addWorkdays(ctx context.Context, _ *auth.Actor, r *http.Request, _ NoBody) (addWorkdaysResponse, error) {
	q := r.URL.Query()
	var v platform.Validator
	from, err := time.Parse(time.DateOnly, q.Get("from"))
	v.Check(err == nil, "from", "format", "日期格式应为 YYYY-MM-DD", "from must be a date YYYY-MM-DD")
	days, err := strconv.Atoi(strings.TrimSpace(q.Get("days")))
	v.Check(err == nil, "days", "format", "天数应为整数", "days must be an integer")
	if err := v.Err(); err != nil {
		return addWorkdaysResponse{}, err
	}
	d, complete, err := s.svc.Calendar.AddWorkdays(ctx, from, days)
	if err != nil {
		return addWorkdaysResponse{}, err
	}
	return addWorkdaysResponse{Date: d.Format(time.DateOnly), CalendarComplete: complete}, nil
}

func pathYear(r *http.Request) (int, error) {
	y, err := strconv.Atoi(r.PathValue("year"))
	if err != nil {
		return 0, platform.BadRequest("年份无效", "invalid year")
	}
	return y, nil
}

// pathID parses a numeric path value.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, platform.NotFound("资源不存在", "not found")
	}
	return id, nil
}
