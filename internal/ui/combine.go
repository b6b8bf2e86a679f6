package ui

import (
	"net/http"
	"net/url"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/trace"
)

// combinePages: merging lots and transformations.
type combinePages struct{ *Server }

func (s combinePages) routes() []route {
	return []route{
		{"GET /merge", loggedIn, s.mergeForm},
		{"POST /merge", loggedIn, s.merge},
		{"GET /transform", loggedIn, s.transformForm},
		{"POST /transform", loggedIn, s.transform},
	}
}

type trCombineData struct {
	Stock    []trace.BatchSummary
	Products []trace.Product
	Units    []trace.Unit
	Today    string
	Rows     []int
}

func (s combinePages) combinePage(r *http.Request, p *Page) (*Page, error) {
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

func (s combinePages) mergeForm(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "tr.merge", nil)
	p.Form = url.Values{"produced_at": {s.svc.Trace.Today()}}
	if _, err := s.combinePage(r, p); err != nil {
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

func (s combinePages) merge(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	res, err := s.svc.Trace.Merge(r.Context(), httpx.Actor(r), trace.MergeInput{Inputs: trSelectedInputs(f), ProductCode: f.Get("product_code"),
		ProducedAt: strings.TrimSpace(f.Get("produced_at")), Origin: f.Get("origin")})
	if err != nil {
		p := s.page(r, "tr.merge", nil)
		st := formError(p, r, err)
		if _, perr := s.combinePage(r, p); perr != nil {
			s.fail(w, r, perr)
			return
		}
		s.render(w, r, "tr_merge", p, st)
		return
	}
	redirect(w, r, "/batches/"+res.Codes[0], "tr.merged")
}

func (s combinePages) transformForm(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "tr.transform", nil)
	p.Form = url.Values{"produced_at": {s.svc.Trace.Today()}}
	if _, err := s.combinePage(r, p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "tr_transform", p)
}

func (s combinePages) transform(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	in := trace.TransformInput{Inputs: trSelectedInputs(f), ProducedAt: strings.TrimSpace(f.Get("produced_at")), Note: f.Get("note")}
	for i := range f["out_product"] {
		pc := trNth(f, "out_product", i)
		if pc == "" {
			continue
		}
		q := trQtyText(trNth(f, "out_quantity", i))
		in.Outputs = append(in.Outputs, trace.OutputSpec{ProductCode: pc, Quantity: q, Unit: trNth(f, "out_unit", i)})
	}
	res, err := s.svc.Trace.Transform(r.Context(), httpx.Actor(r), in)
	if err != nil {
		p := s.page(r, "tr.transform", nil)
		st := formError(p, r, err)
		if _, perr := s.combinePage(r, p); perr != nil {
			s.fail(w, r, perr)
			return
		}
		s.render(w, r, "tr_transform", p, st)
		return
	}
	redirect(w, r, "/batches/"+res.Codes[0], "tr.transformed")
}
