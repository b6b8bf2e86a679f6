package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// Config is one `agtrace bench` run.
type Config struct {
	Batches int    // trace codes to write (0 with Reuse: measure an existing database)
	Queries int    // trace queries per direction
	Seed    uint64 // fixes every random choice
	Workers int    // chains written concurrently (0: 8, or 1 for bulk imports)
	Bulk    int    // > 0: write through bulk imports of about this many codes per transaction
	DataDir string // SQLite file, keys (and documents)
	DBURL   string // PostgreSQL instead of SQLite
	Reuse   bool   // allow a non-empty data directory / database
	// CPUProfile, when set, is a path prefix: <prefix>.write.pprof covers
	// the write phase, <prefix>.query.pprof the queries.
	CPUProfile string
	Progress   io.Writer // progress lines (nil = quiet)
	// ReopenCode, when set, only times opening the database and tracing
	// this code upstream (run it after dropping the OS page cache for a
	// cold start).
	ReopenCode string
}

// Result is everything a run measured.
type Result struct {
	Engine   string  `json:"engine"`
	Version  string  `json:"engine_version"`
	Machine  Machine `json:"machine"`
	Batches  int     `json:"batches_requested"`
	Seed     uint64  `json:"seed"`
	Workers  int     `json:"workers"`
	Bulk     int     `json:"bulk_codes_per_transaction"`
	Generate Stats   `json:"generated"`
	Write    Write   `json:"write"`
	// Database totals after the run.
	TotalCodes   int64 `json:"total_codes"`
	TotalRecords int64 `json:"total_records"`
	// Trace queries: up from random market-entry codes (what a consumer
	// scans), down from random production batches (an origin's recall);
	// Up100/Down100 are the queries whose graph has at most 100 nodes.
	Up      Latency `json:"trace_up"`
	Down    Latency `json:"trace_down"`
	Up100   Latency `json:"trace_up_le100"`
	Down100 Latency `json:"trace_down_le100"`
	Recall  Recall  `json:"recall"`
	DBBytes int64   `json:"db_bytes"`
	// PeakRSS is the process's ru_maxrss; PeakHeap the largest Go heap seen.
	PeakRSS  uint64 `json:"peak_rss_bytes"`
	PeakHeap uint64 `json:"peak_heap_bytes"`
	Reopen   Reopen `json:"reopen"`
	// AnalyzeSeconds is the ANALYZE run after the write phase (PostgreSQL).
	AnalyzeSeconds float64 `json:"analyze_seconds,omitempty"`
}

// Machine describes where the run happened.
type Machine struct {
	CPU       string `json:"cpu"`
	CPUs      int    `json:"cpus"`
	MemoryGiB int    `json:"memory_gib"`
	Go        string `json:"go"`
	OS        string `json:"os"`
}

// Write is the write phase.
type Write struct {
	Seconds float64 `json:"seconds"`
	// CPUSeconds is the process's user+system CPU time during the write
	// phase; the machine is shared, so Seconds alone can hide contention.
	CPUSeconds    float64   `json:"cpu_seconds"`
	LoadAvg       [2]string `json:"load_average_1m_before_after"`
	Records       int64     `json:"records"`
	RecordsPerSec float64   `json:"records_per_second"`
	CodesPerSec   float64   `json:"codes_per_second"`
	Calls         int64     `json:"service_calls"`
	CallsPerSec   float64   `json:"service_calls_per_second"`
	// Commits and WritersPerCommit describe SQLite's group commit
	// (platform/writer.go): how many write transactions each commit held.
	Commits          int64            `json:"commits,omitempty"`
	WritersPerCommit float64          `json:"writers_per_commit,omitempty"`
	ByTable          map[string]int64 `json:"records_by_table"`
}

// Recall is the downstream query over the recall subtree.
type Recall struct {
	Root     string  `json:"root"`
	Nodes    int     `json:"nodes"`
	Edges    int     `json:"edges"`
	FirstMs  float64 `json:"first_ms"`
	MedianMs float64 `json:"median_ms"`
	Runs     int     `json:"runs"`
	// the recall spreadsheet of the same root (every event up and down)
	SheetRows int     `json:"sheet_rows"`
	SheetMs   float64 `json:"sheet_ms"`
}

// Reopen is opening the database again and answering one trace query.
type Reopen struct {
	OpenMs       float64 `json:"open_ms"`
	FirstQueryMs float64 `json:"first_query_ms"`
	TotalMs      float64 `json:"total_ms"`
	Code         string  `json:"code"`
	Nodes        int     `json:"nodes"`
}

// CheckDataDir refuses a data directory that already holds files, unless reuse.
func CheckDataDir(dir string, reuse bool) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 && !reuse {
		return fmt.Errorf("data directory %s is not empty: choose another --data, delete it, or pass --reuse to add to / measure the database in it", dir)
	}
	return nil
}

// Run opens the platform, writes the workload, measures it, and reopens
// the database to time the first query.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Queries <= 0 {
		cfg.Queries = 2000
	}
	if cfg.Workers <= 0 {
		// 8 on the API path: SQLite writers queue in Go and share commits
		// (platform/writer.go), so more writers make larger groups. Bulk
		// imports run one at a time on either engine (SQLite has one
		// writer; on PostgreSQL trace.lockSequences queues them, and 8
		// workers of 500-code imports waited out the 120 s statement
		// timeout in that queue): 1.
		cfg.Workers = 8
		if cfg.Bulk > 0 {
			cfg.Workers = 1
		}
	}
	if cfg.ReopenCode != "" {
		r, err := reopen(ctx, app.Config{DataDir: cfg.DataDir, DBURL: cfg.DBURL},
			&auth.Actor{Username: "bench-supervisor", Role: auth.RoleSupervisor, Region: "000000"}, cfg.ReopenCode)
		return Result{Reopen: r, Machine: machine()}, err
	}
	if cfg.DBURL == "" {
		if err := CheckDataDir(cfg.DataDir, cfg.Reuse); err != nil {
			return Result{}, err
		}
	}
	res := Result{Batches: cfg.Batches, Seed: cfg.Seed, Workers: cfg.Workers, Bulk: cfg.Bulk, Machine: machine()}
	say := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", args...)
		}
	}
	appCfg := app.Config{DataDir: cfg.DataDir, DBURL: cfg.DBURL}
	say("opening the database…")
	a, err := app.Open(ctx, appCfg)
	if err != nil {
		return res, err
	}
	closed := false
	defer func() {
		if !closed {
			a.Close()
		}
	}()
	res.Engine = string(a.DB.Dialect())
	res.Version = engineVersion(ctx, a.DB)
	var existing int64
	if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM trace_codes`).Scan(&existing); err != nil {
		return res, err
	}
	if existing > 0 && !cfg.Reuse {
		return res, fmt.Errorf("the database already holds %d trace codes: use a fresh database or pass --reuse", existing)
	}
	mem := watchMemory()
	g := New(a, Options{Batches: cfg.Batches, Seed: cfg.Seed, Workers: cfg.Workers, Bulk: cfg.Bulk, Progress: cfg.Progress})
	say("registering and approving operators…")
	if err := g.Setup(ctx); err != nil {
		return res, err
	}
	if cfg.Batches > 0 {
		if res.Write, err = writePhase(ctx, a, g, cfg, say); err != nil {
			return res, err
		}
	}
	res.Generate = g.Stats
	if a.DB.Dialect() == platform.Postgres {
		// Planner statistics: autovacuum's job in production (it may be
		// off on a test server); without them every trace plan is a
		// sequential scan.
		say("ANALYZE…")
		t0 := time.Now()
		if _, err := a.DB.Exec(ctx, `ANALYZE`); err != nil {
			return res, err
		}
		res.AnalyzeSeconds = time.Since(t0).Seconds()
	}
	totals, err := countRows(ctx, a.DB)
	if err != nil {
		return res, err
	}
	res.TotalCodes = totals["trace_codes"]
	for _, n := range totals {
		res.TotalRecords += n
	}

	say("querying…")
	sup := g.Supervisor()
	ups, err := queryPhase(ctx, a, sup, cfg, &res)
	if err != nil {
		return res, err
	}
	if a.DB.Dialect() == platform.SQLite {
		// fold the write-ahead log into the file so its size is the database's
		if _, err := a.DB.Exec(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return res, err
		}
	}
	if res.DBBytes, err = dbSize(ctx, a.DB, a.Config.DataDir); err != nil {
		return res, err
	}
	res.PeakHeap = mem.Stop()

	say("reopening the database…")
	closed = true
	if err := a.Close(); err != nil {
		return res, err
	}
	code := ""
	if len(ups) > 0 {
		code = ups[len(ups)-1]
	}
	res.Reopen, err = reopen(ctx, appCfg, sup, code)
	res.PeakRSS = maxRSS()
	return res, err
}

// writePhase writes cfg.Batches codes through g and measures it.
func writePhase(ctx context.Context, a *app.App, g *Generator, cfg Config, say func(string, ...any)) (Write, error) {
	before, err := countRows(ctx, a.DB)
	if err != nil {
		return Write{}, err
	}
	mode := "one transaction per service call"
	if cfg.Bulk > 0 {
		mode = fmt.Sprintf("bulk imports of ~%d codes per transaction", cfg.Bulk)
	}
	say("writing %d trace codes through the trace service (%s, %d workers)…", cfg.Batches, mode, cfg.Workers)
	stopProf, err := startProfile(cfg.CPUProfile, "write")
	if err != nil {
		return Write{}, err
	}
	cpu0, load0 := cpuTime(), loadAvg()
	commits0, writers0 := a.DB.GroupCommits()
	err = g.Run(ctx)
	cpu1, load1 := cpuTime(), loadAvg()
	commits1, writers1 := a.DB.GroupCommits()
	stopProf()
	if err != nil {
		return Write{}, err
	}
	after, err := countRows(ctx, a.DB)
	if err != nil {
		return Write{}, err
	}
	w := Write{Seconds: g.Stats.Seconds, CPUSeconds: (cpu1 - cpu0).Seconds(), LoadAvg: [2]string{load0, load1}, ByTable: map[string]int64{}}
	for _, t := range recordTables {
		w.ByTable[t] = after[t] - before[t]
		w.Records += w.ByTable[t]
	}
	for _, n := range g.Stats.Calls {
		w.Calls += n
	}
	w.RecordsPerSec = float64(w.Records) / w.Seconds
	w.CodesPerSec = float64(g.Stats.Codes) / w.Seconds
	w.CallsPerSec = float64(w.Calls) / w.Seconds
	if w.Commits = commits1 - commits0; w.Commits > 0 {
		w.WritersPerCommit = float64(writers1-writers0) / float64(w.Commits)
	}
	return w, nil
}

// queryPhase times the trace queries and the recall into res and returns
// the sampled market-entry codes (the last one is traced after reopening).
func queryPhase(ctx context.Context, a *app.App, sup *auth.Actor, cfg Config, res *Result) (ups []string, err error) {
	stopProf, err := startProfile(cfg.CPUProfile, "query")
	if err != nil {
		return nil, err
	}
	defer stopProf()
	ups, downs, root, err := sampleCodes(ctx, a.DB, cfg.Queries+50, cfg.Seed)
	if err != nil {
		return nil, err
	}
	// 100 warm-up queries (50 each way) are not counted.
	if _, err := timeQueries(ctx, a.Trace, sup, ups[:min(50, len(ups))], "up"); err != nil {
		return nil, err
	}
	if _, err := timeQueries(ctx, a.Trace, sup, downs[:min(50, len(downs))], "down"); err != nil {
		return nil, err
	}
	upS, err := timeQueries(ctx, a.Trace, sup, ups[min(50, len(ups)):], "up")
	if err != nil {
		return nil, err
	}
	downS, err := timeQueries(ctx, a.Trace, sup, downs[min(50, len(downs)):], "down")
	if err != nil {
		return nil, err
	}
	res.Up, res.Down = summarize(upS), summarize(downS)
	res.Up100, res.Down100 = summarize(upTo(upS, 100)), summarize(upTo(downS, 100))
	if root != "" {
		if res.Recall, err = recall(ctx, a.Trace, sup, root); err != nil {
			return nil, err
		}
	}
	return ups, nil
}

func upTo(s []sample, nodes int) []sample {
	var out []sample
	for _, x := range s {
		if x.nodes <= nodes {
			out = append(out, x)
		}
	}
	return out
}

// sampleCodes draws n market-entry codes (traced up) and n origin batches
// (traced down; the recall root excluded), and finds the recall root.
func sampleCodes(ctx context.Context, db *platform.DB, n int, seed uint64) (ups, downs []string, root string, err error) {
	load := func(q string, args ...any) ([]string, error) {
		rows, err := db.Query(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, rows.Err()
	}
	if ups, err = load(`SELECT code FROM trace_codes WHERE type = 3 ORDER BY code`); err != nil {
		return
	}
	if downs, err = load(`SELECT code FROM trace_codes WHERE type = 1 AND source = 'record' AND origin <> $1 ORDER BY code`, RecallOrigin); err != nil {
		return
	}
	roots, err := load(`SELECT code FROM trace_codes WHERE type = 1 AND source = 'record' AND origin = $1 ORDER BY created_at DESC, code DESC`, RecallOrigin)
	if err != nil {
		return
	}
	if len(roots) > 0 {
		root = roots[0]
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	pick := func(all []string) []string {
		if len(all) == 0 {
			return nil
		}
		out := make([]string, n)
		for i := range out {
			out[i] = all[rng.IntN(len(all))]
		}
		return out
	}
	return pick(ups), pick(downs), root, nil
}

// timeQueries runs the trace query behind GET /api/v1/trace/{code} for each code.
func timeQueries(ctx context.Context, svc *trace.Service, actor *auth.Actor, codes []string, dir string) ([]sample, error) {
	out := make([]sample, 0, len(codes))
	for _, c := range codes {
		t0 := time.Now()
		gr, err := svc.Trace(ctx, actor, c, dir, 0)
		d := time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("trace %s %s: %w", dir, c, err)
		}
		out = append(out, sample{d: d, nodes: len(gr.Nodes)})
	}
	return out, nil
}

// recall traces the recall root downstream to full depth: once cold, then
// five more times.
func recall(ctx context.Context, svc *trace.Service, actor *auth.Actor, root string) (Recall, error) {
	r := Recall{Root: root, Runs: 6}
	var ds []time.Duration
	for i := 0; i < r.Runs; i++ {
		t0 := time.Now()
		gr, err := svc.Trace(ctx, actor, root, "down", trace.MaxDepth)
		d := time.Since(t0)
		if err != nil {
			return r, fmt.Errorf("recall %s: %w", root, err)
		}
		if gr.Truncated {
			return r, fmt.Errorf("recall %s: the graph was truncated", root)
		}
		r.Nodes, r.Edges = len(gr.Nodes), len(gr.Edges)
		if i == 0 {
			r.FirstMs = ms(d)
		} else {
			ds = append(ds, d)
		}
	}
	slices.Sort(ds)
	r.MedianMs = ms(ds[len(ds)/2])
	t0 := time.Now()
	rows, err := svc.RecallSheet(ctx, actor, trace.SheetQuery{Code: root})
	if err != nil {
		return r, fmt.Errorf("recall sheet %s: %w", root, err)
	}
	r.SheetRows, r.SheetMs = len(rows), ms(time.Since(t0))
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// reopen opens the platform again from the same data and times the first
// trace query (up from a market-entry code, as a consumer's scan).
func reopen(ctx context.Context, cfg app.Config, actor *auth.Actor, code string) (Reopen, error) {
	r := Reopen{Code: code}
	t0 := time.Now()
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return r, err
	}
	defer a.Close()
	t1 := time.Now()
	r.OpenMs = ms(t1.Sub(t0))
	if code != "" {
		gr, err := a.Trace.Trace(ctx, actor, code, "up", 0)
		if err != nil {
			return r, err
		}
		r.Nodes = len(gr.Nodes)
	}
	r.FirstQueryMs = ms(time.Since(t1))
	r.TotalMs = ms(time.Since(t0))
	return r, nil
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is the 1-minute load average (Linux), or "".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func startProfile(prefix, phase string) (stop func(), err error) {
	if prefix == "" {
		return func() {}, nil
	}
	f, err := os.Create(prefix + "." + phase + ".pprof")
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func engineVersion(ctx context.Context, db *platform.DB) string {
	var v string
	q := `SELECT sqlite_version()`
	if db.Dialect() == platform.Postgres {
		q = `SHOW server_version`
	}
	if err := db.QueryRow(ctx, q).Scan(&v); err != nil {
		return "unknown"
	}
	if db.Dialect() == platform.SQLite {
		return "SQLite " + v + " (modernc.org/sqlite, pure Go)"
	}
	return "PostgreSQL " + v
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Fscanf(f, "MemTotal: %d kB", &kb); err == nil {
			m.MemoryGiB = int((kb + 512*1024) / (1024 * 1024))
		}
		f.Close()
	}
	return m
}
