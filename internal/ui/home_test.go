package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/trace"
)

// TestTilesRouted: every role has a home page, and every page link of a
// tile is a route the page groups register (the API link is the API's).
func TestTilesRouted(t *testing.T) {
	s := &Server{svc: Services{Operators: &operator.Service{}, Trace: &trace.Service{}}}
	mux := http.NewServeMux()
	patterns := map[string]bool{}
	for _, g := range s.groups() {
		for _, rt := range g.routes() {
			if patterns[rt.pattern] {
				t.Errorf("route %q is declared twice", rt.pattern)
			}
			patterns[rt.pattern] = true
			mux.HandleFunc(rt.pattern, rt.handler)
		}
	}
	for _, role := range auth.Roles {
		tiles := homeTiles[role]
		if len(tiles) == 0 {
			t.Errorf("role %s has no home tiles", role)
		}
		seen := map[string]bool{}
		for _, tl := range tiles {
			if _, ok := catalogues()["zh"][tl.Key]; !ok {
				t.Errorf("%s: tile title %q is not in the catalogues", role, tl.Key)
			}
			if seen[tl.Key] {
				t.Errorf("%s: tile %q twice", role, tl.Key)
			}
			seen[tl.Key] = true
			if tl.Href == "" || strings.HasPrefix(tl.Href, "/api/") {
				continue
			}
			if _, pattern := mux.Handler(httptest.NewRequest("GET", tl.Href, nil)); pattern == "" {
				t.Errorf("%s: tile %q links to %s, which no page route serves", role, tl.Key, tl.Href)
			}
		}
	}
}

// TestTilesFor: a tile shows only when the actor may take its action
// (staff see what their permissions allow).
func TestTilesFor(t *testing.T) {
	keys := func(a *auth.Actor) string {
		var out []string
		for _, tl := range tilesFor(a) {
			out = append(out, tl.Href)
		}
		return strings.Join(out, " ")
	}
	if got := keys(&auth.Actor{Role: auth.RoleStaff, Permissions: []string{auth.PermSell}}); got != "/batches /sell /transfers" {
		t.Errorf("seller staff tiles: %s", got)
	}
	if got := keys(&auth.Actor{Role: auth.RoleStaff, Permissions: []string{auth.PermRecord}}); got != "/batches/new /batches" {
		t.Errorf("recorder staff tiles: %s", got)
	}
	if got := keys(&auth.Actor{Role: auth.RoleReviewer}); !strings.Contains(got, "/reviews") || strings.Contains(got, "/admin/") {
		t.Errorf("reviewer tiles: %s", got)
	}
}
