package exchange_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/exchange"
	"agtrace/internal/monitoring"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// TestCrossProvinceSale: a farm on province node A sells to a trader
// registered on province node B. A asks the national node who the buyer
// is; the national node routes the sale to B, where the trader confirms
// part of it; the answer flows back to A. The code then lives on B (its
// onward sale reaches the national node from B), a rejected sale returns
// the goods to A's farm, and nothing is written twice.
func TestCrossProvinceSale(t *testing.T) {
	url := natsURL(t)
	for _, engine := range apptest.Engines() {
		t.Run(engine, func(t *testing.T) { testCrossProvinceSale(t, engine, url) })
	}
}

func testCrossProvinceSale(t *testing.T, engine, url string) {
	ctx := context.Background()
	stream := testStream(t, url)
	pa := newProvince(t, engine, "370686", "371082")
	pb := newProvince(t, engine, "440304", "440305")
	nat := apptest.NewApp(t, engine)
	cfg := func(role exchange.Role, id string) exchange.Config {
		return exchange.Config{Role: role, NodeID: id, NATSURL: url, Stream: stream, NodeRegions: map[string][]string{"pa": {"37"}, "pb": {"44"}}}
	}
	startNode(t, nat, cfg(exchange.RoleNational, "national"))
	startNode(t, pa.a, cfg(exchange.RoleProvince, "pa"))
	startNode(t, pb.a, cfg(exchange.RoleProvince, "pb"))
	eventually(t, 30*time.Second, "B's trader known at national", func() (bool, string) {
		return count(t, nat.DB, `SELECT COUNT(*) FROM operators WHERE code = $1`, pb.trCode) == 1, ""
	})
	stock := func(db *platform.DB, code string) int64 {
		return count(t, db, `SELECT COALESCE(SUM(delta_milli), 0) FROM stock_moves WHERE code = $1`, code)
	}
	status := func(db *platform.DB, code string) string {
		var s string
		if err := db.QueryRow(ctx, `SELECT status FROM transfers WHERE code = $1`, code).Scan(&s); err != nil {
			return "(" + err.Error() + ")"
		}
		return s
	}
	src := pa.split[1] // 300 kg held by A's farm
	before := stock(pa.a.DB, src)

	// A sells to B's trader: the buyer is named from the national node
	t0 := time.Now()
	sale, err := pa.a.Trace.Sell(ctx, pa.farm, trace.SaleInput{FromCode: src, Quantity: 100, BuyerOperatorCode: pb.trCode})
	if err != nil {
		t.Fatal(err)
	}
	if sale.Buyer == nil || sale.Buyer.Code != pb.trCode || sale.Status != trace.TransferPending {
		t.Fatalf("A's sale: %+v", sale)
	}
	if got := count(t, pa.a.DB, `SELECT COUNT(*) FROM operators WHERE code = $1 AND status = 'external'`, pb.trCode); got != 1 {
		t.Fatalf("A keeps %d reference copies of B's trader", got)
	}
	// routed to B: a pending incoming sale for B's trader
	eventually(t, 20*time.Second, "sale routed to B", func() (bool, string) {
		s := status(pb.a.DB, sale.TraceCode)
		return s == trace.TransferPending, s
	})
	t.Logf("sale on A (buyer looked up at national) to pending on B: %v", time.Since(t0).Round(time.Millisecond))
	incoming, err := pb.a.Trace.GetTransfer(ctx, pb.trader, sale.TraceCode)
	if err != nil {
		t.Fatalf("B's trader cannot see the incoming sale: %v", err)
	}
	if incoming.Seller.Code != pa.farmCode || incoming.Quantity != 100 {
		t.Fatalf("the incoming sale on B: %+v", incoming)
	}
	// B's trader confirms 90 kg; the answer reaches A and the national node
	t1 := time.Now()
	if _, err := pb.a.Trace.Confirm(ctx, pb.trader, sale.TraceCode, trace.ConfirmInput{ReceivedQuantity: 90}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "answer back on A", func() (bool, string) {
		s := status(pa.a.DB, sale.TraceCode)
		return s == trace.TransferConfirmed, s
	})
	t.Logf("confirmation on B to confirmed on A: %v", time.Since(t1).Round(time.Millisecond))
	if got := count(t, pa.a.DB, `SELECT received_milli FROM transfers WHERE code = $1`, sale.TraceCode); got != 90000 {
		t.Fatalf("A records %d received", got)
	}
	if got := stock(pa.a.DB, src); got != before-100000 {
		t.Fatalf("A's farm stock %d, want %d", got, before-100000)
	}
	eventually(t, 20*time.Second, "answer at national, code handed to B", func() (bool, string) {
		var node string
		_ = nat.DB.QueryRow(ctx, `SELECT node FROM exchange_records WHERE kind = 'trace_code' AND record_key = $1`, sale.TraceCode).Scan(&node)
		s := status(nat.DB, sale.TraceCode)
		return s == trace.TransferConfirmed && node == "pb" && stock(nat.DB, sale.TraceCode) == 90000, s + " " + node
	})

	// B's trader sells on: the onward sale reaches the national node from B,
	// and the graph runs from A's farm to B's farm there
	on, err := pb.a.Trace.Sell(ctx, pb.trader, trace.SaleInput{FromCode: sale.TraceCode, Quantity: 50, BuyerOperatorCode: pb.farmCode})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "onward sale at national", func() (bool, string) {
		return count(t, nat.DB, `SELECT COUNT(*) FROM transfers WHERE code = $1`, on.TraceCode) == 1 && stock(nat.DB, sale.TraceCode) == 40000,
			fmt.Sprint(stock(nat.DB, sale.TraceCode))
	})
	g, err := nat.Trace.Trace(ctx, auth.System(), pa.batch, "down", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !hasNode(g, sale.TraceCode) || !hasNode(g, on.TraceCode) {
		t.Fatalf("downstream of A's batch at national lacks the cross-province sale or B's onward sale: %+v", g.Nodes)
	}
	up, err := pb.a.Trace.Trace(ctx, auth.System(), on.TraceCode, "up", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !hasNode(up, src) {
		t.Fatalf("on B, upstream of the onward sale does not reach A's batch: %+v", up.Nodes)
	}

	// a rejected sale: the goods return to A's farm, on A and at national
	rej, err := pa.a.Trace.Sell(ctx, pa.farm, trace.SaleInput{FromCode: src, Quantity: 20, BuyerOperatorCode: pb.trCode})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "second sale routed", func() (bool, string) { s := status(pb.a.DB, rej.TraceCode); return s == "pending", s })
	if _, err := pb.a.Trace.Reject(ctx, pb.trader, rej.TraceCode, "货品不符"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "rejection back on A and at national", func() (bool, string) {
		a, n := status(pa.a.DB, rej.TraceCode), status(nat.DB, rej.TraceCode)
		return a == trace.TransferRejected && n == trace.TransferRejected && stock(pa.a.DB, src) == before-100000 && stock(nat.DB, src) == before-100000,
			fmt.Sprintf("A %s, national %s, stock A %d national %d", a, n, stock(pa.a.DB, src), stock(nat.DB, src))
	})

	// a sale to another province cannot be withdrawn (the buyer answers it)
	w, err := pa.a.Trace.Sell(ctx, pa.farm, trace.SaleInput{FromCode: src, Quantity: 10, BuyerOperatorCode: pb.trCode})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pa.a.Trace.WithdrawTransfer(ctx, pa.farm, w.TraceCode, "发错"); platform.KindOf(err) != platform.KindConflict {
		t.Fatalf("withdrawing a cross-province sale: %v, want a conflict", err)
	}
	// a well-formed code no node registered: unknown, nothing written
	ghost, _ := codes.NewOperatorCode(codes.OperatorCategory(1), "440304", 99999)
	if _, err := pa.a.Trace.Sell(ctx, pa.farm, trace.SaleInput{FromCode: src, Quantity: 1, BuyerOperatorCode: ghost}); !hasField(err, "buyer_operator_code") {
		t.Fatalf("a sale to an unknown code: %v", err)
	}

	// every route once, every transfer once, on each node; ledgers verify
	eventually(t, 20*time.Second, "third sale routed", func() (bool, string) { s := status(pb.a.DB, w.TraceCode); return s == "pending", s })
	checkNationalRecall(t, nat, pa, pb, src, sale.TraceCode, on.TraceCode, rej.TraceCode, w.TraceCode)
	if got := count(t, nat.DB, `SELECT COUNT(*) FROM exchange_routes`); got != 5 { // 3 sales, 2 answers
		t.Fatalf("%d routes at national, want 5", got)
	}
	for _, code := range []string{sale.TraceCode, rej.TraceCode, w.TraceCode} {
		for name, db := range map[string]*platform.DB{"A": pa.a.DB, "B": pb.a.DB, "national": nat.DB} {
			if got := count(t, db, `SELECT COUNT(*) FROM transfers WHERE code = $1`, code); got != 1 {
				t.Errorf("%s has %d transfers %s", name, got, code)
			}
		}
	}
	for _, p := range []*province{pa, pb} {
		if rep, err := p.a.Ledger.Verify(ctx, nil); err != nil || !rep.OK() {
			t.Fatalf("a province's ledger: %v %+v", err, rep.Problems)
		}
	}
	if rep, err := nat.Ledger.Verify(ctx, nil); err != nil || !rep.OK() {
		t.Fatalf("the national ledger: %v %+v", err, rep.Problems)
	}
	if n := count(t, nat.DB, `SELECT COUNT(*) FROM exchange_parked`) + count(t, pa.a.DB, `SELECT COUNT(*) FROM exchange_parked`) +
		count(t, pb.a.DB, `SELECT COUNT(*) FROM exchange_parked`); n != 0 {
		t.Fatalf("%d messages parked", n)
	}
}

// hasField reports whether err is a refusal naming field.
func hasField(err error, field string) bool {
	pe, ok := err.(*platform.Error)
	if !ok {
		return false
	}
	for _, f := range pe.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// checkNationalRecall: a sample taken at the national node of A's batch
// fails; the recall it opens holds the batches downstream on A and on B
// (each node those its operators hold), B cannot sell the goods on nor
// decide the recall, the holders record on their nodes what became of the
// goods, and the national node, with every batch accounted for, closes
// the recall on every node.
func checkNationalRecall(t *testing.T, nat *app.App, pa, pb *province, src, sale, on, rej, pending string) {
	t.Helper()
	ctx := context.Background()
	nat.Monitoring.SetRecallPrefix("GJ") // as app.Open does for a national node
	x, err := nat.Monitoring.RecordSample(ctx, auth.System(), monitoring.SampleInput{OperatorCode: pa.farmCode, BatchCode: src, SampleNo: "GJ-CHK-001",
		SampledAt: nat.Trace.Today(), Kind: "lab", Items: []monitoring.SampleItemInput{{Substance: "chlorpyrifos", Value: ptr(5.0), Unit: "mg/kg"}}})
	if err != nil {
		t.Fatal(err)
	}
	if x.Recall == nil || !strings.HasPrefix(x.Recall.Number, "ZH-GJ-") {
		t.Fatalf("the national sample: %+v", x)
	}
	number := x.Recall.Number
	heldBy := func(db *platform.DB, code string) string {
		var n sql.NullString
		_ = db.QueryRow(ctx, `SELECT r.number FROM trace_codes c JOIN recalls r ON r.id = c.held_recall WHERE c.code = $1`, code).Scan(&n)
		return n.String
	}
	want := map[*province][]string{pa: {src}, pb: {sale, on, rej, pending}}
	for p, codes := range want {
		eventually(t, 20*time.Second, "the recall holds the batches on "+p.farmCode[:3], func() (bool, string) {
			for _, c := range codes {
				if heldBy(p.a.DB, c) != number {
					return false, c + " not held"
				}
			}
			return true, ""
		})
	}
	if n := count(t, pa.a.DB, `SELECT COUNT(*) FROM recall_batches rb JOIN recalls r ON r.id = rb.recall_id WHERE r.number = $1`, number); n != 1 {
		t.Fatalf("A's copy lists %d batches, want its one", n)
	}
	// B's goods are held: no onward sale; B's supervisors cannot decide it
	if _, err := pb.a.Trace.Sell(ctx, pb.farm, trace.SaleInput{FromCode: on, Quantity: 1, BuyerOperatorCode: pb.trCode}); platform.KindOf(err) != platform.KindConflict {
		t.Fatalf("selling held goods on B: %v", err)
	}
	var bid int64
	if err := pb.a.DB.QueryRow(ctx, `SELECT id FROM recalls WHERE number = $1`, number).Scan(&bid); err != nil {
		t.Fatal(err)
	}
	if _, err := pb.a.Monitoring.Release(ctx, auth.System(), bid, "本地解除"); platform.KindOf(err) != platform.KindConflict {
		t.Fatalf("releasing a national recall on B: %v", err)
	}
	// B's supervisor sees the copy, says who decides it, and gets no decision buttons
	if _, err := pb.a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "sup-440304", Password: apptest.OperatorPassword, Name: "监管员",
		Role: string(auth.RoleSupervisor), RegionCode: "440304"}); err != nil {
		t.Fatal(err)
	}
	page := pageAs(t, apptest.Server(t, pb.a), "sup-440304", fmt.Sprintf("/recalls/%d", bid))
	if !strings.Contains(page, `id="recall-national"`) || strings.Contains(page, `id="recall-decide"`) || !strings.Contains(page, number) {
		t.Fatalf("B's recall page: national note %v, decision form %v", strings.Contains(page, `id="recall-national"`), strings.Contains(page, `id="recall-decide"`))
	}
	// confirmed at national: the copies follow
	if _, err := nat.Monitoring.Confirm(ctx, auth.System(), x.Recall.ID); err != nil {
		t.Fatal(err)
	}
	status := func(db *platform.DB) string {
		var s string
		_ = db.QueryRow(ctx, `SELECT status FROM recalls WHERE number = $1`, number).Scan(&s)
		return s
	}
	eventually(t, 20*time.Second, "the copies confirmed", func() (bool, string) {
		return status(pa.a.DB) == "confirmed" && status(pb.a.DB) == "confirmed", status(pa.a.DB) + " " + status(pb.a.DB)
	})
	// the holders account for their batches on their own nodes
	dispose := func(p *province, who *auth.Actor, code string) {
		t.Helper()
		if _, err := p.a.Monitoring.Dispose(ctx, who, code, monitoring.DispositionInput{Action: monitoring.DispDestroyed}); err != nil {
			t.Fatalf("dispose %s: %v", code, err)
		}
	}
	dispose(pa, pa.farm, src)
	dispose(pb, pb.trader, sale)
	dispose(pb, pb.trader, rej)
	dispose(pb, pb.trader, pending)
	if status(pb.a.DB) != "confirmed" {
		t.Fatalf("B closed the national recall itself: %s", status(pb.a.DB))
	}
	dispose(pb, pb.farm, on)
	eventually(t, 30*time.Second, "closed at national and on both provinces", func() (bool, string) {
		accounted := count(t, nat.DB, `SELECT COUNT(*) FROM recall_batches WHERE recall_id = $1 AND disposition <> ''`, x.Recall.ID)
		return status(nat.DB) == "closed" && status(pa.a.DB) == "closed" && status(pb.a.DB) == "closed",
			fmt.Sprintf("national %s (%d accounted), A %s, B %s", status(nat.DB), accounted, status(pa.a.DB), status(pb.a.DB))
	})
	if n := count(t, pb.a.DB, `SELECT COUNT(*) FROM findings WHERE kind = 'recall_hold' AND code = $1`, number); n == 0 {
		t.Fatalf("B's supervisors were not alerted")
	}
}

func ptr[T any](v T) *T { return &v }

// pageAs logs in to the web interface of srv and returns the page at path.
func pageAs(t *testing.T, srv *httptest.Server, user, path string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(srv.URL+"/login", url.Values{"username": {user}, "password": {apptest.OperatorPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	return string(b)
}
