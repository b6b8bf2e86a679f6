package auth

import (
	"context"
	"fmt"
	"time"

	"agtrace/internal/platform"
)

// Agency kinds (机构类型).
var AgencyKinds = []string{"agriculture_department", "supervision_station", "testing_agency", "enforcement_team", "market", "other"}

// Agency is an organisation users belong to.
type Agency struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name" validate:"required"`
	Kind       string    `json:"kind"`
	RegionCode string    `json:"region_code" validate:"required"`
	CreatedAt  time.Time `json:"created_at"`
}

// CreateAgency adds an organisation (admins, or System() for the demo).
// An agency with the same name in the same region is returned unchanged (idempotent).
func (s *Service) CreateAgency(ctx context.Context, actor *Actor, a Agency) (Agency, error) {
	if err := Authorize(actor, ActAgencyManage, Resource{Region: a.RegionCode}); err != nil {
		return Agency{}, err
	}
	var v platform.Validator
	v.Require("name", a.Name)
	v.MaxLen("name", a.Name, 100)
	v.OneOf("kind", a.Kind, AgencyKinds...)
	v.Require("region_code", a.RegionCode)
	if err := v.Err(); err != nil {
		return Agency{}, err
	}
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id, created_at FROM agencies WHERE region_code = $1 AND name = $2`, a.RegionCode, a.Name).Scan(&a.ID, &a.CreatedAt)
		if err == nil {
			return nil
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM regions WHERE code = $1`, a.RegionCode).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return platform.Invalid(platform.FieldError{Field: "region_code", Code: "unknown", ZH: "行政区划代码不存在", EN: "unknown region code"})
		}
		a.CreatedAt = tx.Now()
		if err := tx.QueryRow(ctx, `INSERT INTO agencies (name, kind, region_code, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			a.Name, a.Kind, a.RegionCode, a.CreatedAt).Scan(&a.ID); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "agency.create", ResourceType: "agency", ResourceID: fmt.Sprint(a.ID),
			Data: map[string]any{"name": a.Name, "kind": a.Kind, "region_code": a.RegionCode}})
	})
	return a, err
}

// ListAgencies lists organisations in a region subtree.
func (s *Service) ListAgencies(ctx context.Context, actor *Actor, region string) ([]Agency, error) {
	sc := ListScope(actor, ActAgencyManage)
	if err := sc.Err(actor, ActAgencyManage); err != nil {
		return nil, err
	}
	w := NewWhere()
	w.Scope(sc, Columns{Region: []string{"region_code"}})
	w.Region("region_code", region)
	rows, err := s.db.Query(ctx, `SELECT id, name, kind, region_code, created_at FROM agencies`+w.SQL()+` ORDER BY region_code, id`, w.Args()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Agency
	for rows.Next() {
		var a Agency
		if err := rows.Scan(&a.ID, &a.Name, &a.Kind, &a.RegionCode, &a.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AuditEntry is one row of the append-only audit log.
type AuditEntry struct {
	ID           int64     `json:"id"`
	At           time.Time `json:"at"`
	ActorID      int64     `json:"actor_id,omitempty"`
	ActorName    string    `json:"actor_name"`
	Addr         string    `json:"addr"`
	Action       string    `json:"action"`
	ResourceType string    `json:"resource_type"`
	ResourceID   string    `json:"resource_id"`
	Detail       string    `json:"detail,omitempty"`
}

// AuditFilter narrows ListAudit; BeforeID pages backwards.
type AuditFilter struct {
	Action       string
	ResourceType string
	ResourceID   string
	Actor        string
	BeforeID     int64
	Limit        int
}

// ListAudit returns audit entries newest first (admins only).
func (s *Service) ListAudit(ctx context.Context, actor *Actor, f AuditFilter) ([]AuditEntry, error) {
	sc := ListScope(actor, ActAuditRead)
	if err := sc.Err(actor, ActAuditRead); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	w := NewWhere(likePrefix(f.Action), f.ResourceType, f.ResourceID, f.Actor, f.BeforeID, f.Limit)
	w.Scope(sc, Columns{}) // audit entries belong to no region: only an all-reaching scope sees them
	rows, err := s.db.Query(ctx, `SELECT id, at, COALESCE(actor_id, 0), actor_name, addr, action, resource_type, resource_id, detail
		FROM audit_log WHERE ($1 = '' OR action LIKE $1) AND ($2 = '' OR resource_type = $2) AND ($3 = '' OR resource_id = $3)
		AND ($4 = '' OR actor_name = $4) AND ($5 = 0 OR id < $5)`+w.And()+` ORDER BY id DESC LIMIT $6`, w.Args()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.ActorName, &e.Addr, &e.Action, &e.ResourceType, &e.ResourceID, &e.Detail); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func likePrefix(s string) string {
	if s == "" {
		return ""
	}
	return s + "%"
}
