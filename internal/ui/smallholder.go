package ui

import (
	"net/http"
	"net/url"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/httpx"
	"agtrace/internal/operator"
	"agtrace/internal/trace"
)

// smallholderPages: buying from a smallholder under a temporary operator code.
type smallholderPages struct{ *Server }

func (s smallholderPages) routes() []route {
	return []route{
		{"GET /smallholder", loggedIn, s.form},
		{"POST /smallholder", loggedIn, s.record},
	}
}

type trSmallholderData struct {
	Products    []trace.Product
	Units       []trace.Unit
	MarketKinds []string
	Market      bool
	Markets     []trace.RegisteredMarket // the clerk's region's registered markets
	Today       string
}

func (s smallholderPages) formPage(r *http.Request, p *Page) (*Page, error) {
	a := httpx.Actor(r)
	if err := auth.Authorize(a, auth.ActTempOperator, auth.Resource{}); err != nil {
		return nil, err
	}
	products, err := s.svc.Trace.Products(r.Context())
	if err != nil {
		return nil, err
	}
	d := trSmallholderData{Products: products, Units: trAllUnits(), MarketKinds: trace.MarketKinds, Market: a.Role == auth.RoleMarket, Today: s.svc.Trace.Today()}
	if d.Market {
		if d.Markets, err = s.svc.Trace.Markets(r.Context(), trace.MarketFilter{Region: a.Region}); err != nil {
			return nil, err
		}
	}
	p.Data = d
	return p, nil
}

func (s smallholderPages) form(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "tr.smallholder", nil)
	a := httpx.Actor(r)
	p.Form = url.Values{"produced_at": {s.svc.Trace.Today()}, "region_code": {a.Region}, "market_region": {a.Region}}
	if _, err := s.formPage(r, p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "tr_smallholder", p)
}

func (s smallholderPages) record(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	a := httpx.Actor(r)
	in := trace.SmallholderPurchase{SmallholderCode: codes.NormalizeCode(f.Get("smallholder_operator_code")),
		Batch: trace.NewBatch{ProductCode: f.Get("product_code"), Quantity: trFormQty(f, "quantity"), Unit: f.Get("unit"),
			ProducedAt: strings.TrimSpace(f.Get("produced_at")), Origin: f.Get("origin")}}
	if in.SmallholderCode == "" {
		in.Smallholder = &operator.TemporaryInput{Name: f.Get("name"), RegionCode: f.Get("region_code"), Phone: f.Get("phone")}
	}
	if a.Role == auth.RoleMarket {
		in.Market = marketOf(f)
	}
	res, err := s.svc.Trace.RecordSmallholder(r.Context(), a, in)
	if err != nil {
		p := s.page(r, "tr.smallholder", nil)
		st := formError(p, r, err)
		if _, perr := s.formPage(r, p); perr != nil {
			s.fail(w, r, perr)
			return
		}
		for k, v := range p.Fields {
			if n, ok := strings.CutPrefix(k, "batch."); ok {
				p.Fields[n] = v
			}
			if n, ok := strings.CutPrefix(k, "smallholder."); ok {
				p.Fields[n] = v
			}
			if n, ok := strings.CutPrefix(k, "market."); ok {
				p.Fields["market_"+strings.TrimSuffix(n, "_code")] = v
			}
		}
		s.render(w, r, "tr_smallholder", p, st)
		return
	}
	if a.Role == auth.RoleMarket {
		redirect(w, r, "/market?code="+res.Transfer.TraceCode, "tr.smallholder.done")
		return
	}
	redirect(w, r, "/batches/"+res.Transfer.TraceCode, "tr.smallholder.done")
}
