package exchange_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// TestThreeNodes is issue 13's "done when", with real processes: the
// agtrace binary runs two province nodes (SQLite) and the national node
// (PostgreSQL) against the machine's NATS on a stream of its own.
//   - A chain that starts on A and continues on B (B's batch names A's
//     code) is one graph at the national node, through its HTTP API.
//   - The national node is SIGKILLed while province A writes a steady
//     stream of batches and started again: afterwards every record of both
//     provinces is at the national node exactly once (counted per table
//     and per code, stock included).
//   - A poisoned message is parked (and visible in the status) while the
//     records behind it keep arriving.
//   - A sale on A to a trader registered on B is routed by the national
//     node to B, confirmed there, and the confirmation reaches A.
func TestThreeNodes(t *testing.T) {
	url := natsURL(t)
	if testing.Short() {
		t.Skip("builds the binary and runs three nodes")
	}
	pgURL := apptest.FreshPostgres(t)
	bin := buildAgtrace(t)
	stream := testStream(t, url)
	start := time.Now()

	dirA, dirB, dirN := t.TempDir(), t.TempDir(), t.TempDir()
	a := seedProvince(t, dirA, "370686", "")
	b := seedProvince(t, dirB, "440304", a.batch) // B continues A's batch
	seedNational(t, dirN, pgURL)
	t.Logf("seeded in %.1f s", time.Since(start).Seconds())

	common := []string{"--nats", url, "--exchange-stream", stream, "--monitor-every", "0", "--exchange-lease", "2s"}
	natArgs := append([]string{"--db", pgURL, "--data", dirN, "--node-role", "national", "--node-id", "national",
		"--exchange-max-deliver", "3", "--exchange-backoff", "100ms", "--exchange-node-regions", "pa=37,pb=44"}, common...)
	nat := startServe(t, bin, "national", natArgs...)
	pa := startServe(t, bin, "pa", append([]string{"--data", dirA, "--node-role", "province", "--node-id", "pa"}, common...)...)
	pb := startServe(t, bin, "pb", append([]string{"--data", dirB, "--node-role", "province", "--node-id", "pb"}, common...)...)
	natC := nat.client(t).Login("nat-admin", apptest.OperatorPassword)
	t.Logf("three nodes up at %.1f s", time.Since(start).Seconds())

	// one graph: B's sale of its continuation, traced at national, reaches A's batch
	eventually(t, 30*time.Second, "one graph across provinces at national", func() (bool, string) {
		r := natC.Do("GET", "/api/v1/trace/"+b.sold, nil)
		codes := graphCodes(r)
		return r.Status == http.StatusOK && slices.Contains(codes, a.batch) && slices.Contains(codes, b.batch), fmt.Sprintf("%d %v", r.Status, codes)
	})

	// a cross-province sale through the three processes: A's farm sells to
	// B's trader (named by the national node), B's trader confirms on B,
	// A sees the confirmation
	farm := pa.client(t).Login(a.user, a.password)
	var cross string
	eventually(t, 30*time.Second, "A's farm sells to B's trader", func() (bool, string) {
		r := farm.Do("POST", "/api/v1/transfers", map[string]any{"from_code": a.batch, "quantity": 30, "buyer_operator_code": b.trader})
		cross = r.Str("trace_code")
		return r.Status == http.StatusCreated, fmt.Sprintf("%d %s", r.Status, r.Body) // B's trader reaches the national node first
	})
	trader := pb.client(t).Login(b.traderUser, apptest.OperatorPassword)
	eventually(t, 30*time.Second, "the sale pending on B", func() (bool, string) {
		r := trader.Do("GET", "/api/v1/transfers/"+cross, nil)
		return r.Status == http.StatusOK && r.Str("status") == "pending", fmt.Sprintf("%d %s", r.Status, r.Str("status"))
	})
	trader.Do("POST", "/api/v1/transfers/"+cross+"/confirm", map[string]any{"received_quantity": 30}).Expect(t, http.StatusOK)
	eventually(t, 30*time.Second, "the confirmation on A and at national", func() (bool, string) {
		ra, rn := farm.Do("GET", "/api/v1/transfers/"+cross, nil), natC.Do("GET", "/api/v1/transfers/"+cross, nil)
		return ra.Str("status") == "confirmed" && rn.Str("status") == "confirmed", ra.Str("status") + " " + rn.Str("status")
	})
	t.Logf("cross-province sale confirmed across nodes at %.1f s", time.Since(start).Seconds())

	// a steady stream of batches on A; the national node dies in the middle
	var wrote []string
	var mu sync.Mutex
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r := farm.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 10 + i, "unit": "kg",
				"produced_at": today(), "origin": "试验基地"})
			if r.Status == http.StatusCreated {
				mu.Lock()
				wrote = append(wrote, r.Str("trace_code"))
				mu.Unlock()
			}
		}
	}()
	applied0 := appliedOf(t, natC)
	eventually(t, 20*time.Second, "national applying the stream", func() (bool, string) {
		n := appliedOf(t, natC)
		return n >= applied0+20, fmt.Sprint(n)
	})
	nat.kill(t)
	t.Logf("national SIGKILLed at %.1f s", time.Since(start).Seconds())
	time.Sleep(time.Second) // A keeps writing and relaying while national is down
	nat = startServe(t, bin, "national", natArgs...)
	natC = nat.client(t).Login("nat-admin", apptest.OperatorPassword)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	<-done
	t.Logf("national restarted; A wrote %d batches meanwhile", len(wrote))

	// a poisoned message, then one more record behind it
	js := jsOf(t, url)
	publish(t, js, stream, `{"v":1,"node":"pa","seq":99999999,"topic":"batch.create","records":{"codes":[{"code":"12345"}]}}`, "pa", 99999999)
	last := farm.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 1, "unit": "kg", "produced_at": today(), "origin": "试验基地"}).
		Expect(t, http.StatusCreated).Str("trace_code")
	eventually(t, 40*time.Second, "caught up, poison parked", func() (bool, string) {
		st := natC.Do("GET", "/api/v1/exchange/status", nil)
		got := natC.Do("GET", "/api/v1/batches/"+last, nil).Status
		return st.Get("parked") == float64(1) && st.Get("consumer.lag_messages") == float64(0) && got == http.StatusOK,
			fmt.Sprintf("parked %v, lag %v, last batch %d", st.Get("parked"), st.Get("consumer.lag_messages"), got)
	})
	parked := natC.Do("GET", "/api/v1/exchange/parked", nil).Expect(t, http.StatusOK)
	if !strings.Contains(parked.Str("items.0.error"), "records.codes[0].code") {
		t.Errorf("parked message's reason: %s", parked.Body)
	}

	// every record exactly once
	provinces := []*sql.DB{openRO(t, dirA), openRO(t, dirB)}
	national := openPG(t, pgURL)
	for _, p := range provinces {
		waitPublished(t, p)
	}
	eventually(t, 20*time.Second, "national holds every code", func() (bool, string) {
		want := sumCount(t, provinces, owned("trace_codes"))
		got := sumCount(t, []*sql.DB{national}, `SELECT COUNT(*) FROM trace_codes`)
		return got == want, fmt.Sprintf("%d of %d", got, want)
	})
	links := sumCount(t, []*sql.DB{national}, `SELECT COUNT(*) FROM exchange_links WHERE linked_at IS NOT NULL`)
	for _, table := range replicated {
		want := sumCount(t, provinces, owned(table))
		if table == "trace_edges" {
			want += links
		}
		if got := sumCount(t, []*sql.DB{national}, `SELECT COUNT(*) FROM `+table); got != want {
			t.Errorf("%s: national %d rows, provinces %d", table, got, want)
		}
	}
	stock := func(db *sql.DB) map[string]int64 {
		rows, err := db.Query(`SELECT m.code, SUM(m.delta_milli) FROM stock_moves m JOIN trace_codes c ON c.code = m.code
			JOIN operators o ON o.id = c.operator_id WHERE o.status <> 'external' GROUP BY m.code`)
		m := map[string]int64{}
		list, err := platform.Collect(rows, err, func(rs *sql.Rows) (struct {
			c string
			n int64
		}, error) {
			var x struct {
				c string
				n int64
			}
			return x, rs.Scan(&x.c, &x.n)
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range list {
			m[x.c] = x.n
		}
		return m
	}
	ns := stock(national)
	for i, p := range provinces {
		for code, n := range stock(p) {
			if ns[code] != n {
				t.Errorf("province %d code %s: stock %d, national %d", i, code, n, ns[code])
			}
		}
	}
	mu.Lock()
	for _, c := range wrote {
		if got := natC.Do("GET", "/api/v1/batches/"+c, nil).Status; got != http.StatusOK {
			t.Errorf("batch %s written while national was down: %d at national", c, got)
		}
	}
	mu.Unlock()
	t.Logf("done in %.1f s", time.Since(start).Seconds())
}

// owned counts a province's rows of table that are its own records: not
// the reference copies a cross-province sale leaves (codes held by another
// node's operator, sales to one) — the national node holds those once.
func owned(table string) string {
	const own = ` JOIN operators o ON o.id = c.operator_id WHERE o.status <> 'external'`
	switch table {
	case "trace_codes":
		return `SELECT COUNT(*) FROM trace_codes c` + own
	case "stock_moves":
		return `SELECT COUNT(*) FROM stock_moves m JOIN trace_codes c ON c.code = m.code` + own
	case "trace_edges":
		return `SELECT COUNT(*) FROM trace_edges e JOIN trace_codes c ON c.code = e.to_code` + own
	case "transfers":
		return `SELECT COUNT(*) FROM transfers t LEFT JOIN operators o ON o.id = t.buyer_operator_id WHERE o.status IS NULL OR o.status <> 'external'`
	}
	return `SELECT COUNT(*) FROM ` + table
}

// seeded is what a province node was given before it started.
type seeded struct {
	user, password string
	batch, sold    string
	trader         string // the trader's operator code
	traderUser     string
}

// seedProvince records, through the services of a node opened in dir, an
// approved farm and trader in county, a batch (with a provincial alias
// naming upstream when given: goods that came from another province) and
// its sale to the trader, confirmed.
func seedProvince(t *testing.T, dir, county, upstream string) seeded {
	t.Helper()
	ctx := context.Background()
	a := openApp(t, dir, "")
	defer a.Close()
	_, fu, fp := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "绿源合作社 " + county, Kind: "cooperative", RegionCode: county})
	tr, tu, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "鲜果商贸 " + county, Category: "trader", RegionCode: county})
	farm, trader := actorOf(t, a, fu), actorOf(t, a, tu)
	b, err := a.Trace.CreateBatch(ctx, farm, trace.NewBatch{ProductCode: "apple", Quantity: 500, Unit: "kg", ProducedAt: a.Trace.Today(), Origin: "基地"})
	if err != nil {
		t.Fatal(err)
	}
	if upstream != "" {
		if _, err := a.Trace.AddAlias(ctx, farm, b.TraceCode, "provincial", upstream); err != nil {
			t.Fatal(err)
		}
	}
	s, err := a.Trace.Sell(ctx, farm, trace.SaleInput{FromCode: b.TraceCode, Quantity: 200, BuyerOperatorCode: tr.Code})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Trace.Confirm(ctx, trader, s.TraceCode, trace.ConfirmInput{ReceivedQuantity: 200}); err != nil {
		t.Fatal(err)
	}
	return seeded{user: fu, password: fp, batch: b.TraceCode, sold: s.TraceCode, trader: tr.Code, traderUser: tu}
}

// seedNational migrates the national database and creates its administrator.
func seedNational(t *testing.T, dir, pgURL string) {
	t.Helper()
	a := openApp(t, dir, pgURL)
	defer a.Close()
	if _, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: "nat-admin", Password: apptest.OperatorPassword,
		Name: "国家平台管理员", Role: string(auth.RoleAdmin), RegionCode: "000000"}); err != nil {
		t.Fatal(err)
	}
}

func openApp(t *testing.T, dir, dbURL string) *app.App {
	t.Helper()
	a, err := app.Open(context.Background(), app.Config{DataDir: dir, DBURL: dbURL, Addr: "127.0.0.1:0", SeedProvinces: apptest.PilotProvinces})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// buildAgtrace builds the agtrace command once for the test.
func buildAgtrace(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "agtrace")
	out, err := exec.Command("go", "build", "-o", bin, "agtrace/cmd/agtrace").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// served is one `agtrace serve` process.
type served struct {
	name, addr string
	cmd        *exec.Cmd
	out        *syncBuffer
	exited     chan struct{}
}

// syncBuffer is the process's output, written by its copier goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startServe runs `agtrace serve` with args on a free port until the test
// ends, and waits until it is ready.
func startServe(t *testing.T, bin, name string, args ...string) *served {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &served{name: name, addr: addr, out: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AGTRACE_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.exited:
			case <-time.After(20 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.exited
			}
		}
		if t.Failed() {
			t.Logf("--- %s (%s) output, last 3000 bytes:\n%s", name, addr, tail(p.out.String(), 3000))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited:\n%s", name, tail(p.out.String(), 3000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready: %v\n%s", name, err, tail(p.out.String(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL: no shutdown, no acknowledgement.
func (p *served) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
}

func (p *served) client(t *testing.T) *apptest.Client {
	return &apptest.Client{T: t, Base: "http://" + p.addr, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func today() string { return time.Now().In(platform.ChinaTZ).Format(time.DateOnly) }

func graphCodes(r *apptest.Response) []string {
	var out []string
	nodes, _ := r.Get("nodes").([]any)
	for _, n := range nodes {
		if m, ok := n.(map[string]any); ok {
			out = append(out, fmt.Sprint(m["code"]))
		}
	}
	return out
}

func appliedOf(t *testing.T, c *apptest.Client) float64 {
	t.Helper()
	st := c.Do("GET", "/api/v1/exchange/status", nil).Expect(t, http.StatusOK)
	n, _ := st.Get("applied").(float64)
	return n
}

// openRO opens a province node's SQLite file for reading while it runs.
func openRO(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "agtrace.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openPG(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func sumCount(t *testing.T, dbs []*sql.DB, query string) int64 {
	t.Helper()
	var sum int64
	for _, db := range dbs {
		var n int64
		if err := db.QueryRow(query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		sum += n
	}
	return sum
}

// waitPublished waits until a province's relay has published its outbox.
func waitPublished(t *testing.T, db *sql.DB) {
	t.Helper()
	eventually(t, 20*time.Second, "outbox published", func() (bool, string) {
		var n int64
		if err := db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE published_at IS NULL`).Scan(&n); err != nil {
			return false, err.Error()
		}
		return n == 0, fmt.Sprintf("%d unpublished", n)
	})
}
