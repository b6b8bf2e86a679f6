package auth

import (
	"fmt"
	"strings"
)

// ScopeKind says how far a list reaches for an actor and an action.
type ScopeKind int

const (
	ScopeNothing  ScopeKind = iota // no row (the action is not granted)
	ScopeAll                       // every row
	ScopeRegion                    // rows in a region subtree
	ScopeOperator                  // rows of one operator
	ScopeSelf                      // the actor's own account only
)

func (k ScopeKind) String() string {
	switch k {
	case ScopeAll:
		return "all"
	case ScopeRegion:
		return "region"
	case ScopeOperator:
		return "operator"
	case ScopeSelf:
		return "self"
	}
	return "nothing"
}

// Scope is the set of rows an actor may see in a list: the list form of
// Authorize, derived from the same policy table.
type Scope struct {
	Kind       ScopeKind
	Region     string // ScopeRegion: the subtree's root (a GB/T 2260 code)
	OperatorID int64  // ScopeOperator
	UserID     int64  // ScopeSelf
}

// ListScope returns which rows of a list actor may see for act. A nil actor,
// an action the role lacks (or a staff permission or token scope it lacks)
// gives ScopeNothing; a region scope over the whole country is ScopeAll.
func ListScope(a *Actor, act Action) Scope {
	if a == nil {
		return Scope{}
	}
	g, ok := policy[a.Role][act]
	if !ok || !a.hasPerm(g.perm) || !a.scopeAllows(act) {
		return Scope{}
	}
	switch g.scope {
	case scopeAll:
		return Scope{Kind: ScopeAll}
	case scopeRegion:
		if RegionPrefix(a.Region) == "" {
			return Scope{Kind: ScopeAll}
		}
		return Scope{Kind: ScopeRegion, Region: a.Region}
	case scopeOwnOperator:
		if a.OperatorID == 0 {
			return Scope{}
		}
		return Scope{Kind: ScopeOperator, OperatorID: a.OperatorID}
	case scopeSelf:
		if a.UserID == 0 {
			return Scope{}
		}
		return Scope{Kind: ScopeSelf, UserID: a.UserID}
	}
	return Scope{}
}

// Allowed reports whether the scope admits any row at all.
func (s Scope) Allowed() bool { return s.Kind != ScopeNothing }

// Err is the refusal for a list the actor may not see at all (nil when the
// scope admits rows): 401 without an actor, else as Authorize answers.
func (s Scope) Err(a *Actor, act Action) error {
	if s.Allowed() {
		return nil
	}
	if err := Authorize(a, act, Resource{}); err != nil {
		return err
	}
	return deny(act)
}

// Columns names the columns of a listed table that a scope is checked
// against. A row is in scope when any of its region columns lies in the
// region subtree (any of its operator columns is the operator). A scope
// whose columns are missing matches nothing (fail closed).
type Columns struct {
	Region   []string
	Operator []string
	User     string
}

// Where builds the WHERE clause of a list query with $n placeholders
// numbered in the order the arguments are added.
//
//	w := auth.NewWhere()
//	w.Scope(auth.ListScope(actor, auth.ActBatchRead), auth.Columns{Region: []string{"t.region_code"}, Operator: []string{"t.operator_id"}})
//	w.Add("t.status = " + w.Arg(status))
//	rows, err := db.Query(ctx, `SELECT … FROM trace_codes t`+w.SQL()+` LIMIT `+w.Arg(limit), w.Args()...)
type Where struct {
	conds []string
	args  []any
}

// NewWhere starts a clause after args already bound to $1…$len(args).
func NewWhere(args ...any) *Where { return &Where{args: append([]any(nil), args...)} }

// Arg binds v and returns its placeholder.
func (w *Where) Arg(v any) string {
	w.args = append(w.args, v)
	return fmt.Sprintf("$%d", len(w.args))
}

// Add appends a condition (written with placeholders from Arg).
func (w *Where) Add(cond string) {
	if cond != "" {
		w.conds = append(w.conds, cond)
	}
}

// Scope appends the condition that keeps a list inside s.
func (w *Where) Scope(s Scope, c Columns) {
	w.Add(w.ScopeCond(s, c))
}

// ScopeCond returns the condition for s ("" when s is everything) without
// appending it, for callers that combine it themselves.
func (w *Where) ScopeCond(s Scope, c Columns) string {
	switch s.Kind {
	case ScopeAll:
		return ""
	case ScopeRegion:
		return w.anyOf(w.regionConds(c.Region, s.Region))
	case ScopeOperator:
		if len(c.Operator) == 0 {
			return "1 = 0"
		}
		p := w.Arg(s.OperatorID)
		var cs []string
		for _, col := range c.Operator {
			cs = append(cs, col+" = "+p)
		}
		return w.anyOf(cs)
	case ScopeSelf:
		if c.User == "" {
			return "1 = 0"
		}
		return c.User + " = " + w.Arg(s.UserID)
	}
	return "1 = 0"
}

// Region appends "col lies in root's subtree" (a filter the user chose;
// nothing when root is the whole country).
func (w *Where) Region(col, root string) {
	if RegionPrefix(root) != "" {
		w.Add(w.RegionCond(root, col))
	}
}

// RegionCond returns "any of cols lies in root's subtree" without appending
// it ("1 = 1" when root is the whole country).
func (w *Where) RegionCond(root string, cols ...string) string {
	if RegionPrefix(root) == "" {
		return "1 = 1"
	}
	return w.anyOf(w.regionConds(cols, root))
}

func (w *Where) regionConds(cols []string, root string) []string {
	lo, hi := RegionRange(root)
	if lo == "" {
		return nil
	}
	if len(cols) == 0 {
		return []string{"1 = 0"}
	}
	pl := w.Arg(lo)
	ph := ""
	if hi != "" {
		ph = w.Arg(hi)
	}
	var cs []string
	for _, col := range cols {
		if ph == "" {
			cs = append(cs, col+" >= "+pl)
		} else {
			cs = append(cs, "("+col+" >= "+pl+" AND "+col+" < "+ph+")")
		}
	}
	return cs
}

func (w *Where) anyOf(cs []string) string {
	switch len(cs) {
	case 0:
		return ""
	case 1:
		return cs[0]
	}
	return "(" + strings.Join(cs, " OR ") + ")"
}

// Conds returns the conditions joined with AND ("" when there are none).
func (w *Where) Conds() string { return strings.Join(w.conds, " AND ") }

// SQL returns " WHERE …" (or "" when there is no condition).
func (w *Where) SQL() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + w.Conds()
}

// And returns " AND …" (or ""), to extend a WHERE the query already has.
func (w *Where) And() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " AND " + w.Conds()
}

// Args returns the bound arguments in placeholder order.
func (w *Where) Args() []any { return w.args }

// RegionRange returns the bounds [lo, hi) of the region codes in root's
// subtree ("3706" → ["3706", "3707")), so that a jurisdiction filter is an
// index range scan under any collation (LIKE 'p%' is not, on PostgreSQL with
// a non-C collation). lo is "" for the whole country; hi is "" when there is
// no upper bound (a prefix of nines).
func RegionRange(root string) (lo, hi string) {
	p := RegionPrefix(root)
	if p == "" {
		return "", ""
	}
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return p, string(b[:i+1])
		}
	}
	return p, ""
}
