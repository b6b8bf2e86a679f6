package trace

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"agtrace/internal/platform"
)

// Scan counting: the public page is the hottest path, so a view never
// writes. Views are counted in memory; every ScanFlushEvery (Serve) the
// views counted since the last time are appended to the scan log as one
// row (LogScans: one insert, whatever the number of codes), and every
// ScanFoldEvery this instance folds its rows of the log into trace_scans
// (FoldScans: an upsert per distinct code, day, client and region; see
// "A fold runs in two steps" below). A crash loses at most a second of
// counting; trace_scans lags the views by about ScanFoldEvery, and pages
// this instance serves add the views it has not folded yet.

// ScanFlushEvery is how often counted scans are appended to the scan log.
const ScanFlushEvery = time.Second

// ScanFoldEvery is how often an instance folds its scan log into
// trace_scans. At a crowd's random scans a minute's log folds a fifth as
// many upserts as one a second would (docs/benchmarks.md).
const ScanFoldEvery = time.Minute

// scanOrphanAge: log rows of an instance that has not folded for this long
// (it stopped without closing) are folded by whichever instance folds next.
const scanOrphanAge = 10 * ScanFoldEvery

// scanFlushRows is how many counts one statement writes (6 parameters a
// row). Not more: SQLite looks a numbered parameter's name up in a list,
// so a statement's binding costs grow with the square of its parameters
// (at 166 rows a tenth of the server's CPU under a scan load went there).
const scanFlushRows = 32

type scanKey struct{ code, day, client, region string }

// scanCount is a key's views and the time of the last.
type scanCount struct {
	n    int64
	last time.Time
}

// plus is c with o's views added.
func (c scanCount) plus(o scanCount) scanCount {
	c.n += o.n
	if o.last.After(c.last) {
		c.last = o.last
	}
	return c
}

// ScanCounter counts public views in memory until logged, and per code
// until folded.
type ScanCounter struct {
	owner   string                // this instance in the scan log
	logMu   sync.Mutex            // a log write waits for a fold's first step (which logs what is pending, then takes the log)
	inLog   map[scanKey]scanCount // this instance's log rows since its last fold, summed (logMu held); nil when unsure (see logScans)
	mu      sync.Mutex
	pending map[scanKey]scanCount
	codes   map[codeKey]codeViews // by value and keyed inline: no heap object or pointer per code for the collector
	tracked int                   // codes whose views since start are kept (at most maxSeen)
	gen     uint32                // counts take: a code's pend belongs to the pending map while its gen is this
	days    platform.Days         // today in China, for keys
}

// codeViews are a code's views: counted by this process since it started
// (for display; kept for maxSeen codes) and not folded into trace_scans yet.
type codeViews struct {
	seen, unfolded int64
	pend           int64  // of unfolded, views in the pending map (not logged yet), while gen is the counter's
	gen            uint32 // the counter's gen when pend was last counted
	tracked        bool   // seen is counted (one of the first maxSeen codes)
}

// pending is cv's views not logged yet, under the counter's generation gen.
func (cv codeViews) pending(gen uint32) int64 {
	if cv.gen != gen {
		return 0
	}
	return cv.pend
}

// addPending adds n views to cv's pending ones under generation gen.
func (cv *codeViews) addPending(n int64, gen uint32) {
	cv.pend = cv.pending(gen) + n
	cv.gen = gen
}

func newScanCounter() *ScanCounter {
	return &ScanCounter{owner: newOwner(), pending: map[scanKey]scanCount{}, codes: map[codeKey]codeViews{}, inLog: map[scanKey]scanCount{}}
}

// newOwner names an instance in the scan log: random, so replicas and
// restarts never share rows.
func newOwner() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// maxSeen bounds the per-process totals kept for display (a flood of
// distinct codes must not grow memory without end); beyond it the page
// shows the flushed count.
const maxSeen = 200_000

func (c *ScanCounter) record(code string, v ScanView, now time.Time) {
	ck, ok := keyOf(code)
	if !ok {
		return // not a trace code (CountScan's callers resolve codes first)
	}
	c.mu.Lock()
	k := scanKey{code, c.days.Of(now), v.Client, v.Region}
	e := c.pending[k]
	e.n++
	e.last = now
	c.pending[k] = e
	cv, ok := c.codes[ck]
	if !ok {
		cv.tracked = c.tracked < maxSeen
		if cv.tracked {
			c.tracked++
		}
	}
	cv.unfolded++
	cv.addPending(1, c.gen)
	if cv.tracked {
		cv.seen++
	}
	c.codes[ck] = cv
	c.mu.Unlock()
}

// Seen is how many views of code this process counted since it started.
func (c *ScanCounter) Seen(code string) int64 { return c.views(code).seen }

// views is a copy of code's counts (zero when it has none).
func (c *ScanCounter) views(code string) codeViews {
	ck, ok := keyOf(code)
	if !ok {
		return codeViews{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.codes[ck]
}

func (c *ScanCounter) take() map[scanKey]scanCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pending
	if len(p) == 0 {
		return nil
	}
	// sized for as many keys as the last second's: grown from empty, the
	// map rehashed its way up to a crowd's tens of thousands of codes a
	// second (about 4 % of the server's time under a scan load)
	c.pending = make(map[scanKey]scanCount, len(p))
	c.gen++ // every code's pend is now zero, without touching the codes
	return p
}

// putBack returns counts whose log write failed.
func (c *ScanCounter) putBack(p map[scanKey]scanCount) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range p {
		c.pending[k] = c.pending[k].plus(v)
		if ck, ok := keyOf(k.code); ok {
			if cv, ok := c.codes[ck]; ok {
				cv.addPending(v.n, c.gen)
				c.codes[ck] = cv
			}
		}
	}
}

// unflushed is how many views of code are counted but not in trace_scans yet.
func (c *ScanCounter) unflushed(code string) int64 { return c.views(code).unfolded }

// scanLockSpan bounds the codes a fold's bookkeeping (logged, forget)
// handles per hold of the counter's lock, which every view waits on to be
// counted: at a crowd's 200,000 codes one hold for all of them stalls
// every view for its length.
const scanLockSpan = 2048

// pause lets views waiting on the lock be counted (c.mu held).
func (c *ScanCounter) pause() {
	c.mu.Unlock()
	runtime.Gosched()
	c.mu.Lock()
}

// logged is, per code, the views counted and already in the scan log (all
// unfolded views but the pending ones). A view adds to a code's unfolded
// and pending views at once, so their difference does not change while the
// caller holds logMu (nothing is logged meanwhile), and the lock may be let
// go between codes: a code first seen meanwhile has nothing in the log yet.
func (c *ScanCounter) logged() map[codeKey]int64 {
	out := map[codeKey]int64{}
	c.mu.Lock()
	defer c.mu.Unlock()
	i := 0
	for ck, cv := range c.codes {
		if n := cv.unfolded - cv.pending(c.gen); n > 0 {
			out[ck] = n
		}
		if i++; i%scanLockSpan == 0 {
			c.pause()
		}
	}
	return out
}

// forget takes folded views off the unfolded counts.
func (c *ScanCounter) forget(m map[codeKey]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := 0
	for ck, n := range m {
		if n <= 0 {
			continue
		}
		if i++; i%scanLockSpan == 0 {
			c.pause()
		}
		cv, ok := c.codes[ck]
		if !ok {
			continue
		}
		cv.unfolded = max(0, cv.unfolded-n)
		if cv.unfolded == 0 && !cv.tracked {
			delete(c.codes, ck) // nothing left to show for it
		} else {
			c.codes[ck] = cv
		}
	}
}

// CountScan counts a public view of a code (in memory; see LogScans).
func (s *Service) CountScan(code string, v ScanView) {
	if v.Client == "" {
		v.Client = ClientOther
	}
	s.scans.record(code, v, s.clock.Now())
}

// encodeScanLog is a log row's entries: a line per key.
func encodeScanLog(p map[scanKey]scanCount) string {
	var b strings.Builder
	b.Grow(len(p) * 64)
	for k, v := range p {
		b.WriteString(k.code)
		b.WriteByte('\t')
		b.WriteString(k.day)
		b.WriteByte('\t')
		b.WriteString(k.client)
		b.WriteByte('\t')
		b.WriteString(k.region)
		b.WriteByte('\t')
		b.WriteString(strconv.FormatInt(v.n, 10))
		b.WriteByte('\t')
		b.WriteString(strconv.FormatInt(v.last.UnixNano(), 10))
		b.WriteByte('\n')
	}
	return b.String()
}

// decodeScanLog adds a log row's entries to into.
func decodeScanLog(entries string, into map[scanKey]scanCount) error {
	for line := range strings.Lines(entries) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if len(f) != 6 {
			return fmt.Errorf("scan log: bad entry %q", line)
		}
		n, err1 := strconv.ParseInt(f[4], 10, 64)
		ns, err2 := strconv.ParseInt(f[5], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("scan log: bad entry %q: %w", line, err)
		}
		k := scanKey{f[0], f[1], f[2], f[3]}
		into[k] = into[k].plus(scanCount{n, time.Unix(0, ns).UTC()})
	}
	return nil
}

// LogScans appends the views counted since the last call to the scan log,
// one row. On failure the counts are kept for the next call.
func (s *Service) LogScans(ctx context.Context) error {
	s.scans.logMu.Lock()
	defer s.scans.logMu.Unlock()
	return s.logScans(ctx)
}

// maxInLog bounds the keys a ScanCounter sums in memory between folds
// (about 150 bytes each); beyond it the fold reads its rows back instead.
var maxInLog = 1 << 19

func (s *Service) logScans(ctx context.Context) error {
	p := s.scans.take()
	if len(p) == 0 {
		return nil
	}
	_, err := s.db.Exec(ctx, `INSERT INTO trace_scan_log (owner, at, entries) VALUES ($1, $2, $3)`,
		s.scans.owner, s.clock.Now(), encodeScanLog(p))
	c := s.scans
	switch {
	case err != nil:
		c.putBack(p)
		c.inLog = nil // the row may have been written all the same: the fold reads the log
	case c.inLog != nil && len(c.inLog)+len(p) > maxInLog:
		c.inLog = nil
	case c.inLog != nil:
		for k, v := range p {
			c.inLog[k] = c.inLog[k].plus(v)
		}
	}
	return err
}

// A fold runs in two steps so that no transaction is long (on SQLite a
// long one holds the only writer; a minute of random scans is some 200,000
// keys):
//
//  1. one transaction deletes this instance's log rows (and those of
//     instances silent for scanOrphanAge), sums them per key and writes
//     the sums back as chunk rows of scanFoldChunk keys owned by
//     scanFoldOwner. The instance's own rows are summed in memory as they
//     are logged (ScanCounter.inLog), so this step deletes them without
//     reading them back: decoding a minute of a crowd's log (a million
//     lines) took about a second of CPU that the views waited on
//     (BenchmarkFoldSum). When the sum is unsure (a log write failed but
//     may have landed) or too large, the rows are read back as before;
//  2. each chunk row is then applied in a transaction of its own that
//     deletes it (DELETE … RETURNING: whoever deletes it applies it, so a
//     chunk counts once even when several instances apply chunks) and
//     upserts its keys. The periodic fold spaces the chunks over half a
//     fold period, a background trickle rather than a burst that slows the
//     views; a chunk left by a failure or a crash is applied by the next
//     fold of any instance.
//
// The views a fold takes stay counted as unfolded (the page adds them)
// until its chunks are applied.

// scanFoldOwner owns the chunk rows of folds in progress.
const scanFoldOwner = "fold"

// scanFoldChunk is how many keys one chunk row holds (about 20 ms of
// upserts on SQLite here).
var scanFoldChunk = 2000

// FoldScans logs what is pending and folds the scan log into trace_scans,
// spreading the chunks over half of ScanFoldEvery.
func (s *Service) FoldScans(ctx context.Context) error { return s.foldScans(ctx, ScanFoldEvery/2) }

// FlushScans logs the counted views and folds them at once: trace_scans
// then holds every view counted so far (at close, and where a test reads
// the counts).
func (s *Service) FlushScans(ctx context.Context) error { return s.foldScans(ctx, 0) }

func (s *Service) foldScans(ctx context.Context, spread time.Duration) error {
	s.scans.logMu.Lock()
	if err := s.logScans(ctx); err != nil {
		s.scans.logMu.Unlock()
		return err
	}
	logged := s.scans.logged() // views in the log by now (those counted since stay unfolded)
	mem := s.scans.inLog       // read only here: kept as it is if the transaction fails
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		sum := mem
		if mem != nil {
			if _, err := tx.Exec(ctx, `DELETE FROM trace_scan_log WHERE owner = $1`, s.scans.owner); err != nil {
				return err
			}
		} else {
			sum = map[scanKey]scanCount{}
			if err := takeScanLog(ctx, tx, sum, `DELETE FROM trace_scan_log WHERE owner = $1 RETURNING entries`, s.scans.owner); err != nil {
				return err
			}
		}
		orphans := map[scanKey]scanCount{}
		if err := takeScanLog(ctx, tx, orphans, `DELETE FROM trace_scan_log WHERE owner <> $1 AND owner <> $2 AND at < $3 RETURNING entries`,
			s.scans.owner, scanFoldOwner, s.clock.Now().Add(-scanOrphanAge)); err != nil {
			return err
		}
		if len(orphans) > 0 {
			if mem != nil {
				sum = maps.Clone(mem) // mem stays as it is should the transaction fail
			}
			for k, v := range orphans {
				sum[k] = sum[k].plus(v)
			}
		}
		now := s.clock.Now()
		for _, chunk := range chunkScans(sum, scanFoldChunk) {
			if _, err := tx.Exec(ctx, `INSERT INTO trace_scan_log (owner, at, entries) VALUES ($1, $2, $3)`,
				scanFoldOwner, now, encodeScanLog(chunk)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.scans.inLog = make(map[scanKey]scanCount, len(mem)) // sized like the last fold's: no rehashing its way up
	}
	s.scans.logMu.Unlock() // logging goes on while the chunks are applied
	if err != nil {
		return err
	}
	err = s.applyScanChunks(ctx, spread, func(chunk map[scanKey]scanCount) {
		// this instance's views in the chunk are in trace_scans now
		done := map[codeKey]int64{}
		for k, v := range chunk {
			ck, ok := keyOf(k.code)
			if !ok {
				continue
			}
			if d := min(v.n, logged[ck]); d > 0 {
				done[ck] += d
				logged[ck] -= d
			}
		}
		s.scans.forget(done)
	})
	s.scans.forget(logged) // the rest: applied by another instance, or left for the next fold
	return err
}

// takeScanLog runs a DELETE … RETURNING entries on the scan log and adds
// the deleted rows' entries to into.
func takeScanLog(ctx context.Context, tx *platform.Tx, into map[scanKey]scanCount, query string, args ...any) error {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var entries string
		if err := rows.Scan(&entries); err != nil {
			return err
		}
		if err := decodeScanLog(entries, into); err != nil {
			return err
		}
	}
	return rows.Err()
}

// applyScanChunks applies every chunk row, spaced so that they take about
// spread in all, calling applied with each chunk this call applied.
func (s *Service) applyScanChunks(ctx context.Context, spread time.Duration, applied func(map[scanKey]scanCount)) error {
	rows, err := s.db.Query(ctx, `SELECT id FROM trace_scan_log WHERE owner = $1 ORDER BY id`, scanFoldOwner)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i, id := range ids {
		if i > 0 && spread > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(spread / time.Duration(len(ids))):
			}
		}
		var sum map[scanKey]scanCount
		err := s.db.InTx(ctx, func(tx *platform.Tx) error {
			sum = nil
			var entries string
			err := tx.QueryRow(ctx, `DELETE FROM trace_scan_log WHERE id = $1 AND owner = $2 RETURNING entries`, id, scanFoldOwner).Scan(&entries)
			if errors.Is(err, sql.ErrNoRows) {
				return nil // applied by another instance
			}
			if err != nil {
				return err
			}
			chunk := map[scanKey]scanCount{}
			if err := decodeScanLog(entries, chunk); err != nil {
				return err
			}
			sum = chunk
			if err := upsertScans(ctx, tx, chunk); err != nil {
				return err
			}
			return s.upsertScanAreas(ctx, tx, chunk, tx.Now())
		})
		if err != nil {
			return err
		}
		if sum != nil {
			applied(sum)
		}
	}
	return nil
}

// chunkScans splits counts into maps of at most n keys.
func chunkScans(p map[scanKey]scanCount, n int) []map[scanKey]scanCount {
	var out []map[scanKey]scanCount
	cur := map[scanKey]scanCount{}
	for k, v := range p {
		if len(cur) == n {
			out = append(out, cur)
			cur = map[scanKey]scanCount{}
		}
		cur[k] = v
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// upsertScans adds counts to trace_scans, many rows a statement (one a
// row would be a round trip each on PostgreSQL).
func upsertScans(ctx context.Context, tx *platform.Tx, p map[scanKey]scanCount) error {
	keys := make([]scanKey, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
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
			args = append(args, k.code, k.day, k.client, k.region, p[k].n, p[k].last)
		}
		sb.WriteString(` ON CONFLICT (code, day, client, region) DO UPDATE SET count = trace_scans.count + excluded.count,
			last_at = CASE WHEN excluded.last_at > trace_scans.last_at THEN excluded.last_at ELSE trace_scans.last_at END`)
		if _, err := tx.Exec(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
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
