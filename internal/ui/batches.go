package ui

import (
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/supervision"
	"agtrace/internal/trace"
)

// batchPages: stock at a glance, recording a batch (and printing its
// labels), the batch page and its forms (certificates, aliases, split,
// correction).
type batchPages struct{ *Server }

func (s batchPages) routes() []route {
	return []route{
		{"GET /batches", loggedIn, s.list},
		{"GET /batches/new", loggedIn, s.form},
		{"POST /batches", loggedIn, s.create},
		{"GET /batches/{code}", loggedIn, s.view},
		{"POST /batches/{code}/certificates", loggedIn, s.issueCertificate},
		{"POST /batches/{code}/aliases", loggedIn, s.addAlias},
		{"POST /batches/{code}/split", loggedIn, s.split},
		{"POST /batches/{code}/correct", loggedIn, s.correct},
	}
}

// isOperator reports whether the actor acts for an operator.
func trIsOperator(a *auth.Actor) bool {
	return a != nil && a.OperatorID != 0 && (a.Role == auth.RoleOperator || a.Role == auth.RoleStaff)
}

// trFormQty parses a quantity field; a value that is not a number ("很多")
// becomes NaN, which the service refuses on that field as "not a number".
func trFormQty(f url.Values, key string) float64 {
	return trQtyText(f.Get(key))
}

// trQtyText is trFormQty for one text. A negative number or zero is passed
// on as such (the service says it must be above 0); anything else that is
// not a plain decimal becomes NaN ("write a number").
func trQtyText(s string) float64 {
	q, ok := trace.ParseQty(s)
	if ok {
		return q
	}
	if v, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && v <= 0 {
		return v
	}
	return math.NaN()
}

type trBatchesData struct {
	Operator bool
	Batches  []trace.BatchSummary
	Incoming int
	Status   string
	Export   string // the list as CSV, with the filters shown
}

func (s batchPages) list(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	q := r.URL.Query()
	d := trBatchesData{Operator: trIsOperator(a), Status: q.Get("status")}
	if d.Operator && d.Status == "" && q.Get("q") == "" {
		d.Status = "in_stock"
	}
	if d.Status == "all" {
		d.Status = ""
	}
	offset, fetch, pg := listPage(r)
	list, err := s.svc.Trace.ListBatches(r.Context(), a, trace.BatchFilter{Q: q.Get("q"), Status: d.Status, Region: q.Get("region"), Limit: fetch, Offset: offset})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Batches = list[:pg.more(len(list))]
	d.Export = "/api/v1/batches/export.csv?" + url.Values{"q": {q.Get("q")}, "status": {d.Status}, "region": {q.Get("region")}}.Encode()
	if d.Operator {
		if in, err := s.svc.Trace.ListTransfers(r.Context(), a, trace.TransferFilter{Direction: "incoming", Status: "pending"}); err == nil {
			d.Incoming = len(in)
		}
	}
	title := "tr.batches"
	if d.Operator {
		title = "tr.stock"
	}
	p := s.page(r, title, d)
	p.Pager = pg
	s.render(w, r, "tr_batches", p)
}

// ---- record a batch (and print its labels)

type trBatchFormData struct {
	Choices trace.ProductChoices
	Product trace.Product // the chosen product ("" Code: none yet, the form asks first)
	Kinds   []string
	Sizes   []string
	Today   string
}

func (s batchPages) formData(r *http.Request, p *Page) (trBatchFormData, error) {
	choices, err := s.svc.Trace.ProductChoices(r.Context(), httpx.Actor(r))
	if err != nil {
		return trBatchFormData{}, err
	}
	d := trBatchFormData{Choices: choices, Kinds: trace.InputKinds, Sizes: []string{"40x30", "50x30", "60x40", "A4"},
		Today: s.svc.Trace.Today()}
	code := p.FormValue("product_code")
	for _, g := range [][]trace.Product{choices.Recent, choices.Business, choices.Other} {
		for _, x := range g {
			if x.Code == code {
				d.Product = x
			}
		}
	}
	if d.Product.Code == "" {
		d.Product, _ = choices.Default()
	}
	return d, nil
}

func (s batchPages) form(w http.ResponseWriter, r *http.Request) {
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
	d, err := s.formData(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Data = d
	s.render(w, r, "tr_batch_new", p)
}

func (s batchPages) create(w http.ResponseWriter, r *http.Request) {
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
		if d := trNth(f, "input_days", i); d != "" {
			var err error
			if days, err = strconv.Atoi(d); err != nil {
				days = -1 // not a whole number of days: refused on the field
			}
		}
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
		d, derr := s.formData(r, p)
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
	Scans    trace.ScanBreakdown // how its label was scanned
	B        trace.Batch
	Product  trace.Product
	Own      bool
	CanPrint bool
	CanWrite bool
	CanSell  bool
	// CanWithdraw: the actor sold this code and the buyer has not answered
	CanWithdraw bool
	Timeline    []trTimelineItem
	Prints      []trace.PrintEntry
	PrintSize   string
	PrintCount  string
	Sizes       []string
	Bases       []string
	Schemes     []string
	PublicURL   string
	Token       string // verification token of the code (the public link)
	// Inspections that looked at this batch (officials with jurisdiction, the operator)
	Inspections []supervision.Inspection
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

func (s batchPages) batchPage(r *http.Request, code string) (*Page, error) {
	a := httpx.Actor(r)
	b, err := s.svc.Trace.GetBatch(r.Context(), a, code)
	if err != nil {
		return nil, err
	}
	prod, _ := s.svc.Trace.Product(r.Context(), b.ProductCode)
	d := trBatchData{B: b, Product: prod, Sizes: []string{"40x30", "50x30", "60x40", "A4"}, Bases: trace.Bases, Schemes: trace.AliasSchemes,
		PublicURL: s.svc.Trace.QRURL(b.TraceCode), Token: s.svc.Trace.Token(b.TraceCode), PrintSize: r.URL.Query().Get("print"), PrintCount: r.URL.Query().Get("copies")}
	own := auth.Resource{Region: b.Operator.RegionCode, OperatorID: b.Operator.ID}
	d.Own = a.OperatorID != 0 && a.OperatorID == b.Operator.ID
	d.CanPrint = d.Own && auth.Authorize(a, auth.ActLabelPrint, own) == nil
	d.CanWrite = d.Own && auth.Authorize(a, auth.ActBatchWrite, own) == nil
	d.CanSell = d.Own && auth.Authorize(a, auth.ActTransferSell, own) == nil && b.Stock > 0
	if t := b.Transfer; t != nil && t.Status == trace.TransferPending && a.OperatorID != 0 && a.OperatorID == t.Seller.ID {
		d.CanWithdraw = auth.Authorize(a, auth.ActTransferSell, auth.Resource{Region: t.Seller.RegionCode, OperatorID: t.Seller.ID}) == nil
	}
	if g, err := s.svc.Trace.Trace(r.Context(), a, code, "both", 30); err == nil {
		d.Timeline = trTimeline(g)
	}
	if d.Own {
		d.Prints, _ = s.svc.Trace.PrintLog(r.Context(), a, code)
	}
	if s.svc.Supervision != nil && auth.Authorize(a, auth.ActInspectionRead, own) == nil {
		if d.Inspections, err = s.svc.Supervision.Inspections(r.Context(), a, supervision.InspectionFilter{BatchCode: code, Limit: 20}); err != nil {
			return nil, err
		}
	}
	if d.Scans, err = s.svc.Trace.Scans(r.Context(), a, code); err != nil {
		return nil, err
	}
	return s.page(r, "tr.batch", d), nil
}

func (s batchPages) view(w http.ResponseWriter, r *http.Request) {
	code, err := trace.ParsePathCode(r.PathValue("code"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.batchPage(r, code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "tr_batch", p)
}

// pathCode reads the {code} of a batch route; false when it answered with
// the error page.
func (s *Server) pathCode(w http.ResponseWriter, r *http.Request) (string, bool) {
	code, err := trace.ParsePathCode(r.PathValue("code"))
	if err != nil {
		s.fail(w, r, err)
		return "", false
	}
	_ = r.ParseForm()
	return code, true
}

// afterBatchAction ends a form posted on a batch page: on success to the
// page to, with a flash message; on a refusal the batch page again, with the
// form refilled and its fields named.
func (s batchPages) afterBatchAction(w http.ResponseWriter, r *http.Request, code string, err error, to, msg string) {
	if err != nil {
		s.refuse(w, r, err, s.view, "/batches/"+code)
		return
	}
	redirect(w, r, to, msg)
}

func (s batchPages) issueCertificate(w http.ResponseWriter, r *http.Request) {
	code, ok := s.pathCode(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	_, err := s.svc.Trace.IssueCertificate(r.Context(), httpx.Actor(r), code, trace.CertificateInput{Basis: f.Get("basis"), TestRef: f.Get("test_ref"),
		Quantity: trFormQty(f, "quantity"), Scope: f.Get("scope"), VehiclePlate: f.Get("vehicle_plate")})
	s.afterBatchAction(w, r, code, err, "/batches/"+code+"#certificates", "tr.cert.issued")
}

func (s batchPages) addAlias(w http.ResponseWriter, r *http.Request) {
	code, ok := s.pathCode(w, r)
	if !ok {
		return
	}
	_, err := s.svc.Trace.AddAlias(r.Context(), httpx.Actor(r), code, r.PostForm.Get("scheme"), r.PostForm.Get("value"))
	s.afterBatchAction(w, r, code, err, "/batches/"+code+"#aliases", "tr.alias.added")
}

func (s batchPages) split(w http.ResponseWriter, r *http.Request) {
	code, ok := s.pathCode(w, r)
	if !ok {
		return
	}
	var parts []float64
	for _, x := range strings.FieldsFunc(r.PostForm.Get("parts"), func(r rune) bool { return r == ',' || r == '，' || r == ' ' || r == '、' || r == '+' }) {
		parts = append(parts, trQtyText(x))
	}
	res, err := s.svc.Trace.Split(r.Context(), httpx.Actor(r), code, trace.SplitInput{Parts: parts})
	to := "/batches/" + code
	if err == nil && len(res.Codes) > 0 {
		to = "/batches/" + res.Codes[0]
	}
	s.afterBatchAction(w, r, code, err, to, "tr.split.done")
}

func (s batchPages) correct(w http.ResponseWriter, r *http.Request) {
	code, ok := s.pathCode(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	in := trace.CorrectionInput{Reason: f.Get("reason"), ProducedAt: strings.TrimSpace(f.Get("produced_at"))}
	if q := strings.TrimSpace(f.Get("quantity")); q != "" {
		in.Quantity = trFormQty(f, "quantity")
	}
	if o := f.Get("origin"); o != "" {
		in.Origin = &o
	}
	_, err := s.svc.Trace.Correct(r.Context(), httpx.Actor(r), code, in)
	s.afterBatchAction(w, r, code, err, "/batches/"+code, "tr.corrected")
}
