package trace

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"agtrace/internal/platform"
)

// Scan counting: the public page is the hottest path, so a view never
// writes. Views are counted in memory and flushed in one transaction every
// ScanFlushEvery (Serve) and when the app closes; a crash loses at most that
// much counting.

// ScanFlushEvery is how often counted scans are written.
const ScanFlushEvery = time.Second

// scanFlushRows is how many counts one statement writes (6 parameters a
// row). Not more: SQLite looks a numbered parameter's name up in a list,
// so a statement's binding costs grow with the square of its parameters
// (at 166 rows a tenth of the server's CPU under a scan load went there).
const scanFlushRows = 32

type scanKey struct{ code, day, client, region string }

// ScanCounter counts public views in memory until flushed.
type ScanCounter struct {
	mu      sync.Mutex
	pending map[scanKey]int64
	last    map[scanKey]time.Time
	seen    map[string]int64 // views counted by this process since it started, per code
	byCode  map[string]int64 // pending views per code (not flushed yet)
}

func newScanCounter() *ScanCounter {
	return &ScanCounter{pending: map[scanKey]int64{}, last: map[scanKey]time.Time{}, seen: map[string]int64{}, byCode: map[string]int64{}}
}

// maxSeen bounds the per-process totals kept for display (a flood of
// distinct codes must not grow memory without end); beyond it the page
// shows the flushed count.
const maxSeen = 200_000

func (c *ScanCounter) record(code string, v ScanView, now time.Time) {
	k := scanKey{code, platform.Today(now), v.Client, v.Region}
	c.mu.Lock()
	c.pending[k]++
	c.last[k] = now
	c.byCode[code]++
	if _, ok := c.seen[code]; ok || len(c.seen) < maxSeen {
		c.seen[code]++
	}
	c.mu.Unlock()
}

// Seen is how many views of code this process counted since it started.
func (c *ScanCounter) Seen(code string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[code]
}

func (c *ScanCounter) take() (map[scanKey]int64, map[scanKey]time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, l := c.pending, c.last
	if len(p) == 0 {
		return nil, nil
	}
	c.pending, c.last, c.byCode = map[scanKey]int64{}, map[scanKey]time.Time{}, map[string]int64{}
	return p, l
}

// unflushed is how many views of code are counted but not written yet.
func (c *ScanCounter) unflushed(code string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byCode[code]
}

// CountScan counts a public view of a code (in memory; see FlushScans).
func (s *Service) CountScan(code string, v ScanView) {
	if v.Client == "" {
		v.Client = ClientOther
	}
	s.scans.record(code, v, s.clock.Now())
}

// FlushScans writes the counted views in one transaction (per code and
// day). On failure the counts are put back for the next flush.
func (s *Service) FlushScans(ctx context.Context) error {
	p, last := s.scans.take()
	if len(p) == 0 {
		return nil
	}
	keys := make([]scanKey, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		// many rows a statement: at tens of thousands of views a second one
		// statement a row was a round trip each on PostgreSQL
		for len(keys) > 0 {
			chunk := keys[:min(len(keys), scanFlushRows)]
			keys = keys[len(chunk):]
			var sb strings.Builder
			sb.WriteString(`INSERT INTO trace_scans (code, day, client, region, count, last_at) VALUES `)
			args := make([]any, 0, 6*len(chunk))
			for i, k := range chunk {
				if i > 0 {
					sb.WriteByte(',')
				}
				fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $%d)", 6*i+1, 6*i+2, 6*i+3, 6*i+4, 6*i+5, 6*i+6)
				args = append(args, k.code, k.day, k.client, k.region, p[k], last[k])
			}
			sb.WriteString(` ON CONFLICT (code, day, client, region) DO UPDATE SET count = trace_scans.count + excluded.count, last_at = excluded.last_at`)
			if _, err := tx.Exec(ctx, sb.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.scans.mu.Lock()
		for k, n := range p {
			s.scans.pending[k] += n
			s.scans.byCode[k.code] += n
			if last[k].After(s.scans.last[k]) {
				s.scans.last[k] = last[k]
			}
		}
		s.scans.mu.Unlock()
	}
	return err
}

// ScanStats is how often a code was scanned and since when.
type ScanStats struct {
	Count   int64  `json:"count"`
	FirstAt string `json:"first_at,omitempty" doc:"the first day it was scanned, YYYY-MM-DD"`
}

// scanStats reads the flushed counts of a code.
func (s *Service) scanStats(ctx context.Context, code string) (ScanStats, error) {
	var st ScanStats
	err := s.db.QueryRow(ctx, `SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT), COALESCE(MIN(day), '') FROM trace_scans WHERE code = $1`, code).Scan(&st.Count, &st.FirstAt)
	return st, err
}
