package ui

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// registerPages: self-registration of a producer or trader.
type registerPages struct{ *Server }

func (s registerPages) routes() []route {
	return []route{
		{"GET /register", anyone, s.form},
		{"POST /register", anyone, s.submit},
	}
}

func (s registerPages) form(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "op.register.title", opChoices("operator.", "/register"))
	s.render(w, r, "op_register", p)
}

func (s registerPages) submit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, platform.BadRequest("表单无效", "invalid form"))
		return
	}
	f := r.PostForm
	in := operator.Registration{Username: f.Get("username"), Password: f.Get("password"), Phone: f.Get("phone"), Operator: opDetailsFromForm(f)}
	o, u, err := s.svc.Operators.Register(r.Context(), in)
	if err != nil {
		p := s.page(r, "op.register.title", opChoices("operator.", "/register"))
		st := formError(p, r, err)
		p.Form.Del("password")
		s.render(w, r, "op_register", p, st)
		return
	}
	sess, err := s.svc.Auth.Login(r.Context(), u.Username, in.Password, platform.OriginFrom(r.Context()).Addr, "browser")
	if err != nil {
		redirect(w, r, "/login?next="+url.QueryEscape(fmt.Sprintf("/operators/%d", o.ID)), "op.registered")
		return
	}
	s.setSession(w, sess.Token, sess.ExpiresAt)
	redirect(w, r, fmt.Sprintf("/operators/%d", o.ID), "op.registered")
}

// opFormChoices are the option lists the operator forms need.
type opFormChoices struct {
	Kinds, Categories, Leading, CertKinds, DocKinds []string
	Prefix                                          string // field-name prefix of errors ("operator." on registration)
	Action                                          string
	Change                                          bool
	Operator                                        *operator.Operator
}

func opChoices(prefix, action string) opFormChoices {
	return opFormChoices{Kinds: operator.Kinds, Categories: operator.Categories, Leading: operator.LeadingLevels, CertKinds: operator.CertKinds,
		DocKinds: operator.DocumentKinds, Prefix: prefix, Action: action}
}

// opDetailsFromForm reads the operator details of a submitted form.
func opDetailsFromForm(f url.Values) operator.Details {
	d := operator.Details{Name: f.Get("name"), Kind: f.Get("kind"), Category: f.Get("category"), CreditCode: f.Get("credit_code"),
		IDNumber: f.Get("id_number"), LegalRep: f.Get("legal_rep"), ContactName: f.Get("contact_name"), Phone: f.Get("phone"),
		RegionCode: f.Get("region_code"), Address: f.Get("address"), Products: []string{f.Get("products")},
		AnnualOutputUnit: f.Get("annual_output_unit"), LeadingEnterprise: f.Get("leading_enterprise"), DemoCooperative: f.Get("demo_cooperative") != ""}
	if lat, lng := formNumber(f, "lat"), formNumber(f, "lng"); lat != nil || lng != nil {
		loc := operator.Location{Lat: math.NaN(), Lng: math.NaN()} // half a position is refused
		if lat != nil {
			loc.Lat = *lat
		}
		if lng != nil {
			loc.Lng = *lng
		}
		d.Location = &loc
	}
	d.AnnualOutput = formNumber(f, "annual_output")
	kinds, nums, valid := f["cert_kind"], f["cert_number"], f["cert_valid"]
	for i := range kinds {
		if strings.TrimSpace(kinds[i]) == "" {
			continue
		}
		c := operator.Certification{Kind: kinds[i]}
		if i < len(nums) {
			c.Number = strings.TrimSpace(nums[i])
		}
		if i < len(valid) {
			c.ValidUntil = strings.TrimSpace(valid[i])
		}
		d.Certifications = append(d.Certifications, c)
	}
	return d
}

// opFormFromDetails fills a form with current details.
func opFormFromDetails(d operator.Details) url.Values {
	f := url.Values{"name": {d.Name}, "kind": {d.Kind}, "category": {d.Category}, "credit_code": {d.CreditCode}, "id_number": {d.IDNumber},
		"legal_rep": {d.LegalRep}, "contact_name": {d.ContactName}, "phone": {d.Phone}, "region_code": {d.RegionCode}, "address": {d.Address},
		"products": {strings.Join(d.Products, "、")}, "annual_output_unit": {d.AnnualOutputUnit}, "leading_enterprise": {d.LeadingEnterprise}}
	if d.Location != nil {
		f.Set("lat", strconv.FormatFloat(d.Location.Lat, 'f', -1, 64))
		f.Set("lng", strconv.FormatFloat(d.Location.Lng, 'f', -1, 64))
	}
	if d.AnnualOutput != nil {
		f.Set("annual_output", strconv.FormatFloat(*d.AnnualOutput, 'f', -1, 64))
	}
	if d.DemoCooperative {
		f.Set("demo_cooperative", "on")
	}
	for _, c := range d.Certifications {
		f.Add("cert_kind", c.Kind)
		f.Add("cert_number", c.Number)
		f.Add("cert_valid", c.ValidUntil)
	}
	return f
}
