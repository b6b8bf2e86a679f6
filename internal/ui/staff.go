package ui

import (
	"fmt"
	"net/http"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/operator"
)

// staffPages: an operator's staff accounts.
type staffPages struct{ *Server }

func (s staffPages) routes() []route {
	return []route{
		{"GET /my/staff", loggedIn, s.myStaff},
		{"GET /operators/{id}/staff", loggedIn, s.list},
		{"POST /operators/{id}/staff", loggedIn, s.create},
		{"POST /operators/{id}/staff/{user}/status", loggedIn, s.setStatus},
	}
}

func (s staffPages) myStaff(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	if a.OperatorID == 0 {
		s.fail(w, r, errNoOperator)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/operators/%d/staff", a.OperatorID), http.StatusSeeOther)
}

type opStaffData struct {
	Op    operator.Operator
	Staff []auth.User
	Perms []string
}

func (s staffPages) staffPage(r *http.Request) (*Page, error) {
	a := httpx.Actor(r)
	id := pathInt(r, "id")
	o, err := s.svc.Operators.Get(r.Context(), a, id)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.Operators.Staff(r.Context(), a, id)
	if err != nil {
		return nil, err
	}
	return s.page(r, "op.staff", opStaffData{Op: o, Staff: list, Perms: auth.StaffPerms}), nil
}

func (s staffPages) list(w http.ResponseWriter, r *http.Request) {
	p, err := s.staffPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "op_staff", p)
}

func (s staffPages) create(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	id := pathInt(r, "id")
	_, err := s.svc.Operators.CreateStaff(r.Context(), httpx.Actor(r), id, operator.StaffInput{Username: f.Get("username"), Password: f.Get("password"),
		Name: f.Get("name"), Permissions: f["permissions"]})
	if err != nil {
		p, perr := s.staffPage(r)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		st := formError(p, r, err)
		p.Form.Del("password")
		s.render(w, r, "op_staff", p, st)
		return
	}
	redirect(w, r, fmt.Sprintf("/operators/%d/staff", id), "common.saved")
}

func (s staffPages) setStatus(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id := pathInt(r, "id")
	if err := s.svc.Operators.SetStaffStatus(r.Context(), httpx.Actor(r), id, pathInt(r, "user"), r.PostForm.Get("status")); err != nil {
		s.refuse(w, r, err, s.list, fmt.Sprintf("/operators/%d/staff", id))
		return
	}
	redirect(w, r, fmt.Sprintf("/operators/%d/staff", id), "common.saved")
}
