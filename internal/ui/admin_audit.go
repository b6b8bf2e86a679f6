package ui

import (
	"net/http"
	"strconv"

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
	Entries []auth.AuditEntry
	NextID  int64
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
	d := auditData{Entries: list}
	if len(list) == auditPageSize {
		d.NextID = list[len(list)-1].ID
	}
	s.render(w, r, "admin_audit", s.page(r, "admin.audit", d))
}
