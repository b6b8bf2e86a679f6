package ui

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/trace"
)

// marketPages: the market clerk's check of market-entry certificates.
type marketPages struct{ *Server }

func (s marketPages) routes() []route {
	return []route{
		{"GET /market", loggedIn, s.check},
		{"POST /market/{code}/accept", loggedIn, s.accept},
		{"POST /market/{code}/reject", loggedIn, s.reject},
	}
}

type trMarketData struct {
	Query    string
	Transfer *trace.Transfer
	Public   *trace.PublicTrace
	// NoCertificate: the product needs a compliance certificate and the
	// goods come without one (the clerk is warned before accepting)
	NoCertificate bool
	Issued        []trace.Transfer
	Checked       []trace.Transfer // the region's entries already accepted or turned away, newest first
}

// marketHistory is how many checked entries of each outcome the page lists.
const marketHistory = 20

func (s marketPages) marketPage(r *http.Request, p *Page) (*Page, error) {
	a := httpx.Actor(r)
	if err := auth.Authorize(a, auth.ActMarketAccept, auth.Resource{}); err != nil {
		return nil, err
	}
	d := trMarketData{Query: strings.TrimSpace(r.URL.Query().Get("code"))}
	if d.Query != "" {
		t, err := s.svc.Trace.CheckMarketEntry(r.Context(), a, d.Query)
		if err != nil {
			prob := httpx.ProblemOf(r, err)
			p.Error = prob.Detail
			if p.Lang == "zh" {
				p.Error = prob.DetailZH
			}
		} else {
			d.Transfer = &t
			if pub, err := s.svc.Trace.Public(r.Context(), t.TraceCode, s.svc.Trace.Token(t.TraceCode)); err == nil {
				d.Public = &pub
				if prod, err := s.svc.Trace.Product(r.Context(), t.ProductCode); err == nil {
					d.NoCertificate = prod.Certificate && len(pub.Certificates) == 0
				}
			}
		}
	}
	issued, err := s.svc.Trace.ListTransfers(r.Context(), a, trace.TransferFilter{Status: "issued", Limit: 50})
	if err != nil {
		return nil, err
	}
	d.Issued = issued
	for _, st := range []string{trace.TransferAccepted, trace.TransferRejected} {
		list, err := s.svc.Trace.ListTransfers(r.Context(), a, trace.TransferFilter{Status: st, Limit: marketHistory})
		if err != nil {
			return nil, err
		}
		d.Checked = append(d.Checked, list...)
	}
	sort.SliceStable(d.Checked, func(i, j int) bool { return d.Checked[i].RespondedAt > d.Checked[j].RespondedAt })
	p.Data = d
	return p, nil
}

func (s marketPages) check(w http.ResponseWriter, r *http.Request) {
	p, err := s.marketPage(r, s.page(r, "tr.market", nil))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "tr_market", p)
}

func (s marketPages) accept(w http.ResponseWriter, r *http.Request) {
	code, err := trace.ParsePathCode(r.PathValue("code"))
	if err == nil {
		_, err = s.svc.Trace.Accept(r.Context(), httpx.Actor(r), code)
	}
	if err != nil {
		s.refuse(w, r, err, s.check, "/market?code="+url.QueryEscape(r.PathValue("code")))
		return
	}
	redirect(w, r, "/market?code="+code, "tr.accepted")
}

// reject turns a market entry away with a reason: the goods go back to the seller.
func (s marketPages) reject(w http.ResponseWriter, r *http.Request) {
	code, err := trace.ParsePathCode(r.PathValue("code"))
	if err == nil {
		_ = r.ParseForm()
		_, err = s.svc.Trace.Reject(r.Context(), httpx.Actor(r), code, r.PostForm.Get("reason"))
	}
	if err != nil {
		s.refuse(w, r, err, s.check, "/market?code="+url.QueryEscape(r.PathValue("code")))
		return
	}
	redirect(w, r, "/market?code="+code, "tr.market.rejected")
}
