package trace

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
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

// upsertScanAreas adds counts to trace_scan_areas (tx: the one adding them
// to trace_scans). Rows are written in key order, so two instances applying
// chunks at once take the rows' locks in the same order.
func upsertScanAreas(ctx context.Context, tx *platform.Tx, p map[scanKey]scanCount, now time.Time) error {
	areas, err := codeAreas(ctx, tx, p)
	if err != nil {
		return err
	}
	sums := map[scanArea]int64{}
	for k, v := range p {
		if a, ok := areas[k.code]; ok { // views are counted for resolved codes only
			sums[scanArea{k.day, a.county, a.product, k.client}] += v.n
		}
	}
	keys := make([]scanArea, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
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

func (a scanArea) less(b scanArea) bool {
	if a.day != b.day {
		return a.day < b.day
	}
	if a.county != b.county {
		return a.county < b.county
	}
	if a.product != b.product {
		return a.product < b.product
	}
	return a.client < b.client
}

// codeAreas is the county and product of each code of p, read in code
// order (neighbouring index pages).
func codeAreas(ctx context.Context, tx *platform.Tx, p map[scanKey]scanCount) (map[string]codeArea, error) {
	seen := make(map[string]bool, len(p))
	codes := make([]string, 0, len(p))
	for k := range p {
		if !seen[k.code] {
			seen[k.code] = true
			codes = append(codes, k.code)
		}
	}
	sort.Strings(codes)
	out := make(map[string]codeArea, len(codes))
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
		if err := readCodeAreas(rows, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readCodeAreas(rows *sql.Rows, into map[string]codeArea) error {
	defer rows.Close()
	for rows.Next() {
		var code string
		var a codeArea
		if err := rows.Scan(&code, &a.county, &a.product); err != nil {
			return err
		}
		into[code] = a
	}
	return rows.Err()
}
