package trace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

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
	marketRegion                                                              string
	received                                                                  int64
}

// SheetQuery selects the lots a recall spreadsheet covers: exactly one of
// Code, Operator or Product, optionally narrowed by Region and by a date
// range. The sheet holds every tracking event of the selected lots' whole
// chains (up and down), so a date range picks lots, never cuts a chain.
type SheetQuery struct {
	Code     string // any code type or alias: that lot's chain
	Operator string // an operator code: the lots it holds
	Product  string // a product code: its lots in the actor's jurisdiction
	Region   string // narrows Operator/Product lots to a region subtree
	From, To string // lots produced, or shipped, within [From, To]
}

// MaxSheetLots bounds how many lots one spreadsheet selects; a wider
// request is refused with a message to narrow it.
const MaxSheetLots = 50000

// RecallSheet lists the tracking events of the chains q selects, for
// officials whose jurisdiction holds them.
func (s *Service) RecallSheet(ctx context.Context, actor *auth.Actor, q SheetQuery) ([]SheetRow, error) {
	if err := auth.Authorize(actor, auth.ActRecallRead, auth.Resource{}); err != nil {
		return nil, err
	}
	if actor.OperatorID != 0 {
		return nil, platform.Forbidden("召回清单只向监管人员提供", "the recall spreadsheet is for officials")
	}
	seeds, err := s.sheetSeeds(ctx, actor, q)
	if err != nil {
		return nil, err
	}
	var out []SheetRow
	if seeds.n == 0 {
		return out, nil
	}
	chain, err := s.chainCodes(ctx, seeds)
	if err != nil {
		return nil, err
	}
	inputs, err := s.chainInputs(ctx, seeds)
	if err != nil {
		return nil, err
	}
	for _, c := range chain {
		out = append(out, sheetRows(c, inputs[c.code])...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date < out[j].Date
		}
		if out[i].LotCode != out[j].LotCode {
			return out[i].LotCode < out[j].LotCode
		}
		return out[i].Event > out[j].Event // shipping before receiving
	})
	return out, nil
}

// validSheetQuery checks the selection's fields (422 with each problem).
func validSheetQuery(q SheetQuery) error {
	var v platform.Validator
	n := 0
	for _, x := range []string{q.Code, q.Operator, q.Product} {
		if strings.TrimSpace(x) != "" {
			n++
		}
	}
	v.Check(n == 1, "code", "choose_one", "请填写且只填写追溯码、经营主体码或产品代码之一", "give exactly one of code, operator or product")
	v.Check(q.Region == "" || allDigits(q.Region), "region", "format", "地区代码应为数字", "region must be a region code (digits)")
	for _, d := range []struct{ name, value string }{{"from", q.From}, {"to", q.To}} {
		if d.value == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.value)
		v.Check(err == nil && t.Format(time.DateOnly) == d.value, d.name, "format", "日期格式应为 YYYY-MM-DD", "must be a date YYYY-MM-DD")
	}
	if q.From != "" && q.To != "" && q.From > q.To {
		v.Add("to", "before_from", "结束日期不能早于开始日期", "must not be before from")
	}
	return v.Err()
}

// sheetSeeds returns the query for the selected lots, inside the actor's
// jurisdiction.
func (s *Service) sheetSeeds(ctx context.Context, actor *auth.Actor, q SheetQuery) (seedSet, error) {
	if err := validSheetQuery(q); err != nil {
		return seedSet{}, err
	}
	if q.Code != "" {
		code, err := s.Resolve(ctx, q.Code)
		if err != nil {
			return seedSet{}, err
		}
		root, err := loadCode(ctx, s.db, code, false)
		if err != nil {
			return seedSet{}, err
		}
		if err := auth.Authorize(actor, auth.ActRecallRead, auth.Resource{Region: root.RegionCode}); err != nil {
			return seedSet{}, errCodeNotFound
		}
		return seedSet{sql: `SELECT CAST($1 AS TEXT)`, args: []any{code}, n: 1}, nil
	}
	sc := auth.ListScope(actor, auth.ActRecallRead)
	if q.Region != "" && sc.Kind == auth.ScopeRegion && !auth.Within(q.Region, sc.Region) {
		return seedSet{}, invalid("region", "jurisdiction", "不在您的管辖范围内", "outside your jurisdiction")
	}
	w := auth.NewWhere()
	w.Scope(sc, auth.Columns{Region: []string{"t.region_code"}})
	if q.Operator != "" {
		var id int64
		err := s.db.QueryRow(ctx, `SELECT id FROM operators WHERE code = $1`, strings.TrimSpace(q.Operator)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return seedSet{}, platform.NotFound("经营主体不存在", "operator not found")
		} else if err != nil {
			return seedSet{}, err
		}
		w.Add("t.operator_id = " + w.Arg(id))
	} else {
		w.Add("t.product_code = " + w.Arg(strings.TrimSpace(q.Product)))
	}
	w.Region("t.region_code", q.Region)
	if q.From != "" {
		p := w.Arg(q.From)
		w.Add("(t.produced_on >= " + p + " OR tr.shipped_on >= " + p + ")")
	}
	if q.To != "" {
		p := w.Arg(q.To)
		w.Add("(t.produced_on <= " + p + " OR (tr.shipped_on <> '' AND tr.shipped_on <= " + p + "))")
	}
	set := seedSet{sql: `SELECT t.code FROM trace_codes t LEFT JOIN transfers tr ON tr.code = t.code` + w.SQL(), args: w.Args()}
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM (`+set.sql+` LIMIT `+fmt.Sprint(MaxSheetLots+1)+`) s`, set.args...).Scan(&n); err != nil {
		return seedSet{}, err
	}
	if n > MaxSheetLots {
		return seedSet{}, platform.Invalid(platform.FieldError{Field: "code", Code: "too_many",
			ZH: fmt.Sprintf("所选批次超过 %d 个，请缩小地区或日期范围", MaxSheetLots),
			EN: fmt.Sprintf("the selection holds more than %d lots; narrow the region or dates", MaxSheetLots)})
	}
	set.n = n
	return set, nil
}

// seedSet is the query selecting a sheet's lots and its arguments.
type seedSet struct {
	sql  string
	args []any
	n    int
}

// chainCTE is the set of codes reachable up or down from the seed lots.
func chainCTE(seed seedSet) string {
	return `WITH RECURSIVE seed(code) AS (` + seed.sql + `), down(code) AS (
		SELECT code FROM seed UNION SELECT e.to_code FROM trace_edges e JOIN down d ON e.from_code = d.code
	), up(code) AS (
		SELECT code FROM seed UNION SELECT e.from_code FROM trace_edges e JOIN up u ON e.to_code = u.code
	), chain(code) AS (SELECT code FROM down UNION SELECT code FROM up)`
}

func (s *Service) chainCodes(ctx context.Context, seed seedSet) ([]chainCode, error) {
	rows, err := s.db.Query(ctx, chainCTE(seed)+`
		SELECT t.code, t.type, t.source, p.name, t.quantity_milli, t.unit, t.produced_on, t.origin, o.name, COALESCE(o.code, ''), t.region_code,
			COALESCE(tr.status, ''), COALESCE(tr.shipped_on, ''), COALESCE(tr.responded_on, ''), COALESCE(tr.received_milli, 0),
			COALESCE(so.name, ''), COALESCE(so.code, ''), COALESCE(tr.seller_region, ''), COALESCE(tr.market_name, ''),
			COALESCE(tr.buyer_region, '')
		FROM chain c JOIN trace_codes t ON t.code = c.code JOIN products p ON p.code = t.product_code JOIN operators o ON o.id = t.operator_id
		LEFT JOIN transfers tr ON tr.code = t.code LEFT JOIN operators so ON so.id = tr.seller_operator_id`, seed.args...)
	return platform.Collect(rows, err, func(r *sql.Rows) (chainCode, error) {
		var c chainCode
		return c, r.Scan(&c.code, &c.typ, &c.source, &c.product, &c.qty, &c.unit, &c.produced, &c.origin, &c.holder, &c.holderCode, &c.region,
			&c.trStatus, &c.shipped, &c.responded, &c.received, &c.seller, &c.sellerCode, &c.sellerRegion, &c.market, &c.marketRegion)
	})
}

// chainInputs maps each code of the chain to the codes it came from.
func (s *Service) chainInputs(ctx context.Context, seed seedSet) (map[string][]string, error) {
	rows, err := s.db.Query(ctx, chainCTE(seed)+`
		SELECT e.to_code, e.from_code FROM trace_edges e JOIN chain c ON c.code = e.to_code ORDER BY e.to_code, e.from_code`, seed.args...)
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
			if c.market != "" {
				recv.Region = c.marketRegion // the market's county, not the seller's
			}
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
