package ui

import (
	"net/http"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/trace"
)

// tracePages: tracing a code up and down its chain.
type tracePages struct{ *Server }

func (s tracePages) routes() []route {
	return []route{
		{"GET /trace", loggedIn, s.trace},
	}
}

type trTraceData struct {
	Query     string
	Direction string
	Graph     *trace.Graph
	Timeline  []trTimelineItem
}

func (s tracePages) trace(w http.ResponseWriter, r *http.Request) {
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
