package trace_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/trace"
)

// same fails unless got and want encode to the same JSON (what the API answers).
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("%s returned\n%s\nbut reads back as\n%s", what, g, w)
	}
}

// TestWrittenEqualsReadBack: the write methods return what they wrote
// without reading it back; it must be exactly what GetBatch / GetTransfer
// read afterwards — batches with attributes, aliases, inputs and operations
// (given out of date order), sales to an operator and into a market, and
// their confirmation (short), rejection and acceptance.
func TestWrittenEqualsReadBack(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		ctx := context.Background()
		s := a.Trace
		pigs, err := s.CreateBatch(ctx, w.farmActor, trace.NewBatch{ProductCode: " live_pig ", Quantity: 3, Unit: "head", ProducedAt: daysAgo(2),
			Origin: " 一号圈舍 ", Attributes: map[string]any{"ear_tags": []string{"137068600000013", "137068600000011"}, "quarantine_cert": "3706 8620 2600 0999"},
			Inputs: []trace.InputUse{
				{Kind: "feed", Name: " 玉米 ", UsedAt: daysAgo(5)},
				{Kind: "vet_drug", Name: "阿莫西林", RegNo: "兽药字(2020)150012345", Dose: "10 mg/kg", UsedAt: daysAgo(30), IntervalDays: 14},
				{Kind: "feed", Name: "豆粕", UsedAt: daysAgo(5)},
			},
			Operations: []trace.Operation{{Kind: "vaccination", Description: "口蹄疫", At: daysAgo(20)}, {Kind: "weighing", At: daysAgo(40)}}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetBatch(ctx, w.farmActor, pigs.TraceCode)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "CreateBatch", pigs, got)

		apples, err := s.CreateBatch(ctx, w.farmActor, trace.NewBatch{ProductCode: "apple", Quantity: 100.5, ProducedAt: daysAgo(1)})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetBatch(ctx, w.farmActor, apples.TraceCode)
		same(t, "CreateBatch (plain)", apples, got)

		read := func(code string) trace.Transfer {
			t.Helper()
			tr, err := s.GetTransfer(ctx, w.farmActor, code)
			if err != nil {
				t.Fatal(err)
			}
			return tr
		}
		sale, err := s.Sell(ctx, w.farmActor, trace.SaleInput{FromCode: apples.TraceCode, Quantity: 40, BuyerOperatorCode: w.coop.Code})
		if err != nil {
			t.Fatal(err)
		}
		same(t, "Sell", sale, read(sale.TraceCode))
		conf, err := s.Confirm(ctx, w.coopActor, sale.TraceCode, trace.ConfirmInput{ReceivedQuantity: 39.5})
		if err != nil {
			t.Fatal(err)
		}
		same(t, "Confirm", conf, read(sale.TraceCode))

		sale2, err := s.Sell(ctx, w.farmActor, trace.SaleInput{FromCode: apples.TraceCode, Quantity: 10, BuyerOperatorCode: w.coop.Code, ShippedAt: daysAgo(1)})
		if err != nil {
			t.Fatal(err)
		}
		rej, err := s.Reject(ctx, w.coopActor, sale2.TraceCode, " 货不对板 ")
		if err != nil {
			t.Fatal(err)
		}
		same(t, "Reject", rej, read(sale2.TraceCode))

		me, err := s.Sell(ctx, w.farmActor, trace.SaleInput{FromCode: apples.TraceCode, Quantity: 20,
			Market: &trace.Market{Name: "栖霞市城区农贸市场", Kind: "retail", RegionCode: "370686"}})
		if err != nil {
			t.Fatal(err)
		}
		same(t, "Sell (market)", me, read(me.TraceCode))
		acc, err := s.Accept(ctx, w.marketActor, me.TraceCode)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "Accept", acc, read(me.TraceCode))

		// The recall walk (edges first, then node details by key) gives
		// every node once at its depth and each edge in the unit of its target.
		if _, err := s.Split(ctx, w.coopActor, sale.TraceCode, trace.SplitInput{Parts: []float64{20, 19.5}}); err != nil {
			t.Fatal(err)
		}
		g, err := s.Trace(ctx, w.supActor, apples.TraceCode, "down", 0)
		if err != nil {
			t.Fatal(err)
		}
		depth := map[string]int{}
		for _, n := range g.Nodes {
			if _, dup := depth[n.Code]; dup {
				t.Fatalf("node %s twice", n.Code)
			}
			depth[n.Code] = n.Depth
			if n.ProductName == "" || n.OperatorName == "" {
				t.Fatalf("node without details: %+v", n)
			}
		}
		if len(g.Nodes) != 6 || len(g.Edges) != 5 || depth[apples.TraceCode] != 0 || depth[sale.TraceCode] != 1 || depth[me.TraceCode] != 1 {
			t.Fatalf("recall graph: %+v", g)
		}
		for _, e := range g.Edges {
			if e.Unit != "kg" || depth[e.To] != depth[e.From]+1 {
				t.Fatalf("edge %+v", e)
			}
		}
		up, err := s.Trace(ctx, w.supActor, me.TraceCode, "both", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(up.Nodes) != 2 || len(up.Edges) != 1 || up.Nodes[0].Depth != -1 || up.Nodes[0].Code != apples.TraceCode {
			t.Fatalf("trace up: %+v", up)
		}
	})
}

// TestConcurrentImportsDoNotDeadlock: two imports that issue codes in two
// counties in opposite orders both commit (PostgreSQL: imports queue on one
// lock instead of deadlocking on code_sequences rows; SQLite: writers are
// serialised).
func TestConcurrentImportsDoNotDeadlock(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		ctx := context.Background()
		owner, err := a.Auth.GetUser(ctx, w.far.OwnerUserID)
		if err != nil {
			t.Fatal(err)
		}
		farActor := apptest.ActorOf(owner)
		in := trace.NewBatch{ProductCode: "apple", Quantity: 10, ProducedAt: daysAgo(1)}
		run := func(first, second *auth.Actor) error {
			return a.Trace.Import(ctx, func(im *trace.Importer) error {
				if _, err := im.CreateBatch(first, in); err != nil {
					return err
				}
				// let the other import take its first county, if it can
				time.Sleep(300 * time.Millisecond)
				_, err := im.CreateBatch(second, in)
				return err
			})
		}
		errs := make(chan error, 2)
		go func() { errs <- run(w.farmActor, farActor) }()
		go func() { errs <- run(farActor, w.farmActor) }()
		for i := 0; i < 2; i++ {
			if err := <-errs; err != nil {
				t.Fatalf("import: %v", err)
			}
		}
		if n := count(t, a, "trace_codes"); n != 4 {
			t.Fatalf("%d codes, want 4", n)
		}
	})
}
