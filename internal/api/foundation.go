package api

import (
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
	Username string `json:"username"`
	Password string `json:"password"`
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
	Kind string `json:"kind" doc:"holiday | workday"`
	Name string `json:"name"`
}

type statusRequest struct {
	Status string `json:"status" doc:"active | disabled"`
}

type passwordReset struct {
	Password string `json:"password"`
}

type tokenRequest struct {
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes,omitempty"`
	ValidDays int      `json:"valid_days,omitempty"`
}

func (s *Server) foundationRoutes() {
	s.handle(Route{Method: "POST", Path: "/api/v1/session", Summary: "Log in and receive a bearer token", Tag: "auth", Public: true,
		Request: loginRequest{}, Response: auth.Session{}}, s.login)
	s.handle(Route{Method: "DELETE", Path: "/api/v1/session", Summary: "Revoke the current token", Tag: "auth", Status: 204}, s.logout)
	s.handle(Route{Method: "GET", Path: "/api/v1/me", Summary: "The authenticated account", Tag: "auth", Response: meResponse{}}, s.me)
	s.handle(Route{Method: "PUT", Path: "/api/v1/me/password", Summary: "Change one's own password", Tag: "auth", Request: passwordChange{}, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			var in passwordChange
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			if err := s.svc.Auth.ChangePassword(r.Context(), httpx.Actor(r), in.OldPassword, in.NewPassword); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		})

	s.handle(Route{Method: "GET", Path: "/api/v1/regions", Summary: "Provinces (top-level divisions)", Tag: "regions", Public: true, Response: Items[region.Region]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			list, err := s.svc.Regions.Children(r.Context(), "")
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, items(list))
			return nil
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/regions/{code}", Summary: "One GB/T 2260 division", Tag: "regions", Public: true, Response: region.Region{}},
		func(w http.ResponseWriter, r *http.Request) error {
			reg, err := s.svc.Regions.Get(r.Context(), r.PathValue("code"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, reg)
			return nil
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/regions/{code}/children", Summary: "Direct subdivisions of a division", Tag: "regions", Public: true, Response: Items[region.Region]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			list, err := s.svc.Regions.Children(r.Context(), r.PathValue("code"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, items(list))
			return nil
		})

	s.handle(Route{Method: "GET", Path: "/api/v1/calendar/add-workdays", Summary: "Date N working days after a date (skips weekends and holidays, counts make-up workdays)",
		Tag: "calendar", Public: true, Response: addWorkdaysResponse{},
		Query: []Param{{Name: "from", Description: "YYYY-MM-DD", Required: true}, {Name: "days", Description: "0–3660", Required: true}}}, s.addWorkdays)
	s.handle(Route{Method: "GET", Path: "/api/v1/calendar/years/{year}", Summary: "A year's holidays and make-up workdays", Tag: "calendar", Public: true, Response: yearResponse{}},
		func(w http.ResponseWriter, r *http.Request) error {
			y, err := strconv.Atoi(r.PathValue("year"))
			if err != nil {
				return platform.BadRequest("年份无效", "invalid year")
			}
			days, complete, err := s.svc.Calendar.Year(r.Context(), y)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, yearResponse{Year: y, Complete: complete, Days: days})
			return nil
		})
	s.handle(Route{Method: "PUT", Path: "/api/v1/calendar/years/{year}", Summary: "Publish a year's schedule (admin)", Tag: "calendar", Request: region.YearInput{}, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			y, err := strconv.Atoi(r.PathValue("year"))
			if err != nil {
				return platform.BadRequest("年份无效", "invalid year")
			}
			var in region.YearInput
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			if err := s.svc.Calendar.SetYear(r.Context(), httpx.Actor(r), y, in); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		})
	s.handle(Route{Method: "PUT", Path: "/api/v1/calendar/days/{date}", Summary: "Set one day as holiday or make-up workday (admin)", Tag: "calendar", Request: dayRequest{}, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			var in dayRequest
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			if in.Kind == "" {
				return platform.Invalid(platform.FieldError{Field: "kind", Code: "required", ZH: "必填", EN: "is required"})
			}
			if err := s.svc.Calendar.SetDay(r.Context(), httpx.Actor(r), r.PathValue("date"), in.Kind, in.Name); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		})
	s.handle(Route{Method: "DELETE", Path: "/api/v1/calendar/days/{date}", Summary: "Remove an exception (admin)", Tag: "calendar", Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.svc.Calendar.SetDay(r.Context(), httpx.Actor(r), r.PathValue("date"), "", ""); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		})

	s.handle(Route{Method: "GET", Path: "/api/v1/users", Summary: "List accounts (admin; operators see their staff)", Tag: "admin", Response: Items[auth.User]{},
		Query: []Param{{Name: "role"}, {Name: "region"}, {Name: "q"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			list, err := s.svc.Auth.ListUsers(r.Context(), httpx.Actor(r), auth.UserFilter{Role: q.Get("role"), Region: q.Get("region"), Q: q.Get("q")})
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, items(list))
			return nil
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/users", Summary: "Create an account (admin)", Tag: "admin", Request: auth.NewUser{}, Response: auth.User{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in auth.NewUser
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			u, err := s.svc.Auth.CreateUser(r.Context(), httpx.Actor(r), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusCreated, u)
			return nil
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/users/{id}/status", Summary: "Enable or disable an account", Tag: "admin", Request: statusRequest{}, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			id, err := pathID(r, "id")
			if err != nil {
				return err
			}
			var in statusRequest
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			if err := s.svc.Auth.SetUserStatus(r.Context(), httpx.Actor(r), id, in.Status); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/users/{id}/password", Summary: "Reset an account's password (admin)", Tag: "admin", Request: passwordReset{}, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			id, err := pathID(r, "id")
			if err != nil {
				return err
			}
			if err := auth.Authorize(httpx.Actor(r), auth.ActUserManage, auth.Resource{}); err != nil {
				return err
			}
			var in passwordReset
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			if err := s.svc.Auth.SetPassword(r.Context(), id, in.Password); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/users/{id}/tokens", Summary: "Issue a long-lived scoped token to an integration account (admin)", Tag: "admin",
		Request: tokenRequest{}, Response: auth.Session{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			id, err := pathID(r, "id")
			if err != nil {
				return err
			}
			var in tokenRequest
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			sess, err := s.svc.Auth.IssueIntegrationToken(r.Context(), httpx.Actor(r), id, in.Name, in.Scopes, time.Duration(in.ValidDays)*24*time.Hour)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusCreated, sess)
			return nil
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/agencies", Summary: "List agencies (admin)", Tag: "admin", Response: Items[auth.Agency]{}, Query: []Param{{Name: "region"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			list, err := s.svc.Auth.ListAgencies(r.Context(), httpx.Actor(r), r.URL.Query().Get("region"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, items(list))
			return nil
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/agencies", Summary: "Create an agency (admin)", Tag: "admin", Request: auth.Agency{}, Response: auth.Agency{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in auth.Agency
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			a, err := s.svc.Auth.CreateAgency(r.Context(), httpx.Actor(r), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusCreated, a)
			return nil
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/audit", Summary: "Audit log, newest first (admin)", Tag: "admin", Response: Items[auth.AuditEntry]{},
		Query: []Param{{Name: "action", Description: "prefix"}, {Name: "resource_type"}, {Name: "resource_id"}, {Name: "actor"}, {Name: "before_id"}, {Name: "limit"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			before, _ := strconv.ParseInt(q.Get("before_id"), 10, 64)
			limit, _ := strconv.Atoi(q.Get("limit"))
			list, err := s.svc.Auth.ListAudit(r.Context(), httpx.Actor(r), auth.AuditFilter{Action: q.Get("action"), ResourceType: q.Get("resource_type"),
				ResourceID: q.Get("resource_id"), Actor: q.Get("actor"), BeforeID: before, Limit: limit})
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, items(list))
			return nil
		})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in loginRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	var v platform.Validator
	v.Require("username", in.Username)
	v.Require("password", in.Password)
	if err := v.Err(); err != nil {
		return err
	}
	sess, err := s.svc.Auth.Login(r.Context(), in.Username, in.Password, platform.OriginFrom(r.Context()).Addr, "api")
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, sess)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Auth.Logout(r.Context(), httpx.RequestToken(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	u, err := s.svc.Auth.GetUser(r.Context(), httpx.Actor(r).UserID)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, meResponse{User: u})
	return nil
}

func (s *Server) addWorkdays(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var v platform.Validator
	from, err := time.Parse(time.DateOnly, q.Get("from"))
	v.Check(err == nil, "from", "format", "日期格式应为 YYYY-MM-DD", "from must be a date YYYY-MM-DD")
	days, err := strconv.Atoi(strings.TrimSpace(q.Get("days")))
	v.Check(err == nil, "days", "format", "天数应为整数", "days must be an integer")
	if err := v.Err(); err != nil {
		return err
	}
	d, complete, err := s.svc.Calendar.AddWorkdays(r.Context(), from, days)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, addWorkdaysResponse{Date: d.Format(time.DateOnly), CalendarComplete: complete})
	return nil
}

// pathID parses a numeric path value.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, platform.NotFound("资源不存在", "not found")
	}
	return id, nil
}
