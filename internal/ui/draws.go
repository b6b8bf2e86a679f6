package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/operator"
	"agtrace/internal/supervision"
)

// drawPages: random draws (双随机) — define and run one, follow its tasks,
// and the public list of closed draws (一公开).
type drawPages struct{ *Server }

func (s drawPages) routes() []route {
	return []route{
		{"GET /draws", loggedIn, s.list},
		{"POST /draws", loggedIn, s.create},
		{"GET /draws/{id}", loggedIn, s.view},
		{"GET /public/draws", anyone, s.public},
	}
}

type svDrawsData struct {
	Items     []supervision.Draw
	CanCreate bool
	Pool      []supervision.PoolMember
	Kinds     []string
	Risks     []string
	Products  []svProductChoice
}

type svProductChoice struct{ Code, Name, NameEN string }

func (s drawPages) list(w http.ResponseWriter, r *http.Request) {
	a, ctx := httpx.Actor(r), r.Context()
	q := r.URL.Query()
	offset, fetch, pg := listPage(r)
	list, err := s.svc.Supervision.Draws(ctx, a, supervision.DrawFilterList{Region: q.Get("region"), Status: q.Get("status"), Limit: fetch, Offset: offset})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := svDrawsData{Items: list[:pg.more(len(list))], CanCreate: a.Can(auth.ActDrawManage), Kinds: operator.Kinds,
		Risks: []string{supervision.RiskLow, supervision.RiskMedium, supervision.RiskHigh}}
	if d.CanCreate {
		if d.Pool, err = s.svc.Supervision.Pool(ctx, a, ""); err != nil {
			s.fail(w, r, err)
			return
		}
		products, err := s.svc.Trace.Products(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, p := range products {
			d.Products = append(d.Products, svProductChoice{p.Code, p.Name, p.NameEN})
		}
	}
	p := s.page(r, "sv.draws", d)
	p.Pager = pg
	s.render(w, r, "sv_draws", p)
}

// drawInput reads the draw form.
func drawInput(r *http.Request) supervision.DrawInput {
	f := r.PostForm
	in := supervision.DrawInput{Title: f.Get("title"), RegionCode: f.Get("region_code"), Seed: strings.TrimSpace(f.Get("seed")),
		Inspectors: f["inspectors"], Filter: supervision.DrawFilter{Kinds: f["kinds"], Product: f.Get("product"),
			KeyOnly: f.Get("key_only") == "on", Risk: f["risk"]}}
	in.Size = formInt(f.Get("size"))
	in.Percent, _ = strconv.ParseFloat(strings.TrimSpace(f.Get("percent")), 64)
	in.PerTask = formInt(f.Get("per_task"))
	in.DueDays = formInt(f.Get("due_days"))
	in.Filter.NotInspectedDays = formInt(f.Get("not_inspected_days"))
	in.Filter.ExcludeDrawnDays = formInt(f.Get("exclude_drawn_days"))
	for _, line := range strings.Split(f.Get("recusals"), "\n") {
		parts := strings.Fields(line)
		if len(parts) >= 2 {
			in.Recusals = append(in.Recusals, supervision.Recusal{Inspector: parts[0], OperatorCode: parts[1], Reason: strings.Join(parts[2:], " ")})
		}
	}
	return in
}

// formInt reads a whole number; text that is not one reads as −1 so the
// service refuses it on its field instead of taking it as "not given".
func formInt(s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func (s drawPages) create(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	d, err := s.svc.Supervision.CreateDraw(r.Context(), httpx.Actor(r), drawInput(r))
	if err != nil {
		s.refuse(w, r, err, s.list, "/draws")
		return
	}
	redirect(w, r, fmt.Sprintf("/draws/%d", d.ID), "sv.draw.created")
}

func (s drawPages) view(w http.ResponseWriter, r *http.Request) {
	d, err := s.svc.Supervision.Draw(r.Context(), httpx.Actor(r), pathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "sv_draw", s.page(r, "sv.draw", d))
}

func (s drawPages) public(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.Supervision.PublicDraws(r.Context(), r.URL.Query().Get("region"), 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "sv_public_draws", s.page(r, "sv.public.draws", list))
}
