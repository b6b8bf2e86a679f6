package trace

import (
	"context"
	"database/sql"
	"sort"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// ScanCount is one line of a code's scan statistics.
type ScanCount struct {
	Key   string `json:"key" doc:"the client class, the shared province's code, or the day (YYYY-MM-DD)"`
	Name  string `json:"name,omitempty" doc:"the province's name"`
	Count int64  `json:"count"`
}

// ScanBreakdown is how a code's label was viewed: counted views (flushed
// each second) by coarse client class, by the province viewers chose to
// share, and by day for the last ScanDays days. It identifies no one.
type ScanBreakdown struct {
	Code     string      `json:"code"`
	Total    int64       `json:"total"`
	FirstDay string      `json:"first_day,omitempty"`
	LastAt   *time.Time  `json:"last_at,omitempty"`
	Shared   int64       `json:"shared" doc:"views whose viewer shared a province"`
	ByClient []ScanCount `json:"by_client" doc:"wechat | alipay | mobile | desktop | tool | other"`
	ByRegion []ScanCount `json:"by_region"`
	ByDay    []ScanCount `json:"by_day"`
}

// ScanDays is how many days the per-day statistics go back.
const ScanDays = 30

// Scans answers a code's scan statistics to whoever may read the batch
// (its holder, the parties of its sale, officials in reach).
func (s *Service) Scans(ctx context.Context, actor *auth.Actor, code string) (ScanBreakdown, error) {
	if _, err := s.GetBatch(ctx, actor, code); err != nil {
		return ScanBreakdown{}, err
	}
	out := ScanBreakdown{Code: code, ByClient: []ScanCount{}, ByRegion: []ScanCount{}, ByDay: []ScanCount{}}
	rows, err := s.db.Query(ctx, `SELECT day, client, region, count, last_at FROM trace_scans WHERE code = $1`, code)
	if err != nil {
		return ScanBreakdown{}, err
	}
	clients, regions, days := map[string]int64{}, map[string]int64{}, map[string]int64{}
	since := platform.Today(s.clock.Now().AddDate(0, 0, -ScanDays+1))
	for rows.Next() {
		var day, client, region string
		var n int64
		var last sql.NullTime
		if err := rows.Scan(&day, &client, &region, &n, &last); err != nil {
			rows.Close()
			return ScanBreakdown{}, err
		}
		out.Total += n
		clients[client] += n
		if region != "" {
			regions[region] += n
			out.Shared += n
		}
		if day >= since {
			days[day] += n
		}
		if out.FirstDay == "" || day < out.FirstDay {
			out.FirstDay = day
		}
		if last.Valid && (out.LastAt == nil || last.Time.After(*out.LastAt)) {
			t := last.Time
			out.LastAt = &t
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ScanBreakdown{}, err
	}
	for _, c := range ClientClasses {
		if n := clients[c]; n > 0 {
			out.ByClient = append(out.ByClient, ScanCount{Key: c, Count: n})
		}
	}
	for r, n := range regions {
		out.ByRegion = append(out.ByRegion, ScanCount{Key: r, Name: s.regionName(ctx, r), Count: n})
	}
	sort.Slice(out.ByRegion, func(i, j int) bool {
		a, b := out.ByRegion[i], out.ByRegion[j]
		return a.Count > b.Count || a.Count == b.Count && a.Key < b.Key
	})
	for d, n := range days {
		out.ByDay = append(out.ByDay, ScanCount{Key: d, Count: n})
	}
	sort.Slice(out.ByDay, func(i, j int) bool { return out.ByDay[i].Key < out.ByDay[j].Key })
	return out, nil
}
