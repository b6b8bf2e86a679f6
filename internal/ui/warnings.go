package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/insight"
	"agtrace/internal/platform"
)

// warningPages: early warning (预警) — the warnings of the jurisdiction
// with a status filter, one warning with its evidence (a small ECharts
// line chart drawn by static/warnings.js from the JSON API, and the same
// numbers as a table), the records behind it and its handling buttons.
type warningPages struct{ *Server }

func (s warningPages) routes() []route {
	return []route{
		{"GET /warnings", loggedIn, s.list},
		{"POST /warnings/evaluate", loggedIn, s.evaluate},
		{"POST /warnings/rules", loggedIn, s.setRule},
		{"GET /warnings/{id}", loggedIn, s.view},
		{"POST /warnings/{id}/status", loggedIn, s.setStatus},
	}
}

// wrFilters are the list's status choices: active (the default), every
// status, then each status.
var wrFilters = []string{"active", "all", string(insight.WarningOpen), string(insight.WarningAcknowledged),
	string(insight.WarningClosed), string(insight.WarningDismissed)}

type wrListData struct {
	Items       []insight.Warning
	Status      string
	Filters     []string
	Rules       []wrRuleRow
	Params      []insight.Param
	CanEvaluate bool
	// the settings form (administrators; supervisors in their jurisdiction)
	CanSet    bool
	RuleKeys  []string
	SetParams []insight.Param
	Region    string // the form's default region: the actor's jurisdiction
}

// wrRuleRow is a rule's parameters in the actor's jurisdiction: a cell per
// parameter of insight.ParamNames but enabled ("—" where the rule's method
// does not use it).
type wrRuleRow struct {
	Rule    string
	Cells   []string
	Enabled bool
}

// wrParams are the parameter columns of the rules table.
var wrParams = insight.ParamNames[:len(insight.ParamNames)-1]

func ruleRow(st insight.RuleSetting) wrRuleRow {
	p := st.Params
	values := map[insight.Param]float64{insight.ParamWindow: float64(p.Window), insight.ParamBaseline: float64(p.Baseline), insight.ParamLag: float64(p.Lag),
		insight.ParamAlpha: p.Alpha, insight.ParamMinEvents: float64(p.MinEvents), insight.ParamMinBase: p.MinBase, insight.ParamFloor: p.Floor}
	row := wrRuleRow{Rule: string(st.Rule), Enabled: p.Enabled}
	for _, name := range wrParams {
		cell := "—"
		if st.Method.Uses(name) {
			cell = strconv.FormatFloat(values[name], 'g', -1, 64)
		}
		row.Cells = append(row.Cells, cell)
	}
	return row
}

func (s warningPages) list(w http.ResponseWriter, r *http.Request) {
	p, err := s.listPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "warnings", p)
}

// listPage is the list with the rules table and, for those who may change
// them, the settings form.
func (s warningPages) listPage(r *http.Request) (*Page, error) {
	a, q := httpx.Actor(r), r.URL.Query()
	d := wrListData{Status: q.Get("status"), Filters: wrFilters, Params: wrParams, CanEvaluate: a.Can(auth.ActStatsRead),
		CanSet: a.Can(auth.ActMonitorSettings), RuleKeys: insight.RuleKeys(), SetParams: insight.ParamNames, Region: a.Region}
	if d.Status == "" {
		d.Status = "active"
	}
	status := d.Status
	if status == "all" {
		status = ""
	}
	offset, fetch, pg := listPage(r)
	list, err := s.svc.Insight.Warnings(r.Context(), a, insight.WarningFilter{Region: q.Get("region"), Status: status, Rule: q.Get("rule"),
		Limit: fetch, Offset: offset})
	if err != nil {
		return nil, err
	}
	d.Items = list[:pg.more(len(list))]
	settings, err := s.svc.Insight.RuleSettings(r.Context(), a, "")
	if err != nil {
		return nil, err
	}
	for _, st := range settings {
		d.Rules = append(d.Rules, ruleRow(st))
	}
	p := s.page(r, "wr.title", d)
	p.Pager = pg
	return p, nil
}

// setRule sets one parameter of a rule for a region (the form under the
// rules table); a refusal shows the list again with the field's message.
func (s warningPages) setRule(w http.ResponseWriter, r *http.Request) {
	in := insight.RuleParamInput{Region: strings.TrimSpace(r.PostFormValue("region_code")), Rule: r.PostFormValue("rule"), Param: r.PostFormValue("param")}
	v, err := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("value")), 64)
	if err != nil {
		err = platform.Invalid(platform.FieldError{Field: "value", Code: "number", ZH: "请输入数字", EN: "enter a number"})
	} else {
		in.Value = v
		_, err = s.svc.Insight.SetRuleParam(r.Context(), httpx.Actor(r), in)
	}
	if err == nil {
		redirect(w, r, "/warnings?rules=1", "wr.rule_set")
		return
	}
	if httpx.StatusOf(err) != http.StatusUnprocessableEntity {
		s.fail(w, r, err)
		return
	}
	p, lerr := s.listPage(r)
	if lerr != nil {
		s.fail(w, r, lerr)
		return
	}
	status := formError(p, r, err)
	s.render(w, r, "warnings", p, status)
}

// evaluate runs the rules over the jurisdiction now and returns to the list.
func (s warningPages) evaluate(w http.ResponseWriter, r *http.Request) {
	if _, err := s.svc.Insight.EvaluateWarnings(r.Context(), httpx.Actor(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/warnings", "wr.evaluated")
}

type wrViewData struct {
	W       insight.Warning
	Rows    []wrRow
	Rate    bool // the rule compares rates (values are percentages)
	Level   bool // a state figure: no baseline
	Facts   []wrFact
	Chart   string // the JSON the chart is drawn from
	Product string // the product's name in the page's language
}

// wrRow is one bucket of the evidence table.
type wrRow struct {
	From, To string
	Window   bool
	Hits     int64
	Trials   int64
	Value    string
}

// wrFact is one line of the evidence summary: a message key and its value.
type wrFact struct{ Key, Value string }

func (s warningPages) view(w http.ResponseWriter, r *http.Request) {
	id := pathInt(r, "id")
	x, err := s.svc.Insight.Warning(r.Context(), httpx.Actor(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := wrViewData{W: x, Chart: fmt.Sprintf("/api/v1/warnings/%d", x.ID), Product: pick(langOf(r), x.ProductName, x.ProductNameEN)}
	ev := x.Evidence
	d.Rate = ev.Method == insight.MethodRateRise
	d.Level = ev.Method == insight.MethodLevel
	for _, b := range ev.Buckets {
		row := wrRow{From: b.From, To: b.To, Window: b.Window, Hits: b.Hits, Trials: b.Trials, Value: strconv.FormatInt(b.Hits, 10)}
		if d.Rate {
			row.Value = "—"
			if b.Trials > 0 {
				row.Value = percent(float64(b.Hits) / float64(b.Trials))
			}
		}
		d.Rows = append(d.Rows, row)
	}
	d.Facts = wrFacts(ev, d.Rate, d.Level)
	s.render(w, r, "warnings_view", s.page(r, "wr.view", d))
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }

func num(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }

// wrFacts are the evidence's numbers in reading order: what was seen, what
// the baseline predicts, from where the rule fires, the statistic.
func wrFacts(ev *insight.Evidence, rate, level bool) []wrFact {
	window := ev.WindowFrom + " – " + ev.WindowTo
	if level {
		return []wrFact{{"wr.fact.window", window}, {"wr.fact.overdue", strconv.FormatInt(ev.Hits, 10)},
			{"wr.fact.backlog", strconv.FormatInt(ev.Trials, 10)}, {"wr.fact.level", num(ev.Threshold)}}
	}
	facts := []wrFact{{"wr.fact.window", window}, {"wr.fact.baseline", ev.BaselineFrom + " – " + ev.BaselineTo}}
	if rate {
		facts = append(facts, wrFact{"wr.fact.observed_rate", fmt.Sprintf("%d / %d = %s", ev.Hits, ev.Trials, percent(ev.Observed))},
			wrFact{"wr.fact.baseline_rate", fmt.Sprintf("%d / %d → %s", ev.BaseHits, ev.BaseTrials, percent(ev.BaseRate))},
			wrFact{"wr.fact.critical", num(ev.Critical)})
	} else {
		facts = append(facts, wrFact{"wr.fact.observed", strconv.FormatInt(ev.Hits, 10)},
			wrFact{"wr.fact.baseline_count", fmt.Sprintf("%d → %s", ev.BaseHits, num(ev.Expected))},
			wrFact{"wr.fact.critical", num(ev.Critical)})
	}
	return append(facts, wrFact{"wr.fact.statistic", "p = " + num(ev.Statistic)}, wrFact{"wr.fact.alpha", num(ev.Threshold)})
}

func (s warningPages) setStatus(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id := pathInt(r, "id")
	to := fmt.Sprintf("/warnings/%d", id)
	in := insight.WarningStatusInput{Status: r.PostForm.Get("status"), Note: r.PostForm.Get("note"), From: r.PostForm.Get("from")}
	if _, err := s.svc.Insight.SetWarningStatus(r.Context(), httpx.Actor(r), id, in); err != nil {
		s.refuse(w, r, err, s.view, to)
		return
	}
	redirect(w, r, to, "wr.updated")
}

// warningCount counts the warnings of the actor's jurisdiction still being
// handled (the home page's queue, homePages.count).
func (s homePages) warningCount(r *http.Request, a *auth.Actor) (waiting, overdue int) {
	if s.svc.Insight == nil {
		return 0, 0
	}
	n, err := s.svc.Insight.ActiveWarnings(r.Context(), a, queueCap)
	if err != nil {
		return 0, 0
	}
	return n, 0
}
