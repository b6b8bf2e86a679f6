package exchange_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/exchange"
	"agtrace/internal/monitoring"
	"agtrace/internal/supervision"
	"agtrace/internal/trace"
)

// province is a province node's records made through the services.
type province struct {
	a                *app.App
	farm, trader     *auth.Actor
	farmCode, trCode string
	batch, sold      string // codes
	split            []string
}

// newProvince records, on a fresh node in county, a farm's batch with a
// certificate, a sale to a trader of the same province (confirmed) and a
// split of the rest.
func newProvince(t *testing.T, engine, county, other string) *province {
	t.Helper()
	ctx := context.Background()
	p := &province{a: apptest.NewApp(t, engine)}
	farm, fu, _ := apptest.ApprovedOperator(t, p.a, apptest.OperatorSpec{Name: "绿源苹果专业合作社 " + county, Kind: "cooperative", RegionCode: county})
	tr, tu, _ := apptest.ApprovedOperator(t, p.a, apptest.OperatorSpec{Name: "鲜果商贸有限公司 " + other, Category: "trader", RegionCode: other})
	p.farm, p.trader, p.farmCode, p.trCode = actorOf(t, p.a, fu), actorOf(t, p.a, tu), farm.Code, tr.Code
	today := p.a.Trace.Today()
	b, err := p.a.Trace.CreateBatch(ctx, p.farm, trace.NewBatch{ProductCode: "apple", Quantity: 1000, Unit: "kg", ProducedAt: today, Origin: "试验基地",
		Inputs: []trace.InputUse{{Kind: "fertiliser", Name: "有机肥", UsedAt: today}}})
	if err != nil {
		t.Fatal(err)
	}
	p.batch = b.TraceCode
	if _, err := p.a.Trace.IssueCertificate(ctx, p.farm, p.batch, trace.CertificateInput{Basis: "control", Quantity: 1000}); err != nil {
		t.Fatal(err)
	}
	s, err := p.a.Trace.Sell(ctx, p.farm, trace.SaleInput{FromCode: p.batch, Quantity: 300, BuyerOperatorCode: tr.Code})
	if err != nil {
		t.Fatal(err)
	}
	p.sold = s.TraceCode
	if _, err := p.a.Trace.Confirm(ctx, p.trader, p.sold, trace.ConfirmInput{ReceivedQuantity: 300}); err != nil {
		t.Fatal(err)
	}
	res, err := p.a.Trace.Split(ctx, p.farm, p.batch, trace.SplitInput{Parts: []float64{400, 300}})
	if err != nil {
		t.Fatal(err)
	}
	p.split = res.Codes
	// the county's oversight: an inspection of the farm and a sampling test of its batch
	staff := func(name string, role auth.Role) *auth.Actor {
		u, err := p.a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: name + "-" + county, Password: apptest.OperatorPassword, Name: name,
			Role: string(role), RegionCode: county})
		if err != nil {
			t.Fatal(err)
		}
		return apptest.ActorOf(u)
	}
	if _, err := p.a.Supervision.RecordInspection(ctx, staff("inspector", auth.RoleInspector), supervision.InspectionInput{OperatorCode: farm.Code,
		Kind: "site", BatchCodes: []string{p.batch}, Result: "pass", Notes: "台账齐全"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.a.Monitoring.RecordSample(ctx, staff("tester", auth.RoleTester), monitoring.SampleInput{OperatorCode: farm.Code, BatchCode: p.batch,
		SampleNo: "CJ-" + county + "-001", SampledAt: today, Kind: "lab", Items: []monitoring.SampleItemInput{{Substance: "chlorpyrifos", Value: ptr(0.01), Unit: "mg/kg"}}}); err != nil {
		t.Fatal(err)
	}
	return p
}

// replicated are the tables a province's records land in, with the
// condition that picks the province's rows at the national node.
var replicated = []string{"trace_codes", "stock_moves", "trace_edges", "transfers", "certificates", "batch_inputs", "transformations",
	"inspections", "inspection_batches", "samples", "sample_items"}

// TestProvincesToNational: two province nodes relay their records over a
// real JetStream stream and the national node applies them: every record
// once, the same stock, one graph across the provinces (a batch on B that
// names A's code), replays changing nothing, a relay crash between publish
// and mark publishing nothing twice.
func TestProvincesToNational(t *testing.T) {
	url := natsURL(t)
	for _, engine := range apptest.Engines() {
		t.Run(engine, func(t *testing.T) { testProvincesToNational(t, engine, url) })
	}
}

func testProvincesToNational(t *testing.T, engine, url string) {
	ctx := context.Background()
	stream := testStream(t, url)
	pa := newProvince(t, engine, "370686", "371082")
	pb := newProvince(t, engine, "440304", "440305")
	nat := apptest.NewApp(t, engine)
	if _, err := nat.Insight.Update(ctx); err != nil { // the dashboards' first run: from here on incremental
		t.Fatal(err)
	}
	// B continues A's batch: goods bought in 山东 recorded in 广东 with A's code
	y, err := pb.a.Trace.CreateBatch(ctx, pb.farm, trace.NewBatch{ProductCode: "apple", Quantity: 200, Unit: "kg", ProducedAt: pb.a.Trace.Today(), Origin: "山东栖霞"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pb.a.Trace.AddAlias(ctx, pb.farm, y.TraceCode, "provincial", pa.split[0]); err != nil {
		t.Fatal(err)
	}
	cfg := func(role exchange.Role, id string) exchange.Config {
		return exchange.Config{Role: role, NodeID: id, NATSURL: url, Stream: stream, NodeRegions: map[string][]string{"pa": {"37"}, "pb": {"44"}}}
	}
	natNode := startNode(t, nat, cfg(exchange.RoleNational, "national"))
	startNode(t, pa.a, cfg(exchange.RoleProvince, "pa"))
	startNode(t, pb.a, cfg(exchange.RoleProvince, "pb"))
	synced := func() (bool, string) {
		want := count(t, pa.a.DB, `SELECT COUNT(*) FROM trace_codes`) + count(t, pb.a.DB, `SELECT COUNT(*) FROM trace_codes`)
		got := count(t, nat.DB, `SELECT COUNT(*) FROM trace_codes`)
		pending := count(t, pa.a.DB, `SELECT COUNT(*) FROM outbox WHERE published_at IS NULL`) + count(t, pb.a.DB, `SELECT COUNT(*) FROM outbox WHERE published_at IS NULL`)
		st, _ := natNode.Status(ctx, auth.System())
		lag := uint64(1)
		if st.Consumer != nil && st.State != nil {
			lag = st.Consumer.LagMessages
		}
		return got == want && pending == 0 && lag == 0, fmt.Sprintf("codes %d/%d, unpublished %d, consumer lag %d", got, want, pending, lag)
	}
	eventually(t, 30*time.Second, "national node caught up", synced)
	checkSame(t, nat, pa, pb)
	checkDashboards(t, nat)
	if rep, err := nat.Ledger.Verify(ctx, nil); err != nil || !rep.OK() {
		t.Fatalf("the national node's ledger after the apply: %v %+v", err, rep.Problems)
	}

	// one graph across the provinces, both ways
	g, err := nat.Trace.Trace(ctx, auth.System(), pa.batch, "down", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !hasNode(g, y.TraceCode) || !hasNode(g, pa.sold) {
		t.Fatalf("downstream of A's batch at national lacks B's continuation %s or A's sale: %+v", y.TraceCode, g.Nodes)
	}
	up, err := nat.Trace.Trace(ctx, auth.System(), y.TraceCode, "up", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !hasNode(up, pa.batch) {
		t.Fatalf("upstream of B's batch at national does not reach A's batch: %+v", up.Nodes)
	}
	if got := count(t, pb.a.DB, `SELECT COUNT(*) FROM trace_edges WHERE to_code = $1`, y.TraceCode); got != 0 {
		t.Fatalf("B's own records changed: %d edges into its batch", got)
	}

	// live: a record written now arrives
	b2, err := pa.a.Trace.CreateBatch(ctx, pa.farm, trace.NewBatch{ProductCode: "apple", Quantity: 5, Unit: "kg", ProducedAt: pa.a.Trace.Today(), Origin: "试验基地"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "live batch at national", func() (bool, string) {
		return count(t, nat.DB, `SELECT COUNT(*) FROM trace_codes WHERE code = $1`, b2.TraceCode) == 1, ""
	})
	applied := count(t, nat.DB, `SELECT COUNT(*) FROM exchange_applied`)

	// a relay crash between the acknowledgement and the mark: the rows are
	// published again and JetStream drops them as duplicates
	js := jsOf(t, url)
	before := streamLast(t, js, stream)
	if _, err := pa.a.DB.Exec(ctx, `UPDATE outbox SET published_at = NULL`); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "re-published", func() (bool, string) {
		n := count(t, pa.a.DB, `SELECT COUNT(*) FROM outbox WHERE published_at IS NULL`)
		return n == 0, fmt.Sprintf("%d unpublished", n)
	})
	if after := streamLast(t, js, stream); after != before {
		t.Fatalf("stream grew from %d to %d: re-published rows were not de-duplicated", before, after)
	}

	// a replay past the de-duplication window (same bodies, new message ids)
	// is applied as duplicates: nothing changes
	replay(t, js, stream)
	eventually(t, 30*time.Second, "replay consumed", synced)
	if got := count(t, nat.DB, `SELECT COUNT(*) FROM exchange_applied`); got != applied {
		t.Fatalf("replay applied %d messages again", got-applied)
	}
	checkSame(t, nat, pa, pb)

	// a sample number province A already used, on B: refused at national
	// (parked with the field named), never merged into A's sample
	if _, err := pb.a.Monitoring.RecordSample(ctx, actorOf(t, pb.a, "tester-440304"), monitoring.SampleInput{OperatorCode: pb.farmCode,
		BatchCode: pb.batch, SampleNo: "CJ-370686-001", SampledAt: pb.a.Trace.Today(), Kind: "quick",
		Items: []monitoring.SampleItemInput{{Substance: "chlorpyrifos", Result: "negative"}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the clashing sample parked", func() (bool, string) {
		var e string
		_ = nat.DB.QueryRow(ctx, `SELECT error FROM exchange_parked WHERE topic = 'sample.record'`).Scan(&e)
		return strings.Contains(e, "records.samples[0].sample_no"), e
	})
	if n := count(t, nat.DB, `SELECT COUNT(*) FROM samples WHERE sample_no = 'CJ-370686-001'`); n != 1 {
		t.Fatalf("%d samples under A's number at national", n)
	}
}

// checkSame compares the national node's rows of each province with the
// province's own: the same number of each record, the same stock per code.
func checkSame(t *testing.T, nat *app.App, provs ...*province) {
	t.Helper()
	for _, table := range replicated {
		var want int64
		for _, p := range provs {
			want += count(t, p.a.DB, `SELECT COUNT(*) FROM `+table)
		}
		got := count(t, nat.DB, `SELECT COUNT(*) FROM `+table)
		extra := int64(0)
		if table == "trace_edges" { // the cross-province links exist only at national
			extra = count(t, nat.DB, `SELECT COUNT(*) FROM exchange_links WHERE linked_at IS NOT NULL`)
		}
		if got != want+extra {
			t.Errorf("%s: national has %d rows, provinces %d (+%d links)", table, got, want, extra)
		}
	}
	for _, p := range provs {
		for _, code := range append([]string{p.batch, p.sold}, p.split...) {
			q := `SELECT COALESCE(SUM(delta_milli), 0) FROM stock_moves WHERE code = $1`
			if a, b := count(t, p.a.DB, q, code), count(t, nat.DB, q, code); a != b {
				t.Errorf("stock of %s: province %d, national %d", code, a, b)
			}
		}
		q := `SELECT COUNT(*) FROM operators WHERE code = $1 AND status = 'approved'`
		if count(t, nat.DB, q, p.farmCode) != 1 || count(t, nat.DB, q, p.trCode) != 1 {
			t.Errorf("operators %s, %s not at national", p.farmCode, p.trCode)
		}
	}
	if n := count(t, nat.DB, `SELECT COUNT(*) FROM operators WHERE id_number_enc <> '' OR phone_enc <> ''`); n != 0 {
		t.Errorf("%d operators at national carry a province's ciphertext", n)
	}
}

// checkDashboards: the dashboards' incremental job reaches the applied
// records (through the apply's audit row): its figures equal a rebuild's,
// and they count the provinces' batches.
func checkDashboards(t *testing.T, nat *app.App) {
	t.Helper()
	ctx := context.Background()
	rows := func() map[string]int64 {
		rs, err := nat.DB.Query(ctx, `SELECT figure, region_code, day, product_code, key, sub, value FROM stat_daily`)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		m := map[string]int64{}
		for rs.Next() {
			var f, r, d, p, k, sub string
			var v int64
			if err := rs.Scan(&f, &r, &d, &p, &k, &sub, &v); err != nil {
				t.Fatal(err)
			}
			m[f+"|"+r+"|"+d+"|"+p+"|"+k+"|"+sub] = v
		}
		return m
	}
	if rep, err := nat.Insight.Update(ctx); err != nil || rep.Rebuilt {
		t.Fatalf("incremental run: %+v %v", rep, err)
	}
	inc := rows()
	if _, err := nat.Insight.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	full := rows()
	for k, v := range full {
		if inc[k] != v {
			t.Errorf("dashboards: %s is %d after a rebuild, %d incrementally", k, v, inc[k])
		}
	}
	var batches int64
	for k, v := range full {
		if strings.HasPrefix(k, "batches|37") || strings.HasPrefix(k, "batches|44") {
			batches += v
		}
	}
	if want := count(t, nat.DB, `SELECT COUNT(*) FROM trace_codes`); batches != want {
		t.Errorf("dashboards count %d codes of the provinces, the national node holds %d", batches, want)
	}
}

func hasNode(g trace.Graph, code string) bool {
	return slices.ContainsFunc(g.Nodes, func(n trace.Node) bool { return n.Code == code })
}

func streamLast(t *testing.T, js jetstream.JetStream, stream string) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.LastSeq
}

// replay publishes every message of the stream again under new message
// ids, as a relay would after a crash longer than the de-duplication window.
func replay(t *testing.T, js jetstream.JetStream, stream string) {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	last := streamLast(t, js, stream)
	for seq := uint64(1); seq <= last; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: m.Subject, Data: m.Data}, jetstream.WithMsgID(fmt.Sprintf("replay:%d", seq))); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEmbeddedServer: a province node without --nats runs its own NATS
// server with JetStream (store under its data directory); a national node
// pointed at it applies the province's records. No outside NATS needed.
func TestEmbeddedServer(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, nat *app.App) {
		ctx := context.Background()
		prov := apptest.NewApp(t, "sqlite")
		farm, fu, _ := apptest.ApprovedOperator(t, prov, apptest.OperatorSpec{Name: "嵌入式测试合作社", Kind: "cooperative", RegionCode: "510131"})
		b, err := prov.Trace.CreateBatch(ctx, actorOf(t, prov, fu), trace.NewBatch{ProductCode: "apple", Quantity: 12, Unit: "kg",
			ProducedAt: prov.Trace.Today(), Origin: "蒲江"})
		if err != nil {
			t.Fatal(err)
		}
		pn := startNode(t, prov, exchange.Config{Role: exchange.RoleProvince, NodeID: "p51", Listen: "127.0.0.1:-1", DataDir: t.TempDir()})
		var url string
		eventually(t, 10*time.Second, "embedded server up", func() (bool, string) {
			st, err := pn.Status(ctx, auth.System())
			url = st.NATS
			return err == nil && st.Connected && st.Embedded, fmt.Sprint(st, err)
		})
		startNode(t, nat, exchange.Config{Role: exchange.RoleNational, NodeID: "national", NATSURL: url})
		eventually(t, 20*time.Second, "the province's batch at national", func() (bool, string) {
			return count(t, nat.DB, `SELECT COUNT(*) FROM trace_codes WHERE code = $1`, b.TraceCode) == 1 &&
				count(t, nat.DB, `SELECT COUNT(*) FROM operators WHERE code = $1`, farm.Code) == 1, ""
		})
	})
}
