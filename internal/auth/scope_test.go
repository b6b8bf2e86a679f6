package auth

import (
	"reflect"
	"testing"

	"agtrace/internal/platform"
)

// admits evaluates in Go what Where.Scope expresses in SQL for a row with
// the resource's region, operator and account.
func admits(s Scope, res Resource) bool {
	switch s.Kind {
	case ScopeAll:
		return true
	case ScopeRegion:
		lo, hi := RegionRange(s.Region)
		return res.Region >= lo && (hi == "" || res.Region < hi)
	case ScopeOperator:
		return res.OperatorID == s.OperatorID
	case ScopeSelf:
		return res.UserID == s.UserID
	}
	return false
}

// TestListScopeMatchesAuthorize checks, for every role and action, that a
// list shows exactly the rows Authorize would let the actor open.
func TestListScopeMatchesAuthorize(t *testing.T) {
	for _, role := range append(append([]Role(nil), Roles...), RoleSystem) {
		a := actorFor(role)
		if role == RoleSystem {
			a = System()
		}
		for _, act := range allActions {
			sc := ListScope(a, act)
			want := expect[role][act]
			if role == RoleSystem {
				want = "all"
			}
			switch want {
			case "":
				if sc.Allowed() {
					t.Errorf("%s %s: scope %v, want nothing", role, act, sc.Kind)
				}
			case "all":
				if sc.Kind != ScopeAll && !(act == ActOwnAccount && sc.Kind == ScopeSelf) {
					t.Errorf("%s %s: scope %v, want all", role, act, sc.Kind)
				}
			case "in":
				if k := sc.Kind; k != ScopeRegion && k != ScopeOperator && k != ScopeSelf {
					t.Errorf("%s %s: scope %v, want a bounded one", role, act, sc.Kind)
				}
			}
			for _, res := range []Resource{inside, outside} {
				allowed := Authorize(a, act, res) == nil
				if got := sc.Allowed() && admits(sc, res); got != allowed {
					t.Errorf("%s %s on %+v: list shows it %v, Authorize says %v", role, act, res, got, allowed)
				}
			}
		}
	}
}

func TestListScopeKinds(t *testing.T) {
	staffNoPerm := &Actor{UserID: 3, Role: RoleStaff, Region: "370686", OperatorID: 7}
	token := &Actor{UserID: 4, Role: RoleIntegration, Region: "370686", Scopes: []string{string(ActOperatorRead)}}
	for _, tc := range []struct {
		name  string
		actor *Actor
		act   Action
		want  Scope
	}{
		{"nil actor", nil, ActOperatorRead, Scope{}},
		{"admin", actorFor(RoleAdmin), ActBatchRead, Scope{Kind: ScopeAll}},
		{"system", System(), ActUserManage, Scope{Kind: ScopeAll}},
		{"reviewer", actorFor(RoleReviewer), ActOperatorRead, Scope{Kind: ScopeRegion, Region: "370686"}},
		{"national analyst", &Actor{UserID: 5, Role: RoleAnalyst, Region: "000000"}, ActBatchRead, Scope{Kind: ScopeAll}},
		{"reviewer, not granted", actorFor(RoleReviewer), ActUserManage, Scope{}},
		{"operator", actorFor(RoleOperator), ActBatchRead, Scope{Kind: ScopeOperator, OperatorID: 7}},
		{"operator without operator", &Actor{UserID: 6, Role: RoleOperator, Region: "370686"}, ActBatchRead, Scope{}},
		{"staff, permission missing", staffNoPerm, ActBatchWrite, Scope{}},
		{"staff, read needs none", staffNoPerm, ActBatchRead, Scope{Kind: ScopeOperator, OperatorID: 7}},
		{"token scope allows", token, ActOperatorRead, Scope{Kind: ScopeRegion, Region: "370686"}},
		{"token scope excludes", token, ActBatchRead, Scope{}},
		{"self", actorFor(RoleTester), ActOwnAccount, Scope{Kind: ScopeSelf, UserID: 1}},
	} {
		if got := ListScope(tc.actor, tc.act); got != tc.want {
			t.Errorf("%s: ListScope = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if err := ListScope(nil, ActOperatorRead).Err(nil, ActOperatorRead); platform.KindOf(err) != platform.KindUnauthorized {
		t.Errorf("nil actor: %v, want 401", err)
	}
	if err := ListScope(actorFor(RoleTester), ActFindingsRead).Err(actorFor(RoleTester), ActFindingsRead); platform.KindOf(err) != platform.KindNotFound {
		t.Errorf("tester findings: %v, want 404", err)
	}
	if err := ListScope(actorFor(RoleTester), ActUserManage).Err(actorFor(RoleTester), ActUserManage); platform.KindOf(err) != platform.KindForbidden {
		t.Errorf("tester users: %v, want 403", err)
	}
}

func TestWhere(t *testing.T) {
	region := Scope{Kind: ScopeRegion, Region: "370600"}
	for _, tc := range []struct {
		name  string
		build func(w *Where)
		sql   string
		args  []any
	}{
		{"all", func(w *Where) { w.Scope(Scope{Kind: ScopeAll}, Columns{Region: []string{"region_code"}}) }, "", nil},
		{"nothing", func(w *Where) { w.Scope(Scope{}, Columns{Region: []string{"region_code"}}) }, " WHERE 1 = 0", nil},
		{"prefecture", func(w *Where) { w.Scope(region, Columns{Region: []string{"o.region_code"}}) },
			" WHERE (o.region_code >= $1 AND o.region_code < $2)", []any{"3706", "3707"}},
		{"province", func(w *Where) {
			w.Scope(Scope{Kind: ScopeRegion, Region: "370000"}, Columns{Region: []string{"region_code"}})
		}, " WHERE (region_code >= $1 AND region_code < $2)", []any{"37", "38"}},
		{"township", func(w *Where) {
			w.Scope(Scope{Kind: ScopeRegion, Region: "370686001"}, Columns{Region: []string{"region_code"}})
		}, " WHERE (region_code >= $1 AND region_code < $2)", []any{"370686001", "370686002"}},
		{"nines", func(w *Where) { w.Scope(Scope{Kind: ScopeRegion, Region: "990000"}, Columns{Region: []string{"r"}}) },
			" WHERE r >= $1", []any{"99"}},
		{"two region columns", func(w *Where) {
			w.Scope(region, Columns{Region: []string{"tr.seller_region", "tr.buyer_region"}})
		}, " WHERE ((tr.seller_region >= $1 AND tr.seller_region < $2) OR (tr.buyer_region >= $1 AND tr.buyer_region < $2))", []any{"3706", "3707"}},
		{"region scope, no region column", func(w *Where) { w.Scope(region, Columns{Operator: []string{"id"}}) }, " WHERE 1 = 0", nil},
		{"operator", func(w *Where) {
			w.Scope(Scope{Kind: ScopeOperator, OperatorID: 7}, Columns{Region: []string{"region_code"}, Operator: []string{"t.operator_id"}})
		}, " WHERE t.operator_id = $1", []any{int64(7)}},
		{"operator, two columns", func(w *Where) {
			w.Scope(Scope{Kind: ScopeOperator, OperatorID: 7}, Columns{Operator: []string{"a", "b"}})
		}, " WHERE (a = $1 OR b = $1)", []any{int64(7)}},
		{"operator scope, no operator column", func(w *Where) { w.Scope(Scope{Kind: ScopeOperator, OperatorID: 7}, Columns{Region: []string{"r"}}) },
			" WHERE 1 = 0", nil},
		{"self", func(w *Where) { w.Scope(Scope{Kind: ScopeSelf, UserID: 3}, Columns{User: "id"}) }, " WHERE id = $1", []any{int64(3)}},
		{"scope, filter and text search", func(w *Where) {
			w.Scope(region, Columns{Region: []string{"region_code"}})
			w.Region("region_code", "370686")
			w.Add("name LIKE " + w.Arg("%x%"))
		}, " WHERE (region_code >= $1 AND region_code < $2) AND (region_code >= $3 AND region_code < $4) AND name LIKE $5",
			[]any{"3706", "3707", "370686", "370687", "%x%"}},
		{"national filter adds nothing", func(w *Where) { w.Region("region_code", "000000"); w.Region("region_code", "") }, "", nil},
	} {
		w := NewWhere()
		tc.build(w)
		if got := w.SQL(); got != tc.sql {
			t.Errorf("%s: SQL %q, want %q", tc.name, got, tc.sql)
		}
		if got := w.Args(); !reflect.DeepEqual(got, tc.args) {
			t.Errorf("%s: args %v, want %v", tc.name, got, tc.args)
		}
	}
	// numbering continues after arguments bound before the clause
	w := NewWhere("cutoff", 10)
	w.Scope(Scope{Kind: ScopeRegion, Region: "370686"}, Columns{Region: []string{"r"}})
	if got, want := w.And(), " AND (r >= $3 AND r < $4)"; got != want {
		t.Errorf("And = %q, want %q", got, want)
	}
	if got := w.Arg(5); got != "$5" || len(w.Args()) != 5 {
		t.Errorf("Arg after And = %s with %d args", got, len(w.Args()))
	}
	if got := NewWhere().RegionCond("", "r"); got != "1 = 1" {
		t.Errorf("RegionCond of the whole country = %q", got)
	}
}

func TestRegionRange(t *testing.T) {
	for _, tc := range []struct{ root, lo, hi string }{
		{"", "", ""},
		{"000000", "", ""},
		{"370000", "37", "38"},
		{"370600", "3706", "3707"},
		{"370686", "370686", "370687"},
		{"370686001", "370686001", "370686002"},
		{"379900", "3799", "38"},
		{"990000", "99", ""},
	} {
		lo, hi := RegionRange(tc.root)
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("RegionRange(%q) = [%q, %q), want [%q, %q)", tc.root, lo, hi, tc.lo, tc.hi)
		}
		for _, code := range []string{lo, lo + "001", lo + "999"} {
			if lo != "" && (code < lo || (hi != "" && code >= hi) || !Within(code, tc.root)) {
				t.Errorf("%s: %s should be in range and within", tc.root, code)
			}
		}
	}
}

func TestSystemActor(t *testing.T) {
	s := System()
	if ValidRole(string(s.Role)) {
		t.Error("the system role must not be assignable to an account")
	}
	if s.Username != SystemName || SystemOrigin("cli").Username != SystemName {
		t.Error("the system actor must be recorded as system")
	}
	for _, act := range allActions {
		if err := Authorize(s, act, outside); err != nil {
			t.Errorf("system %s: %v", act, err)
		}
	}
	if err := Authorize(nil, ActUserManage, Resource{}); platform.KindOf(err) != platform.KindUnauthorized {
		t.Errorf("nil actor: %v, want 401", err)
	}
}
