package trace

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"agtrace/internal/platform"
)

// Scan totals by area: trace_scan_areas holds a day's public views per
// county of the code (the first six digits of its region), product and
// client class. A fold's chunk adds its views to it in the transaction that
// adds them to trace_scans, so both always agree. The dashboards' "public
// scans" figure reads these few rows a day: recomputed from trace_scans it
// joined every code viewed that day with trace_codes once a minute (3 s at
// 200,000 codes on SQLite, holding the only writer; docs/benchmarks.md).

// scanArea keys a row of trace_scan_areas.
type scanArea struct{ day, county, product, client string }

// scanAreaLookup is how many codes one statement looks up. The list is
// always this long (the last code repeated), so it is one statement text.
var scanAreaLookup = 64

// codeArea is where a code's views are counted: its county and product.
type codeArea struct{ county, product string }

// areaCache remembers the areas of codes a fold looked up: a code's region
// and product never change, and at a crowd's scans the same codes come back
// every minute (looked up each time, they were half of a fold's work on
// SQLite). Areas are interned, so an entry holds no pointer.
type areaCache struct {
	mu    sync.Mutex
	of    map[codeKey]uint32 // index into areas
	areas []codeArea
	index map[codeArea]uint32
}

// maxAreaCodes bounds the codes areaCache remembers (some 40 bytes each);
// beyond it codes are looked up at every fold.
const maxAreaCodes = 1 << 20

// get is the area of code, when remembered.
func (c *areaCache) get(code string) (codeArea, bool) {
	k, ok := keyOf(code)
	if !ok {
		return codeArea{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.of[k]
	if !ok {
		return codeArea{}, false
	}
	return c.areas[i], true
}

// put remembers code's area (while there is room).
func (c *areaCache) put(code string, a codeArea) {
	k, ok := keyOf(code)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.of == nil {
		c.of, c.index = map[codeKey]uint32{}, map[codeArea]uint32{}
	}
	if len(c.of) >= maxAreaCodes {
		return
	}
	i, ok := c.index[a]
	if !ok {
		i = uint32(len(c.areas))
		c.areas = append(c.areas, a)
		c.index[a] = i
	}
	c.of[k] = i
}

// upsertScanAreas adds counts to trace_scan_areas (tx: the one adding them
// to trace_scans). Rows are written in key order, so two instances applying
// chunks at once take the rows' locks in the same order.
func (s *Service) upsertScanAreas(ctx context.Context, tx *platform.Tx, p map[scanKey]scanCount, now time.Time) error {
	areas, err := s.codeAreas(ctx, tx, p)
	if err != nil {
		return err
	}
	sums := map[scanArea]int64{}
	for k, v := range p {
		if a, ok := areas[k.code]; ok { // views are counted for resolved codes only
			sums[scanArea{k.day, a.county, a.product, k.client}] += v.n
		}
	}
	keys := slices.SortedFunc(maps.Keys(sums), func(a, b scanArea) int {
		return cmp.Or(strings.Compare(a.day, b.day), strings.Compare(a.county, b.county),
			strings.Compare(a.product, b.product), strings.Compare(a.client, b.client))
	})
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), scanFlushRows)]
		keys = keys[len(chunk):]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO trace_scan_areas (day, region_code, product_code, client, count, folded_at) VALUES `)
		args := make([]any, 0, 5*len(chunk)+1)
		args = append(args, now)
		for i, k := range chunk {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $1)", 5*i+2, 5*i+3, 5*i+4, 5*i+5, 5*i+6)
			args = append(args, k.day, k.county, k.product, k.client, sums[k])
		}
		sb.WriteString(` ON CONFLICT (day, region_code, product_code, client) DO UPDATE SET count = trace_scan_areas.count + excluded.count,
			folded_at = excluded.folded_at`)
		if _, err := tx.Exec(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// codeAreas is the county and product of each code of p: remembered, or
// read in code order (neighbouring index pages).
func (s *Service) codeAreas(ctx context.Context, tx *platform.Tx, p map[scanKey]scanCount) (map[string]codeArea, error) {
	out := make(map[string]codeArea, len(p))
	missing := map[string]bool{}
	for k := range p {
		if _, ok := out[k.code]; ok || missing[k.code] {
			continue
		}
		if a, ok := s.areas.get(k.code); ok {
			out[k.code] = a
		} else {
			missing[k.code] = true
		}
	}
	codes := slices.Sorted(maps.Keys(missing))
	query := `SELECT code, SUBSTR(region_code, 1, 6), product_code FROM trace_codes WHERE code IN ` + inList(scanAreaLookup)
	args := make([]any, scanAreaLookup)
	for len(codes) > 0 {
		n := min(len(codes), scanAreaLookup)
		for i := range args {
			args[i] = codes[min(i, n-1)]
		}
		codes = codes[n:]
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		if err := s.readCodeAreas(rows, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) readCodeAreas(rows *sql.Rows, into map[string]codeArea) error {
	defer rows.Close()
	for rows.Next() {
		var code string
		var a codeArea
		if err := rows.Scan(&code, &a.county, &a.product); err != nil {
			return err
		}
		into[code] = a
		s.areas.put(code, a)
	}
	return rows.Err()
}
