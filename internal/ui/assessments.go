package ui

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"agtrace/internal/assess"
	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
)

// assessPages: the pilot performance assessment (绩效考核) — choose a
// level and a month, compute it, read the ranking with each indicator's
// points and evidence, download the PDF and Excel reports — and the
// administrators' scoring sheets.
type assessPages struct{ *Server }

func (s assessPages) routes() []route {
	return []route{
		{"GET /assessments", loggedIn, s.list},
		{"POST /assessments", loggedIn, s.compute},
		{"GET /assessments/{id}", loggedIn, s.view},
		{"GET /admin/assessment-sheets", loggedIn, s.sheets},
		{"POST /admin/assessment-sheets/{id}", loggedIn, s.saveSheet},
	}
}

type asChoice struct{ Code, Name string }

type asListData struct {
	Items   []assess.Summary
	Levels  []assess.Level
	Regions []asChoice // the jurisdiction and its provinces or prefectures
	Level   string
	Period  string
	Region  string
	CanRun  bool
}

// list is the assessments of the jurisdiction and the form to compute one.
func (s assessPages) list(w http.ResponseWriter, r *http.Request) {
	a, q := httpx.Actor(r), r.URL.Query()
	offset, fetch, pg := listPage(r)
	list, err := s.svc.Assess.List(r.Context(), a, assess.Filter{Level: q.Get("level"), Period: q.Get("period"), Region: q.Get("region"), Limit: fetch, Offset: offset})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	root := a.Region
	if root == "" {
		root = "000000"
	}
	d := asListData{Items: list[:pg.more(len(list))], Levels: assess.Levels, Regions: s.choices(r, root), CanRun: a.Can(auth.ActAssessRun),
		Level: q.Get("level"), Period: q.Get("period"), Region: q.Get("region")}
	if d.Period == "" {
		d.Period = time.Now().In(platform.ChinaTZ).Format("2006-01")
	}
	if d.Level == "" {
		d.Level = string(assess.LevelCounty)
		if root == "000000" {
			d.Level = string(assess.LevelProvince)
		}
	}
	p := s.page(r, "as.title", d)
	p.Pager = pg
	s.render(w, r, "assess_list", p)
}

// choices are the roots an actor may rank below: its jurisdiction, then
// the provinces or prefectures in it.
func (s assessPages) choices(r *http.Request, root string) []asChoice {
	out := []asChoice{{root, s.regionName(r, root)}}
	if len(auth.RegionPrefix(root)) >= 4 {
		return out
	}
	kids, err := s.svc.Regions.Children(r.Context(), root)
	if err != nil {
		return out
	}
	for _, k := range kids {
		if len(k.Code) == 6 {
			out = append(out, asChoice{k.Code, s.regionName(r, k.Code)})
		}
	}
	return out
}

// compute runs an assessment and shows it.
func (s assessPages) compute(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	res, err := s.svc.Assess.Compute(r.Context(), httpx.Actor(r), assess.Request{Level: f.Get("level"), Period: f.Get("period"), Region: f.Get("region")})
	if err != nil {
		s.refuse(w, r, err, s.list, "/assessments")
		return
	}
	redirect(w, r, fmt.Sprintf("/assessments/%d", res.ID), "as.computed")
}

// asCell is one region's indicator as the ranking table shows it.
type asCell struct {
	Score      string // points, or "—" when not applicable
	Value      string // the value with its unit
	Applicable bool
	Evidence   assess.Evidence
}

type asRow struct {
	Rank       int
	Code, Name string
	Total      float64
	Cells      []asCell
}

type asIndicator struct {
	Key, Label, Target, Source, Seed, SeedRef string
	Weight                                    float64
}

type asViewData struct {
	A          assess.Assessment
	Title      string
	Indicators []asIndicator
	Rows       []asRow
	CanRun     bool
}

func (s assessPages) view(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	res, err := s.svc.Assess.Get(r.Context(), a, pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := langOf(r)
	d := asViewData{A: res, Title: assess.Title(res), CanRun: a.Can(auth.ActAssessRun) && auth.Authorize(a, auth.ActAssessRun, auth.Resource{Region: res.Region}) == nil}
	if lang == "en" {
		d.Title = fmt.Sprintf("%s · %s · %s", s.regionName(r, res.Region), res.Period, translate(lang, "as.level."+string(res.Level)))
	}
	for _, it := range res.Indicators {
		in, _ := assess.Lookup(it.Indicator)
		d.Indicators = append(d.Indicators, asIndicator{Key: it.Indicator, Label: pick(lang, it.Label, it.LabelEN), Weight: it.Weight,
			Target: asTarget(lang, it), Source: pick(lang, in.SourceZH, in.SourceEN), Seed: in.Seed, SeedRef: in.SeedRef})
	}
	for _, rr := range res.Ranking {
		row := asRow{Rank: rr.Rank, Code: rr.Region, Name: rr.Name, Total: rr.Total}
		for i, sc := range rr.Scores {
			c := asCell{Score: "—", Value: asValue(lang, res.Indicators[i], sc.Value), Applicable: sc.Applicable, Evidence: sc.Evidence}
			if sc.Applicable {
				c.Score = strconv.FormatFloat(sc.Score, 'f', 2, 64)
			}
			row.Cells = append(row.Cells, c)
		}
		d.Rows = append(d.Rows, row)
	}
	s.render(w, r, "assess_view", s.page(r, "as.view", d))
}

// asValue writes a value with its unit in the page's language ("—" when
// nothing was measured).
func asValue(lang string, it assess.SheetItem, v *float64) string {
	if v == nil {
		return "—"
	}
	n := strconv.FormatFloat(*v, 'f', -1, 64)
	if it.Unit == assess.UnitPercent {
		return n + "%"
	}
	return n + " " + translate(lang, "as.unit.short."+string(it.Unit))
}

// asTarget writes a target with its direction and unit ("≥ 95%", "≤ 5 天").
func asTarget(lang string, it assess.SheetItem) string {
	op := "≥ "
	if it.Direction == assess.Lower {
		op = "≤ "
	}
	return op + asValue(lang, it, &it.Target)
}

// asSheetRow is one indicator line of a sheet's form.
type asSheetRow struct {
	Key, Label, Unit, Direction string
	Weight, Target              string
	Errors                      []string
}

type asSheetForm struct {
	ID          int64
	Form        string // the form's _form name
	Level, Name string
	Version     int
	UpdatedBy   string
	UpdatedAt   time.Time
	Sum         float64
	Rows        []asSheetRow
	Errors      []string // sheet-wide refusals (the weights' sum, the version)
	NameError   string
}

type asSheetsData struct {
	Sheets     []asSheetForm
	Indicators []assess.IndicatorInfo
	CanEdit    bool
}

// sheets shows the three sheets with their forms (administrators edit).
func (s assessPages) sheets(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	if !a.Can(auth.ActAssessRead) && !a.Can(auth.ActAssessSheet) {
		s.fail(w, r, platform.NotFound("未找到", "not found"))
		return
	}
	list, err := s.svc.Assess.Sheets(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &asSheetsData{Indicators: assess.IndicatorList(), CanEdit: a.Can(auth.ActAssessSheet)}
	p := s.page(r, "as.sheets", d)
	for _, sh := range list {
		d.Sheets = append(d.Sheets, sheetForm(p, sh))
	}
	if p.Lang == "en" {
		for i := range d.Indicators {
			d.Indicators[i].Label, d.Indicators[i].Source = d.Indicators[i].LabelEN, d.Indicators[i].SourceEN
		}
	}
	s.render(w, r, "assess_sheets", p)
}

// sheetForm lays a sheet out as its form: its indicators first, then the
// rest of the registry at weight 0; a refused form shows what was typed
// and each row's message.
func sheetForm(p *Page, sh assess.Sheet) asSheetForm {
	f := asSheetForm{ID: sh.ID, Form: fmt.Sprintf("sheet-%d", sh.ID), Level: string(sh.Level), Name: sh.Name, Version: sh.Version,
		UpdatedBy: sh.UpdatedBy, UpdatedAt: sh.UpdatedAt}
	have := map[string]assess.SheetItem{}
	var order []string
	for _, it := range sh.Indicators {
		have[it.Indicator], order = it, append(order, it.Indicator)
		f.Sum += it.Weight
	}
	for _, in := range assess.Indicators {
		if _, ok := have[in.Key]; !ok {
			have[in.Key], order = assess.SheetItem{Indicator: in.Key, Target: in.Target}, append(order, in.Key)
		}
	}
	refused := p.Refused(f.Form)
	if refused {
		order = p.Form["indicator"] // the rows as they were sent
	}
	for i, key := range order {
		in, ok := assess.Lookup(key)
		if !ok {
			in = assess.Indicator{Key: key, ZH: key, EN: key}
		}
		it := have[key]
		row := asSheetRow{Key: key, Label: pick(p.Lang, in.ZH, in.EN), Unit: p.T("as.unit." + string(in.Unit)), Direction: p.T("as.dir." + string(in.Direction)),
			Weight: strconv.FormatFloat(it.Weight, 'f', -1, 64), Target: strconv.FormatFloat(it.Target, 'f', -1, 64)}
		if refused {
			row.Weight, row.Target = formAt(p.Form, "weight", i), formAt(p.Form, "target", i)
			for _, field := range []string{"indicator", "weight", "target", "direction"} {
				if msg, ok := p.Fields[fmt.Sprintf("indicators[%d].%s", i, field)]; ok {
					row.Errors = append(row.Errors, msg)
				}
			}
		}
		f.Rows = append(f.Rows, row)
	}
	if refused {
		f.Name = p.Form.Get("name")
		for _, field := range []string{"indicators", "version"} {
			if msg, ok := p.Fields[field]; ok {
				f.Errors = append(f.Errors, msg)
			}
		}
		f.NameError = p.Fields["name"]
	}
	return f
}

func formAt(v url.Values, key string, i int) string {
	if list := v[key]; i < len(list) {
		return list[i]
	}
	return ""
}

// number reads a typed number: blank is def, anything else that is not
// a number is NaN (refused on its field by the service).
func number(s string, def float64) float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return def
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// saveSheet takes a sheet's form: one row per indicator (weight 0 leaves
// it out).
func (s assessPages) saveSheet(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	version, _ := strconv.Atoi(f.Get("version"))
	in := assess.SheetInput{Name: f.Get("name"), Version: version}
	for i, key := range f["indicator"] {
		def := math.NaN()
		if ind, ok := assess.Lookup(key); ok {
			def = ind.Target
		}
		in.Indicators = append(in.Indicators, assess.ItemInput{Indicator: key, Weight: number(formAt(f, "weight", i), 0), Target: number(formAt(f, "target", i), def)})
	}
	if _, err := s.svc.Assess.PutSheet(r.Context(), httpx.Actor(r), pathInt(r, "id"), in); err != nil {
		s.refuse(w, r, err, s.sheets, "/admin/assessment-sheets")
		return
	}
	redirect(w, r, "/admin/assessment-sheets", "as.sheet.saved")
}
