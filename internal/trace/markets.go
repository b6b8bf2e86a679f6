package trace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// Markets as places: wholesale and retail markets and processors, each
// registered once (by the county's officials, an administrator or the
// market's own clerk) so that a seller picks the market instead of typing
// its name — and the clerk's list of entries, the market-entry certificate
// and the public page name it the same way every time. A sale into a
// registered market copies its name, kind and region into the transfer (a
// sale keeps what the market was called then) and records its id.

// RegisteredMarket is a market registered as a place.
type RegisteredMarket struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Kind       string `json:"kind" doc:"wholesale | retail | processor"`
	RegionCode string `json:"region_code"`
	RegionName string `json:"region_name"`
	Address    string `json:"address,omitempty"`
}

// NewMarket registers a market.
type NewMarket struct {
	Name       string `json:"name" validate:"required"`
	Kind       string `json:"kind" validate:"required" doc:"wholesale | retail | processor"`
	RegionCode string `json:"region_code" validate:"required" doc:"the market's county or township"`
	Address    string `json:"address,omitempty"`
}

// MarketFilter narrows Markets.
type MarketFilter struct {
	Region string // a region prefix (a province, a city, a county)
	Q      string // name contains
	Limit  int
}

// Markets lists registered markets, ordered by region and name: public
// reference data (markets are public places; sellers pick them anywhere).
func (s *Service) Markets(ctx context.Context, f MarketFilter) ([]RegisteredMarket, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 500
	}
	w := auth.NewWhere()
	if p := auth.RegionPrefix(f.Region); p != "" {
		w.Add("region_code LIKE " + w.Arg(p+"%"))
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		w.Add("name LIKE " + w.Arg(likeContains(q)))
	}
	rows, err := s.db.Query(ctx, `SELECT id, name, kind, region_code, address FROM markets`+w.SQL()+` ORDER BY region_code, name LIMIT `+w.Arg(f.Limit), w.Args()...)
	list, err := platform.Collect(rows, err, scanMarket)
	for i := range list {
		list[i].RegionName = s.regionName(ctx, list[i].RegionCode)
	}
	return list, err
}

func scanMarket(r interface{ Scan(...any) error }) (RegisteredMarket, error) {
	var m RegisteredMarket
	err := r.Scan(&m.ID, &m.Name, &m.Kind, &m.RegionCode, &m.Address)
	return m, err
}

var errMarketNotFound = platform.NotFound("市场不存在", "market not found")

// market loads one registered market.
func (s *Service) market(ctx context.Context, id int64) (RegisteredMarket, error) {
	m, err := scanMarket(s.db.QueryRow(ctx, `SELECT id, name, kind, region_code, address FROM markets WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return RegisteredMarket{}, errMarketNotFound
	}
	return m, err
}

// CreateMarket registers a market in the actor's jurisdiction (the same
// name twice in one region is 409).
func (s *Service) CreateMarket(ctx context.Context, actor *auth.Actor, in NewMarket) (RegisteredMarket, error) {
	if err := auth.Authorize(actor, auth.ActMarketManage, auth.Resource{}); err != nil {
		return RegisteredMarket{}, err
	}
	in.Address = strings.TrimSpace(in.Address)
	m := Market{Name: in.Name, Kind: in.Kind, RegionCode: in.RegionCode}
	var v platform.Validator
	s.checkTypedMarket(ctx, &v, "", &m)
	v.MaxLen("address", in.Address, 200)
	if err := v.Err(); err != nil {
		return RegisteredMarket{}, err
	}
	if err := auth.Authorize(actor, auth.ActMarketManage, auth.Resource{Region: m.RegionCode}); err != nil {
		return RegisteredMarket{}, platform.Invalid(platform.FieldError{Field: "region_code", Code: "jurisdiction",
			ZH: "只能登记本辖区的市场", EN: "you can register markets of your jurisdiction only"})
	}
	var id int64
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		var taken int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM markets WHERE region_code = $1 AND name = $2`, m.RegionCode, m.Name).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return platform.Conflict("本地区已登记同名市场", "a market of this name is registered in this region already")
		}
		if err := tx.QueryRow(ctx, `INSERT INTO markets (name, kind, region_code, address, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			m.Name, m.Kind, m.RegionCode, in.Address, platform.NullInt(actor.UserID), tx.Now()).Scan(&id); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "market.create", ResourceType: "market", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"name": m.Name, "kind": m.Kind, "region_code": m.RegionCode}})
	})
	if err != nil {
		return RegisteredMarket{}, err
	}
	return RegisteredMarket{ID: id, Name: m.Name, Kind: m.Kind, RegionCode: m.RegionCode, RegionName: s.regionName(ctx, m.RegionCode), Address: in.Address}, nil
}
