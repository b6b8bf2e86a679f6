package ui

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
)

// adminAuditPages: the audit log.
type adminAuditPages struct{ *Server }

func (s adminAuditPages) routes() []route {
	return []route{
		{"GET /admin/audit", loggedIn, s.audit},
	}
}

type auditData struct {
	Entries   []auth.AuditEntry
	NextID    int64
	Actions   []string // the actions and resource types the filters offer
	Resources []string
}

// catalogueSuffixes are the keys under prefix in the catalogue, without it
// (the audit filters offer every action the catalogue names).
func catalogueSuffixes(prefix string) []string {
	var out []string
	for k := range catalogues()["zh"] {
		if s, ok := strings.CutPrefix(k, prefix); ok {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// auditPageSize is how many entries one audit page shows.
const auditPageSize = 50

func (s adminAuditPages) audit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before_id"), 10, 64)
	list, err := s.svc.Auth.ListAudit(r.Context(), httpx.Actor(r), auth.AuditFilter{Action: q.Get("action"), Actor: q.Get("actor"),
		ResourceType: q.Get("resource_type"), ResourceID: q.Get("resource_id"), BeforeID: before, Limit: auditPageSize})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := auditData{Entries: list, Actions: catalogueSuffixes("words.action."), Resources: catalogueSuffixes("words.resource.")}
	if len(list) == auditPageSize {
		d.NextID = list[len(list)-1].ID
	}
	s.render(w, r, "admin_audit", s.page(r, "admin.audit", d))
}
