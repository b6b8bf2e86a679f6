// Package bench is the performance workload behind `agtrace bench`: a
// synthetic pilot-region dataset written through the trace service layer
// (the same methods the API and pages call: authorization, validation,
// conservation checks, audit log and outbox in each transaction), and the
// measurements taken on it (records written per second, trace query
// latency, the recall over a 10,000-batch subtree, database size, memory,
// reopen time).
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// Options says how large a workload to write.
type Options struct {
	// Batches is how many trace codes (batches of every type: production,
	// circulation, market-entry) to write. Whole chains are written, so
	// the result may exceed it by one chain.
	Batches int
	// Seed fixes every random choice (chain shapes, quantities, dates,
	// operators), so two runs with the same seed build the same graph.
	Seed uint64
	// Workers is how many chains are written concurrently (default 2; bench.Run passes 8).
	Workers int
	// RecallSize is the number of descendants of the recall subtree
	// (default: 10,000, or a tenth of Batches when that is smaller).
	RecallSize int
	// Bulk, when positive, writes the workload as bulk imports
	// (trace.Service.Import) of about this many codes per transaction;
	// 0 calls the service methods one request (transaction) each.
	Bulk int
	// Progress, when set, receives a line every few seconds.
	Progress io.Writer
}

// Generator writes the workload into an app.
type Generator struct {
	a     *app.App
	opt   Options
	base  int64 // chain ids start here, above earlier runs' (--reuse), so identifiers (ear tags…) stay unique
	units int   // chains drawn so far
	Stats Stats

	parties    map[string][numRoles][]*Party
	markets    []*auth.Actor // market clerk per county (index of Counties)
	supervisor *auth.Actor

	codes atomic.Int64
	calls [numCalls]atomic.Int64
}

// Stats describes what was generated.
type Stats struct {
	Operators    int            `json:"operators"`
	SetupSeconds float64        `json:"setup_seconds"`
	Units        map[string]int `json:"chains"`
	PlannedCodes int            `json:"planned_codes"`
	Codes        int64          `json:"codes"`
	Calls        map[string]int64
	// RecallRoot is the production code at the top of the recall subtree.
	RecallRoot        string `json:"recall_root"`
	RecallDescendants int    `json:"recall_descendants"`
	RecallFanOut      [3]int `json:"recall_fan_out"`
	// MaxDepth is the longest chain (edges from an origin to a market entry).
	MaxDepth int `json:"max_depth"`
	// Samples are codes whose trace the generator can predict exactly (one
	// per chain kind and direction), for tests.
	Samples []Sample `json:"-"`
	Seconds float64  `json:"seconds"`
}

// Sample is a code with the trace the generator built for it.
type Sample struct {
	Kind      string
	Code      string
	Direction string // up | down
	Nodes     int    // nodes of the trace, the queried code included
	Depth     int    // longest path in edges
}

// service calls, counted.
const (
	callCreate = iota
	callSell
	callMarketSell
	callConfirm
	callAccept
	callSplit
	callMerge
	callTransform
	numCalls
)

var callNames = [numCalls]string{"CreateBatch", "Sell (to operator)", "Sell (into market)", "Confirm", "Accept", "Split", "Merge", "Transform"}

// New prepares a generator for a; call Setup then Run.
func New(a *app.App, opt Options) *Generator {
	if opt.Workers <= 0 {
		opt.Workers = 2
	}
	if opt.RecallSize <= 0 {
		opt.RecallSize = min(10_000, max(opt.Batches/10, 20))
	}
	return &Generator{a: a, opt: opt}
}

// perCounty scales the operator population with the workload: the full
// population from 100,000 codes on, at least one of each role.
func (g *Generator) perCounty(r role) int {
	n := rolePerCounty[r] * min(g.opt.Batches, 100_000) / 100_000
	return max(n, 1)
}

// Setup registers and approves the operators and creates the market and
// supervisor accounts (existing ones are reused).
func (g *Generator) Setup(ctx context.Context) error {
	start := time.Now()
	if err := g.a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM trace_codes`).Scan(&g.base); err != nil {
		return err
	}
	g.base /= 8 // a chain writes at least 8 codes: ids stay above every earlier run's
	if err := g.setupOperators(ctx, g.a, g.perCounty); err != nil {
		return err
	}
	sup, err := g.ensureUser(ctx, g.a, "bench-supervisor", "全国追溯监管员", auth.RoleSupervisor, "000000")
	if err != nil {
		return err
	}
	g.supervisor = actorOf(sup)
	g.Stats.SetupSeconds = time.Since(start).Seconds()
	return nil
}

// Supervisor is the national supervisor account the queries run as.
func (g *Generator) Supervisor() *auth.Actor { return g.supervisor }

// task is one independent piece of the workload (a chain, or a branch of
// the recall subtree) with its own random source.
type task struct {
	rng   *rand.Rand
	run   func(t *task) error
	codes int       // trace codes it writes (planned)
	w     writer    // where its operations go
	day   time.Time // the chain's current date
	end   time.Time // the chain's last date
}

// next advances the chain's date (by a day one step in four, never past
// the chain's last date) and returns it: time runs forward along a chain.
func (t *task) next() string {
	if t.end.IsZero() {
		t.end = t.day.AddDate(0, 0, 45)
	}
	if t.rng.IntN(4) == 0 && t.day.Before(t.end) {
		t.day = t.day.AddDate(0, 0, 1)
	}
	return t.day.Format(time.DateOnly)
}

// writer is the trace service's write methods: one transaction per call
// (serviceWriter, what the API does per request), or one transaction for
// many (*trace.Importer, a bulk import).
type writer interface {
	CreateBatch(actor *auth.Actor, in trace.NewBatch) (string, error)
	Sell(actor *auth.Actor, in trace.SaleInput) (string, error)
	Confirm(actor *auth.Actor, code string, in trace.ConfirmInput) error
	Accept(actor *auth.Actor, code string) error
	Split(actor *auth.Actor, code string, in trace.SplitInput) ([]string, error)
	Merge(actor *auth.Actor, in trace.MergeInput) (string, error)
	Transform(actor *auth.Actor, in trace.TransformInput) ([]string, error)
}

// serviceWriter calls the service methods behind the API, one request each.
type serviceWriter struct {
	ctx context.Context
	s   *trace.Service
}

func (w serviceWriter) CreateBatch(actor *auth.Actor, in trace.NewBatch) (string, error) {
	b, err := w.s.CreateBatch(w.ctx, actor, in)
	return b.TraceCode, err
}

func (w serviceWriter) Sell(actor *auth.Actor, in trace.SaleInput) (string, error) {
	t, err := w.s.Sell(w.ctx, actor, in)
	return t.TraceCode, err
}

func (w serviceWriter) Confirm(actor *auth.Actor, code string, in trace.ConfirmInput) error {
	_, err := w.s.Confirm(w.ctx, actor, code, in)
	return err
}

func (w serviceWriter) Accept(actor *auth.Actor, code string) error {
	_, err := w.s.Accept(w.ctx, actor, code)
	return err
}

func (w serviceWriter) Split(actor *auth.Actor, code string, in trace.SplitInput) ([]string, error) {
	r, err := w.s.Split(w.ctx, actor, code, in)
	return r.Codes, err
}

func (w serviceWriter) Merge(actor *auth.Actor, in trace.MergeInput) (string, error) {
	r, err := w.s.Merge(w.ctx, actor, in)
	if err != nil {
		return "", err
	}
	return r.Codes[0], nil
}

func (w serviceWriter) Transform(actor *auth.Actor, in trace.TransformInput) ([]string, error) {
	r, err := w.s.Transform(w.ctx, actor, in)
	return r.Codes, err
}

// runGroup runs tasks one after the other: each call its own transaction,
// or, in bulk mode, all of them in one import.
func (g *Generator) runGroup(ctx context.Context, tasks []*task) error {
	if g.opt.Bulk <= 0 {
		for _, t := range tasks {
			t.w = serviceWriter{ctx, g.a.Trace}
			if err := t.run(t); err != nil {
				return err
			}
		}
		return nil
	}
	return g.a.Trace.Import(ctx, func(im *trace.Importer) error {
		for _, t := range tasks {
			t.w = im
			if err := t.run(t); err != nil {
				return err
			}
		}
		return nil
	})
}

// firstDay is the earliest day a chain may start.
func (g *Generator) firstDay() time.Time {
	today, _ := time.Parse(time.DateOnly, platform.Today(g.a.Clock.Now()))
	return today.AddDate(0, 0, -330)
}

// nextUnit draws the next chain of the seeded sequence.
func (g *Generator) nextUnit(first time.Time) *unit {
	i := g.units
	g.units++
	rng := rand.New(rand.NewPCG(g.opt.Seed, uint64(i)+1))
	u := drawUnit(rng, g.base+int64(i))
	u.day = first.AddDate(0, 0, rng.IntN(270))
	return u
}

// WriteChain writes the next chain of the seeded sequence (for Go
// benchmarks) and returns how many codes and service calls it took.
func (g *Generator) WriteChain(ctx context.Context) (codes, calls int, err error) {
	u := g.nextUnit(g.firstDay())
	c0, n0 := g.codes.Load(), g.totalCalls()
	err = g.runGroup(ctx, []*task{g.unitTask(u)})
	return int(g.codes.Load() - c0), int(g.totalCalls() - n0), err
}

func (g *Generator) totalCalls() int64 {
	var n int64
	for i := range g.calls {
		n += g.calls[i].Load()
	}
	return n
}

// Run plans the chains, writes them with opt.Workers goroutines and
// returns what it wrote.
func (g *Generator) Run(ctx context.Context) error {
	start := time.Now()
	// Chains start 330–60 days ago and last at most 45 days (the recall
	// subtree 90), so every date is in the past.
	first := g.firstDay()

	// Plan: draw every chain's shape first, so the size is known and does
	// not depend on scheduling.
	rec := planRecall(g.opt.RecallSize)
	g.Stats.RecallFanOut = [3]int{rec.a, rec.b, rec.c}
	g.Stats.RecallDescendants = rec.descendants()
	planned := rec.descendants() + 1
	g.Stats.MaxDepth = 6
	g.Stats.Units = map[string]int{}
	var units []*unit
	for planned < g.opt.Batches {
		u := g.nextUnit(first)
		units = append(units, u)
		planned += u.codes()
		g.Stats.Units[u.kind.String()]++
		g.Stats.MaxDepth = max(g.Stats.MaxDepth, u.depth())
	}
	g.Stats.PlannedCodes = planned

	// The recall root and its first split run first; its branches are then
	// interleaved with the chains.
	rrng := rand.New(rand.NewPCG(g.opt.Seed, 0))
	rt := &task{rng: rrng, day: first.AddDate(0, 0, rrng.IntN(200))}
	var branches []*task
	rt.run = func(t *task) (err error) {
		branches, err = g.recallRoot(t, rec)
		return err
	}
	if err := g.runGroup(ctx, []*task{rt}); err != nil {
		return err
	}
	var tasks []*task
	step := max(1, len(units)/max(1, len(branches)))
	bi := 0
	for i, u := range units {
		tasks = append(tasks, g.unitTask(u))
		if i%step == 0 && bi < len(branches) {
			tasks = append(tasks, branches[bi])
			bi++
		}
	}
	tasks = append(tasks, branches[bi:]...)

	stopProgress := g.progress(start)
	err := g.runTasks(ctx, tasks)
	stopProgress()
	g.Stats.Codes = g.codes.Load()
	g.Stats.Calls = map[string]int64{}
	for i := range g.calls {
		g.Stats.Calls[callNames[i]] = g.calls[i].Load()
	}
	g.Stats.Seconds = time.Since(start).Seconds()
	return err
}

// runTasks runs tasks on opt.Workers goroutines (in bulk mode, grouped
// into imports of about opt.Bulk codes); the first error stops the rest.
func (g *Generator) runTasks(ctx context.Context, tasks []*task) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var groups [][]*task
	for i := 0; i < len(tasks); {
		j, n := i, 0
		for j < len(tasks) && (j == i || n < g.opt.Bulk) {
			n += tasks[j].codes
			j++
		}
		groups = append(groups, tasks[i:j])
		i = j
	}
	ch := make(chan []*task)
	var wg sync.WaitGroup
	for w := 0; w < g.opt.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for grp := range ch {
				if err := g.runGroup(ctx, grp); err != nil {
					cancel(err)
				}
			}
		}()
	}
feed:
	for _, grp := range groups {
		select {
		case ch <- grp:
		case <-ctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

func (g *Generator) progress(start time.Time) (stop func()) {
	if g.opt.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				n := g.codes.Load()
				el := time.Since(start).Seconds()
				fmt.Fprintf(g.opt.Progress, "  … %d / %d codes written (%.0f%%), %.0f codes/s, %.0f s\n",
					n, g.Stats.PlannedCodes, 100*float64(n)/float64(max(1, g.Stats.PlannedCodes)), float64(n)/el, el)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// ---- service calls (each one transaction through the trace service) ----

// qty converts thousandths to the API's decimal quantity.
func qty(milli int64) float64 { return float64(milli) / 1000 }

func (g *Generator) create(t *task, p *Party, nb trace.NewBatch) (string, error) {
	g.calls[callCreate].Add(1)
	code, err := t.w.CreateBatch(p.Actor, nb)
	if err != nil {
		return "", fmt.Errorf("CreateBatch %s by %s: %w", nb.ProductCode, p.Op.Name, err)
	}
	g.codes.Add(1)
	return code, nil
}

func (g *Generator) sell(t *task, seller *Party, from string, milli int64, buyer *Party, on string) (string, error) {
	g.calls[callSell].Add(1)
	code, err := t.w.Sell(seller.Actor, trace.SaleInput{FromCode: from, Quantity: qty(milli), BuyerOperatorCode: buyer.Op.Code, ShippedAt: on})
	if err != nil {
		return "", fmt.Errorf("Sell %s by %s to %s: %w", from, seller.Op.Name, buyer.Op.Name, err)
	}
	g.codes.Add(1)
	return code, nil
}

func (g *Generator) confirm(t *task, buyer *Party, code string, receivedMilli int64, on string) error {
	g.calls[callConfirm].Add(1)
	if err := t.w.Confirm(buyer.Actor, code, trace.ConfirmInput{ReceivedQuantity: qty(receivedMilli), ReceivedAt: on}); err != nil {
		return fmt.Errorf("Confirm %s by %s: %w", code, buyer.Op.Name, err)
	}
	return nil
}

// sellTo sells and has the buyer confirm the full quantity.
func (g *Generator) sellTo(t *task, seller *Party, from string, milli int64, buyer *Party) (string, error) {
	c, err := g.sell(t, seller, from, milli, buyer, t.next())
	if err != nil {
		return "", err
	}
	return c, g.confirm(t, buyer, c, milli, t.next())
}

var marketNames = map[string]string{"wholesale": "农产品批发市场", "retail": "农贸市场", "processor": "乳制品加工园区"}

// enterMarket sells into a market of the seller's county, whose clerk accepts.
func (g *Generator) enterMarket(t *task, seller *Party, from string, milli int64, kind string) (string, error) {
	county := seller.Op.CountyCode
	g.calls[callMarketSell].Add(1)
	code, err := t.w.Sell(seller.Actor, trace.SaleInput{FromCode: from, Quantity: qty(milli), ShippedAt: t.next(),
		Market: &trace.Market{Name: g.countyName(county) + marketNames[kind], Kind: kind, RegionCode: county}})
	if err != nil {
		return "", fmt.Errorf("Sell %s by %s into a market: %w", from, seller.Op.Name, err)
	}
	g.codes.Add(1)
	g.calls[callAccept].Add(1)
	if err := t.w.Accept(g.markets[countyIndex(county)], code); err != nil {
		return "", fmt.Errorf("Accept %s: %w", code, err)
	}
	return code, nil
}

func (g *Generator) split(t *task, p *Party, code string, parts []int64, on string) ([]string, error) {
	g.calls[callSplit].Add(1)
	in := trace.SplitInput{SplitAt: on}
	for _, q := range parts {
		in.Parts = append(in.Parts, qty(q))
	}
	codes, err := t.w.Split(p.Actor, code, in)
	if err != nil {
		return nil, fmt.Errorf("Split %s by %s: %w", code, p.Op.Name, err)
	}
	g.codes.Add(int64(len(codes)))
	return codes, nil
}

func (g *Generator) merge(t *task, p *Party, in trace.MergeInput) (string, error) {
	g.calls[callMerge].Add(1)
	code, err := t.w.Merge(p.Actor, in)
	if err != nil {
		return "", fmt.Errorf("Merge by %s: %w", p.Op.Name, err)
	}
	g.codes.Add(1)
	return code, nil
}

func (g *Generator) transform(t *task, p *Party, in trace.TransformInput) ([]string, error) {
	g.calls[callTransform].Add(1)
	codes, err := t.w.Transform(p.Actor, in)
	if err != nil {
		return nil, fmt.Errorf("Transform by %s: %w", p.Op.Name, err)
	}
	g.codes.Add(int64(len(codes)))
	return codes, nil
}

func countyIndex(county string) int {
	for i, c := range Counties {
		if c == county {
			return i
		}
	}
	return 0
}

// pick returns a random operator of role r in county (index ci).
func (g *Generator) pick(rng *rand.Rand, ci int, r role) *Party {
	ps := g.parties[Counties[ci]][r]
	return ps[rng.IntN(len(ps))]
}

// pickTrader returns a trader, from another county three times in ten.
func (g *Generator) pickTrader(rng *rand.Rand, ci int) *Party {
	if rng.IntN(10) < 3 {
		ci = rng.IntN(len(Counties))
	}
	return g.pick(rng, ci, roleTrader)
}
