package trace

import (
	"context"
	"database/sql"
	"sort"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// The recall spreadsheet: every tracking event of a chain, one row each,
// with the FSMA 204 key data elements (docs/standards.md §3) — what the US
// rule asks for within 24 hours, produced in seconds.

// Sheet event types.
const (
	EventProduction     = "production"     // a lot recorded at harvest / slaughter / production
	EventTransformation = "transformation" // a lot made from others (split, merge, processing)
	EventShipping       = "shipping"
	EventReceiving      = "receiving"
)

// SheetRow is one tracking event.
type SheetRow struct {
	Event     string
	LotCode   string // the traceability lot code (our trace code)
	Product   string
	Quantity  float64
	Unit      string
	Date      string
	Location  string // where it happened: operator name and code
	Region    string
	LotSource string // who assigned the lot code
	ShipFrom  string
	ReceiveAt string
	Origin    string // harvest farm / base
	InputLots string // the lots it came from
	Reference string // reference document (the transfer's code)
}

// chainCode is one code of a chain as the sheet reads it.
type chainCode struct {
	code, source, product, unit, produced, origin, holder, holderCode, region string
	typ                                                                       int
	qty                                                                       int64
	trStatus, shipped, responded, seller, sellerCode, sellerRegion, market    string
	received                                                                  int64
}

// RecallSheet lists the tracking events of a code's whole chain (ancestors
// and descendants), for officials whose jurisdiction holds the code.
func (s *Service) RecallSheet(ctx context.Context, actor *auth.Actor, input string) ([]SheetRow, error) {
	if err := auth.Authorize(actor, auth.ActRecallRead, auth.Resource{}); err != nil {
		return nil, err
	}
	if actor.OperatorID != 0 {
		return nil, platform.Forbidden("召回清单只向监管人员提供", "the recall spreadsheet is for officials")
	}
	code, err := s.Resolve(ctx, input)
	if err != nil {
		return nil, err
	}
	root, err := loadCode(ctx, s.db, code, false)
	if err != nil {
		return nil, err
	}
	if err := auth.Authorize(actor, auth.ActRecallRead, auth.Resource{Region: root.RegionCode}); err != nil {
		return nil, errCodeNotFound
	}
	chain, err := s.chainCodes(ctx, code)
	if err != nil {
		return nil, err
	}
	inputs, err := s.chainInputs(ctx, code)
	if err != nil {
		return nil, err
	}
	var out []SheetRow
	for _, c := range chain {
		out = append(out, sheetRows(c, inputs[c.code])...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date < out[j].Date
		}
		return out[i].LotCode < out[j].LotCode
	})
	return out, nil
}

const chainCTE = `WITH RECURSIVE down(code) AS (
		SELECT CAST($1 AS TEXT) UNION SELECT e.to_code FROM trace_edges e JOIN down d ON e.from_code = d.code
	), up(code) AS (
		SELECT CAST($1 AS TEXT) UNION SELECT e.from_code FROM trace_edges e JOIN up u ON e.to_code = u.code
	), chain(code) AS (SELECT code FROM down UNION SELECT code FROM up)`

func (s *Service) chainCodes(ctx context.Context, code string) ([]chainCode, error) {
	rows, err := s.db.Query(ctx, chainCTE+`
		SELECT t.code, t.type, t.source, p.name, t.quantity_milli, t.unit, t.produced_on, t.origin, o.name, COALESCE(o.code, ''), t.region_code,
			COALESCE(tr.status, ''), COALESCE(tr.shipped_on, ''), COALESCE(tr.responded_on, ''), COALESCE(tr.received_milli, 0),
			COALESCE(so.name, ''), COALESCE(so.code, ''), COALESCE(tr.seller_region, ''), COALESCE(tr.market_name, '')
		FROM chain c JOIN trace_codes t ON t.code = c.code JOIN products p ON p.code = t.product_code JOIN operators o ON o.id = t.operator_id
		LEFT JOIN transfers tr ON tr.code = t.code LEFT JOIN operators so ON so.id = tr.seller_operator_id`, code)
	return platform.Collect(rows, err, func(r *sql.Rows) (chainCode, error) {
		var c chainCode
		return c, r.Scan(&c.code, &c.typ, &c.source, &c.product, &c.qty, &c.unit, &c.produced, &c.origin, &c.holder, &c.holderCode, &c.region,
			&c.trStatus, &c.shipped, &c.responded, &c.received, &c.seller, &c.sellerCode, &c.sellerRegion, &c.market)
	})
}

// chainInputs maps each code of the chain to the codes it came from.
func (s *Service) chainInputs(ctx context.Context, code string) (map[string][]string, error) {
	rows, err := s.db.Query(ctx, chainCTE+`
		SELECT e.to_code, e.from_code FROM trace_edges e JOIN chain c ON c.code = e.to_code ORDER BY e.to_code, e.from_code`, code)
	type edge struct{ to, from string }
	list, err := platform.Collect(rows, err, func(r *sql.Rows) (edge, error) {
		var e edge
		return e, r.Scan(&e.to, &e.from)
	})
	out := map[string][]string{}
	for _, e := range list {
		out[e.to] = append(out[e.to], e.from)
	}
	return out, err
}

// sheetRows are a code's events: a lot recorded or made, or a sale shipped
// (and received).
func sheetRows(c chainCode, inputs []string) []SheetRow {
	here := c.holder + " (" + c.holderCode + ")"
	base := SheetRow{LotCode: c.code, Product: c.product, Quantity: fromMilli(c.qty), Unit: c.unit, Location: here, Region: c.region,
		LotSource: here, Origin: c.origin, InputLots: strings.Join(inputs, " ")}
	switch {
	case c.shipped != "": // a sale: shipped by the seller, received by the buyer
		from := c.seller + " (" + c.sellerCode + ")"
		to := here
		if c.market != "" {
			to = c.market
		}
		ship := base
		ship.Event, ship.Date, ship.Location, ship.ShipFrom, ship.ReceiveAt, ship.Reference = EventShipping, c.shipped, from, from, to, c.code
		ship.LotSource, ship.Region = from, c.sellerRegion
		rows := []SheetRow{ship}
		if c.responded != "" && (c.trStatus == TransferConfirmed || c.trStatus == TransferAccepted) {
			recv := ship
			recv.Event, recv.Date, recv.Location, recv.Region = EventReceiving, c.responded, to, c.region
			if c.received > 0 {
				recv.Quantity = fromMilli(c.received)
			}
			rows = append(rows, recv)
		}
		return rows
	case len(inputs) > 0:
		base.Event, base.Date = EventTransformation, c.produced
	default:
		base.Event, base.Date = EventProduction, c.produced
	}
	return []SheetRow{base}
}
