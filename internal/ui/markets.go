package ui

import (
	"net/http"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/trace"
)

// marketPlacePages: the register of markets (places sellers pick), and
// registering one.
type marketPlacePages struct{ *Server }

func (s marketPlacePages) routes() []route {
	return []route{
		{"GET /markets", loggedIn, s.list},
		{"POST /markets", loggedIn, s.create},
	}
}

type trMarketsData struct {
	Markets   []trace.RegisteredMarket
	Kinds     []string
	CanManage bool
}

func (s marketPlacePages) list(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	q := r.URL.Query()
	region := q.Get("region")
	if !q.Has("region") && a.Region != "000000" {
		region = a.Region // one's own jurisdiction first
	}
	list, err := s.svc.Trace.Markets(r.Context(), trace.MarketFilter{Region: region, Q: q.Get("q")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "tr.markets", trMarketsData{Markets: list, Kinds: trace.MarketKinds, CanManage: a.Can(auth.ActMarketManage)})
	if !q.Has("region") {
		p.Query.Set("region", region)
	}
	if p.Form == nil {
		p.Form = map[string][]string{"region_code": {a.Region}}
	}
	s.render(w, r, "tr_markets", p)
}

func (s marketPlacePages) create(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	m, err := s.svc.Trace.CreateMarket(r.Context(), httpx.Actor(r), trace.NewMarket{Name: f.Get("name"), Kind: f.Get("kind"),
		RegionCode: f.Get("region_code"), Address: f.Get("address")})
	if err != nil {
		s.refuse(w, r, err, s.list, "/markets")
		return
	}
	redirect(w, r, "/markets?region="+m.RegionCode, "tr.markets.created")
}
