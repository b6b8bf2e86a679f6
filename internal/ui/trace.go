package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/httpx"
	"agtrace/internal/operator"
	"agtrace/internal/trace"
)

func (s *Server) tracePages() {
	s.mux.HandleFunc("GET /batches", s.requireLogin(s.trBatches))
	s.mux.HandleFunc("GET /batches/new", s.requireLogin(s.trBatchForm))
	s.mux.HandleFunc("POST /batches", s.requireLogin(s.trBatchCreate))
	s.mux.HandleFunc("GET /batches/{code}", s.requireLogin(s.trBatch))
	s.mux.HandleFunc("POST /batches/{code}/certificates", s.requireLogin(s.trBatchAction))
	s.mux.HandleFunc("POST /batches/{code}/aliases", s.requireLogin(s.trBatchAction))
	s.mux.HandleFunc("POST /batches/{code}/split", s.requireLogin(s.trBatchAction))
	s.mux.HandleFunc("POST /batches/{code}/correct", s.requireLogin(s.trBatchAction))
	s.mux.HandleFunc("GET /sell", s.requireLogin(s.trSellForm))
	s.mux.HandleFunc("POST /sell", s.requireLogin(s.trSell))
	s.mux.HandleFunc("GET /transfers", s.requireLogin(s.trTransfers))
	s.mux.HandleFunc("POST /transfers/{code}/confirm", s.requireLogin(s.trAnswer))
	s.mux.HandleFunc("POST /transfers/{code}/reject", s.requireLogin(s.trAnswer))
	s.mux.HandleFunc("GET /merge", s.requireLogin(s.trMergeForm))
	s.mux.HandleFunc("POST /merge", s.requireLogin(s.trMerge))
	s.mux.HandleFunc("GET /transform", s.requireLogin(s.trTransformForm))
	s.mux.HandleFunc("POST /transform", s.requireLogin(s.trTransform))
	s.mux.HandleFunc("GET /smallholder", s.requireLogin(s.trSmallholderForm))
	s.mux.HandleFunc("POST /smallholder", s.requireLogin(s.trSmallholder))
	s.mux.HandleFunc("GET /market", s.requireLogin(s.trMarket))
	s.mux.HandleFunc("POST /market/{code}/accept", s.requireLogin(s.trAccept))
	s.mux.HandleFunc("GET /trace", s.requireLogin(s.trTrace))
	s.mux.HandleFunc("GET /findings", s.requireLogin(s.trFindings))
	s.mux.HandleFunc("GET /q/{code}", s.trPublic)
}

func init() {
	SetTaskHref("task.batches", "/batches")
	SetTaskHref("task.newbatch", "/batches/new")
	SetTaskHref("task.sell", "/sell")
	SetTaskHref("task.incoming", "/transfers")
	SetTaskHref("task.marketcheck", "/market")
	SetTaskHref("task.trace", "/trace")
	SetTaskHref("task.findings", "/findings")
	funcs["trQty"] = func(q float64) string { return trace.FormatQty(q) }
	funcs["trUnit"] = trace.UnitName
	funcs["trCodeType"] = func(code string) string {
		if tc, err := codes.ParseTraceCode(code); err == nil {
			return tc.Type.Label()
		}
		return ""
	}
	funcs["trAttr"] = trAttr
	funcs["trList"] = func(v any) []string {
		switch t := v.(type) {
		case []any:
			out := make([]string, len(t))
			for i, x := range t {
				out[i] = fmt.Sprint(x)
			}
			return out
		case []string:
			return t
		}
		return []string{trAttr(v)}
	}
	funcs["trSeq"] = func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	funcs["trInputFields"] = func(i int) []string {
		var out []string
		for _, f := range []string{"kind", "name", "reg_no", "dose", "used_at", "interval_days"} {
			out = append(out, fmt.Sprintf("inputs[%d].%s", i, f))
		}
		return out
	}
	funcs["trNth"] = func(v url.Values, key string, i int) string {
		if v == nil || i >= len(v[key]) {
			return ""
		}
		return v[key][i]
	}
}

// trAttr shows an extension-field value (lists joined with 、).
func trAttr(v any) string {
	switch t := v.(type) {
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, "、")
	case []string:
		return strings.Join(t, "、")
	case float64:
		return trace.FormatQty(t)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// isOperator reports whether the actor acts for an operator.
func trIsOperator(a *auth.Actor) bool {
	return a != nil && a.OperatorID != 0 && (a.Role == auth.RoleOperator || a.Role == auth.RoleStaff)
}

// formQty parses a quantity field; a value that is not a number becomes -1
// so the service names the field.
func trFormQty(f url.Values, key string) float64 {
	q, ok := trace.ParseQty(f.Get(key))
	if !ok {
		return -1
	}
	return q
}

// ---- stock at a glance / batch list

type trBatchesData struct {
	Operator bool
	Batches  []trace.BatchSummary
	Incoming int
	Status   string
}

func (s *Server) trBatches(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	q := r.URL.Query()
	d := trBatchesData{Operator: trIsOperator(a), Status: q.Get("status")}
	if d.Operator && d.Status == "" && q.Get("q") == "" {
		d.Status = "in_stock"
	}
	if d.Status == "all" {
		d.Status = ""
	}
	list, err := s.svc.Trace.ListBatches(r.Context(), a, trace.BatchFilter{Q: q.Get("q"), Status: d.Status, Region: q.Get("region")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Batches = list
	if d.Operator {
		if in, err := s.svc.Trace.ListTransfers(r.Context(), a, trace.TransferFilter{Direction: "incoming", Status: "pending"}); err == nil {
			d.Incoming = len(in)
		}
	}
	title := "tr.batches"
	if d.Operator {
		title = "tr.stock"
	}
	s.render(w, r, "tr_batches", s.page(r, title, d))
}

// ---- record a batch (and print its labels)

type trBatchFormData struct {
	Products []trace.Product
	Product  trace.Product
	Kinds    []string
	Sizes    []string
	Today    string
}

func (s *Server) trBatchFormData(r *http.Request, p *Page) (trBatchFormData, error) {
	products, err := s.svc.Trace.Products(r.Context())
	if err != nil {
		return trBatchFormData{}, err
	}
	d := trBatchFormData{Products: products, Kinds: trace.InputKinds, Sizes: []string{"40x30", "50x30", "60x40", "A4"},
		Today: s.svc.Trace.Today()}
	code := p.FormValue("product_code")
	for _, x := range products {
		if x.Code == code {
			d.Product = x
		}
	}
	if d.Product.Code == "" && len(products) > 0 {
		d.Product = products[0]
	}
	return d, nil
}

func (s *Server) trBatchForm(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	if err := auth.Authorize(a, auth.ActBatchWrite, auth.Resource{}); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "tr.newbatch", nil)
	p.Form = url.Values{}
	last, err := s.svc.Trace.LastBatch(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	chosen := r.URL.Query().Get("product_code")
	if chosen == "" || chosen == last.ProductCode {
		p.Form.Set("product_code", last.ProductCode)
		p.Form.Set("unit", last.Unit)
		p.Form.Set("origin", last.Origin)
		for k, v := range last.Attributes {
			p.Form.Set("attr."+k, trAttr(v))
		}
		if last.ProductCode != "" {
			p.Flash = p.T("tr.remembered")
		}
	}
	if chosen != "" {
		p.Form.Set("product_code", chosen)
		if chosen != last.ProductCode {
			p.Form.Set("origin", last.Origin)
		}
	}
	p.Form.Set("produced_at", s.svc.Trace.Today())
	p.Form.Set("print_size", "40x30")
	d, err := s.trBatchFormData(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Data = d
	s.render(w, r, "tr_batch_new", p)
}

func (s *Server) trBatchCreate(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	a := httpx.Actor(r)
	in := trace.NewBatch{ProductCode: f.Get("product_code"), Quantity: trFormQty(f, "quantity"), Unit: f.Get("unit"),
		ProducedAt: strings.TrimSpace(f.Get("produced_at")), Origin: f.Get("origin"), OverrideReason: f.Get("override_reason"),
		Attributes: map[string]any{}}
	for k, v := range f {
		if key, ok := strings.CutPrefix(k, "attr."); ok && len(v) > 0 && strings.TrimSpace(v[0]) != "" {
			in.Attributes[key] = v[0]
		}
	}
	for i := range f["input_name"] {
		name := strings.TrimSpace(f["input_name"][i])
		if name == "" {
			continue
		}
		days := 0
		fmt.Sscan(trNth(f, "input_days", i), &days)
		in.Inputs = append(in.Inputs, trace.InputUse{Kind: trNth(f, "input_kind", i), Name: name, RegNo: trNth(f, "input_reg", i),
			Dose: trNth(f, "input_dose", i), UsedAt: trNth(f, "input_date", i), IntervalDays: days})
	}
	if op := strings.TrimSpace(f.Get("operation_kind")); op != "" {
		in.Operations = append(in.Operations, trace.Operation{Kind: op, Description: f.Get("operation_desc"), At: f.Get("operation_date")})
	}
	b, err := s.svc.Trace.CreateBatch(r.Context(), a, in)
	if err != nil {
		p := s.page(r, "tr.newbatch", nil)
		st := formError(p, r, err)
		trFoldItems(p)
		d, derr := s.trBatchFormData(r, p)
		if derr != nil {
			s.fail(w, r, derr)
			return
		}
		p.Data = d
		s.render(w, r, "tr_batch_new", p, st)
		return
	}
	to := "/batches/" + b.TraceCode
	if n := strings.TrimSpace(f.Get("print_copies")); n != "" && n != "0" {
		to += "?print=" + url.QueryEscape(f.Get("print_size")) + "&copies=" + url.QueryEscape(n)
	}
	redirect(w, r, to, "tr.batch.created")
}

func trAllUnits() []trace.Unit {
	var units []trace.Unit
	for _, k := range []string{"kg", "t", "head", "bird", "piece", "box", "L"} {
		units = append(units, trace.Units[k])
	}
	return units
}

// trFoldItems shows errors on list items ("attributes.ear_tags[3]") under
// the list's own field as well.
func trFoldItems(p *Page) {
	for k, msg := range p.Fields {
		if i := strings.LastIndex(k, "["); i > 0 && strings.HasSuffix(k, "]") {
			base := k[:i]
			if old, ok := p.Fields[base]; ok && !strings.Contains(old, msg) {
				msg = old + "；" + msg
			}
			p.Fields[base] = msg
		}
	}
}

func trNth(v url.Values, key string, i int) string {
	if i >= len(v[key]) {
		return ""
	}
	return strings.TrimSpace(v[key][i])
}

// ---- batch detail

type trBatchData struct {
	B          trace.Batch
	Product    trace.Product
	Own        bool
	CanPrint   bool
	CanWrite   bool
	CanSell    bool
	Timeline   []trTimelineItem
	Prints     []trace.PrintEntry
	PrintSize  string
	PrintCount string
	Sizes      []string
	Bases      []string
	Schemes    []string
	PublicURL  string
}

// trTimelineItem is one step of a chain drawn as a timeline.
type trTimelineItem struct {
	trace.Node
	Current bool
	Via     string // edge kind that led here
}

func trTimeline(g trace.Graph) []trTimelineItem {
	via := map[string]string{}
	for _, e := range g.Edges {
		via[e.To] = e.Kind
	}
	items := make([]trTimelineItem, 0, len(g.Nodes))
	for _, n := range g.Nodes {
		items = append(items, trTimelineItem{Node: n, Current: n.Code == g.Code, Via: via[n.Code]})
	}
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].Depth != items[j].Depth {
			return items[i].Depth < items[j].Depth
		}
		return items[i].Time < items[j].Time
	})
	return items
}

func (s *Server) trBatchPage(r *http.Request, code string) (*Page, error) {
	a := httpx.Actor(r)
	b, err := s.svc.Trace.GetBatch(r.Context(), a, code)
	if err != nil {
		return nil, err
	}
	prod, _ := s.svc.Trace.Product(r.Context(), b.ProductCode)
	d := trBatchData{B: b, Product: prod, Sizes: []string{"40x30", "50x30", "60x40", "A4"}, Bases: trace.Bases, Schemes: trace.AliasSchemes,
		PublicURL: s.svc.Trace.PublicURL() + "/q/" + b.TraceCode, PrintSize: r.URL.Query().Get("print"), PrintCount: r.URL.Query().Get("copies")}
	own := auth.Resource{Region: b.Operator.RegionCode, OperatorID: b.Operator.ID}
	d.Own = a.OperatorID != 0 && a.OperatorID == b.Operator.ID
	d.CanPrint = d.Own && auth.Authorize(a, auth.ActLabelPrint, own) == nil
	d.CanWrite = d.Own && auth.Authorize(a, auth.ActBatchWrite, own) == nil
	d.CanSell = d.Own && auth.Authorize(a, auth.ActTransferSell, own) == nil && b.Stock > 0
	if g, err := s.svc.Trace.Trace(r.Context(), a, code, "both", 30); err == nil {
		d.Timeline = trTimeline(g)
	}
	if d.Own {
		d.Prints, _ = s.svc.Trace.PrintLog(r.Context(), a, code)
	}
	return s.page(r, "tr.batch", d), nil
}

func (s *Server) trBatch(w http.ResponseWriter, r *http.Request) {
	code, err := trace.ParsePathCode(r.PathValue("code"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.trBatchPage(r, code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "tr_batch", p)
}

func (s *Server) trBatchAction(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	a := httpx.Actor(r)
	code, err := trace.ParsePathCode(r.PathValue("code"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var msg, to string
	switch {
	case strings.HasSuffix(r.URL.Path, "/certificates"):
		var c trace.Certificate
		c, err = s.svc.Trace.IssueCertificate(r.Context(), a, code, trace.CertificateInput{Basis: f.Get("basis"), TestRef: f.Get("test_ref"),
			Quantity: trFormQty(f, "quantity"), Scope: f.Get("scope"), VehiclePlate: f.Get("vehicle_plate")})
		msg, to = "tr.cert.issued", "/batches/"+code+"#certificates"
		_ = c
	case strings.HasSuffix(r.URL.Path, "/aliases"):
		_, err = s.svc.Trace.AddAlias(r.Context(), a, code, f.Get("scheme"), f.Get("value"))
		msg, to = "tr.alias.added", "/batches/"+code+"#aliases"
	case strings.HasSuffix(r.URL.Path, "/split"):
		var parts []float64
		for _, x := range strings.FieldsFunc(f.Get("parts"), func(r rune) bool { return r == ',' || r == '，' || r == ' ' || r == '、' || r == '+' }) {
			q, ok := trace.ParseQty(x)
			if !ok {
				q = -1
			}
			parts = append(parts, q)
		}
		var res trace.TransformResult
		res, err = s.svc.Trace.Split(r.Context(), a, code, trace.SplitInput{Parts: parts})
		msg, to = "tr.split.done", "/batches/"+code
		if err == nil && len(res.Codes) > 0 {
			to = "/batches/" + res.Codes[0]
		}
	case strings.HasSuffix(r.URL.Path, "/correct"):
		in := trace.CorrectionInput{Reason: f.Get("reason"), ProducedAt: strings.TrimSpace(f.Get("produced_at"))}
		if q := strings.TrimSpace(f.Get("quantity")); q != "" {
			in.Quantity = trFormQty(f, "quantity")
		}
		if o := f.Get("origin"); o != "" {
			in.Origin = &o
		}
		_, err = s.svc.Trace.Correct(r.Context(), a, code, in)
		msg, to = "tr.corrected", "/batches/"+code
	}
	if err != nil {
		p, perr := s.trBatchPage(r, code)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		st := formError(p, r, err)
		s.render(w, r, "tr_batch", p, st)
		return
	}
	redirect(w, r, to, msg)
}

// ---- sell

type trSellData struct {
	Stock       []trace.BatchSummary
	MarketKinds []string
	Today       string
}

func (s *Server) trSellPage(r *http.Request, p *Page) (*Page, error) {
	a := httpx.Actor(r)
	if err := auth.Authorize(a, auth.ActTransferSell, auth.Resource{}); err != nil {
		return nil, err
	}
	list, err := s.svc.Trace.ListBatches(r.Context(), a, trace.BatchFilter{Status: "in_stock", Limit: 500})
	if err != nil {
		return nil, err
	}
	p.Data = trSellData{Stock: list, MarketKinds: trace.MarketKinds, Today: s.svc.Trace.Today()}
	return p, nil
}

func (s *Server) trSellForm(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "tr.sell", nil)
	p.Form = url.Values{"from_code": {r.URL.Query().Get("from")}, "to": {"operator"}, "buyer_operator_code": {r.URL.Query().Get("buyer")}}
	if _, err := s.trSellPage(r, p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "tr_sell", p)
}

func (s *Server) trSell(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	in := trace.SaleInput{FromCode: f.Get("from_code"), Quantity: trFormQty(f, "quantity"), ShippedAt: strings.TrimSpace(f.Get("shipped_at"))}
	if f.Get("to") == "market" {
		in.Market = &trace.Market{Name: f.Get("market_name"), Kind: f.Get("market_kind"), RegionCode: f.Get("market_region")}
	} else {
		in.BuyerOperatorCode = codes.NormalizeCode(trBuyerFromScan(f.Get("buyer_operator_code")))
	}
	t, err := s.svc.Trace.Sell(r.Context(), httpx.Actor(r), in)
	if err != nil {
		p := s.page(r, "tr.sell", nil)
		st := formError(p, r, err)
		if _, perr := s.trSellPage(r, p); perr != nil {
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

// buyerFromScan accepts a scanned e-ID URL (…/o/<code>) as well as the code.
func trBuyerFromScan(v string) string {
	if i := strings.Index(v, "/o/"); i >= 0 {
		v = v[i+3:]
		if j := strings.IndexAny(v, "?#/"); j >= 0 {
			v = v[:j]
		}
	}
	return v
}

// ---- incoming and outgoing transfers

type trTransfersData struct {
	Tab      string
	Items    []trace.Transfer
	Operator bool
	Today    string
}

func (s *Server) trTransfersPage(r *http.Request, p *Page) (*Page, error) {
	a := httpx.Actor(r)
	tab := r.URL.Query().Get("tab")
	if tab != "outgoing" && tab != "done" {
		tab = "incoming"
	}
	f := trace.TransferFilter{Direction: "incoming", Status: "pending"}
	switch tab {
	case "outgoing":
		f = trace.TransferFilter{Direction: "outgoing"}
	case "done":
		f = trace.TransferFilter{Direction: "incoming"}
	}
	if !trIsOperator(a) {
		f = trace.TransferFilter{}
	}
	list, err := s.svc.Trace.ListTransfers(r.Context(), a, f)
	if err != nil {
		return nil, err
	}
	p.Data = trTransfersData{Tab: tab, Items: list, Operator: trIsOperator(a), Today: s.svc.Trace.Today()}
	return p, nil
}

func (s *Server) trTransfers(w http.ResponseWriter, r *http.Request) {
	p, err := s.trTransfersPage(r, s.page(r, "tr.transfers", nil))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "tr_transfers", p)
}

func (s *Server) trAnswer(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	a := httpx.Actor(r)
	code, err := trace.ParsePathCode(r.PathValue("code"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msg := "tr.confirmed"
	if strings.HasSuffix(r.URL.Path, "/reject") {
		_, err = s.svc.Trace.Reject(r.Context(), a, code, f.Get("reason"))
		msg = "tr.rejected"
	} else {
		_, err = s.svc.Trace.Confirm(r.Context(), a, code, trace.ConfirmInput{ReceivedQuantity: trFormQty(f, "received_quantity"),
			ReceivedAt: strings.TrimSpace(f.Get("received_at"))})
	}
	if err != nil {
		p, perr := s.trTransfersPage(r, s.page(r, "tr.transfers", nil))
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		st := formError(p, r, err)
		p.Form.Set("answered", code)
		s.render(w, r, "tr_transfers", p, st)
		return
	}
	if msg == "tr.confirmed" {
		redirect(w, r, "/batches/"+code, msg)
		return
	}
	redirect(w, r, "/transfers", msg)
}

// ---- merge and transform

type trCombineData struct {
	Stock    []trace.BatchSummary
	Products []trace.Product
	Units    []trace.Unit
	Today    string
	Rows     []int
}

func (s *Server) trCombinePage(r *http.Request, p *Page) (*Page, error) {
	a := httpx.Actor(r)
	if err := auth.Authorize(a, auth.ActBatchWrite, auth.Resource{}); err != nil {
		return nil, err
	}
	list, err := s.svc.Trace.ListBatches(r.Context(), a, trace.BatchFilter{Status: "in_stock", Limit: 500})
	if err != nil {
		return nil, err
	}
	products, err := s.svc.Trace.Products(r.Context())
	if err != nil {
		return nil, err
	}
	p.Data = trCombineData{Stock: list, Products: products, Units: trAllUnits(), Today: s.svc.Trace.Today(), Rows: []int{0, 1, 2}}
	return p, nil
}

func (s *Server) trMergeForm(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "tr.merge", nil)
	p.Form = url.Values{"produced_at": {s.svc.Trace.Today()}}
	if _, err := s.trCombinePage(r, p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "tr_merge", p)
}

// selectedInputs reads the checked input codes with their quantities.
func trSelectedInputs(f url.Values) []trace.InputQty {
	var in []trace.InputQty
	for _, c := range f["input"] {
		in = append(in, trace.InputQty{Code: c, Quantity: trFormQty(f, "qty_"+c)})
	}
	return in
}

func (s *Server) trMerge(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	res, err := s.svc.Trace.Merge(r.Context(), httpx.Actor(r), trace.MergeInput{Inputs: trSelectedInputs(f), ProductCode: f.Get("product_code"),
		ProducedAt: strings.TrimSpace(f.Get("produced_at")), Origin: f.Get("origin")})
	if err != nil {
		p := s.page(r, "tr.merge", nil)
		st := formError(p, r, err)
		if _, perr := s.trCombinePage(r, p); perr != nil {
			s.fail(w, r, perr)
			return
		}
		s.render(w, r, "tr_merge", p, st)
		return
	}
	redirect(w, r, "/batches/"+res.Codes[0], "tr.merged")
}

func (s *Server) trTransformForm(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "tr.transform", nil)
	p.Form = url.Values{"produced_at": {s.svc.Trace.Today()}}
	if _, err := s.trCombinePage(r, p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "tr_transform", p)
}

func (s *Server) trTransform(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	in := trace.TransformInput{Inputs: trSelectedInputs(f), ProducedAt: strings.TrimSpace(f.Get("produced_at")), Note: f.Get("note")}
	for i := range f["out_product"] {
		pc := trNth(f, "out_product", i)
		if pc == "" {
			continue
		}
		q, ok := trace.ParseQty(trNth(f, "out_quantity", i))
		if !ok {
			q = -1
		}
		in.Outputs = append(in.Outputs, trace.OutputSpec{ProductCode: pc, Quantity: q, Unit: trNth(f, "out_unit", i)})
	}
	res, err := s.svc.Trace.Transform(r.Context(), httpx.Actor(r), in)
	if err != nil {
		p := s.page(r, "tr.transform", nil)
		st := formError(p, r, err)
		if _, perr := s.trCombinePage(r, p); perr != nil {
			s.fail(w, r, perr)
			return
		}
		s.render(w, r, "tr_transform", p, st)
		return
	}
	redirect(w, r, "/batches/"+res.Codes[0], "tr.transformed")
}

// ---- smallholder purchase (temporary operator code)

type trSmallholderData struct {
	Products    []trace.Product
	Units       []trace.Unit
	MarketKinds []string
	Market      bool
	Today       string
}

func (s *Server) trSmallholderPage(r *http.Request, p *Page) (*Page, error) {
	a := httpx.Actor(r)
	if err := auth.Authorize(a, auth.ActTempOperator, auth.Resource{}); err != nil {
		return nil, err
	}
	products, err := s.svc.Trace.Products(r.Context())
	if err != nil {
		return nil, err
	}
	p.Data = trSmallholderData{Products: products, Units: trAllUnits(), MarketKinds: trace.MarketKinds, Market: a.Role == auth.RoleMarket, Today: s.svc.Trace.Today()}
	return p, nil
}

func (s *Server) trSmallholderForm(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "tr.smallholder", nil)
	a := httpx.Actor(r)
	p.Form = url.Values{"produced_at": {s.svc.Trace.Today()}, "region_code": {a.Region}, "market_region": {a.Region}}
	if _, err := s.trSmallholderPage(r, p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "tr_smallholder", p)
}

func (s *Server) trSmallholder(w http.ResponseWriter, r *http.Request) {
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
		in.Market = &trace.Market{Name: f.Get("market_name"), Kind: f.Get("market_kind"), RegionCode: f.Get("market_region")}
	}
	res, err := s.svc.Trace.RecordSmallholder(r.Context(), a, in)
	if err != nil {
		p := s.page(r, "tr.smallholder", nil)
		st := formError(p, r, err)
		if _, perr := s.trSmallholderPage(r, p); perr != nil {
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

// ---- market check

type trMarketData struct {
	Query    string
	Transfer *trace.Transfer
	Public   *trace.PublicTrace
	Issued   []trace.Transfer
}

func (s *Server) trMarketPage(r *http.Request, p *Page) (*Page, error) {
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
			if pub, err := s.svc.Trace.Public(r.Context(), t.TraceCode); err == nil {
				d.Public = &pub
			}
		}
	}
	issued, err := s.svc.Trace.ListTransfers(r.Context(), a, trace.TransferFilter{Status: "issued", Limit: 50})
	if err != nil {
		return nil, err
	}
	d.Issued = issued
	p.Data = d
	return p, nil
}

func (s *Server) trMarket(w http.ResponseWriter, r *http.Request) {
	p, err := s.trMarketPage(r, s.page(r, "tr.market", nil))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "tr_market", p)
}

func (s *Server) trAccept(w http.ResponseWriter, r *http.Request) {
	code, err := trace.ParsePathCode(r.PathValue("code"))
	if err == nil {
		_, err = s.svc.Trace.Accept(r.Context(), httpx.Actor(r), code)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/market?code="+code, "tr.accepted")
}

// ---- trace search

type trTraceData struct {
	Query     string
	Direction string
	Graph     *trace.Graph
	Timeline  []trTimelineItem
}

func (s *Server) trTrace(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	if err := auth.Authorize(a, auth.ActTraceRead, auth.Resource{}); err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d := trTraceData{Query: strings.TrimSpace(q.Get("code")), Direction: q.Get("direction")}
	if d.Direction == "" {
		d.Direction = "both"
	}
	p := s.page(r, "tr.trace", nil)
	if d.Query != "" {
		g, err := s.svc.Trace.Trace(r.Context(), a, d.Query, d.Direction, 0)
		if err != nil {
			prob := httpx.ProblemOf(r, err)
			p.Error = prob.Detail
			if p.Lang == "zh" {
				p.Error = prob.DetailZH
			}
		} else {
			d.Graph = &g
			d.Timeline = trTimeline(g)
		}
	}
	p.Data = d
	s.render(w, r, "tr_trace", p)
}

// ---- findings

type trFindingsData struct {
	Items []trace.Finding
	Kinds []string
}

func (s *Server) trFindings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	list, err := s.svc.Trace.Findings(r.Context(), httpx.Actor(r), trace.FindingFilter{Region: q.Get("region"), Kind: q.Get("kind")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "tr_findings", s.page(r, "tr.findings", trFindingsData{Items: list, Kinds: trace.FindingKinds}))
}

// ---- the public scan page

type trPublicData struct {
	Code    string
	Invalid bool
	Found   bool
	P       trace.PublicTrace
}

func (s *Server) trPublic(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("code")
	d := trPublicData{Code: raw}
	tc, err := codes.ParseTraceCode(raw)
	if err != nil {
		d.Invalid = true
		s.render(w, r, "tr_public", s.page(r, "tr.public.invalid", d), http.StatusBadRequest)
		return
	}
	d.Code = tc.Code
	pub, err := s.svc.Trace.Public(r.Context(), tc.Code)
	if err != nil {
		if httpx.StatusOf(err) == http.StatusNotFound {
			s.render(w, r, "tr_public", s.page(r, "tr.public.notfound", d), http.StatusNotFound)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.svc.Trace.CountScan(r.Context(), tc.Code)
	d.Found, d.P = true, pub
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, "tr_public", s.page(r, "tr.public.title", d))
}
