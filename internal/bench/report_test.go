package bench

import (
	"strings"
	"testing"
)

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 12345: "12,345", 7661087: "7,661,087", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestWriteSummary: one column per run, a row per figure, the targets last.
func TestWriteSummary(t *testing.T) {
	api := Result{Engine: "sqlite", Workers: 8, Write: Write{Seconds: 100, CPUSeconds: 120, Records: 1_200_000, RecordsPerSec: 12_000, Commits: 20_000, WritersPerCommit: 6.4}}
	api.Recall = Recall{Nodes: 10001, FirstMs: 150, MedianMs: 95.4}
	api.Up = Latency{P50Ms: 0.4, P99Ms: 1.9}
	bulk := Result{Engine: "postgres", Bulk: 500, Workers: 2, Write: Write{Seconds: 40, RecordsPerSec: 30_500, Records: 1_220_000}}
	var b strings.Builder
	if err := WriteSummary(&b, []Named{{"after, API", api}, {"PostgreSQL bulk", bulk}}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "| | after, API | PostgreSQL bulk | target |" || lines[1] != "|---|---|---|---|" {
		t.Fatalf("header:\n%s", out)
	}
	for _, want := range []string{
		"| engine, write path, workers | sqlite, API path, 8 | postgres, bulk 500, 2 | |",
		"| **records / s** | **12,000** | **30,500** | ≥ 12,000 API, ≥ 30,000 bulk |",
		"| records / CPU second | 10,000 | – | |",
		"| writes per commit | 6.4 | – | |",
		"| recall first / median | 150 / **95 ms** (10,001 nodes) | 0 / **0 ms** (0 nodes) | median ≤ 100 ms |",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing row %q in:\n%s", want, out)
		}
	}
	for _, l := range lines {
		if strings.Count(l, "|") != 5 {
			t.Errorf("row with %d cells: %s", strings.Count(l, "|")-1, l)
		}
	}
	if err := WriteSummary(&b, nil); err == nil {
		t.Error("no runs: no error")
	}
}
