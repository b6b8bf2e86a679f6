package ui

import (
	"fmt"
	"net/http"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/operator"
)

// agreementPages: traceability agreements (the county issues, the operator
// signs).
type agreementPages struct{ *Server }

func (s agreementPages) routes() []route {
	return []route{
		{"GET /agreements", loggedIn, s.list},
		{"GET /agreements/{id}", loggedIn, s.view},
		{"POST /agreements/{id}/sign", loggedIn, s.sign},
		{"POST /operators/{id}/agreements", loggedIn, s.issue},
	}
}

func (s agreementPages) issue(w http.ResponseWriter, r *http.Request) {
	id := pathInt(r, "id")
	ag, err := s.svc.Operators.IssueAgreement(r.Context(), httpx.Actor(r), id, 0)
	if err != nil {
		s.refuse(w, r, err, operatorPages{s.Server}.view, fmt.Sprintf("/operators/%d", id))
		return
	}
	redirect(w, r, fmt.Sprintf("/agreements/%d", ag.ID), "op.agreement.issued")
}

type opAgreementsData struct {
	Agreements []operator.Agreement
	Unsigned   []operator.UnsignedItem
	Official   bool
}

func (s agreementPages) list(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	list, err := s.svc.Operators.Agreements(r.Context(), a, operator.AgreementFilter{Status: r.URL.Query().Get("status")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := opAgreementsData{Agreements: list, Official: a.OperatorID == 0}
	if d.Official {
		if d.Unsigned, err = s.svc.Operators.Unsigned(r.Context(), a, ""); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, "op_agreements", s.page(r, "op.agreements", d))
}

type opAgreementData struct {
	A        operator.Agreement
	Paras    []string
	CanSign  bool
	Verified bool
}

func (s agreementPages) view(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	ag, err := s.svc.Operators.GetAgreement(r.Context(), a, pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := opAgreementData{A: ag, Paras: strings.Split(ag.Body, "\n"), Verified: s.svc.Operators.VerifyAgreement(ag),
		CanSign: ag.Status == "issued" && auth.Authorize(a, auth.ActAgreementSign, auth.Resource{Region: ag.RegionCode, OperatorID: ag.OperatorID}) == nil}
	s.render(w, r, "op_agreement", s.page(r, "op.agreement", d))
}

func (s agreementPages) sign(w http.ResponseWriter, r *http.Request) {
	id := pathInt(r, "id")
	if _, err := s.svc.Operators.SignAgreement(r.Context(), httpx.Actor(r), id); err != nil {
		s.refuse(w, r, err, s.view, fmt.Sprintf("/agreements/%d", id))
		return
	}
	redirect(w, r, fmt.Sprintf("/agreements/%d", id), "op.agreement.signed")
}
