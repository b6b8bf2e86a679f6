package trace

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// MarketKinds are where the platform's chain ends (annex art. 14).
var MarketKinds = []string{"wholesale", "retail", "processor"}

// Market is a wholesale market, retail market or processing plant.
type Market struct {
	ID         int64  `json:"id,omitempty" doc:"a registered market (GET /api/v1/markets): its name, kind and region are used, the fields below ignored"`
	Name       string `json:"name"`
	Kind       string `json:"kind" doc:"wholesale | retail | processor"`
	RegionCode string `json:"region_code"`
}

// SaleInput sells part or all of a code: to a registered operator (by its
// operator code) or into a market.
type SaleInput struct {
	FromCode          string  `json:"from_code" validate:"required"`
	Quantity          float64 `json:"quantity"`
	BuyerOperatorCode string  `json:"buyer_operator_code,omitempty"`
	Market            *Market `json:"market,omitempty"`
	ShippedAt         string  `json:"shipped_at,omitempty" doc:"YYYY-MM-DD; default today (China time)"`
}

// Transfer is a sale and its answer.
type Transfer struct {
	TraceCode        string    `json:"trace_code"`
	FromCode         string    `json:"from_code"`
	Kind             string    `json:"kind" doc:"operator | market"`
	Status           string    `json:"status" doc:"pending | confirmed | rejected | withdrawn | issued | accepted"`
	Seller           Party     `json:"seller"`
	Buyer            *Party    `json:"buyer,omitempty"`
	Market           *Market   `json:"market,omitempty"`
	ProductCode      string    `json:"product_code"`
	ProductName      string    `json:"product_name"`
	Quantity         float64   `json:"quantity"`
	Unit             string    `json:"unit"`
	UnitName         string    `json:"unit_name"`
	ReceivedQuantity *float64  `json:"received_quantity,omitempty"`
	ShippedAt        string    `json:"shipped_at"`
	RespondedAt      string    `json:"responded_at,omitempty"`
	Reason           string    `json:"reason,omitempty"`
	CertificateURL   string    `json:"certificate_url,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
}

// Open reports whether the transfer still awaits an answer.
func (t Transfer) Open() bool { return t.Status == "pending" || t.Status == "issued" }

const transferColumns = `tr.code, tr.from_code, tr.kind, tr.status, tr.seller_operator_id, COALESCE(so.code, ''), so.name, so.kind, so.region_code,
	COALESCE(tr.buyer_operator_id, 0), COALESCE(bo.code, ''), COALESCE(bo.name, ''), COALESCE(bo.kind, ''), tr.buyer_region,
	tr.market_name, tr.market_kind, t.product_code, p.name, tr.quantity_milli, tr.unit, COALESCE(tr.received_milli, -1),
	tr.shipped_on, COALESCE(tr.responded_on, ''), tr.reason, tr.created_at, COALESCE(tr.market_id, 0)`

const transferFrom = `FROM transfers tr JOIN trace_codes t ON t.code = tr.code JOIN products p ON p.code = t.product_code
	JOIN operators so ON so.id = tr.seller_operator_id LEFT JOIN operators bo ON bo.id = tr.buyer_operator_id`

func scanTransfer(row interface{ Scan(...any) error }) (Transfer, error) {
	var t Transfer
	var buyer Party
	var marketName, marketKind string
	var qty, rec, marketID int64
	err := row.Scan(&t.TraceCode, &t.FromCode, &t.Kind, &t.Status, &t.Seller.ID, &t.Seller.Code, &t.Seller.Name, &t.Seller.Kind,
		&t.Seller.RegionCode, &buyer.ID, &buyer.Code, &buyer.Name, &buyer.Kind, &buyer.RegionCode, &marketName, &marketKind,
		&t.ProductCode, &t.ProductName, &qty, &t.Unit, &rec, &t.ShippedAt, &t.RespondedAt, &t.Reason, &t.CreatedAt, &marketID)
	if err != nil {
		return Transfer{}, err
	}
	t.Quantity, t.UnitName = fromMilli(qty), UnitName(t.Unit)
	if rec >= 0 {
		r := fromMilli(rec)
		t.ReceivedQuantity = &r
	}
	if t.Kind == "market" {
		t.Market = &Market{ID: marketID, Name: marketName, Kind: marketKind, RegionCode: buyer.RegionCode}
		t.CertificateURL = "/api/v1/transfers/" + t.TraceCode + "/certificate.pdf"
	} else {
		b := buyer
		t.Buyer = &b
	}
	return t, nil
}

func (s *Service) transfer(ctx context.Context, code string) (Transfer, error) {
	t, err := scanTransfer(s.db.QueryRow(ctx, `SELECT `+transferColumns+` `+transferFrom+` WHERE tr.code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return Transfer{}, errCodeNotFound
	}
	return t, err
}

func (t Transfer) resources() []auth.Resource {
	res := []auth.Resource{{Region: t.Seller.RegionCode, OperatorID: t.Seller.ID}}
	if t.Buyer != nil {
		res = append(res, auth.Resource{Region: t.Buyer.RegionCode, OperatorID: t.Buyer.ID})
	} else if t.Market != nil {
		res = append(res, auth.Resource{Region: t.Market.RegionCode})
	}
	return res
}

// GetTransfer returns a sale the actor takes part in or supervises.
func (s *Service) GetTransfer(ctx context.Context, actor *auth.Actor, code string) (Transfer, error) {
	if err := auth.Authorize(actor, auth.ActBatchRead, auth.Resource{}); err != nil {
		return Transfer{}, err
	}
	t, err := s.transfer(ctx, code)
	if err != nil {
		return Transfer{}, err
	}
	if err := authorizeAny(actor, auth.ActBatchRead, t.resources()...); err != nil {
		return Transfer{}, asNotFound(err)
	}
	return t, nil
}

// TransferFilter narrows ListTransfers.
type TransferFilter struct {
	Direction string // incoming | outgoing | "" (both) — operators; markets see their region's market entries
	Status    string
	Limit     int
	Offset    int // rows to skip (pages)
}

// ListTransfers lists sales: an operator's incoming or outgoing ones, a
// market clerk's market entries, or those in an official's jurisdiction.
func (s *Service) ListTransfers(ctx context.Context, actor *auth.Actor, f TransferFilter) ([]Transfer, error) {
	sc := auth.ListScope(actor, auth.ActBatchRead)
	if err := sc.Err(actor, auth.ActBatchRead); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var v platform.Validator
	if f.Direction != "" {
		v.OneOf("direction", f.Direction, "incoming", "outgoing")
	}
	if f.Status != "" {
		v.OneOf("status", f.Status, "pending", "confirmed", "rejected", "issued", "accepted")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	w := auth.NewWhere()
	switch {
	case sc.Kind == auth.ScopeOperator:
		// incoming, outgoing or both: the scope's operator on the chosen side
		cols := []string{"tr.buyer_operator_id", "tr.seller_operator_id"}
		switch f.Direction {
		case "incoming":
			cols = cols[:1]
		case "outgoing":
			cols = cols[1:]
		}
		w.Scope(sc, auth.Columns{Operator: cols})
	case actor.Role == auth.RoleMarket:
		// market clerks see the market entries into markets of their region
		w.Add("tr.kind = 'market'")
		w.Scope(sc, auth.Columns{Region: []string{"tr.buyer_region"}})
	default:
		w.Scope(sc, auth.Columns{Region: []string{"tr.seller_region", "tr.buyer_region"}})
	}
	if f.Status != "" {
		w.Add("tr.status = " + w.Arg(f.Status))
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	rows, err := s.db.Query(ctx, `SELECT `+transferColumns+` `+transferFrom+w.SQL()+` ORDER BY tr.created_at DESC, tr.code DESC LIMIT `+w.Arg(f.Limit)+
		` OFFSET `+w.Arg(f.Offset), w.Args()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Transfer{}
	for rows.Next() {
		t, err := scanTransfer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
