package ui

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/httpx"
	"agtrace/internal/operator"
	"agtrace/internal/trace"
)

// transferPages: selling (with the buyer confirmed before the sale
// commits), the incoming and outgoing transfers, and their answers
// (confirm, reject, withdraw).
type transferPages struct{ *Server }

func (s transferPages) routes() []route {
	return []route{
		{"GET /sell", loggedIn, s.sellForm},
		{"POST /sell", loggedIn, s.sell},
		{"GET /transfers", loggedIn, s.list},
		{"POST /transfers/{code}/confirm", loggedIn, s.confirm},
		{"POST /transfers/{code}/reject", loggedIn, s.reject},
		{"POST /transfers/{code}/withdraw", loggedIn, s.withdraw},
	}
}

// The steps of the sell form, named by its submit buttons ("step").
const (
	sellStepConfirm = "confirm" // the seller confirmed the buyer shown: sell
	sellStepEdit    = "edit"    // back to the form, with the values kept
)

// The tabs of the transfers page.
const (
	tabIncoming = "incoming"
	tabOutgoing = "outgoing"
	tabDone     = "done"
)

type trSellData struct {
	Stock       []trace.BatchSummary
	Markets     []trace.RegisteredMarket // registered markets, the seller's province first
	MarketKinds []string
	Today       string
	Confirm     *trSellConfirm // the confirmation step, once the buyer's code is resolved
}

// trSellConfirm is what the seller confirms: to whom, from which batch.
type trSellConfirm struct {
	Buyer    operator.Public
	Batch    trace.BatchSummary // zero if the batch is not in the stock list
	Approved bool               // the buyer may trade; otherwise the sale would be refused
}

func (s transferPages) sellPage(r *http.Request, p *Page) (*trSellData, error) {
	a := httpx.Actor(r)
	if err := auth.Authorize(a, auth.ActTransferSell, auth.Resource{}); err != nil {
		return nil, err
	}
	list, err := s.svc.Trace.ListBatches(r.Context(), a, trace.BatchFilter{Status: "in_stock", Limit: 500})
	if err != nil {
		return nil, err
	}
	markets, err := s.svc.Trace.Markets(r.Context(), trace.MarketFilter{})
	if err != nil {
		return nil, err
	}
	d := &trSellData{Stock: list, Markets: nearFirst(markets, a.Region), MarketKinds: trace.MarketKinds, Today: s.svc.Trace.Today()}
	p.Data = d
	return d, nil
}

func (s transferPages) sellForm(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "tr.sell", nil)
	p.Form = url.Values{"from_code": {r.URL.Query().Get("from")}, "to": {"operator"}, "buyer_operator_code": {r.URL.Query().Get("buyer")}}
	if _, err := s.sellPage(r, p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "tr_sell", p)
}

// sell handles the sell form. A sale to an operator goes through two
// steps: the typed code is resolved and the buyer's name and region shown
// for confirmation; only the confirmed submit sells. A sale to a market has
// no code to check and sells at once.
func (s transferPages) sell(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	switch {
	case f.Get("step") == sellStepEdit:
		p := s.page(r, "tr.sell", nil)
		p.Form = sellValues(f)
		if _, err := s.sellPage(r, p); err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, "tr_sell", p)
	case f.Get("to") != "market" && f.Get("step") != sellStepConfirm:
		s.confirmBuyer(w, r)
	default:
		s.commitSale(w, r)
	}
}

// sellValues are the submitted sale fields without the step, the buyer's
// code normalised (a scanned e-ID URL becomes its code).
func sellValues(f url.Values) url.Values {
	v := url.Values{}
	for k, vs := range f {
		if k != "step" {
			v[k] = append([]string(nil), vs...)
		}
	}
	if c := strings.TrimSpace(v.Get("buyer_operator_code")); c != "" {
		v.Set("buyer_operator_code", codes.NormalizeCode(trBuyerFromScan(c)))
	}
	return v
}

// confirmBuyer resolves the buyer's code and shows the confirmation step.
func (s transferPages) confirmBuyer(w http.ResponseWriter, r *http.Request) {
	v := sellValues(r.PostForm)
	p := s.page(r, "tr.sell", nil)
	d, err := s.sellPage(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	buyer, err := s.svc.Operators.PublicByCode(r.Context(), v.Get("buyer_operator_code"))
	if err != nil {
		st := formError(p, r, err)
		if st == http.StatusNotFound {
			st = http.StatusUnprocessableEntity // the form is there; the typed code is wrong
		}
		if p.Fields == nil {
			p.Fields = map[string]string{}
		}
		if msg, ok := p.Fields["operator_code"]; ok {
			p.Fields["buyer_operator_code"] = msg
		} else {
			p.Fields["buyer_operator_code"] = p.T("op.notfound")
		}
		p.Form = v
		s.render(w, r, "tr_sell", p, st)
		return
	}
	c := &trSellConfirm{Buyer: buyer, Approved: buyer.Status == operator.StatusApproved}
	for _, b := range d.Stock {
		if b.TraceCode == v.Get("from_code") {
			c.Batch = b
		}
	}
	if !c.Approved {
		p.Error = p.T("op.public.notok")
	}
	d.Confirm = c
	p.Form = v
	s.render(w, r, "tr_sell", p)
}

// commitSale sells; a refusal shows the form again with its fields named.
func (s transferPages) commitSale(w http.ResponseWriter, r *http.Request) {
	f := sellValues(r.PostForm)
	in := trace.SaleInput{FromCode: f.Get("from_code"), Quantity: trFormQty(f, "quantity"), ShippedAt: strings.TrimSpace(f.Get("shipped_at"))}
	if f.Get("to") == "market" {
		in.Market = marketOf(f)
	} else {
		in.BuyerOperatorCode = f.Get("buyer_operator_code")
	}
	t, err := s.svc.Trace.Sell(r.Context(), httpx.Actor(r), in)
	if err != nil {
		p := s.page(r, "tr.sell", nil)
		st := formError(p, r, err)
		p.Form = f
		if _, perr := s.sellPage(r, p); perr != nil {
			s.fail(w, r, perr)
			return
		}
		// field names of the market part, as the form names them
		for k, m := range map[string]string{"market.name": "market_name", "market.kind": "market_kind", "market.region_code": "market_region"} {
			if v, ok := p.Fields[k]; ok {
				p.Fields[m] = v
			}
		}
		s.render(w, r, "tr_sell", p, st)
		return
	}
	redirect(w, r, "/batches/"+t.TraceCode, "tr.sold")
}

// trBuyerFromScan accepts a scanned e-ID URL (…/o/<code>) as well as the code.
func trBuyerFromScan(v string) string { return codes.OperatorCodeFromScan(v) }

// ---- incoming and outgoing transfers

type trTransfersData struct {
	Export   string // the tab as CSV
	Tab      string
	Items    []trace.Transfer
	Operator bool
	CanSell  bool // the actor may withdraw its pending sales
	Today    string
}

func (s transferPages) transfersPage(r *http.Request, p *Page, tab string) (*Page, error) {
	a := httpx.Actor(r)
	if tab != tabOutgoing && tab != tabDone {
		tab = tabIncoming
	}
	f := trace.TransferFilter{Direction: "incoming", Status: trace.TransferPending}
	switch tab {
	case tabOutgoing:
		f = trace.TransferFilter{Direction: "outgoing"}
	case tabDone:
		f = trace.TransferFilter{Direction: "incoming"}
	}
	if !trIsOperator(a) {
		f = trace.TransferFilter{}
	}
	offset, fetch, pg := listPage(r)
	f.Limit, f.Offset = fetch, offset
	list, err := s.svc.Trace.ListTransfers(r.Context(), a, f)
	if err != nil {
		return nil, err
	}
	list = list[:pg.more(len(list))]
	p.Pager = pg
	p.Data = trTransfersData{Export: "/api/v1/transfers/export.csv?" + url.Values{"direction": {f.Direction}, "status": {f.Status}}.Encode(), Tab: tab, Items: list, Operator: trIsOperator(a), CanSell: trIsOperator(a) && a.Can(auth.ActTransferSell),
		Today: s.svc.Trace.Today()}
	return p, nil
}

func (s transferPages) list(w http.ResponseWriter, r *http.Request) {
	p, err := s.transfersPage(r, s.page(r, "tr.transfers", nil), r.URL.Query().Get("tab"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "tr_transfers", p)
}

// answered ends an answer to a transfer: on success to the page to, with a
// flash message; on a refusal the list of tab again, the error shown under
// the transfer answered.
func (s transferPages) answered(w http.ResponseWriter, r *http.Request, code, tab string, err error, to, msg string) {
	if err != nil {
		p, perr := s.transfersPage(r, s.page(r, "tr.transfers", nil), tab)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		st := formError(p, r, err)
		p.Form.Set("answered", code)
		s.render(w, r, "tr_transfers", p, st)
		return
	}
	redirect(w, r, to, msg)
}

func (s transferPages) confirm(w http.ResponseWriter, r *http.Request) {
	code, ok := s.pathCode(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	_, err := s.svc.Trace.Confirm(r.Context(), httpx.Actor(r), code, trace.ConfirmInput{ReceivedQuantity: trFormQty(f, "received_quantity"),
		ReceivedAt: strings.TrimSpace(f.Get("received_at"))})
	s.answered(w, r, code, tabIncoming, err, "/batches/"+code, "tr.confirmed")
}

func (s transferPages) reject(w http.ResponseWriter, r *http.Request) {
	code, ok := s.pathCode(w, r)
	if !ok {
		return
	}
	_, err := s.svc.Trace.Reject(r.Context(), httpx.Actor(r), code, r.PostForm.Get("reason"))
	s.answered(w, r, code, tabIncoming, err, "/transfers", "tr.rejected")
}

// withdraw takes back a pending sale: the quantity returns to the seller.
func (s transferPages) withdraw(w http.ResponseWriter, r *http.Request) {
	code, ok := s.pathCode(w, r)
	if !ok {
		return
	}
	t, err := s.svc.Trace.WithdrawTransfer(r.Context(), httpx.Actor(r), code, r.PostForm.Get("reason"))
	s.answered(w, r, code, tabOutgoing, err, "/batches/"+t.FromCode, "tr.withdrawn")
}

// marketOf reads a form's market: a registered one (market_id) or one
// typed in (market_name, market_kind, market_region).
func marketOf(f url.Values) *trace.Market {
	if id, err := strconv.ParseInt(f.Get("market_id"), 10, 64); err == nil && id > 0 {
		return &trace.Market{ID: id}
	}
	return &trace.Market{Name: f.Get("market_name"), Kind: f.Get("market_kind"), RegionCode: f.Get("market_region")}
}

// nearFirst orders markets with those of the actor's province (then city,
// then county) first: a farmer sells nearby.
func nearFirst(list []trace.RegisteredMarket, region string) []trace.RegisteredMarket {
	rank := func(m trace.RegisteredMarket) int {
		for n, l := 0, 6; l >= 2; n, l = n+1, l-2 {
			if len(region) >= l && strings.HasPrefix(m.RegionCode, region[:l]) {
				return n
			}
		}
		return 3
	}
	out := append([]trace.RegisteredMarket(nil), list...)
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}
