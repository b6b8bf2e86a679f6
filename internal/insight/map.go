package insight

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// MapAnswer is a figure per child region of a region: the provinces of the
// nation, the prefectures of a province, the counties of a prefecture.
type MapAnswer struct {
	Figure     string    `json:"figure"`
	Label      string    `json:"label"`
	Region     string    `json:"region"`
	RegionName string    `json:"region_name"`
	Key        string    `json:"key,omitempty" doc:"only this key of the figure (e.g. coverage: registered); default every key"`
	Values     []Value   `json:"values" doc:"one per child region (code, name, count); every record counted once"`
	Totals     []Value   `json:"totals,omitempty" doc:"with key: each child's count over every key (a share's denominator)"`
	Total      int64     `json:"total"`
	AsOf       time.Time `json:"as_of"`
}

// Map answers figure per child region of q.Region, or per county of it
// (q.Level county: a province's map by county).
func (s *Service) Map(ctx context.Context, actor *auth.Actor, figure string, q Query) (MapAnswer, error) {
	key := q.Key
	switch q.Level {
	case LevelChildren:
		q.By = "region"
	case LevelCounty:
		q.By = "county"
	default:
		return MapAnswer{}, platform.Invalid(platform.FieldError{Field: "level", Code: "not_allowed", ZH: "level 应为空或 county", EN: "level must be empty or county"})
	}
	q.Key = ""
	f, q, err := s.check(ctx, actor, figure, q)
	if err != nil {
		return MapAnswer{}, err
	}
	ans, err := s.answer(ctx, f, q)
	if err != nil {
		return MapAnswer{}, err
	}
	out := MapAnswer{Figure: f.Name, Label: f.ZH, Region: q.Region, RegionName: s.RegionName(ctx, q.Region), Key: key, AsOf: ans.AsOf,
		Values: []Value{}}
	sel, all := map[string]int64{}, map[string]int64{}
	for _, sr := range ans.Series {
		for _, v := range sr.Values {
			all[v.Key] += v.Value
			if key == "" || sr.Key == key {
				sel[v.Key] += v.Value
			}
		}
	}
	regions := s.children
	if q.By == "county" {
		regions = s.counties
	}
	for _, c := range regions(ctx, q.Region, all) {
		out.Values = append(out.Values, Value{Key: c, Label: s.RegionName(ctx, c), Value: sel[c]})
		if key != "" {
			out.Totals = append(out.Totals, Value{Key: c, Label: s.RegionName(ctx, c), Value: all[c]})
		}
		out.Total += sel[c]
	}
	return out, nil
}

// children are root's child regions (those with figures first seen in
// seen are always included, so no count is left out).
func (s *Service) children(ctx context.Context, root string, seen map[string]int64) []string {
	var out []string
	have := map[string]bool{}
	n := childLen(root)
	if list, err := s.regions.Children(ctx, root); err == nil {
		for _, r := range list {
			c := (r.Code + "000000")[:6]
			if len(r.Code) > 6 || have[c] || (n == 6 && c == root) {
				continue
			}
			have[c] = true
			out = append(out, c)
		}
	}
	for c := range seen {
		if !have[c] {
			have[c] = true
			out = append(out, c)
		}
	}
	sortStrings(out)
	return out
}

// counties are every county under root (root itself when it is one), and
// the counties with figures in seen, so no count is left out.
func (s *Service) counties(ctx context.Context, root string, seen map[string]int64) []string {
	var out []string
	have := map[string]bool{}
	add := func(c string) {
		if !have[c] {
			have[c] = true
			out = append(out, c)
		}
	}
	var walk func(code string, depth int)
	walk = func(code string, depth int) {
		if len(auth.RegionPrefix(code)) == 6 {
			add(code) // a county
			return
		}
		if depth > 2 { // nation → province → prefecture → county
			return
		}
		list, err := s.regions.Children(ctx, code)
		if err != nil {
			return
		}
		for _, r := range list {
			if len(r.Code) <= 6 && r.Code != code {
				walk((r.Code + "000000")[:6], depth+1)
			}
		}
	}
	walk(root, 0)
	for c := range seen {
		add(c)
	}
	sortStrings(out)
	return out
}

// Overview is every figure by key and child region, for the dashboard
// page. The figures are read concurrently (overviewReaders at a time: each
// is one grouped query, and the database serves readers in parallel).
func (s *Service) Overview(ctx context.Context, actor *auth.Actor, q Query) ([]Answer, error) {
	out := make([]Answer, len(Figures))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(overviewReaders)
	for i, f := range Figures {
		fq := q
		fq.By = "region"
		if f.State {
			fq.From = ""
		}
		_, fq, err := s.check(ctx, actor, f.Name, fq)
		if err != nil {
			_ = g.Wait() // the reads already started end before we answer
			return nil, err
		}
		g.Go(func() error {
			a, err := s.answer(gctx, f, fq)
			out[i] = a
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// overviewReaders is how many figures an overview reads at once.
const overviewReaders = 4
