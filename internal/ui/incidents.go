package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/incident"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// incidentPages: emergency command (应急指挥) — the incident list, the
// declaration form, and the incident's page: its affected batches on a map
// and in a table with their states, the tasks of county officials with
// their status buttons, the assignment form, the timeline and the
// situation report (PDF). The map is drawn by static/incident.js with
// ECharts from data in the page; without JavaScript the tables say it all.
type incidentPages struct{ *Server }

func (s incidentPages) routes() []route {
	return []route{
		{"GET /incidents", loggedIn, s.list},
		{"GET /incidents/new", loggedIn, s.form},
		{"POST /incidents", loggedIn, s.declare},
		{"GET /incidents/{id}", loggedIn, s.view},
		{"POST /incidents/{id}/tasks", loggedIn, s.assign},
		{"POST /incidents/{id}/tasks/{task}/status", loggedIn, s.taskStatus},
		{"POST /incidents/{id}/batches/{code}/state", loggedIn, s.batchState},
		{"GET /incidents/{id}/report.pdf", loggedIn, s.report},
	}
}

type inListData struct {
	Items     []incident.Summary
	Statuses  []incident.Status
	CanManage bool
}

func (s incidentPages) list(w http.ResponseWriter, r *http.Request) {
	a, q := httpx.Actor(r), r.URL.Query()
	offset, fetch, pg := listPage(r)
	list, err := s.svc.Incidents.List(r.Context(), a, incident.Filter{Status: q.Get("status"), Region: strings.TrimSpace(q.Get("region")),
		Mine: q.Get("mine") == "1", Limit: fetch, Offset: offset})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "in.list", inListData{Items: list[:pg.more(len(list))], Statuses: incident.Statuses, CanManage: a.Can(auth.ActIncidentManage)})
	p.Pager = pg
	s.render(w, r, "incident_list", p)
}

type inFormData struct {
	Sources  []incident.SourceKind
	Products []trace.Product
}

// form is the declaration form; ?source=recall&id=7 (the recall page's
// link) fills in the source.
func (s incidentPages) form(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	if err := auth.Authorize(a, auth.ActIncidentManage, auth.Resource{}); err != nil {
		s.fail(w, r, err)
		return
	}
	products, err := s.svc.Trace.Products(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "in.new", inFormData{Sources: incident.SourceKinds, Products: products})
	if p.Form == nil {
		q := r.URL.Query()
		kind := q.Get("source")
		if kind == "" {
			kind = string(incident.SourceManual)
		}
		p.Form = url.Values{"source_kind": {kind}, "source_id": {q.Get("id")}, "region": {q.Get("region")}}
	}
	s.render(w, r, "incident_new", p)
}

func (s incidentPages) declare(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	in := incident.DeclareInput{Title: f.Get("title"), Description: f.Get("description"), Region: f.Get("region"), ProductCode: f.Get("product_code"),
		Source: incident.Source{Kind: incident.SourceKind(f.Get("source_kind"))}}
	if id := strings.TrimSpace(f.Get("source_id")); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			s.refuse(w, r, platform.Invalid(platform.FieldError{Field: "source.id", Code: "format", ZH: "来源编号应为正整数", EN: "the source id must be a positive number"}), s.form, "/incidents/new")
			return
		}
		in.Source.ID = n
	}
	for _, line := range strings.FieldsFunc(f.Get("batch_codes"), func(r rune) bool { return r == '\n' || r == ',' || r == '，' || r == ';' }) {
		if c := strings.TrimSpace(line); c != "" {
			in.BatchCodes = append(in.BatchCodes, c)
		}
	}
	inc, err := s.svc.Incidents.Declare(r.Context(), httpx.Actor(r), in)
	if err != nil {
		s.refuse(w, r, err, s.form, "/incidents/new")
		return
	}
	redirect(w, r, fmt.Sprintf("/incidents/%d", inc.ID), "in.declared_ok")
}

// inCounty is a county holding affected batches, by name.
type inCounty struct {
	Code, Name          string
	Batches, Unresolved int
}

type inViewData struct {
	I          incident.Incident
	Counties   []inCounty
	MapData    string // [{"code":"440000","name":"广东省","value":3}, …]: affected batches per province
	Kinds      []incident.TaskKind
	Officials  []incident.Official
	Assignable []incident.Batch // batches the actor may task (its jurisdiction's)
	DueDefault string           // tomorrow 18:00, China time
}

func (s incidentPages) view(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	inc, err := s.svc.Incidents.Get(r.Context(), a, pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := inViewData{I: inc, Kinds: incident.TaskKinds,
		DueDefault: s.svc.Incidents.Now().In(platform.ChinaTZ).AddDate(0, 0, 1).Format("2006-01-02") + "T18:00"}
	d.Counties, d.MapData = s.regionsOf(r, inc)
	if inc.CanManage {
		if d.Officials, err = s.svc.Incidents.Assignees(r.Context(), a); err != nil {
			s.fail(w, r, err)
			return
		}
		for _, b := range inc.Batches {
			if len(b.Next) > 0 {
				d.Assignable = append(d.Assignable, b)
			}
		}
	}
	s.render(w, r, "incident_view", s.page(r, "in.view", d))
}

// regionsOf names the counties and sums the affected batches by province
// for the map (feature ids of china.js are the provinces' 6-digit codes).
func (s incidentPages) regionsOf(r *http.Request, inc incident.Incident) ([]inCounty, string) {
	var out []inCounty
	byProvince := map[string]int{}
	for _, c := range inc.Regions {
		out = append(out, inCounty{Code: c.Code, Name: s.regionName(r, c.Code), Batches: c.Batches, Unresolved: c.Unresolved})
		if len(c.Code) >= 2 {
			byProvince[c.Code[:2]+"0000"] += c.Batches
		}
	}
	type point struct {
		Code  string `json:"code"`
		Name  string `json:"name"`
		Value int    `json:"value"`
	}
	points := []point{}
	for code, n := range byProvince {
		points = append(points, point{Code: code, Name: s.regionName(r, code), Value: n})
	}
	sort.Slice(points, func(i, j int) bool { return points[i].Code < points[j].Code })
	raw, _ := json.Marshal(points)
	return out, string(raw)
}

func (s incidentPages) assign(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f, id := r.PostForm, pathInt(r, "id")
	to := fmt.Sprintf("/incidents/%d", id)
	in := incident.TaskInput{Kind: f.Get("kind"), Assignee: f.Get("assignee"), BatchCode: f.Get("batch_code"), DueAt: f.Get("due_at"), Instructions: f.Get("instructions")}
	if _, err := s.svc.Incidents.AddTask(r.Context(), httpx.Actor(r), id, in); err != nil {
		s.refuse(w, r, err, s.view, to)
		return
	}
	redirect(w, r, to, "in.assigned")
}

func (s incidentPages) taskStatus(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	to := fmt.Sprintf("/incidents/%d", pathInt(r, "id"))
	in := incident.TaskStatusInput{Status: f.Get("status"), Note: f.Get("note"), BatchState: f.Get("batch_state"), From: f.Get("from")}
	if _, err := s.svc.Incidents.SetTaskStatus(r.Context(), httpx.Actor(r), pathInt(r, "task"), in); err != nil {
		s.refuse(w, r, err, s.view, to)
		return
	}
	redirect(w, r, to, "in.task_updated")
}

func (s incidentPages) batchState(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f, id := r.PostForm, pathInt(r, "id")
	to := fmt.Sprintf("/incidents/%d", id)
	in := incident.BatchStateInput{State: f.Get("state"), Note: f.Get("note"), From: f.Get("from")}
	if _, err := s.svc.Incidents.SetBatchState(r.Context(), httpx.Actor(r), id, r.PathValue("code"), in); err != nil {
		s.refuse(w, r, err, s.view, to)
		return
	}
	redirect(w, r, to, "in.state_recorded")
}

func (s incidentPages) report(w http.ResponseWriter, r *http.Request) {
	b, name, err := s.svc.Incidents.ReportPDF(r.Context(), httpx.Actor(r), pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", name))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// EventText is a timeline line's details in words: the task, the batch,
// the state or status, the note.
func (p *Page) EventText(e incident.Event) string {
	d := e.Detail
	var parts []string
	if k, ok := d["task_kind"].(string); ok {
		parts = append(parts, p.T("in.task.kind."+k))
	}
	if a, ok := d["assignee"].(string); ok && a != "" {
		parts = append(parts, p.T("in.assignee")+" "+a)
	}
	if st, ok := d["task_status"].(string); ok {
		parts = append(parts, p.T("in.task.status."+st))
	}
	if c, ok := d["code"].(string); ok && c != "" {
		parts = append(parts, grouped(c))
	}
	if st, ok := d["state"].(string); ok {
		parts = append(parts, p.T("in.state."+st))
	}
	if n, ok := d["batches"].(float64); ok {
		parts = append(parts, p.T("in.n_batches", int(n)))
	}
	if n, ok := d["note"].(string); ok && n != "" {
		parts = append(parts, n)
	}
	return strings.Join(parts, " · ")
}

// ActorName is who did something, in words (the platform itself is 系统).
func (p *Page) ActorName(name string) string {
	if name == "" || name == auth.SystemName {
		return p.T("in.system")
	}
	return name
}
