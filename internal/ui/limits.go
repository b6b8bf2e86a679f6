package ui

import (
	"net/http"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/monitoring"
)

// limitPages: residue limits as data — search what applies to a food on a
// date, change a limit (its history kept), import a CSV.
type limitPages struct{ *Server }

func (s limitPages) routes() []route {
	return []route{
		{"GET /limits", loggedIn, s.list},
		{"POST /limits", loggedIn, s.save},
		{"POST /limits/import", loggedIn, s.importCSV},
		{"GET /limits/{id}/history", loggedIn, s.history},
	}
}

type mnLimitsData struct {
	Items     []monitoring.Limit
	CanEdit   bool
	Units     []string
	Judges    []string
	Columns   string
	Applies   bool // the list answers "what applies to this food on this date"
	ImportMsg string
}

func (s limitPages) list(w http.ResponseWriter, r *http.Request) {
	a, q := httpx.Actor(r), r.URL.Query()
	offset, fetch, pg := listPage(r)
	f := monitoring.LimitFilter{Food: strings.TrimSpace(q.Get("food")), Substance: strings.TrimSpace(q.Get("substance")),
		Date: strings.TrimSpace(q.Get("date")), Limit: fetch, Offset: offset}
	list, err := s.svc.Monitoring.Limits(r.Context(), a, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := mnLimitsData{Items: list[:pg.more(len(list))], CanEdit: a.Can(auth.ActLimitManage), Units: monitoring.Units,
		Judges: []string{monitoring.JudgeMax, monitoring.JudgeNotDetected, monitoring.JudgeMin}, Columns: strings.Join(monitoring.ImportColumns, ","),
		Applies: f.Food != "" && f.Date != ""}
	p := s.page(r, "mn.limits", d)
	p.Pager = pg
	s.render(w, r, "mn_limits", p)
}

func (s limitPages) save(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	in := monitoring.LimitInput{Substance: f.Get("substance"), Food: f.Get("food"), Unit: f.Get("unit"), Judgement: f.Get("judgement"),
		Standard: f.Get("standard"), Edition: f.Get("edition"), ValidFrom: f.Get("valid_from"), ValidTo: f.Get("valid_to"),
		Source: f.Get("source"), Reason: f.Get("reason")}
	v, err := strconv.ParseFloat(strings.TrimSpace(f.Get("value")), 64)
	if err != nil {
		v = -1 // refused on its field
	}
	in.Value = v
	l, err := s.svc.Monitoring.SaveLimit(r.Context(), httpx.Actor(r), in)
	if err != nil {
		s.refuse(w, r, err, s.list, "/limits")
		return
	}
	redirect(w, r, "/limits?food="+l.FoodCode+"&substance="+l.SubstanceCode, "mn.limit.saved")
}

func (s limitPages) importCSV(w http.ResponseWriter, r *http.Request) {
	file, _, err := r.FormFile("file")
	if err != nil {
		s.refuse(w, r, errNoFile, s.list, "/limits")
		return
	}
	defer file.Close()
	rep, err := s.svc.Monitoring.ImportLimits(r.Context(), httpx.Actor(r), file)
	if err != nil {
		s.refuse(w, r, err, s.list, "/limits")
		return
	}
	redirect(w, r, "/limits", "mn.limits.imported."+strconv.Itoa(min(rep.Saved, 1)))
}

type mnHistoryData struct {
	ID    int64
	Items []monitoring.LimitHistory
}

func (s limitPages) history(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.Monitoring.History(r.Context(), httpx.Actor(r), pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "mn_limit_history", s.page(r, "mn.limit.history", mnHistoryData{ID: pathInt(r, "id"), Items: list}))
}
