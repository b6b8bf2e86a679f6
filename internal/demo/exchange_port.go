package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"agtrace/internal/codes"
	"agtrace/internal/exchange/port"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// portStep shows the standard import (数据交换): 荣成's provincial platform,
// through its integration account, pushes two operators registered there
// (a turbot farm and a seafood dealer, personal numbers in clear, stored
// encrypted), then their turbot batches — one row names an operator this
// platform does not know and is refused — and sends the batches file again,
// which changes nothing. The jobs are on /admin/exchange/port.
func portStep(ctx context.Context, l *Loader) error {
	var n int
	if err := l.App.DB.QueryRow(ctx, `SELECT COUNT(*) FROM import_jobs`).Scan(&n); err != nil || n > 0 {
		return err // loaded before
	}
	u, err := l.App.Auth.GetUserByName(ctx, "rongcheng-integration")
	if err != nil {
		return fmt.Errorf("demo import: %w", err)
	}
	client := actorOf(u)
	const county = "371082"
	farm, dealer := opCode(codes.Producer, county, 9000001), opCode(codes.Trader, county, 9000002)
	ops := []port.OperatorRow{
		{OperatorCode: farm, Name: "荣成海之源大菱鲆养殖有限公司", Kind: "enterprise", Category: "producer", CreditCode: operator.SampleUSCC("91", county, 9000001),
			IDNumber: operator.SampleResidentID(county, "19750312", 901), LegalRep: "王海", ContactName: "王海", Phone: "13906311234", RegionCode: county,
			Address: "荣成市石岛镇海滨路18号", Products: []string{"大菱鲆"}, Status: "approved"},
		{OperatorCode: dealer, Name: "荣成石岛水产品经销部", Kind: "individual", Category: "trader", IDNumber: operator.SampleResidentID(county, "19820506", 902),
			LegalRep: "李秀梅", ContactName: "李秀梅", Phone: "13563124567", RegionCode: county, Address: "荣成市石岛镇渔港路6号",
			Products: []string{"大菱鲆", "海参"}, Status: "approved"},
	}
	day := func(n int) string { return platform.Today(l.App.Clock.Now().Add(-time.Duration(n) * 24 * time.Hour)) }
	turbot := func(serial int64, op string, kg float64, produced, tank string) port.BatchRow {
		return port.BatchRow{TraceCode: traceCode(county, serial), OperatorCode: op, ProductCode: "turbot", Quantity: kg, Unit: "kg", ProducedAt: produced,
			Origin: "荣成市石岛镇", Attributes: map[string]any{"tank": tank, "harvest_size_g": 600.0}, Inputs: []trace.InputUse{}, Operations: []trace.Operation{}}
	}
	batches := []port.BatchRow{
		turbot(900000001, farm, 1200, day(3), "3号车间"),
		turbot(900000002, farm, 800, day(2), "5号车间"),
		turbot(900000003, opCode(codes.Producer, county, 9000099), 300, day(2), "1号车间"), // an operator not registered here: refused
	}
	for _, f := range []struct {
		kind, mode, name string
		rows             any
	}{
		{port.KindOperators, port.ModeAllOrNothing, "荣成-主体-基础信息.json", ops},
		{port.KindBatches, port.ModeValidRows, "荣成-大菱鲆-生产批次.json", batches},
		{port.KindBatches, port.ModeValidRows, "荣成-大菱鲆-生产批次.json", batches}, // sent again: nothing changes
	} {
		body, err := json.Marshal(map[string]any{"format": port.FormatName, "standard": port.Standard, "kind": f.kind, "region": county, "rows": f.rows})
		if err != nil {
			return err
		}
		if _, err := l.App.Port.Import(ctx, client, port.ImportInput{Kind: f.kind, Mode: f.mode, FileName: f.name, Body: body}); err != nil {
			return fmt.Errorf("demo import %s: %w", f.name, err)
		}
	}
	return nil
}

func opCode(c codes.OperatorCategory, county string, serial int64) string {
	s, _ := codes.NewOperatorCode(c, county, serial)
	return s
}

func traceCode(county string, serial int64) string {
	s, _ := codes.NewTraceCode(codes.Production, county, serial)
	return s
}
