package ui

import (
	"fmt"
	"net/http"

	"agtrace/internal/exchange"
	"agtrace/internal/httpx"
)

// exchangePages: the administrators' view of the node's place among
// province and national nodes (数据交换): where the stream stands, the lag,
// and the messages parked after failing validation, each with a retry.
type exchangePages struct{ *Server }

func (s exchangePages) routes() []route {
	return []route{
		{"GET /admin/exchange", loggedIn, s.status},
		{"GET /admin/exchange/parked/{id}", loggedIn, s.parked},
		{"POST /admin/exchange/parked/{id}/retry", loggedIn, s.retry},
	}
}

type xcStatusData struct {
	St     exchange.Status
	Parked []exchange.Parked
	Filter string // parked | applied | all
}

func (s exchangePages) status(w http.ResponseWriter, r *http.Request) {
	a, node := httpx.Actor(r), s.svc.Node
	st, err := node.Status(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	filter := r.URL.Query().Get("status")
	if filter == "" {
		filter = exchange.ParkedStatus
	}
	list, err := node.ParkedList(r.Context(), a, exchange.ParkedFilter{Status: filter, Limit: 200})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "exchange", s.page(r, "xc.title", xcStatusData{St: st, Parked: list, Filter: filter}))
}

func (s exchangePages) parked(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.Node.ParkedOne(r.Context(), httpx.Actor(r), pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "exchange_parked", s.page(r, "xc.parked.one", p))
}

// retry applies a parked message again; a refusal (422, 409) comes back on
// the message's page with the reason.
func (s exchangePages) retry(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id := pathInt(r, "id")
	to := fmt.Sprintf("/admin/exchange/parked/%d", id)
	res, err := s.svc.Node.Retry(r.Context(), httpx.Actor(r), id)
	if err != nil {
		s.refuse(w, r, err, s.parked, to)
		return
	}
	redirect(w, r, to, "xc.retried."+res.Outcome)
}
