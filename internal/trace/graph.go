package trace

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
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
	n.Quantity, n.TypeName = fromMilli(x.q), codes.TraceCodeType(n.Type).Label()
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

// The walk goes one level at a time: the codes reached at one level (the
// frontier) are looked up in trace_edges (indexed both ways) in chunks of at
// most 500, and the same query reads the details of the codes those edges
// reach (their code row, the sale that issued them, their latest
// correction), so every reached node costs one indexed lookup per table and
// no second pass. Chunks of one level run on up to detailWorkers
// connections at once. A code reached twice (a merge below a split) is
// expanded once, at the level nearest the root. Product and operator names
// are filled in from the catalogue cache and one query per 500 operators.
// nodeChunks are the IN-list sizes of the walk's queries (a list is padded
// to the next size by repeating its last value), so they are a handful of
// fixed texts that the statement cache keeps.
var nodeChunks = []int{4, 16, 64, 128, 256, 500}

// parallelFrom is the list length from which queryChunks splits a list over
// detailWorkers even when it would fit one chunk.
const parallelFrom = 128

// detailColumns are a reached node's own facts: its code row, the sale that
// issued it and its latest correction. Product and operator names are
// filled in from the catalogue cache and one query per 500 operators, not
// joined per node.
const detailColumns = `t.code, t.type, t.product_code, t.operator_id, t.region_code,
	COALESCE(c.quantity_milli, t.quantity_milli), t.unit, COALESCE(c.produced_on, t.produced_on), t.created_at, t.source,
	COALESCE(tr.status, ''), COALESCE(tr.shipped_on, ''), COALESCE(tr.market_name, '')`

func inList(n int) string {
	ph := make([]string, n)
	for i := range ph {
		ph[i] = "$" + strconv.Itoa(i+1)
	}
	return "(" + strings.Join(ph, ", ") + ")"
}

// stepQueries[dir][n] follow the edges of n frontier codes in direction dir
// and read the details of the codes they reach.
var stepQueries, operatorQueries = func() (map[string]map[int]string, map[int]string) {
	d := map[string]map[int]string{"down": {}, "up": {}}
	o := map[int]string{}
	for _, n := range nodeChunks {
		for dir, keys := range map[string][2]string{"down": {"from_code", "to_code"}, "up": {"to_code", "from_code"}} {
			d[dir][n] = `SELECT e.from_code, e.to_code, e.kind, e.quantity_milli, ` + detailColumns +
				` FROM trace_edges e JOIN trace_codes t ON t.code = e.` + keys[1] +
				` LEFT JOIN transfers tr ON tr.code = t.code ` + latestCorrection +
				` WHERE e.` + keys[0] + ` IN ` + inList(n)
		}
		o[n] = `SELECT id, COALESCE(code, ''), name, kind FROM operators WHERE id IN ` + inList(n)
	}
	return d, o
}()

// detailWorkers is how many chunks of one level of a large graph are read at
// once (on separate connections): a recall of 10,000 nodes is 20 chunks of
// 500, and the machine has 2 CPUs.
// Public requests get the second connection only when a public slot is
// spare (DB.ExtraConn), so keep this at 2.
const detailWorkers = 2

// queryChunks runs queries[size] for list in chunks of at most 500 values
// (up to detailWorkers chunks at once) and returns what scan made of every
// row, in chunk order.
func queryChunks[K, R any](ctx context.Context, db *platform.DB, queries map[int]string, list []K, scan func(*sql.Rows) (R, error)) ([]R, error) {
	max := nodeChunks[len(nodeChunks)-1]
	if len(list) >= parallelFrom && len(list) < detailWorkers*max {
		max = (len(list) + detailWorkers - 1) / detailWorkers
	}
	var chunks [][]K
	for len(list) > 0 {
		part := list[:min(len(list), max)]
		list = list[len(part):]
		chunks = append(chunks, part)
	}
	results := make([][]R, len(chunks))
	run := func(i int) error {
		part := chunks[i]
		size := max
		for _, n := range nodeChunks {
			if n >= len(part) {
				size = n
				break
			}
		}
		args := make([]any, size)
		for i := range args {
			args[i] = part[min(i, len(part)-1)]
		}
		rows, err := db.Query(ctx, queries[size], args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		out := make([]R, 0, len(part))
		for rows.Next() {
			r, err := scan(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		results[i] = out
		return rows.Err()
	}
	if len(chunks) == 1 {
		if err := run(0); err != nil {
			return nil, err
		}
		return results[0], nil
	}
	// A public request reads in parallel only if a spare public slot lets
	// it use the second connection (platform/limits.go).
	workers := detailWorkers
	if release, ok := db.ExtraConn(ctx); ok {
		defer release()
	} else {
		workers = 1
	}
	next := make(chan int)
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func() {
			var first error
			for i := range next {
				if first == nil {
					first = run(i)
				}
			}
			errs <- first
		}()
	}
	for i := range chunks {
		next <- i
	}
	close(next)
	var err error
	for w := 0; w < workers; w++ {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return nil, err
	}
	var all []R
	for _, r := range results {
		all = append(all, r...)
	}
	return all, nil
}

// Sources of codes that start a chain: no edge leads into them.
const (
	SourceRecord      = "record"
	SourceSmallholder = "smallholder"
)

// expandable: whether the walk must look for edges beyond n. A market-entry
// code ends the chain (consumable refuses it, so no edge leaves it) and a
// recorded or smallholder batch starts one: a recall of 10,000 codes would
// otherwise spend a third of its time finding that the last level leads
// nowhere.
func expandable(dir string, n Node) bool {
	if dir == "down" {
		return n.Type != TypeMarketEntry
	}
	return n.Source != SourceRecord && n.Source != SourceSmallholder
}

// reached is a node reached by the walk and the edge that reached it.
type reached struct {
	edge Edge
	node Node
	opID int64
}

// step follows the edges of the frontier codes in direction dir.
func (s *Service) step(ctx context.Context, dir string, frontier []string) ([]reached, error) {
	return queryChunks(ctx, s.db, stepQueries[dir], frontier, func(rows *sql.Rows) (reached, error) {
		var r reached
		var x nodeScan
		var q int64
		n := &x.n
		err := rows.Scan(&r.edge.From, &r.edge.To, &r.edge.Kind, &q, &n.Code, &n.Type, &n.ProductCode, &r.opID, &n.RegionCode,
			&x.q, &n.Unit, &n.Time, &n.RecordedAt, &n.Source, &x.status, &x.shipped, &x.market)
		r.edge.Quantity, r.node = fromMilli(q), x.node()
		return r, err
	})
}

// nameNodes fills in product and operator names (opIDs: node code → operator id).
func (s *Service) nameNodes(ctx context.Context, nodes map[string]Node, opIDs map[string]int64) error {
	ops := map[int64]Node{} // operator code, name and kind
	var ids []int64
	for _, id := range opIDs {
		if _, ok := ops[id]; !ok {
			ops[id] = Node{}
			ids = append(ids, id)
		}
	}
	type op struct {
		id int64
		n  Node
	}
	found, err := queryChunks(ctx, s.db, operatorQueries, ids, func(rows *sql.Rows) (op, error) {
		var o op
		err := rows.Scan(&o.id, &o.n.OperatorCode, &o.n.OperatorName, &o.n.OperatorKind)
		return o, err
	})
	if err != nil {
		return err
	}
	for _, o := range found {
		ops[o.id] = o.n
	}
	products := map[string]string{}
	for code, id := range opIDs {
		n := nodes[code]
		name, ok := products[n.ProductCode]
		if !ok {
			p, err := s.Product(ctx, n.ProductCode)
			if err != nil {
				return err
			}
			name, products[n.ProductCode] = p.Name, p.Name
		}
		o := ops[id]
		n.ProductName, n.OperatorCode, n.OperatorName, n.OperatorKind = name, o.OperatorCode, o.OperatorName, o.OperatorKind
		nodes[code] = n
	}
	return nil
}

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

// graph walks from root without authorization (callers check it): at most
// depth levels and limit edges per direction, else Truncated.
func (s *Service) graph(ctx context.Context, query string, root Node, direction string, depth, limit int) (Graph, error) {
	g := Graph{Query: query, Code: root.Code, Direction: direction, Depth: depth}
	nodes := map[string]Node{root.Code: root} // reached code → details, Depth signed
	opIDs := map[string]int64{}               // reached code (not root) → operator id
	edges := map[[2]string]Edge{}
	walk := func(dir string, sign int) error {
		var frontier []string
		if expandable(dir, root) {
			frontier = []string{root.Code}
		}
		count := 0
		for level := 1; len(frontier) > 0 && level <= depth; level++ {
			found, err := s.step(ctx, dir, frontier)
			if err != nil {
				return err
			}
			frontier = frontier[:0:0]
			for _, r := range found {
				if count++; count > limit {
					g.Truncated = true
					return nil
				}
				edges[[2]string{r.edge.From, r.edge.To}] = r.edge
				if _, seen := nodes[r.node.Code]; seen {
					continue
				}
				r.node.Depth = sign * level
				nodes[r.node.Code], opIDs[r.node.Code] = r.node, r.opID
				if expandable(dir, r.node) {
					frontier = append(frontier, r.node.Code)
				}
			}
			if level == depth && len(frontier) > 0 {
				g.Truncated = true // there may be more beyond the last level
			}
		}
		return nil
	}
	if direction == "up" || direction == "both" {
		if err := walk("up", -1); err != nil {
			return Graph{}, err
		}
	}
	if direction == "down" || direction == "both" {
		if err := walk("down", 1); err != nil {
			return Graph{}, err
		}
	}
	if err := s.nameNodes(ctx, nodes, opIDs); err != nil {
		return Graph{}, err
	}
	// Sort small keys and place the (large) nodes once.
	type key struct {
		depth int
		code  string
	}
	keys := make([]key, 0, len(nodes))
	for c, n := range nodes {
		keys = append(keys, key{n.Depth, c})
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.depth != b.depth {
			return a.depth - b.depth
		}
		return strings.Compare(a.code, b.code)
	})
	g.Nodes = make([]Node, len(keys))
	for i, k := range keys {
		g.Nodes[i] = nodes[k.code]
	}
	g.Edges = make([]Edge, 0, len(edges))
	for _, e := range edges {
		e.Unit = nodes[e.To].Unit // quantities are in the unit of To
		g.Edges = append(g.Edges, e)
	}
	slices.SortFunc(g.Edges, func(a, b Edge) int {
		if c := strings.Compare(a.From, b.From); c != 0 {
			return c
		}
		return strings.Compare(a.To, b.To)
	})
	return g, nil
}
