package port_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/exchange/port"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

const (
	home = "370686" // 栖霞市: the exported region
	far  = "440981" // 高州市: another province
	pw   = "port-pass-2026"
)

func daysAgo(n int) string { return platform.Today(time.Now().AddDate(0, 0, -n)) }

// seeded is the region a test exports: its operators and some of its codes.
type seeded struct {
	farm, trader, pigFarm, slaughter, farOp operator.Operator
	farmA, traderA, pigA, slaughterA, farA  *auth.Actor
	apple1, apple2, merged, sold, pigs      string
}

func actorOf(t *testing.T, a *app.App, username string) *auth.Actor {
	t.Helper()
	u, err := a.Auth.GetUserByName(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	return apptest.ActorOf(u)
}

// must returns v, or panics on err (seeding that fails is a broken test).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// seedRegion records, through the services, a small but complete slice of
// 栖霞: four operators, batches with extension fields, inputs and
// operations, a merge, sales with every answer (confirmed with a shortfall,
// rejected, withdrawn, pending, market accepted, market issued), a split
// of a received lot, a pig chain with a slaughter; and one operator with a
// batch in another province (never exported with 栖霞).
func seedRegion(t *testing.T, a *app.App) *seeded {
	t.Helper()
	ctx := context.Background()
	s := &seeded{}
	var u string
	s.farm, u, _ = apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞绿源苹果专业合作社", Kind: "cooperative", RegionCode: home, Products: []string{"苹果"}})
	s.farmA = actorOf(t, a, u)
	s.trader, u, _ = apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "烟台鲜果商贸有限公司", Category: "trader", RegionCode: home, Products: []string{"苹果", "水果"}})
	s.traderA = actorOf(t, a, u)
	s.pigFarm, u, _ = apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞丰源生猪养殖场", Kind: "family_farm", RegionCode: home, Products: []string{"生猪"}})
	s.pigA = actorOf(t, a, u)
	s.slaughter, u, _ = apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞定点屠宰厂", Kind: "slaughterhouse", Category: "producer_trader", RegionCode: home, Products: []string{"猪肉", "白条"}})
	s.slaughterA = actorOf(t, a, u)
	s.farOp, u, _ = apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "高州荔枝园", RegionCode: far, Products: []string{"荔枝"}})
	s.farA = actorOf(t, a, u)

	tr := a.Trace
	s.apple1 = must(tr.CreateBatch(ctx, s.farmA, trace.NewBatch{ProductCode: "apple", Quantity: 100, Unit: "kg", ProducedAt: daysAgo(10), Origin: "栖霞市蛇窝泊镇3号地",
		Attributes: map[string]any{"variety": "红富士", "storage": "cold", "plot": "3号地"},
		Inputs:     []trace.InputUse{{Kind: "pesticide", Name: "吡虫啉", RegNo: "PD20080001", Dose: "2000倍液", UsedAt: daysAgo(40), IntervalDays: 14}},
		Operations: []trace.Operation{{Kind: "spraying", Description: "统防统治", At: daysAgo(40)}, {Kind: "harvesting", At: daysAgo(10)}}})).TraceCode
	s.apple2 = must(tr.CreateBatch(ctx, s.farmA, trace.NewBatch{ProductCode: "apple", Quantity: 60, Unit: "kg", ProducedAt: daysAgo(9), Origin: "栖霞市蛇窝泊镇5号地",
		Attributes: map[string]any{"variety": "嘎啦"}})).TraceCode
	s.merged = must(tr.Merge(ctx, s.farmA, trace.MergeInput{ProductCode: "apple", ProducedAt: daysAgo(8), Origin: "栖霞市合作社分拣中心",
		Inputs: []trace.InputQty{{Code: s.apple1, Quantity: 20}, {Code: s.apple2, Quantity: 20}}, Attributes: map[string]any{"storage": "ambient"}})).Codes[0]

	sell := func(from string, qty float64, on string, buyer string, m *trace.Market) string {
		t.Helper()
		return must(tr.Sell(ctx, s.farmA, trace.SaleInput{FromCode: from, Quantity: qty, BuyerOperatorCode: buyer, Market: m, ShippedAt: on})).TraceCode
	}
	s.sold = sell(s.apple1, 50, daysAgo(7), s.trader.Code, nil)
	must(tr.Confirm(ctx, s.traderA, s.sold, trace.ConfirmInput{ReceivedQuantity: 49, ReceivedAt: daysAgo(6)}))
	rej := sell(s.apple2, 10, daysAgo(7), s.trader.Code, nil)
	must(tr.Reject(ctx, s.traderA, rej, "货不对板"))
	wd := sell(s.apple2, 5, daysAgo(6), s.trader.Code, nil)
	must(tr.WithdrawTransfer(ctx, s.farmA, wd, "客户取消订单"))
	sell(s.apple2, 5, daysAgo(5), s.trader.Code, nil) // pending
	mkt := &trace.Market{Name: "栖霞市农产品批发市场", Kind: "wholesale", RegionCode: home}
	acc := sell(s.merged, 10, daysAgo(5), "", mkt)
	clerk := must(a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "qixia-clerk", Password: pw, Name: "栖霞市场", Role: "market", RegionCode: home}))
	must(tr.Accept(ctx, apptest.ActorOf(clerk), acc))
	sell(s.merged, 5, daysAgo(4), "", mkt) // issued
	must(tr.Split(ctx, s.traderA, s.sold, trace.SplitInput{Parts: []float64{20, 29}, SplitAt: daysAgo(4)}))

	s.pigs = must(tr.CreateBatch(ctx, s.pigA, trace.NewBatch{ProductCode: "live_pig", Quantity: 3, Unit: "head", ProducedAt: daysAgo(6),
		Attributes: map[string]any{"ear_tags": []any{"137068600000001", "137068600000002", "137068600000003"}, "quarantine_cert": "3706862026000312"}})).TraceCode
	pigSale := must(tr.Sell(ctx, s.pigA, trace.SaleInput{FromCode: s.pigs, Quantity: 3, BuyerOperatorCode: s.slaughter.Code, ShippedAt: daysAgo(5)})).TraceCode
	must(tr.Confirm(ctx, s.slaughterA, pigSale, trace.ConfirmInput{ReceivedQuantity: 3, ReceivedAt: daysAgo(5)}))
	must(tr.Transform(ctx, s.slaughterA, trace.TransformInput{ProducedAt: daysAgo(4), Note: "屠宰",
		Inputs:  []trace.InputQty{{Code: pigSale, Quantity: 3}},
		Outputs: []trace.OutputSpec{{ProductCode: "pork_carcass", Quantity: 231.5, Unit: "kg", Attributes: map[string]any{"slaughter_batch": "TZ-01", "clenbuterol_test": "negative"}}}}))

	must(tr.CreateBatch(ctx, s.farA, trace.NewBatch{ProductCode: "lychee", Quantity: 30, Unit: "kg", ProducedAt: daysAgo(3), Origin: "高州"}))
	return s
}

// admin returns an administrator of a (created once).
func admin(t *testing.T, a *app.App) *auth.Actor {
	t.Helper()
	ctx := context.Background()
	if u, err := a.Auth.GetUserByName(ctx, "port-admin"); err == nil {
		return apptest.ActorOf(u)
	}
	u := must(a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "port-admin", Password: pw, Name: "交换管理员", Role: "admin", RegionCode: "000000"}))
	return apptest.ActorOf(u)
}

// export runs an export to bytes.
func export(t *testing.T, a *app.App, actor *auth.Actor, q port.ExportQuery) []byte {
	t.Helper()
	ex, err := a.Port.Export(context.Background(), actor, q)
	if err != nil {
		t.Fatalf("export %+v: %v", q, err)
	}
	var buf bytes.Buffer
	if err := ex.WriteTo(context.Background(), &buf); err != nil {
		t.Fatalf("export %+v: %v", q, err)
	}
	return buf.Bytes()
}

// importFile imports a file and waits for its job.
func importFile(t *testing.T, a *app.App, actor *auth.Actor, body []byte, mode string) port.Job {
	t.Helper()
	j, err := a.Port.Import(context.Background(), actor, port.ImportInput{Mode: mode, Body: body, FileName: "test"})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if j.Running() {
		a.Port.Wait()
		if j, err = a.Port.Job(context.Background(), actor, j.ID); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

// tables whose row counts an import must (or must not) change.
var tables = []string{"operators", "trace_codes", "stock_moves", "trace_edges", "transfers", "transformations", "batch_inputs", "farming_operations",
	"trace_aliases", "findings", "outbox", "audit_log"}

func counts(t *testing.T, a *app.App) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, tb := range tables {
		var n int
		if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM `+tb).Scan(&n); err != nil {
			t.Fatal(err)
		}
		m[tb] = n
	}
	// the serials issued (code_sequences also holds PostgreSQL's import lock row, bookkeeping)
	var serials int
	if err := a.DB.QueryRow(context.Background(), `SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM code_sequences WHERE name <> 'import'`).Scan(&serials); err != nil {
		t.Fatal(err)
	}
	m["serials"] = serials
	return m
}
