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

// walk queries: one recursive CTE per direction over trace_edges (indexed
// both ways) returns the edges only; the details of the nodes they reach are
// fetched by primary key in chunks, once per node rather than once per edge
// row, while the walk goes on (detailReader), so a graph of any size costs
// one query per direction plus one per 500 nodes (no N+1). UNION (not UNION
// ALL) drops repeated (edge, depth) rows, so diamonds stay bounded. (A
// level-by-level walk that read details in the same query was tried: it
// halved nothing for a 10,000-node recall and doubled the median of the
// small traces a consumer's scan asks for, one query per level.)
const walkUp = `WITH RECURSIVE walk(from_code, to_code, kind, qty, depth) AS (
	SELECT from_code, to_code, kind, quantity_milli, 1 FROM trace_edges WHERE to_code = $1
	UNION
	SELECT e.from_code, e.to_code, e.kind, e.quantity_milli, w.depth + 1
	FROM trace_edges e JOIN walk w ON e.to_code = w.from_code WHERE w.depth < $2
)
SELECT from_code, to_code, kind, qty, depth FROM walk LIMIT $3`

const walkDown = `WITH RECURSIVE walk(from_code, to_code, kind, qty, depth) AS (
	SELECT from_code, to_code, kind, quantity_milli, 1 FROM trace_edges WHERE from_code = $1
	UNION
	SELECT e.from_code, e.to_code, e.kind, e.quantity_milli, w.depth + 1
	FROM trace_edges e JOIN walk w ON e.from_code = w.to_code WHERE w.depth < $2
)
SELECT from_code, to_code, kind, qty, depth FROM walk LIMIT $3`

// nodeChunks are the IN-list sizes of the detail queries (a list is padded
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

var detailQueries, operatorQueries = func() (map[int]string, map[int]string) {
	d, o := map[int]string{}, map[int]string{}
	for _, n := range nodeChunks {
		d[n] = `SELECT ` + detailColumns + ` FROM trace_codes t LEFT JOIN transfers tr ON tr.code = t.code ` + latestCorrection +
			` WHERE t.code IN ` + inList(n)
		o[n] = `SELECT id, COALESCE(code, ''), name, kind FROM operators WHERE id IN ` + inList(n)
	}
	return d, o
}()

// detailWorkers is how many detail chunks of one large graph are read at
// once (on separate connections): a recall of 10,000 nodes spends about as
// long reading node details as walking the edges, and the machine has 2 CPUs.
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

// detail is a reached node's own facts and its operator's id.
type detail struct {
	n    Node
	opID int64
}

// readDetails reads the details of the given codes by primary key, in chunks.
func (s *Service) readDetails(ctx context.Context, list []string) ([]detail, error) {
	return queryChunks(ctx, s.db, detailQueries, list, func(rows *sql.Rows) (detail, error) {
		var x nodeScan
		var opID int64
		n := &x.n
		err := rows.Scan(&n.Code, &n.Type, &n.ProductCode, &opID, &n.RegionCode, &x.q, &n.Unit, &n.Time, &n.RecordedAt, &n.Source,
			&x.status, &x.shipped, &x.market)
		return detail{x.node(), opID}, err
	})
}

// nameDetails adds product and operator names (one query per 500 operators).
func (s *Service) nameDetails(ctx context.Context, details []detail) (map[string]Node, error) {
	ops := map[int64]Node{} // operator code, name and kind
	var opIDs []int64
	for _, d := range details {
		if _, ok := ops[d.opID]; !ok {
			ops[d.opID] = Node{}
			opIDs = append(opIDs, d.opID)
		}
	}
	type op struct {
		id int64
		n  Node
	}
	found, err := queryChunks(ctx, s.db, operatorQueries, opIDs, func(rows *sql.Rows) (op, error) {
		var o op
		err := rows.Scan(&o.id, &o.n.OperatorCode, &o.n.OperatorName, &o.n.OperatorKind)
		return o, err
	})
	if err != nil {
		return nil, err
	}
	for _, o := range found {
		ops[o.id] = o.n
	}
	products := map[string]string{}
	out := make(map[string]Node, len(details))
	for _, d := range details {
		name, ok := products[d.n.ProductCode]
		if !ok {
			p, err := s.Product(ctx, d.n.ProductCode)
			if err != nil {
				return nil, err
			}
			name, products[d.n.ProductCode] = p.Name, p.Name
		}
		n, o := d.n, ops[d.opID]
		n.ProductName, n.OperatorCode, n.OperatorName, n.OperatorKind = name, o.OperatorCode, o.OperatorName, o.OperatorKind
		out[n.Code] = n
	}
	return out, nil
}

// detailReader reads node details while the walk that finds the nodes is
// still running: every full chunk of reached codes goes to one goroutine on
// a second connection (taken like queryChunks's second worker, so a public
// request does it only when a public slot is spare); what is left when the
// walk ends is read then. A small graph never fills a chunk and costs one
// detail query after the walk, as without it.
type detailReader struct {
	s       *Service
	ctx     context.Context
	pending []string
	chunks  chan []string // nil until the first full chunk; closed by finish
	done    chan struct{} // closed when the goroutine has read every chunk
	release func()
	serial  [][]string // full chunks with no spare connection: read by finish
	out     []detail   // the goroutine's results (read after done)
	err     error
}

func (r *detailReader) add(code string) {
	r.pending = append(r.pending, code)
	if len(r.pending) < nodeChunks[len(nodeChunks)-1] {
		return
	}
	part := r.pending
	r.pending = nil
	if r.chunks == nil && r.serial == nil {
		if release, ok := r.s.db.ExtraConn(r.ctx); ok {
			r.release = release
			r.chunks, r.done = make(chan []string, 64), make(chan struct{})
			go r.read()
		}
	}
	if r.chunks != nil {
		r.chunks <- part
		return
	}
	r.serial = append(r.serial, part)
}

func (r *detailReader) read() {
	defer close(r.done)
	for part := range r.chunks {
		if r.err != nil {
			continue
		}
		d, err := r.s.readDetails(r.ctx, part)
		r.out, r.err = append(r.out, d...), err
	}
}

// finish reads what is left and returns every detail; call it once, also
// when the walk failed (it stops the goroutine).
func (r *detailReader) finish(walkErr error) ([]detail, error) {
	if r.chunks != nil {
		close(r.chunks)
		<-r.done
		r.release()
	}
	if walkErr != nil {
		return nil, walkErr
	}
	if r.err != nil {
		return nil, r.err
	}
	var rest []string
	for _, part := range r.serial {
		rest = append(rest, part...)
	}
	rest = append(rest, r.pending...)
	d, err := r.s.readDetails(r.ctx, rest)
	if err != nil {
		return nil, err
	}
	return append(r.out, d...), nil
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

// graph walks from root without authorization (callers check it).
func (s *Service) graph(ctx context.Context, query string, root Node, direction string, depth, limit int) (Graph, error) {
	g := Graph{Query: query, Code: root.Code, Direction: direction, Depth: depth}
	depthOf := map[string]int{} // reached code -> signed depth nearest the root
	var order []string          // reached codes, first reached first
	edges := map[[2]string]Edge{}
	rd := &detailReader{s: s, ctx: ctx}
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
			if err := rows.Scan(&e.From, &e.To, &e.Kind, &q, &d); err != nil {
				return err
			}
			e.Quantity = fromMilli(q)
			edges[[2]string{e.From, e.To}] = e
			reached := e.To
			if sign < 0 {
				reached = e.From
			}
			if reached != root.Code {
				if old, ok := depthOf[reached]; !ok {
					depthOf[reached] = sign * d
					order = append(order, reached)
					rd.add(reached)
				} else if d < abs(old) {
					depthOf[reached] = sign * d
				}
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
	var err error
	if direction == "up" || direction == "both" {
		err = run(walkUp, -1)
	}
	if err == nil && (direction == "down" || direction == "both") {
		err = run(walkDown, 1)
	}
	found, err := rd.finish(err)
	if err != nil {
		return Graph{}, err
	}
	details, err := s.nameDetails(ctx, found)
	if err != nil {
		return Graph{}, err
	}
	details[root.Code] = root
	// Sort small keys and place the (large) nodes once.
	type key struct {
		depth int
		code  string
	}
	keys := make([]key, 0, len(order)+1)
	keys = append(keys, key{0, root.Code})
	for _, c := range order {
		if _, ok := details[c]; ok { // an edge to a code that does not exist cannot happen (foreign keys)
			keys = append(keys, key{depthOf[c], c})
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.depth != b.depth {
			return a.depth - b.depth
		}
		return strings.Compare(a.code, b.code)
	})
	g.Nodes = make([]Node, len(keys))
	for i, k := range keys {
		n := details[k.code]
		n.Depth = k.depth
		g.Nodes[i] = n
	}
	g.Edges = make([]Edge, 0, len(edges))
	for _, e := range edges {
		e.Unit = details[e.To].Unit // quantities are in the unit of To
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

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
