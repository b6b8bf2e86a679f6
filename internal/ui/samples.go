package ui

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/monitoring"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// samplePages: sampling tests (the tester's phone form), their verdicts,
// and the recalls a failed test starts (scope, confirm or release, what
// each holder did with its held batches).
type samplePages struct{ *Server }

func (s samplePages) routes() []route {
	return []route{
		{"GET /samples", loggedIn, s.list},
		{"GET /samples/new", loggedIn, s.form},
		{"POST /samples", loggedIn, s.record},
		{"GET /samples/{id}", loggedIn, s.view},
		{"GET /samples/{id}/report.pdf", loggedIn, s.report},
		{"GET /recalls/{id}", loggedIn, s.recall},
		{"POST /recalls/{id}/decide", loggedIn, s.decide},
		{"POST /recalls/{id}/dispose", loggedIn, s.dispose},
		{"GET /recall-sheet", loggedIn, s.sheetForm},
		{"POST /recall-sheet", loggedIn, s.sheet},
	}
}

type mnSamplesData struct {
	Samples   []monitoring.SampleSummary
	Recalls   []monitoring.RecallSummary
	CanRecord bool
	CanSheet  bool
}

// canSheet: officials who read recalls may export the recall spreadsheet.
func canSheet(a *auth.Actor) bool { return a.Can(auth.ActRecallRead) && a.OperatorID == 0 }

func (s samplePages) list(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	d := mnSamplesData{CanRecord: a.Can(auth.ActSampleRecord), CanSheet: canSheet(a)}
	var err error
	if a.Can(auth.ActSampleRead) {
		if d.Samples, err = s.svc.Monitoring.Samples(r.Context(), a, 100, 0); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if d.Recalls, err = s.svc.Monitoring.Recalls(r.Context(), a); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "mn_samples", s.page(r, "mn.samples", d))
}

type mnSampleFormData struct {
	Units []string
	Rows  []int
}

func (s samplePages) form(w http.ResponseWriter, r *http.Request) {
	if err := auth.Authorize(httpx.Actor(r), auth.ActSampleRecord, auth.Resource{}); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "mn.sample.new", mnSampleFormData{Units: monitoring.Units, Rows: seq(5)})
	if p.Form == nil {
		p.Form = r.URL.Query()
	}
	s.render(w, r, "mn_sample_new", p)
}

// sampleInput reads the form (item rows without a substance are skipped,
// so a refusal's index stays the row's).
func sampleInput(r *http.Request) monitoring.SampleInput {
	f := r.PostForm
	in := monitoring.SampleInput{OperatorCode: f.Get("operator_code"), BatchCode: f.Get("batch_code"), SampleNo: f.Get("sample_no"),
		SampledAt: f.Get("sampled_at"), Place: f.Get("place"), Agency: f.Get("agency"), Method: f.Get("method"), Kind: f.Get("kind")}
	for i := range 5 {
		sub := strings.TrimSpace(f.Get(fmt.Sprintf("substance_%d", i)))
		if sub == "" {
			continue
		}
		it := monitoring.SampleItemInput{Substance: sub, Unit: f.Get(fmt.Sprintf("unit_%d", i)), Result: f.Get(fmt.Sprintf("result_%d", i))}
		if v := strings.TrimSpace(f.Get(fmt.Sprintf("value_%d", i))); v != "" {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				x = -1
			}
			it.Value = &x
		}
		if v := strings.TrimSpace(f.Get(fmt.Sprintf("lod_%d", i))); v != "" {
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				it.LOD = &x
			}
		}
		in.Items = append(in.Items, it)
	}
	return in
}

func (s samplePages) record(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	x, err := s.svc.Monitoring.RecordSample(r.Context(), httpx.Actor(r), sampleInput(r))
	if err != nil {
		s.refuse(w, r, err, s.form, "/samples/new")
		return
	}
	redirect(w, r, fmt.Sprintf("/samples/%d", x.ID), "mn.sample.recorded")
}

func (s samplePages) view(w http.ResponseWriter, r *http.Request) {
	x, err := s.svc.Monitoring.Sample(r.Context(), httpx.Actor(r), pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "mn_sample", s.page(r, "mn.sample", x))
}

type mnRecallData struct {
	R         monitoring.Recall
	CanDecide bool
	Mine      map[string]bool // batches the actor's operator holds (to record what it did)
	Actions   []string
}

func (s samplePages) recall(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	rc, err := s.svc.Monitoring.Recall(r.Context(), a, pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := mnRecallData{R: rc, Mine: map[string]bool{}, Actions: monitoring.Dispositions,
		// a national recall's copy is decided at the national node (docs/exchange.md)
		CanDecide: a.Can(auth.ActRecallManage) && rc.SourceNode == "" && (rc.Status == monitoring.RecallOpen || rc.Status == monitoring.RecallConfirmed)}
	for _, b := range rc.Batches {
		if a.OperatorID != 0 && b.OperatorID == a.OperatorID && b.Disposition == "" && a.Can(auth.ActBatchWrite) {
			d.Mine[b.Code] = true
		}
	}
	s.render(w, r, "mn_recall", s.page(r, "mn.recall", d))
}

func (s samplePages) decide(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id, a := pathInt(r, "id"), httpx.Actor(r)
	var err error
	if r.PostForm.Get("decision") == "release" {
		_, err = s.svc.Monitoring.Release(r.Context(), a, id, r.PostForm.Get("reason"))
	} else {
		_, err = s.svc.Monitoring.Confirm(r.Context(), a, id)
	}
	to := fmt.Sprintf("/recalls/%d", id)
	if err != nil {
		s.refuse(w, r, err, s.recall, to)
		return
	}
	redirect(w, r, to, "mn.recall.decided")
}

func (s samplePages) dispose(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	in := monitoring.DispositionInput{Action: f.Get("action"), Note: f.Get("note")}
	if v := strings.TrimSpace(f.Get("quantity")); v != "" {
		q, err := strconv.ParseFloat(v, 64)
		if err != nil {
			q = -1
		}
		in.Quantity = q
	}
	to := fmt.Sprintf("/recalls/%d", pathInt(r, "id"))
	if _, err := s.svc.Monitoring.Dispose(r.Context(), httpx.Actor(r), f.Get("code"), in); err != nil {
		s.refuse(w, r, err, s.recall, to)
		return
	}
	redirect(w, r, to, "mn.disposition.recorded")
}

func (s samplePages) report(w http.ResponseWriter, r *http.Request) {
	b, name, err := s.svc.Monitoring.SampleReportPDF(r.Context(), httpx.Actor(r), pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", name))
	_, _ = w.Write(b)
}

func (s samplePages) sheetForm(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	if !canSheet(a) {
		s.fail(w, r, platform.Forbidden("召回清单只向监管人员提供", "the recall spreadsheet is for officials"))
		return
	}
	p := s.page(r, "mn.sheet", nil)
	if p.Form == nil {
		p.Form = r.URL.Query()
	}
	s.render(w, r, "mn_sheet", p)
}

// sheet streams the spreadsheet the form selects, or shows the form again
// with what is wrong.
func (s samplePages) sheet(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	q := trace.SheetQuery{Code: f.Get("code"), Operator: f.Get("operator"), Product: f.Get("product"), Region: f.Get("region"), From: f.Get("from"), To: f.Get("to")}
	format := trace.SheetXLSX
	if f.Get("format") == trace.SheetCSV {
		format = trace.SheetCSV
	}
	rows, err := s.svc.Trace.RecallSheet(r.Context(), httpx.Actor(r), q)
	if err != nil {
		s.refuse(w, r, err, s.sheetForm, "/recall-sheet")
		return
	}
	w.Header().Set("Content-Type", trace.SheetContentType(format))
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", trace.SheetFileName(q, format)))
	if err := trace.WriteSheet(w, rows, format); err != nil {
		slog.Error("ui: recall sheet", "err", err)
	}
}
