package exchange_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"agtrace/internal/apptest"
	"agtrace/internal/platform"
)

// TestExchangeThroughput measures replication from a province node to the
// national node (docs/benchmarks.md, "Province → national exchange"). It
// runs only with AGTRACE_EXCHANGE_BENCH=<codes>, e.g.
//
//	AGTRACE_EXCHANGE_BENCH=20000 go test ./internal/exchange -run TestExchangeThroughput -v -timeout 30m
//
// Catch-up: `agtrace bench` writes <codes> trace codes into a province
// database first; then the province (SQLite) and national (PostgreSQL)
// nodes start and the national node applies the whole backlog (messages
// and records per second, province → national). Live: 4 writers record
// batches through the province's HTTP API for 30 s while both nodes run;
// every 20th batch is looked for in the national database every 100 ms
// until it is there (the write rate, and the delay from the province's 201
// to the batch being in the national database).
func TestExchangeThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("AGTRACE_EXCHANGE_BENCH"))
	if n <= 0 {
		t.Skip("set AGTRACE_EXCHANGE_BENCH=<codes> to measure the exchange")
	}
	url := natsURL(t)
	pgURL := apptest.FreshPostgres(t)
	bin := buildAgtrace(t)
	stream := testStream(t, url)
	dirA, dirN := t.TempDir(), t.TempDir()
	start := time.Now()
	if out, err := exec.Command(bin, "bench", "--batches", strconv.Itoa(n), "--data", dirA, "--queries", "60", "--quiet").CombinedOutput(); err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	t.Logf("bench wrote %d codes in %.0f s", n, time.Since(start).Seconds())
	farm := seedProvince(t, dirA, "370686", "")
	seedNational(t, dirN, pgURL)
	prov := openRO(t, dirA)
	nat := openPG(t, pgURL)
	outbox := sumCount(t, []*sql.DB{prov}, `SELECT COUNT(*) FROM outbox`)
	records := int64(0)
	for _, table := range replicated {
		records += sumCount(t, []*sql.DB{prov}, `SELECT COUNT(*) FROM `+table)
	}

	common := []string{"--nats", url, "--exchange-stream", stream, "--monitor-every", "0"}
	natP := startServe(t, bin, "national", append([]string{"--db", pgURL, "--data", dirN, "--node-role", "national", "--node-id", "national"}, common...)...)
	natC := natP.client(t).Login("nat-admin", apptest.OperatorPassword)
	t0 := time.Now()
	pa := startServe(t, bin, "pa", append([]string{"--data", dirA, "--node-role", "province", "--node-id", "pa"}, common...)...)
	want := sumCount(t, []*sql.DB{prov}, `SELECT COUNT(*) FROM trace_codes`)
	var published time.Duration
	eventually(t, 30*time.Minute, "backlog applied", func() (bool, string) {
		if published == 0 && sumCount(t, []*sql.DB{prov}, `SELECT COUNT(*) FROM outbox WHERE published_at IS NULL`) == 0 {
			published = time.Since(t0)
		}
		got := sumCount(t, []*sql.DB{nat}, `SELECT COUNT(*) FROM trace_codes`)
		lag, _ := natC.Do("GET", "/api/v1/exchange/status", nil).Get("consumer.lag_messages").(float64)
		return got == want && lag == 0 && published > 0, fmt.Sprintf("%d/%d codes, lag %v", got, want, lag)
	})
	took := time.Since(t0)
	txs := sumCount(t, []*sql.DB{nat}, `SELECT COUNT(*) FROM audit_log WHERE action = 'exchange.apply'`)
	msgs := sumCount(t, []*sql.DB{nat}, `SELECT COUNT(*) FROM exchange_applied`)
	t.Logf("national applied %d messages with records in %d transactions", msgs, txs)
	t.Logf("catch-up: %d outbox messages (%d records in the replicated tables, %d trace codes) published in %.1f s, applied in %.1f s: %.0f messages/s, %.0f records/s",
		outbox, records, want, published.Seconds(), took.Seconds(), float64(outbox)/took.Seconds(), float64(records)/took.Seconds())

	// live load through the province's API; one watcher looks the sampled
	// batches up in the national database every 100 ms (looking them up
	// over HTTP, one poller each, loaded the national node more than the
	// exchange did)
	const writers, every = 4, 20
	dur := 30 * time.Second
	var mu sync.Mutex
	var lat []time.Duration
	var wrote int
	pending := map[string]time.Time{}
	stop := time.Now().Add(dur)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := pa.client(t).Login(farm.user, farm.password)
			for i := 0; time.Now().Before(stop); i++ {
				r := c.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 1 + i%50, "unit": "kg", "produced_at": today(), "origin": "试验基地"})
				if r.Status != http.StatusCreated {
					continue
				}
				at := time.Now()
				mu.Lock()
				wrote++
				if (i+w)%every == 0 {
					pending[r.Str("trace_code")] = at
				}
				mu.Unlock()
			}
		}()
	}
	watch := func() int {
		mu.Lock()
		var list []string
		for c := range pending {
			list = append(list, "'"+c+"'")
		}
		mu.Unlock()
		if len(list) == 0 {
			return 0
		}
		rows, err := nat.Query(`SELECT code FROM trace_codes WHERE code IN (` + strings.Join(list, ",") + `)`)
		found, err := platform.Collect(rows, err, platform.Scalar[string])
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range found {
			lat = append(lat, now.Sub(pending[c]))
			delete(pending, c)
		}
		return len(pending)
	}
	var maxLag float64
	for time.Now().Before(stop) {
		watch()
		st := natC.Do("GET", "/api/v1/exchange/status", nil)
		if l, ok := st.Get("consumer.lag_seconds").(float64); ok {
			maxLag = max(maxLag, l)
		}
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	for end := time.Now().Add(2 * time.Minute); watch() > 0 && time.Now().Before(end); {
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	t.Logf("live: %d writers recorded %d batches in %s (%.0f/s); province → national delay over %d samples: p50 %s, p95 %s, max %s; consumer lag_seconds peaked at %.1f",
		writers, wrote, dur, float64(wrote)/dur.Seconds(), len(lat), pct(0.5).Round(time.Millisecond), pct(0.95).Round(time.Millisecond),
		pct(1).Round(time.Millisecond), maxLag)
}
