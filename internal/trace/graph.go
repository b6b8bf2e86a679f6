package trace

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strconv"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/platform"
)

// Node is one code in a trace graph.
type Node struct {
	Code         string    `json:"code"`
	Type         int       `json:"type"`
	TypeName     string    `json:"type_name"`
	ProductCode  string    `json:"product_code"`
	ProductName  string    `json:"product_name"`
	OperatorCode string    `json:"operator_code"`
	OperatorName string    `json:"operator_name"`
	OperatorKind string    `json:"operator_kind"`
	RegionCode   string    `json:"region_code"`
	Quantity     float64   `json:"quantity"`
	Unit         string    `json:"unit"`
	Time         string    `json:"time" doc:"YYYY-MM-DD: production date (type 1) or shipping date (types 2, 3)"`
	RecordedAt   time.Time `json:"recorded_at"`
	Status       string    `json:"status" doc:"active | pending | confirmed | rejected | issued | accepted"`
	Source       string    `json:"source"`
	Market       string    `json:"market,omitempty"`
	Depth        int       `json:"depth" doc:"steps from the queried code: negative upstream, positive downstream"`
}

// Edge is one link of a trace graph; quantity is in the unit of To.
type Edge struct {
	From     string  `json:"from"`
	To       string  `json:"to"`
	Kind     string  `json:"kind" doc:"transfer | split | merge | transform"`
	Quantity float64 `json:"quantity"`
	Unit     string  `json:"unit"`
}

// Graph is the answer to a trace query.
type Graph struct {
	Query     string `json:"query"`
	Code      string `json:"code"`
	Direction string `json:"direction"`
	Depth     int    `json:"depth"`
	Nodes     []Node `json:"nodes"`
	Edges     []Edge `json:"edges"`
	Truncated bool   `json:"truncated" doc:"the depth or size limit cut the graph short"`
}

// Limits of one trace query.
const (
	DefaultDepth = 100
	MaxDepth     = 1000
	maxEdges     = 200_000
)

// nodeColumns reads node details of t (with o, p, tr, c joined).
const nodeColumns = `t.code, t.type, t.product_code, p.name, COALESCE(o.code, ''), o.name, o.kind, t.region_code,
	COALESCE(c.quantity_milli, t.quantity_milli), t.unit, COALESCE(c.produced_on, t.produced_on), t.created_at, t.source,
	COALESCE(tr.status, ''), COALESCE(tr.shipped_on, ''), COALESCE(tr.market_name, '')`

const nodeJoins = `JOIN products p ON p.code = t.product_code JOIN operators o ON o.id = t.operator_id
	LEFT JOIN transfers tr ON tr.code = t.code ` + latestCorrection

// nodeScan holds the raw columns of nodeColumns.
type nodeScan struct {
	n                       Node
	q                       int64
	status, shipped, market string
}

func (x *nodeScan) targets() []any {
	n := &x.n
	return []any{&n.Code, &n.Type, &n.ProductCode, &n.ProductName, &n.OperatorCode, &n.OperatorName, &n.OperatorKind,
		&n.RegionCode, &x.q, &n.Unit, &n.Time, &n.RecordedAt, &n.Source, &x.status, &x.shipped, &x.market}
}

func (x *nodeScan) node() Node {
	n := x.n
	n.Quantity, n.TypeName, n.RecordedAt = fromMilli(x.q), codes.TraceCodeType(n.Type).Label(), n.RecordedAt.UTC()
	n.Status = "active"
	if x.status != "" {
		n.Status = x.status
		n.Time = x.shipped
	}
	n.Market = x.market
	return n
}

// scanInto scans extra columns first, then the node columns.
func scanInto(row interface{ Scan(...any) error }, n *Node, extra ...any) error {
	var x nodeScan
	if err := row.Scan(append(extra, x.targets()...)...); err != nil {
		return err
	}
	*n = x.node()
	return nil
}

// walk queries: one recursive CTE per direction over trace_edges (indexed
// both ways), joined with the details of the node each edge reaches, so a
// graph of any size costs one query per direction (no N+1). UNION (not
// UNION ALL) drops repeated (edge, depth) rows, so diamonds stay bounded.
const walkUp = `WITH RECURSIVE walk(from_code, to_code, kind, qty, depth) AS (
	SELECT from_code, to_code, kind, quantity_milli, 1 FROM trace_edges WHERE to_code = $1
	UNION
	SELECT e.from_code, e.to_code, e.kind, e.quantity_milli, w.depth + 1
	FROM trace_edges e JOIN walk w ON e.to_code = w.from_code WHERE w.depth < $2
)
SELECT w.from_code, w.to_code, w.kind, w.qty, w.depth, tu.unit, ` + nodeColumns + `
FROM walk w JOIN trace_codes t ON t.code = w.from_code JOIN trace_codes tu ON tu.code = w.to_code ` + nodeJoins + `
LIMIT $3`

const walkDown = `WITH RECURSIVE walk(from_code, to_code, kind, qty, depth) AS (
	SELECT from_code, to_code, kind, quantity_milli, 1 FROM trace_edges WHERE from_code = $1
	UNION
	SELECT e.from_code, e.to_code, e.kind, e.quantity_milli, w.depth + 1
	FROM trace_edges e JOIN walk w ON e.from_code = w.to_code WHERE w.depth < $2
)
SELECT w.from_code, w.to_code, w.kind, w.qty, w.depth, t.unit, ` + nodeColumns + `
FROM walk w JOIN trace_codes t ON t.code = w.to_code ` + nodeJoins + `
LIMIT $3`

// Trace answers "where did this come from / where did it go": every
// ancestor back to the origins (up), every descendant to market entry
// (down), or both. input may be any trace code type or any alias. A recall
// ("everything downstream of this batch") is direction=down.
func (s *Service) Trace(ctx context.Context, actor *auth.Actor, input, direction string, depth int) (Graph, error) {
	if err := auth.Authorize(actor, auth.ActTraceRead, auth.Resource{}); err != nil {
		return Graph{}, err
	}
	var v platform.Validator
	if direction == "" {
		direction = "both"
	}
	v.OneOf("direction", direction, "up", "down", "both")
	if depth == 0 {
		depth = DefaultDepth
	}
	v.Check(depth >= 1 && depth <= MaxDepth, "depth", "range", "层数应在 1–"+strconv.Itoa(MaxDepth)+" 之间", "must be between 1 and "+strconv.Itoa(MaxDepth))
	if err := v.Err(); err != nil {
		return Graph{}, err
	}
	code, err := s.Resolve(ctx, input)
	if err != nil {
		return Graph{}, err
	}
	root, err := s.node(ctx, code)
	if err != nil {
		return Graph{}, err
	}
	res := []auth.Resource{{Region: root.RegionCode, OperatorID: root.opID}}
	if root.Type != 1 {
		if t, err := s.transfer(ctx, code); err == nil {
			res = append(res, t.resources()...)
		}
	}
	if err := authorizeAny(actor, auth.ActTraceRead, res...); err != nil {
		return Graph{}, asNotFound(err)
	}
	return s.graph(ctx, input, root.Node, direction, depth, maxEdges)
}

type rootNode struct {
	Node
	opID int64
}

func (s *Service) node(ctx context.Context, code string) (rootNode, error) {
	var n rootNode
	err := scanInto(s.db.QueryRow(ctx, `SELECT t.operator_id, `+nodeColumns+` FROM trace_codes t `+nodeJoins+` WHERE t.code = $1`, code), &n.Node, &n.opID)
	if errors.Is(err, sql.ErrNoRows) {
		return rootNode{}, errCodeNotFound
	}
	if err != nil {
		return rootNode{}, err
	}
	return n, nil
}

// graph walks from root without authorization (callers check it).
func (s *Service) graph(ctx context.Context, query string, root Node, direction string, depth, limit int) (Graph, error) {
	g := Graph{Query: query, Code: root.Code, Direction: direction, Depth: depth}
	nodes := map[string]*Node{root.Code: &root}
	edges := map[[2]string]Edge{}
	run := func(query string, sign int) error {
		rows, err := s.db.Query(ctx, query, root.Code, depth, limit+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		count := 0
		for rows.Next() {
			count++
			var e Edge
			var q int64
			var d int
			var n Node
			if err := scanInto(rows, &n, &e.From, &e.To, &e.Kind, &q, &d, &e.Unit); err != nil {
				return err
			}
			e.Quantity = fromMilli(q)
			edges[[2]string{e.From, e.To}] = e
			n.Depth = sign * d
			if old, ok := nodes[n.Code]; !ok || (old.Code != root.Code && abs(n.Depth) < abs(old.Depth)) {
				nn := n
				nodes[n.Code] = &nn
			}
			if d >= depth {
				g.Truncated = true
			}
		}
		if count > limit {
			g.Truncated = true
		}
		return rows.Err()
	}
	if direction == "up" || direction == "both" {
		if err := run(walkUp, -1); err != nil {
			return Graph{}, err
		}
	}
	if direction == "down" || direction == "both" {
		if err := run(walkDown, 1); err != nil {
			return Graph{}, err
		}
	}
	g.Nodes = make([]Node, 0, len(nodes))
	for _, n := range nodes {
		g.Nodes = append(g.Nodes, *n)
	}
	sort.Slice(g.Nodes, func(i, j int) bool {
		a, b := g.Nodes[i], g.Nodes[j]
		if a.Depth != b.Depth {
			return a.Depth < b.Depth
		}
		return a.Code < b.Code
	})
	g.Edges = make([]Edge, 0, len(edges))
	for _, e := range edges {
		g.Edges = append(g.Edges, e)
	}
	sort.Slice(g.Edges, func(i, j int) bool {
		if g.Edges[i].From != g.Edges[j].From {
			return g.Edges[i].From < g.Edges[j].From
		}
		return g.Edges[i].To < g.Edges[j].To
	})
	return g, nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
