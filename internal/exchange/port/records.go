package port

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// Reading records as exchange rows. The same readers serve the export (a
// page after a cursor, in the export's order) and the import's comparison
// (one record by its key, inside the import's transaction), so a record
// written by an import reads back as exactly the row that wrote it.

// slice is what an export selects: the rows in the actor's reach (scope),
// in a region subtree, with dates in [from, to] ("" = open).
type slice struct {
	scope    auth.Scope
	region   string
	from, to string
}

// milli converts stored thousandths to the exchanged decimal.
func milli(m int64) float64 { return float64(m) / 1000 }

const operatorSelect = `SELECT o.code, o.name, o.kind, o.category, COALESCE(o.credit_code, ''), o.id_number_masked, o.legal_rep, o.contact_name,
	o.phone_masked, o.region_code, o.address, o.products, COALESCE(o.leading_enterprise, ''), o.demo_cooperative, o.certifications, o.status
	FROM operators o`

func scanOperatorRow(r platform.Scanner) (OperatorRow, error) {
	var o OperatorRow
	var products, certs string
	err := r.Scan(&o.OperatorCode, &o.Name, &o.Kind, &o.Category, &o.CreditCode, &o.IDNumberMasked, &o.LegalRep, &o.ContactName,
		&o.PhoneMasked, &o.RegionCode, &o.Address, &products, &o.LeadingEnterprise, &o.DemoCooperative, &certs, &o.Status)
	if err != nil {
		return o, err
	}
	_ = json.Unmarshal([]byte(products), &o.Products)
	_ = json.Unmarshal([]byte(certs), &o.Certifications)
	return canonOperator(o), nil
}

// operatorPage reads the operators after code `after`, in code order.
func operatorPage(ctx context.Context, q platform.Querier, sl slice, after string, limit int) ([]OperatorRow, error) {
	w := auth.NewWhere()
	w.Add(`o.code IS NOT NULL AND o.status IN ('approved', 'suspended', 'cancelled', 'temporary')`)
	w.Scope(sl.scope, auth.Columns{Region: []string{"o.region_code"}, Operator: []string{"o.id"}})
	w.Region("o.region_code", sl.region)
	w.Add("o.code > " + w.Arg(after))
	rows, err := q.Query(ctx, operatorSelect+w.SQL()+` ORDER BY o.code LIMIT `+w.Arg(limit), w.Args()...)
	return platform.Collect(rows, err, scanOperatorRow)
}

// operatorByCode reads one operator's row (found false: no such code).
func operatorByCode(ctx context.Context, q platform.Querier, code string) (OperatorRow, bool, error) {
	o, err := scanOperatorRow(q.QueryRow(ctx, operatorSelect+` WHERE o.code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return o, false, nil
	}
	return o, err == nil, err
}

// batchDate is a batch's production date as exchanged (latest correction).
const batchDate = `COALESCE(c.produced_on, t.produced_on)`

const batchSelect = `SELECT t.code, o.code, o.name, t.product_code, t.unit, COALESCE(c.quantity_milli, t.quantity_milli), ` + batchDate + `,
	COALESCE(c.origin, t.origin), COALESCE(c.attributes, t.attributes), t.override_reason, t.source
	FROM trace_codes t JOIN operators o ON o.id = t.operator_id
	LEFT JOIN batch_corrections c ON c.code = t.code AND NOT EXISTS (SELECT 1 FROM batch_corrections c2 WHERE c2.code = c.code AND c2.version > c.version)`

// batchRec is a batch row with how its code came to be.
type batchRec struct {
	BatchRow
	source string
}

func scanBatchRow(r platform.Scanner) (batchRec, error) {
	var b batchRec
	var qty int64
	var attrs string
	err := r.Scan(&b.TraceCode, &b.OperatorCode, &b.OperatorName, &b.ProductCode, &b.Unit, &qty, &b.ProducedAt, &b.Origin, &attrs,
		&b.OverrideReason, &b.source)
	b.Quantity = milli(qty)
	_ = json.Unmarshal([]byte(attrs), &b.Attributes)
	if b.Attributes == nil {
		b.Attributes = map[string]any{}
	}
	b.Inputs, b.Operations = []trace.InputUse{}, []trace.Operation{}
	return b, err
}

// batchPage reads the production batches after (date, code), in that order.
func batchPage(ctx context.Context, q platform.Querier, sl slice, afterDate, afterCode string, limit int) ([]batchRec, error) {
	w := auth.NewWhere()
	w.Add(`t.source = 'record'`)
	w.Scope(sl.scope, auth.Columns{Region: []string{"t.region_code"}, Operator: []string{"t.operator_id"}})
	w.Region("t.region_code", sl.region)
	dateRange(w, batchDate, sl)
	d := w.Arg(afterDate)
	w.Add("(" + batchDate + " > " + d + " OR (" + batchDate + " = " + d + " AND t.code > " + w.Arg(afterCode) + "))")
	rows, err := q.Query(ctx, batchSelect+w.SQL()+` ORDER BY `+batchDate+`, t.code LIMIT `+w.Arg(limit), w.Args()...)
	list, err := platform.Collect(rows, err, scanBatchRow)
	if err != nil || len(list) == 0 {
		return list, err
	}
	return list, batchDetails(ctx, q, list)
}

func dateRange(w *auth.Where, col string, sl slice) {
	if sl.from != "" {
		w.Add(col + " >= " + w.Arg(sl.from))
	}
	if sl.to != "" {
		w.Add(col + " <= " + w.Arg(sl.to))
	}
}

// batchByCode reads one code's batch row, whatever made it (found false: no such code).
func batchByCode(ctx context.Context, q platform.Querier, code string) (batchRec, bool, error) {
	b, err := scanBatchRow(q.QueryRow(ctx, batchSelect+` WHERE t.code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return b, false, nil
	}
	if err != nil {
		return b, false, err
	}
	list := []batchRec{b}
	err = batchDetails(ctx, q, list)
	return list[0], true, err
}

// inList returns "$n, $n+1, …" for the values, bound on w.
func inList(w *auth.Where, vals []string) string {
	ps := make([]string, len(vals))
	for i, v := range vals {
		ps[i] = w.Arg(v)
	}
	return strings.Join(ps, ", ")
}

// batchDetails fills the inputs and farming operations of a page of batches.
func batchDetails(ctx context.Context, q platform.Querier, list []batchRec) error {
	idx := map[string]int{}
	codes := make([]string, len(list))
	for i, b := range list {
		idx[b.TraceCode], codes[i] = i, b.TraceCode
	}
	w := auth.NewWhere()
	rows, err := q.Query(ctx, `SELECT code, kind, name, reg_no, dose, used_on, interval_days FROM batch_inputs WHERE code IN (`+inList(w, codes)+`)
		ORDER BY code, used_on, id`, w.Args()...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var code string
		var x trace.InputUse
		if err := rows.Scan(&code, &x.Kind, &x.Name, &x.RegNo, &x.Dose, &x.UsedAt, &x.IntervalDays); err != nil {
			rows.Close()
			return err
		}
		list[idx[code]].Inputs = append(list[idx[code]].Inputs, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	w = auth.NewWhere()
	rows, err = q.Query(ctx, `SELECT code, kind, description, on_date FROM farming_operations WHERE code IN (`+inList(w, codes)+`)
		ORDER BY code, on_date, id`, w.Args()...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var code string
		var o trace.Operation
		if err := rows.Scan(&code, &o.Kind, &o.Description, &o.At); err != nil {
			return err
		}
		list[idx[code]].Operations = append(list[idx[code]].Operations, o)
	}
	return rows.Err()
}

// eventKey is a stage record's place in the export order: its date, its
// key (a sale's outbound code, a transformation's first output code) and
// how to read it.
type eventKey struct {
	date, key, stage string
	ref              int64 // the transformation's id
}

// eventPage reads the keys of the stage records after (date, key): sales
// by the seller's region and shipping date, transformations by the
// processor's region and date. Smallholders' sales (a temporary seller)
// are not exchanged (their purchase record is not part of the set yet).
func eventPage(ctx context.Context, q platform.Querier, sl slice, afterDate, afterKey string, limit int) ([]eventKey, error) {
	w := auth.NewWhere()
	sale := []string{"so.category <> 'temporary'"}
	if c := w.ScopeCond(sl.scope, auth.Columns{Region: []string{"tr.seller_region"}, Operator: []string{"tr.seller_operator_id"}}); c != "" {
		sale = append(sale, c)
	}
	sale = append(sale, w.RegionCond(sl.region, "tr.seller_region"))
	sale = append(sale, rangeConds(w, "tr.shipped_on", sl)...)
	tf := []string{"1 = 1"}
	if c := w.ScopeCond(sl.scope, auth.Columns{Region: []string{"po.region_code"}, Operator: []string{"tf.operator_id"}}); c != "" {
		tf = append(tf, c)
	}
	tf = append(tf, w.RegionCond(sl.region, "po.region_code"))
	tf = append(tf, rangeConds(w, "tf.on_date", sl)...)
	d := w.Arg(afterDate)
	query := `SELECT e.d, e.k, e.stage, e.ref FROM (
		SELECT tr.shipped_on AS d, tr.code AS k, 'sale' AS stage, 0 AS ref FROM transfers tr
			JOIN operators so ON so.id = tr.seller_operator_id WHERE ` + strings.Join(sale, " AND ") + `
		UNION ALL
		SELECT tf.on_date AS d, (SELECT MIN(x.code) FROM trace_codes x WHERE x.transformation_id = tf.id) AS k, tf.kind AS stage, tf.id AS ref
			FROM transformations tf JOIN operators po ON po.id = tf.operator_id WHERE ` + strings.Join(tf, " AND ") + `
	) e WHERE e.d > ` + d + ` OR (e.d = ` + d + ` AND e.k > ` + w.Arg(afterKey) + `) ORDER BY e.d, e.k LIMIT ` + w.Arg(limit)
	rows, err := q.Query(ctx, query, w.Args()...)
	return platform.Collect(rows, err, func(r platform.Scanner) (eventKey, error) {
		var k eventKey
		err := r.Scan(&k.date, &k.key, &k.stage, &k.ref)
		return k, err
	})
}

func rangeConds(w *auth.Where, col string, sl slice) []string {
	var out []string
	if sl.from != "" {
		out = append(out, col+" >= "+w.Arg(sl.from))
	}
	if sl.to != "" {
		out = append(out, col+" <= "+w.Arg(sl.to))
	}
	return out
}

// event reads the stage record of a key.
func event(ctx context.Context, q platform.Querier, k eventKey) (EventRow, error) {
	if k.stage == StageSale {
		e, _, err := saleByCode(ctx, q, k.key)
		return e, err
	}
	return transformationByID(ctx, q, k.ref)
}

// saleByCode reads the sale that issued code (found false: none did).
func saleByCode(ctx context.Context, q platform.Querier, code string) (EventRow, bool, error) {
	var e EventRow
	var from, out, product, unit, kind, responded string
	var qty int64
	var received sql.NullInt64
	err := q.QueryRow(ctx, `SELECT tr.code, tr.from_code, so.code, COALESCE(bo.code, ''), tr.kind, tr.market_name, tr.market_kind, tr.buyer_region,
		tr.quantity_milli, tr.unit, tr.shipped_on, tr.status, tr.received_milli, COALESCE(tr.responded_on, ''), tr.reason, t.product_code
		FROM transfers tr JOIN operators so ON so.id = tr.seller_operator_id LEFT JOIN operators bo ON bo.id = tr.buyer_operator_id
		JOIN trace_codes t ON t.code = tr.code WHERE tr.code = $1`, code).
		Scan(&out, &from, &e.OperatorCode, &e.DestinationOperatorCode, &kind, &e.MarketName, &e.MarketKind, &e.MarketRegion,
			&qty, &unit, &e.Date, &e.Status, &received, &responded, &e.Reason, &product)
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, err
	}
	e.Stage = StageSale
	if kind != "market" {
		e.MarketName, e.MarketKind, e.MarketRegion = "", "", ""
	}
	e.Inbound = []Lot{{TraceCode: from, Quantity: milli(qty), Unit: unit}}
	e.Outbound = []Lot{{TraceCode: out, ProductCode: product, Quantity: milli(qty), Unit: unit}}
	switch e.Status {
	case trace.TransferConfirmed:
		r := milli(received.Int64)
		e.ReceivedQuantity, e.ReceivedAt = &r, responded
	case trace.TransferRejected, trace.TransferWithdrawn:
	default:
		e.Reason = ""
	}
	return e, true, nil
}

// transformationOf returns the transformation that issued code (0: none).
func transformationOf(ctx context.Context, q platform.Querier, code string) (int64, error) {
	var id sql.NullInt64
	err := q.QueryRow(ctx, `SELECT transformation_id FROM trace_codes WHERE code = $1`, code).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id.Int64, err
}

// transformationByID reads a split, merge or transformation: its inputs
// (the consume moves, read through the graph's edges into its first
// output) and its outputs in code order (the order they were issued).
func transformationByID(ctx context.Context, q platform.Querier, id int64) (EventRow, error) {
	var e EventRow
	if err := q.QueryRow(ctx, `SELECT tf.kind, tf.on_date, tf.note, o.code FROM transformations tf JOIN operators o ON o.id = tf.operator_id
		WHERE tf.id = $1`, id).Scan(&e.Stage, &e.Date, &e.Note, &e.OperatorCode); err != nil {
		return e, err
	}
	rows, err := q.Query(ctx, `SELECT code, product_code, quantity_milli, unit, origin, attributes FROM trace_codes WHERE transformation_id = $1 ORDER BY code`, id)
	outs, err := platform.Collect(rows, err, func(r platform.Scanner) (Lot, error) {
		var l Lot
		var qty int64
		var attrs string
		err := r.Scan(&l.TraceCode, &l.ProductCode, &qty, &l.Unit, &l.Origin, &attrs)
		l.Quantity = milli(qty)
		_ = json.Unmarshal([]byte(attrs), &l.Attributes)
		if len(l.Attributes) == 0 {
			l.Attributes = nil
		}
		return l, err
	})
	if err != nil {
		return e, err
	}
	if len(outs) == 0 {
		return e, fmt.Errorf("transformation %d has no outputs", id)
	}
	if e.Stage == StageSplit {
		for i := range outs {
			outs[i].Origin, outs[i].Attributes = "", nil // a part keeps the batch's
		}
	}
	e.Outbound = outs
	rows, err = q.Query(ctx, `SELECT m.code, CAST(-SUM(m.delta_milli) AS BIGINT), t.unit FROM stock_moves m JOIN trace_codes t ON t.code = m.code
		WHERE m.code IN (SELECT from_code FROM trace_edges WHERE to_code = $1) AND m.kind = 'consume' AND m.ref = $2
		GROUP BY m.code, t.unit ORDER BY m.code`, outs[0].TraceCode, fmt.Sprintf("transformation:%d", id))
	e.Inbound, err = platform.Collect(rows, err, func(r platform.Scanner) (Lot, error) {
		var l Lot
		var qty int64
		err := r.Scan(&l.TraceCode, &qty, &l.Unit)
		l.Quantity = milli(qty)
		return l, err
	})
	if err != nil || e.Stage != StageTransform {
		return e, err
	}
	e.OverrideReason, err = yieldOverride(ctx, q, outs)
	return e, err
}

// yieldOverride is the reason a transformation was recorded outside its
// plausible yield (kept on its findings), or "".
func yieldOverride(ctx context.Context, q platform.Querier, outs []Lot) (string, error) {
	w := auth.NewWhere(trace.FindingYield)
	codes := make([]string, len(outs))
	for i, l := range outs {
		codes[i] = l.TraceCode
	}
	rows, err := q.Query(ctx, `SELECT detail FROM findings WHERE kind = $1 AND code IN (`+inList(w, codes)+`) ORDER BY id`, w.Args()...)
	details, err := platform.Collect(rows, err, func(r platform.Scanner) (string, error) {
		var d string
		return d, r.Scan(&d)
	})
	for _, d := range details {
		var m struct {
			Reason string `json:"override_reason"`
		}
		if json.Unmarshal([]byte(d), &m) == nil && m.Reason != "" {
			return m.Reason, err
		}
	}
	return "", err
}
