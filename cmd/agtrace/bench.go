package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"agtrace/internal/bench"
)

// runBench runs the performance workload (see internal/bench and docs/benchmarks.md).
func runBench(ctx context.Context, args []string) error {
	fs := newFlags("bench", "bench [--batches 100000] [--data ./data-bench | --db URL] [--queries 2000] [--bulk N] [--json] [--reuse]")
	batches := fs.Int("batches", 100_000, "trace codes (batches of every type) to write through the trace service")
	data := fs.String("data", "./data-bench", "data directory for the SQLite file and keys; must be empty unless --reuse")
	db := fs.String("db", "", "PostgreSQL URL of a fresh database (postgres://user@host:5432/db); empty = SQLite in --data")
	queries := fs.Int("queries", 2000, "trace queries per direction (random codes)")
	seed := fs.Uint64("seed", 1, "random seed: the same seed builds the same chains")
	workers := fs.Int("workers", 0, "chains written concurrently (default 8; 1 for --bulk, whose imports run one at a time on either engine)")
	bulk := fs.Int("bulk", 0, "write through bulk imports (trace.Service.Import) of about N codes per transaction; 0 = one transaction per service call, as the API")
	reuse := fs.Bool("reuse", false, "allow a non-empty --data / database: add --batches more codes (0 = only measure)")
	asJSON := fs.Bool("json", false, "print the result as JSON instead of a table")
	profile := fs.String("cpuprofile", "", "write CPU profiles to PREFIX.write.pprof and PREFIX.query.pprof")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	summary := fs.String("summary", "", "only print earlier runs side by side: NAME=FILE.json,NAME=FILE.json,… (files written with --json)")
	reopen := fs.String("reopen", "", "only time opening the existing database in --data/--db and tracing CODE upstream (drop the OS page cache first for a cold start)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *summary != "" {
		return printSummary(*summary)
	}
	if *reopen != "" {
		res, err := bench.Run(ctx, bench.Config{DataDir: *data, DBURL: *db, ReopenCode: *reopen})
		if err != nil {
			return err
		}
		r := res.Reopen
		fmt.Printf("open %.0f ms + first trace query (%s, up: %d nodes) %.1f ms = %.0f ms\n", r.OpenMs, r.Code, r.Nodes, r.FirstQueryMs, r.TotalMs)
		return nil
	}
	if *batches < 0 || (*batches == 0 && !*reuse) {
		return fmt.Errorf("--batches must be positive (0 only with --reuse, to measure an existing database)")
	}
	cfg := bench.Config{Batches: *batches, Queries: *queries, Seed: *seed, Workers: *workers, Bulk: *bulk, DataDir: *data, DBURL: *db,
		Reuse: *reuse, CPUProfile: *profile}
	if !*quiet {
		cfg.Progress = os.Stderr
	}
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return bench.WriteTable(os.Stdout, res)
}

// printSummary reads the --json results named in spec (NAME=FILE,…) and
// prints them as one table.
func printSummary(spec string) error {
	var runs []bench.Named
	for _, item := range strings.Split(spec, ",") {
		name, file, ok := strings.Cut(item, "=")
		if !ok || name == "" || file == "" {
			return fmt.Errorf("--summary: %q is not NAME=FILE", item)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("--summary: %v", err)
		}
		var r bench.Result
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("--summary: %s is not a bench --json result: %v", file, err)
		}
		runs = append(runs, bench.Named{Name: name, Result: r})
	}
	return bench.WriteSummary(os.Stdout, runs)
}
