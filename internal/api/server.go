// Package api is the JSON API under /api/v1/: thin handlers that decode a
// request, call a feature service and encode the answer. No SQL here.
package api

import (
	"context"
	"net/http"
	"sort"

	"agtrace/internal/assess"
	"agtrace/internal/auth"
	"agtrace/internal/complaints"
	"agtrace/internal/exchange"
	"agtrace/internal/exchange/port"
	"agtrace/internal/feedback"
	"agtrace/internal/httpx"
	"agtrace/internal/incident"
	"agtrace/internal/insight"
	"agtrace/internal/ledger"
	"agtrace/internal/monitoring"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/region"
	"agtrace/internal/supervision"
	"agtrace/internal/trace"
)

// Services are the feature services the API calls.
type Services struct {
	Auth      *auth.Service
	Regions   *region.Service
	Calendar  *region.Calendar
	Operators *operator.Service
	Trace     *trace.Service
	// Supervision: inspections, draws, cases, credit, monitoring (nil: not served)
	Supervision *supervision.Service
	// Monitoring: residue limits (nil: not served)
	Monitoring *monitoring.Service
	DB         *platform.DB // Idempotency-Key records (nil: the header is ignored)
	// Ledger: checkpoints and proofs (nil: not served)
	Ledger *ledger.Service
	// Complaints: the public's reports (nil: not served)
	Complaints *complaints.Service
	// Feedback: users' reports about the platform (nil: not served)
	Feedback *feedback.Service
	// Insight: dashboard figures and maps (nil: not served)
	Insight *insight.Service
	// Node: the province ↔ national exchange's status and parked messages (nil: not served)
	Node *exchange.Node
	// Assess: the pilot performance assessment (nil: not served)
	Assess *assess.Service
	// Incidents: emergency command (nil: not served)
	Incidents *incident.Service
	// Port: the standard import/export and the changes feed (nil: not served)
	Port *port.Service
}

// Server registers the API routes on a mux.
type Server struct {
	svc     Services
	mux     *http.ServeMux
	routes  []Route
	version string
}

// HandlerFunc is an API handler; a returned error becomes a problem response.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Register adds every API route to mux and returns the server.
func Register(mux *http.ServeMux, svc Services, version string) *Server {
	s := &Server{svc: svc, mux: mux, version: version}
	s.foundationRoutes()
	s.clientRoutes()
	if svc.Operators != nil {
		s.operatorRoutes()
	}
	if svc.Trace != nil {
		s.traceRoutes()
	}
	if svc.Supervision != nil {
		s.supervisionRoutes()
	}
	if svc.Monitoring != nil {
		s.limitRoutes()
		s.sampleRoutes()
		s.recallSheetRoute()
	}
	if svc.Ledger != nil && svc.Trace != nil {
		s.ledgerRoutes()
	}
	if svc.Complaints != nil {
		s.complaintRoutes()
	}
	if svc.Feedback != nil {
		s.feedbackRoutes()
	}
	if svc.Insight != nil {
		s.statsRoutes()
		s.warningRoutes()
	}
	if svc.Incidents != nil {
		s.incidentRoutes()
	}
	if svc.Assess != nil {
		s.assessmentRoutes()
	}
	if svc.Node != nil {
		s.exchangeRoutes()
	}
	if svc.Port != nil {
		s.exchangePortRoutes()
	}
	s.exportRoutes()
	route(s, Route{Method: "GET", Path: "/api/v1/openapi.json", Summary: "This OpenAPI 3.1 document", Tag: "meta", Public: true, CORS: true},
		func(context.Context, *auth.Actor, *http.Request, NoBody) (map[string]any, error) {
			return s.OpenAPI(), nil
		})
	return s
}

// OpenAPI returns the generated document.
func (s *Server) OpenAPI() map[string]any {
	routes := append([]Route(nil), s.routes...)
	sort.SliceStable(routes, func(i, j int) bool { return routes[i].Path < routes[j].Path })
	return OpenAPI(routes, s.version)
}

// Routes lists the registered routes (for docs and tests).
func (s *Server) Routes() []Route { return s.routes }

func (s *Server) handle(rt Route, h HandlerFunc) {
	s.routes = append(s.routes, rt)
	s.mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) {
		if rt.CORS {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		if !rt.Public && httpx.Actor(r) == nil {
			httpx.WriteProblem(w, r, errUnauthenticated)
			return
		}
		r, err := s.pushAs(r, rt) // Agtrace-Operator: an integration client pushing for an operator
		switch {
		case err != nil:
		case rt.Method == http.MethodPost:
			err = s.idempotent(w, r, h)
		default:
			err = h(w, r)
		}
		if err != nil {
			httpx.WriteProblem(w, r, err)
		}
	})
}

var errUnauthenticated = auth.Authorize(nil, auth.ActOwnAccount, auth.Resource{})

// Items wraps a list so that list responses are objects (room for paging).
type Items[T any] struct {
	Items []T `json:"items"`
}

// itemsOf wraps a service's list answer.
func itemsOf[T any](list []T, err error) (Items[T], error) { return items(list), err }

func items[T any](list []T) Items[T] {
	if list == nil {
		list = []T{}
	}
	return Items[T]{Items: list}
}
