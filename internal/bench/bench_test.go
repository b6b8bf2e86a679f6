package bench

import (
	"context"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/trace"
)

// generate writes a tiny workload into a fresh app and returns it.
func generate(t testing.TB, a *app.App, batches, bulk int) *Generator {
	t.Helper()
	g := New(a, Options{Batches: batches, Seed: 42, Bulk: bulk})
	ctx := context.Background()
	if err := g.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := g.Run(ctx); err != nil {
		t.Fatal(err)
	}
	return g
}

func maxDepth(gr trace.Graph) int {
	d := 0
	for _, n := range gr.Nodes {
		d = max(d, abs(n.Depth))
	}
	return d
}

// The generator builds the chain shapes it claims: the planned number of
// codes, the recall subtree of the planned size, the exact up/down traces
// of one chain of each kind, the longest chain, every sale answered, no
// negative stock.
func TestGeneratorShapes(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		g := generate(t, a, 300, 0)
		st := g.Stats

		var codes int64
		if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM trace_codes`).Scan(&codes); err != nil {
			t.Fatal(err)
		}
		if codes != int64(st.PlannedCodes) || st.Codes != codes || codes < 300 {
			t.Fatalf("codes in database %d, written %d, planned %d (requested 300)", codes, st.Codes, st.PlannedCodes)
		}
		for _, k := range unitNames {
			if st.Units[k] == 0 {
				t.Errorf("no %s chain among %v", k, st.Units)
			}
		}

		// the recall subtree: 30 descendants at this scale (300 / 10), 6 levels
		if st.RecallDescendants != 28 || st.RecallFanOut != [3]int{2, 2, 2} {
			t.Errorf("recall plan %v with %d descendants, want [2 2 2] with 28", st.RecallFanOut, st.RecallDescendants)
		}
		rec, err := a.Trace.Trace(ctx, g.Supervisor(), st.RecallRoot, "down", trace.MaxDepth)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Nodes) != st.RecallDescendants+1 || maxDepth(rec) != 6 {
			t.Errorf("recall from %s: %d nodes, depth %d; want %d nodes, depth 6", st.RecallRoot, len(rec.Nodes), maxDepth(rec), st.RecallDescendants+1)
		}
		var entries int
		for _, n := range rec.Nodes {
			if n.Type == 3 {
				entries++
				if n.Status != "accepted" {
					t.Errorf("recall leaf %s is %s, want accepted", n.Code, n.Status)
				}
			}
		}
		if entries != 8 {
			t.Errorf("recall reaches %d market entries, want 2×2×2 = 8", entries)
		}

		// one chain of each kind traced both ways, exactly as planned
		kinds := map[string]bool{}
		for _, s := range st.Samples {
			kinds[s.Kind+" "+s.Direction] = true
			gr, err := a.Trace.Trace(ctx, g.Supervisor(), s.Code, s.Direction, 0)
			if err != nil {
				t.Fatalf("%s %s %s: %v", s.Kind, s.Direction, s.Code, err)
			}
			if len(gr.Nodes) != s.Nodes || maxDepth(gr) != s.Depth {
				t.Errorf("%s trace %s from %s: %d nodes, depth %d; want %d nodes, depth %d",
					s.Kind, s.Direction, s.Code, len(gr.Nodes), maxDepth(gr), s.Nodes, s.Depth)
			}
		}
		for _, k := range unitNames {
			if !kinds[k+" up"] || !kinds[k+" down"] {
				t.Errorf("no %s sample (have %v)", k, kinds)
			}
		}

		// the longest upstream chain from any market entry is the claimed depth
		rows, err := a.DB.Query(ctx, `SELECT code FROM trace_codes WHERE type = 3`)
		if err != nil {
			t.Fatal(err)
		}
		var leaves []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			leaves = append(leaves, c)
		}
		rows.Close()
		deepest, biggest := 0, 0
		for _, c := range leaves {
			gr, err := a.Trace.Trace(ctx, g.Supervisor(), c, "up", 0)
			if err != nil {
				t.Fatal(err)
			}
			deepest, biggest = max(deepest, maxDepth(gr)), max(biggest, len(gr.Nodes))
		}
		if deepest != st.MaxDepth {
			t.Errorf("deepest upstream trace %d edges, generator claims %d", deepest, st.MaxDepth)
		}
		if biggest < 10 || biggest > 100 {
			t.Errorf("largest upstream trace %d nodes, want chains of 10–100 nodes", biggest)
		}

		// the chain is never broken and stock is conserved
		var open, negative int
		if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM transfers WHERE status NOT IN ('confirmed', 'accepted')`).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT code FROM stock_moves GROUP BY code HAVING SUM(delta_milli) < 0) x`).Scan(&negative); err != nil {
			t.Fatal(err)
		}
		if open != 0 || negative != 0 {
			t.Errorf("%d transfers unanswered, %d codes with negative stock; want 0 and 0", open, negative)
		}
		// every write went through the service: one audit row and one outbox row per event
		var audits, outbox int
		a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'batch.%' OR action LIKE 'transfer.%'`).Scan(&audits)
		a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE topic LIKE 'batch.%' OR topic LIKE 'transfer.%'`).Scan(&outbox)
		var calls int64
		for _, n := range st.Calls {
			calls += n
		}
		if int64(audits) != calls || int64(outbox) != calls {
			t.Errorf("%d audit rows and %d outbox rows for %d service calls", audits, outbox, calls)
		}
	})
}

// fingerprint lists every code's type, product, quantity and holder kind,
// which do not depend on the order codes were issued in.
func fingerprint(t *testing.T, a *app.App) string {
	t.Helper()
	rows, err := a.DB.Query(context.Background(), `SELECT t.type, t.product_code, t.quantity_milli, t.source, o.category
		FROM trace_codes t JOIN operators o ON o.id = t.operator_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ int
		var p, src, cat string
		var q int64
		if err := rows.Scan(&typ, &p, &q, &src, &cat); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join([]string{strconv.Itoa(typ), p, src, cat, strconv.FormatInt(q, 10)}, "/"))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// The same seed builds the same dataset, whether written one request at a
// time or as bulk imports.
func TestGeneratorReproducible(t *testing.T) {
	a1 := apptest.NewApp(t, "sqlite")
	a2 := apptest.NewApp(t, "sqlite")
	g1 := generate(t, a1, 300, 0)
	g2 := generate(t, a2, 300, 100)
	if g1.Stats.PlannedCodes != g2.Stats.PlannedCodes || g1.Stats.Codes != g2.Stats.Codes {
		t.Fatalf("codes %d/%d vs %d/%d", g1.Stats.PlannedCodes, g1.Stats.Codes, g2.Stats.PlannedCodes, g2.Stats.Codes)
	}
	f1, f2 := fingerprint(t, a1), fingerprint(t, a2)
	if f1 != f2 {
		t.Errorf("two runs with seed 42 differ:\n%.500s\n---\n%.500s", f1, f2)
	}
}

// A refused operation aborts the whole import: nothing of it is written.
func TestImportIsAtomic(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	g := generate(t, a, 300, 0)
	ctx := context.Background()
	farm := g.parties[Counties[0]][roleOrchard][0]
	var before int
	a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM trace_codes`).Scan(&before)
	err := a.Trace.Import(ctx, func(im *trace.Importer) error {
		code, err := im.CreateBatch(farm.Actor, trace.NewBatch{ProductCode: "apple", Quantity: 100, Unit: "kg", ProducedAt: "2026-01-10"})
		if err != nil {
			return err
		}
		buyer := g.parties[Counties[0]][roleCoop][0]
		_, err = im.Sell(farm.Actor, trace.SaleInput{FromCode: code, Quantity: 150, BuyerOperatorCode: buyer.Op.Code, ShippedAt: "2026-01-11"})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "not enough stock") {
		t.Fatalf("over-shipment in an import: %v, want a 409 naming the stock", err)
	}
	var after int
	a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM trace_codes`).Scan(&after)
	if after != before {
		t.Errorf("a refused import left %d codes behind", after-before)
	}
}

// ---- Go benchmarks (go test -bench . ./internal/bench/) ----

// dataset is a 5,000-code workload shared by the query benchmarks.
var dataset struct {
	once   sync.Once
	a      *app.App
	g      *Generator
	ups    []string
	downs  []string
	err    error
	tmpDir string
}

func benchData(b *testing.B) (*app.App, *auth.Actor, []string, []string) {
	b.Helper()
	dataset.once.Do(func() {
		dir, err := os.MkdirTemp("", "agtrace-bench-")
		if err != nil {
			dataset.err = err
			return
		}
		dataset.tmpDir = dir
		ctx := context.Background()
		a, err := app.Open(ctx, app.Config{DataDir: dir, SeedProvinces: apptest.PilotProvinces})
		if err != nil {
			dataset.err = err
			return
		}
		g := New(a, Options{Batches: 5000, Seed: 1})
		if err := g.Setup(ctx); err != nil {
			dataset.err = err
			return
		}
		if err := g.Run(ctx); err != nil {
			dataset.err = err
			return
		}
		dataset.a, dataset.g = a, g
		dataset.ups, dataset.downs, _, dataset.err = sampleCodes(ctx, a.DB, 1000, 1)
	})
	if dataset.err != nil {
		b.Fatal(dataset.err)
	}
	return dataset.a, dataset.g.Supervisor(), dataset.ups, dataset.downs
}

func TestMain(m *testing.M) {
	code := m.Run()
	if dataset.a != nil {
		dataset.a.Close()
	}
	if dataset.tmpDir != "" {
		os.RemoveAll(dataset.tmpDir)
	}
	os.Exit(code)
}

func benchTrace(b *testing.B, dir string) {
	a, sup, ups, downs := benchData(b)
	codes := ups
	if dir == "down" {
		codes = downs
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	nodes := 0
	b.ResetTimer()
	for b.Loop() {
		gr, err := a.Trace.Trace(ctx, sup, codes[rng.IntN(len(codes))], dir, 0)
		if err != nil {
			b.Fatal(err)
		}
		nodes += len(gr.Nodes)
	}
	b.ReportMetric(float64(nodes)/float64(b.N), "nodes/op")
}

// BenchmarkTraceUp traces random market-entry codes back to their origins
// (GET /api/v1/trace/{code}?direction=up) in a 5,000-code database.
func BenchmarkTraceUp(b *testing.B) { benchTrace(b, "up") }

// BenchmarkTraceDown traces random origin batches to their market entries.
func BenchmarkTraceDown(b *testing.B) { benchTrace(b, "down") }

// BenchmarkWrite writes whole chains (one per op) through the service
// methods, one transaction per call, on top of the 5,000-code database.
func BenchmarkWrite(b *testing.B) {
	a, _, _, _ := benchData(b)
	g := dataset.g
	ctx := context.Background()
	before, err := countRows(ctx, a.DB)
	if err != nil {
		b.Fatal(err)
	}
	codes, calls := 0, 0
	b.ResetTimer()
	for b.Loop() {
		c, n, err := g.WriteChain(ctx)
		if err != nil {
			b.Fatal(err)
		}
		codes, calls = codes+c, calls+n
	}
	b.StopTimer()
	after, err := countRows(ctx, a.DB)
	if err != nil {
		b.Fatal(err)
	}
	var records int64
	for _, t := range recordTables {
		records += after[t] - before[t]
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(records)/sec, "records/s")
	b.ReportMetric(float64(codes)/sec, "codes/s")
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
}
