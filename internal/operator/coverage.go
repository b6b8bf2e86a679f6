package operator

import (
	"context"
	"strings"

	"agtrace/internal/auth"
)

// Counts is a registered ÷ rostered ratio.
type Counts struct {
	Rostered   int     `json:"rostered"`
	Registered int     `json:"registered"`
	Rate       float64 `json:"rate" doc:"registered ÷ rostered (0 when nothing is rostered)"`
}

func (c *Counts) finish() {
	if c.Rostered > 0 {
		c.Rate = float64(c.Registered) / float64(c.Rostered)
	}
}

// Coverage is the registration coverage of a region (annex art. 9): all
// rostered operators, and separately the key operators (leading
// enterprises, demonstration cooperatives, certified producers) whose
// target is 100 %.
type Coverage struct {
	Region     string     `json:"region"`
	RegionName string     `json:"region_name"`
	Level      string     `json:"level"`
	Rostered   int        `json:"rostered"`
	Registered int        `json:"registered"`
	Rate       float64    `json:"rate"`
	Key        Counts     `json:"key"`
	KeyTarget  float64    `json:"key_target"`
	Children   []Coverage `json:"children,omitempty"`
}

// KeyTarget is the pilot's registration target for key operators.
const KeyTarget = 1.0

// Coverage computes coverage for region (default: the actor's
// jurisdiction; "000000" is national) and for each of its subdivisions
// that has rostered operators.
func (s *Service) Coverage(ctx context.Context, actor *auth.Actor, regionCode string) (Coverage, error) {
	regionCode = strings.TrimSpace(regionCode)
	if regionCode == "" && actor != nil {
		regionCode = actor.Region
	}
	if regionCode == "" {
		regionCode = "000000"
	}
	if err := auth.Authorize(actor, auth.ActRosterRead, auth.Resource{Region: regionCode}); err != nil {
		return Coverage{}, err
	}
	c := Coverage{Region: regionCode, KeyTarget: KeyTarget}
	if regionCode == "000000" {
		c.RegionName, c.Level = "全国", "country"
	} else {
		r, err := s.regions.Get(ctx, regionCode)
		if err != nil {
			return Coverage{}, err
		}
		c.Level = r.Level
		c.RegionName = s.RegionName(ctx, regionCode)
	}
	prefix := auth.RegionPrefix(regionCode)
	groups, err := s.coverageGroups(ctx, auth.ListScope(actor, auth.ActRosterRead), regionCode, childLen(prefix, c.Level))
	if err != nil {
		return Coverage{}, err
	}
	for _, g := range groups {
		c.Rostered += g.Rostered
		c.Registered += g.Registered
		c.Key.Rostered += g.Key.Rostered
		c.Key.Registered += g.Key.Registered
	}
	all := Counts{Rostered: c.Rostered, Registered: c.Registered}
	all.finish()
	c.Rate = all.Rate
	c.Key.finish()
	if c.Level != "township" {
		for _, g := range groups {
			code := childCode(g.Region)
			g.Region = code
			if r, err := s.regions.Get(ctx, code); err == nil {
				g.RegionName, g.Level = r.Name, r.Level
			} else {
				g.RegionName = code
			}
			c.Children = append(c.Children, g)
		}
	}
	return c, nil
}

// childLen is the length of the code prefix that identifies the children of
// a region with this prefix and level.
func childLen(prefix, level string) int {
	switch level {
	case "country":
		return 2
	case "province":
		return 4
	case "prefecture":
		return 6
	case "county":
		return 9
	}
	return len(prefix)
}

func childCode(prefix string) string {
	switch len(prefix) {
	case 2:
		return prefix + "0000"
	case 4:
		return prefix + "00"
	}
	return prefix
}

// coverageGroups counts the entries in sc under root grouped by the first n
// characters of their region code.
func (s *Service) coverageGroups(ctx context.Context, sc auth.Scope, root string, n int) ([]Coverage, error) {
	prefix := auth.RegionPrefix(root)
	if n < len(prefix) || n == 0 {
		n = len(prefix)
	}
	if n == 0 {
		n = 2
	}
	w := auth.NewWhere(n)
	w.Scope(sc, auth.Columns{Region: []string{"e.region_code"}})
	w.Region("e.region_code", root)
	rows, err := s.db.Query(ctx, `SELECT SUBSTR(e.region_code, 1, $1) AS g,
		COUNT(*),
		SUM(CASE WHEN o.status IN `+registeredStatuses+` THEN 1 ELSE 0 END),
		SUM(CASE WHEN e.leading_enterprise IS NOT NULL OR e.demo_cooperative OR e.certified THEN 1 ELSE 0 END),
		SUM(CASE WHEN (e.leading_enterprise IS NOT NULL OR e.demo_cooperative OR e.certified) AND o.status IN `+registeredStatuses+` THEN 1 ELSE 0 END)
		FROM roster_entries e LEFT JOIN operators o ON o.id = e.operator_id
		`+w.SQL()+` GROUP BY 1 ORDER BY 1`, w.Args()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Coverage
	for rows.Next() {
		var g Coverage
		if err := rows.Scan(&g.Region, &g.Rostered, &g.Registered, &g.Key.Rostered, &g.Key.Registered); err != nil {
			return nil, err
		}
		all := Counts{Rostered: g.Rostered, Registered: g.Registered}
		all.finish()
		g.Rate = all.Rate
		g.Key.finish()
		g.KeyTarget = KeyTarget
		out = append(out, g)
	}
	return out, rows.Err()
}
