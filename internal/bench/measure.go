package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"agtrace/internal/platform"
)

// recordTables are the tables whose new rows count as records written: every
// row the service layer inserts for the workload (facts, ledger, graph,
// audit log and outbox). Rows that are updated in place (a transfer's
// status, code_sequences counters) are not counted.
var recordTables = []string{
	"trace_codes", "stock_moves", "trace_edges", "transfers", "transformations",
	"batch_inputs", "farming_operations", "trace_aliases", "certificates", "findings",
	"audit_log", "outbox",
}

// countRows returns the row count of each record table.
func countRows(ctx context.Context, db *platform.DB) (map[string]int64, error) {
	out := make(map[string]int64, len(recordTables))
	for _, t := range recordTables {
		var n int64
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM `+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}

// Latency summarises a set of timings.
type Latency struct {
	Count    int     `json:"count"`
	P50Ms    float64 `json:"p50_ms"`
	P90Ms    float64 `json:"p90_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	MeanMs   float64 `json:"mean_ms"`
	NodesP50 int     `json:"nodes_p50"`
	NodesP99 int     `json:"nodes_p99"`
	NodesMax int     `json:"nodes_max"`
}

// sample is one timed query.
type sample struct {
	d     time.Duration
	nodes int
}

func summarize(s []sample) Latency {
	if len(s) == 0 {
		return Latency{}
	}
	ds := make([]time.Duration, len(s))
	ns := make([]int, len(s))
	var sum time.Duration
	for i, x := range s {
		ds[i], ns[i] = x.d, x.nodes
		sum += x.d
	}
	slices.Sort(ds)
	slices.Sort(ns)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	pct := func(p float64) int { return min(len(s)-1, int(p*float64(len(s)))) }
	return Latency{Count: len(s), P50Ms: ms(ds[pct(0.50)]), P90Ms: ms(ds[pct(0.90)]), P99Ms: ms(ds[pct(0.99)]),
		MaxMs: ms(ds[len(ds)-1]), MeanMs: ms(sum / time.Duration(len(s))),
		NodesP50: ns[pct(0.50)], NodesP99: ns[pct(0.99)], NodesMax: ns[len(ns)-1]}
}

// memWatch samples the Go heap while the workload runs (the peak resident
// set comes from getrusage at the end).
type memWatch struct {
	peakHeap atomic.Uint64
	stop     chan struct{}
	done     sync.WaitGroup
}

func watchMemory() *memWatch {
	m := &memWatch{stop: make(chan struct{})}
	m.done.Add(1)
	go func() {
		defer m.done.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			m.sample()
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *memWatch) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if h := ms.HeapAlloc; h > m.peakHeap.Load() {
		m.peakHeap.Store(h)
	}
}

func (m *memWatch) Stop() uint64 {
	close(m.stop)
	m.done.Wait()
	m.sample()
	return m.peakHeap.Load()
}

// maxRSS is the process's peak resident set size in bytes (ru_maxrss).
func maxRSS() uint64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return uint64(ru.Maxrss) * 1024 // kilobytes on Linux
}

// dbSize is the database's size on disk: the SQLite file plus its WAL and
// shared-memory files, or pg_database_size on PostgreSQL.
func dbSize(ctx context.Context, db *platform.DB, dataDir string) (int64, error) {
	if db.Dialect() == platform.Postgres {
		var n int64
		err := db.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&n)
		return n, err
	}
	var total int64
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if st, err := os.Stat(filepath.Join(dataDir, "agtrace.db"+suffix)); err == nil {
			total += st.Size()
		}
	}
	return total, nil
}
