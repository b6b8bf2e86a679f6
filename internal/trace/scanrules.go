package trace

import (
	"context"

	"fmt"
	"math"
	"sort"
	"strings"
)

// Clone detection (issue 12): a printed code copied onto other packaging is
// scanned where the genuine goods never went, or more often than there are
// goods. Two measures per code, which the monitoring job (internal/
// supervision) compares with each region's thresholds and raises as
// findings for the supervisors of the operator's region; while such a
// finding is open the scan page shows a gentle warning.

// MinScanUnits is the fewest units a batch is taken to have when scans are
// compared with its size (a one-box batch still has a shop's worth of
// shoppers reading its label).
const MinScanUnits = 20

// ScanSuspect is a code's measure for one scan rule.
type ScanSuspect struct {
	RuleFinding
	Value float64 // FindingScanOverUnits: views per unit; FindingScanFarApart: major regions in one day
}

// scanUnits is how many labelled units a quantity stands for: count units
// as they are, weights and volumes at one unit per kilogram or litre.
func scanUnits(unit string, milli int64) float64 {
	q := float64(milli) / 1000
	if unit == "t" {
		q *= 1000
	}
	return math.Max(q, MinScanUnits)
}

// ScanSuspects measures every code viewed on or after since (YYYY-MM-DD)
// for one rule: FindingScanOverUnits, its views so far per unit of its
// batch; FindingScanFarApart, per day, how many major regions
// (MacroRegion) its shared-region views came from.
func (s *Service) ScanSuspects(ctx context.Context, kind, since string) ([]ScanSuspect, error) {
	switch kind {
	case FindingScanOverUnits:
		return s.overUnits(ctx, since)
	case FindingScanFarApart:
		return s.farApart(ctx, since)
	}
	return nil, fmt.Errorf("trace: no scan rule %q", kind)
}

// overUnits measures, per code viewed since since, its views per unit.
func (s *Service) overUnits(ctx context.Context, since string) ([]ScanSuspect, error) {
	rows, err := s.db.Query(ctx, `SELECT t.code, t.unit, COALESCE(c.quantity_milli, t.quantity_milli), o.id, o.code, o.name, o.region_code,
		(SELECT CAST(SUM(a.count) AS BIGINT) FROM trace_scans a WHERE a.code = t.code)
		FROM trace_codes t `+latestCorrection+` JOIN operators o ON o.id = t.operator_id
		WHERE t.code IN (SELECT DISTINCT code FROM trace_scans WHERE day >= $1)`, since)
	if err != nil {
		return nil, err
	}
	var out []ScanSuspect
	for rows.Next() {
		var f ScanSuspect
		var unit, opCode, opName string
		var milli, views int64
		if err := rows.Scan(&f.Code, &unit, &milli, &f.OperatorID, &opCode, &opName, &f.Region, &views); err != nil {
			rows.Close()
			return nil, err
		}
		units := scanUnits(unit, milli)
		f.Kind, f.Value = FindingScanOverUnits, float64(views)/units
		f.Detail = map[string]any{"operator": opName, "operator_code": opCode, "views": views, "units": units, "unit": unit, "per_unit": math.Round(f.Value*100) / 100}
		out = append(out, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// farApart measures, per code and day since since, the major regions its
// viewers shared.
func (s *Service) farApart(ctx context.Context, since string) ([]ScanSuspect, error) {
	rows, err := s.db.Query(ctx, `SELECT a.code, a.day, a.region, CAST(SUM(a.count) AS BIGINT), o.id, o.code, o.name, o.region_code
		FROM trace_scans a JOIN trace_codes t ON t.code = a.code JOIN operators o ON o.id = t.operator_id
		WHERE a.day >= $1 AND a.region <> '' GROUP BY a.code, a.day, a.region, o.id, o.code, o.name, o.region_code`, since)
	if err != nil {
		return nil, err
	}
	type key struct{ code, day string }
	byDay := map[key]*ScanSuspect{}
	var order []key
	for rows.Next() {
		var k key
		var region, opCode, opName, opRegion string
		var n, opID int64
		if err := rows.Scan(&k.code, &k.day, &region, &n, &opID, &opCode, &opName, &opRegion); err != nil {
			rows.Close()
			return nil, err
		}
		f := byDay[k]
		if f == nil {
			f = &ScanSuspect{RuleFinding: RuleFinding{Kind: FindingScanFarApart, Code: k.code, OperatorID: opID, Region: opRegion,
				Key: k.code + ":" + k.day, Detail: map[string]any{"operator": opName, "operator_code": opCode, "day": k.day, "regions": map[string]int64{}}}}
			byDay[k] = f
			order = append(order, k)
		}
		f.Detail["regions"].(map[string]int64)[region] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]ScanSuspect, 0, len(order))
	for _, k := range order {
		f := byDay[k]
		counts := f.Detail["regions"].(map[string]int64)
		macro := map[string]bool{}
		var regions []string
		for r := range counts {
			macro[MacroRegion(r)] = true
			regions = append(regions, r)
		}
		sort.Slice(regions, func(i, j int) bool {
			return counts[regions[i]] > counts[regions[j]] || counts[regions[i]] == counts[regions[j]] && regions[i] < regions[j]
		})
		named := make([]string, len(regions))
		for i, r := range regions {
			named[i] = fmt.Sprintf("%s %d", s.regionName(ctx, r), counts[r])
		}
		f.Value, f.Detail["regions"] = float64(len(macro)), strings.Join(named, "、")
		out = append(out, *f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// OverUnitsKey names an over-units episode: the code and the doubling of
// the threshold reached, so a finding closed as harmless comes back only
// when the views per unit double again.
func OverUnitsKey(code string, value, threshold float64) string {
	if threshold <= 0 {
		threshold = 1
	}
	return fmt.Sprintf("%s:%d", code, int(math.Floor(math.Log2(math.Max(value/threshold, 1)))))
}
