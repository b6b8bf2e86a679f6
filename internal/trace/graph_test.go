package trace_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// TestGraphShapes: the level-by-level walk on a diamond (a split whose parts
// are merged again, with a second origin merged in) and a market entry at
// the end: every node once at the depth nearest the query, every edge once,
// depth limits flagged as truncated, on both engines.
func TestGraphShapes(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		ctx := context.Background()
		lot := batch(t, w.farmC, "apple", 500, "kg", daysAgo(3))
		lot2 := batch(t, w.farmC, "apple", 100, "kg", daysAgo(3))
		split := w.farmC.Do("POST", "/api/v1/batches/"+lot+"/split", map[string]any{"parts": []float64{200, 300}}).Expect(t, 201)
		pa, pb := split.Str("codes.0"), split.Str("codes.1")
		merged := w.farmC.Do("POST", "/api/v1/merges", map[string]any{"product_code": "apple",
			"inputs": []map[string]any{{"code": pa, "quantity": 200}, {"code": pb, "quantity": 300}, {"code": lot2, "quantity": 100}}}).Expect(t, 201).Str("codes.0")
		entry := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": merged, "quantity": 600,
			"market": map[string]any{"name": "栖霞苹果批发市场", "kind": "wholesale", "region_code": "370686"}}).Expect(t, 201).Str("trace_code")

		shape := func(g trace.Graph) (nodes, edges string) {
			var ns, es []string
			for _, n := range g.Nodes {
				ns = append(ns, fmt.Sprintf("%s@%d", n.Code, n.Depth))
				if n.ProductName == "" || n.OperatorName == "" {
					t.Errorf("node %s has no product or operator name: %+v", n.Code, n)
				}
			}
			for _, e := range g.Edges {
				es = append(es, e.From+">"+e.To+":"+e.Kind)
			}
			sort.Strings(ns)
			sort.Strings(es)
			return strings.Join(ns, " "), strings.Join(es, " ")
		}
		want := func(pairs ...any) string {
			var out []string
			for i := 0; i < len(pairs); i += 2 {
				out = append(out, fmt.Sprintf("%s@%d", pairs[i], pairs[i+1]))
			}
			sort.Strings(out)
			return strings.Join(out, " ")
		}
		allEdges := func(es ...string) string { sort.Strings(es); return strings.Join(es, " ") }

		down, err := a.Trace.Trace(ctx, w.supActor, lot, "down", 0)
		if err != nil {
			t.Fatal(err)
		}
		ns, es := shape(down)
		if ns != want(lot, 0, pa, 1, pb, 1, merged, 2, entry, 3) || down.Truncated {
			t.Errorf("down from the lot: %s (truncated %v)", ns, down.Truncated)
		}
		if es != allEdges(lot+">"+pa+":split", lot+">"+pb+":split", pa+">"+merged+":merge", pb+">"+merged+":merge", merged+">"+entry+":transfer") {
			t.Errorf("down edges: %s", es)
		}

		up, err := a.Trace.Trace(ctx, w.supActor, entry, "up", 0)
		if err != nil {
			t.Fatal(err)
		}
		if ns, _ := shape(up); ns != want(entry, 0, merged, -1, pa, -2, pb, -2, lot2, -2, lot, -3) || up.Truncated {
			t.Errorf("up from the market entry: %s (truncated %v)", ns, up.Truncated)
		}
		if len(up.Edges) != 6 {
			t.Errorf("up: %d edges, want 6", len(up.Edges))
		}

		both, err := a.Trace.Trace(ctx, w.supActor, merged, "both", 0)
		if err != nil {
			t.Fatal(err)
		}
		if ns, _ := shape(both); ns != want(lot, -2, pa, -1, pb, -1, lot2, -1, merged, 0, entry, 1) {
			t.Errorf("both from the merged lot: %s", ns)
		}

		cut, err := a.Trace.Trace(ctx, w.supActor, lot, "down", 2)
		if err != nil {
			t.Fatal(err)
		}
		if ns, _ := shape(cut); ns != want(lot, 0, pa, 1, pb, 1, merged, 2) || !cut.Truncated {
			t.Errorf("down, depth 2: %s (truncated %v)", ns, cut.Truncated)
		}
		// Nothing lies beyond a market entry or before an origin: not truncated at their depth.
		if g, err := a.Trace.Trace(ctx, w.supActor, merged, "down", 1); err != nil || g.Truncated || len(g.Nodes) != 2 {
			t.Errorf("down 1 from the merged lot to its market entry: %d nodes, truncated %v, %v", len(g.Nodes), g.Truncated, err)
		}
	})
}

// TestGraphLarge: a level wider than one chunk (900 parts of a split) comes
// back whole and in order, whether its chunks are read on two connections
// or, for a public request with no spare public slot, one after another.
func TestGraphLarge(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		lot := batch(t, w.farmC, "apple", 1300, "kg", daysAgo(3))
		parts := make([]float64, 900)
		for i := range parts {
			parts[i] = 1
		}
		w.farmC.Do("POST", "/api/v1/batches/"+lot+"/split", map[string]any{"parts": parts}).Expect(t, 201)
		check := func(name string, ctx context.Context) {
			g, err := a.Trace.Trace(ctx, w.supActor, lot, "down", 0)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(g.Nodes) != 901 || len(g.Edges) != 900 || g.Truncated {
				t.Fatalf("%s: %d nodes, %d edges, truncated %v; want 901, 900, false", name, len(g.Nodes), len(g.Edges), g.Truncated)
			}
			if g.Nodes[0].Code != lot || g.Nodes[0].Depth != 0 {
				t.Fatalf("%s: first node %+v", name, g.Nodes[0])
			}
			for i, n := range g.Nodes[1:] {
				if n.Depth != 1 || n.Unit != "kg" || n.Quantity != 1 || n.ProductName == "" || n.OperatorCode != w.farm.Code {
					t.Fatalf("%s: node %d: %+v", name, i+1, n)
				}
				if i > 0 && g.Nodes[i].Code >= n.Code {
					t.Fatalf("%s: nodes out of order at %d", name, i+1)
				}
			}
		}
		check("logged-in", context.Background())
		pub := platform.WithClass(context.Background(), platform.ClassPublic)
		var releases []func()
		for i := 0; i < a.DB.PublicSlots(); i++ { // every public slot taken: no second connection
			release, err := a.DB.AcquirePublic(pub)
			if err != nil {
				t.Fatal(err)
			}
			releases = append(releases, release)
		}
		check("public, no spare slot", pub)
		for _, r := range releases {
			r()
		}
	})
}
