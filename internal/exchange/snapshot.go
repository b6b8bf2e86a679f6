package exchange

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// The relay side: what the national node keeps of an event is read from the
// source node's own tables when the outbox row is relayed. The records are
// history (insert-only) except a transfer's answer and an operator's status,
// which only move forward; a snapshot read later than its event therefore
// holds the event's facts and perhaps newer ones, and the national node
// keeps the newest (exchange_records.last_seq).

// outboxRow is one row of the source node's outbox.
type outboxRow struct {
	ID           int64
	At           time.Time
	Topic        string
	ResourceType string
	ResourceID   string
	Payload      string
}

// snapshot builds the message of one outbox row.
func snapshot(ctx context.Context, q platform.Querier, node string, row outboxRow) (Message, error) {
	m := Message{V: FormatVersion, Node: node, Seq: row.ID, At: row.At, Topic: row.Topic,
		ResourceType: row.ResourceType, ResourceID: row.ResourceID}
	if row.Payload != "" && json.Valid([]byte(row.Payload)) {
		m.Payload = json.RawMessage(row.Payload)
	}
	r := reader{q: q, ops: map[int64]bool{}, seen: map[string]bool{}}
	switch row.ResourceType {
	case "operator":
		if id, err := strconv.ParseInt(row.ResourceID, 10, 64); err == nil {
			r.ops[id] = true
		}
	case "trace_code", "certificate", "transformation":
		var names []string
		if row.ResourceType == "trace_code" {
			names = append(names, row.ResourceID)
		}
		names = append(names, payloadCodes(m.Payload)...)
		for _, c := range names {
			if err := r.code(ctx, c, true); err != nil {
				return m, err
			}
		}
	case "inspection", "sample":
		if err := r.oversightOf(ctx, row); err != nil {
			return m, err
		}
	default:
		return m, nil // not a kind the national node keeps: the event alone
	}
	if err := r.operators(ctx); err != nil {
		return m, err
	}
	if len(r.out.Operators) > 0 || len(r.out.Codes) > 0 || len(r.out.Inspections) > 0 || len(r.out.Samples) > 0 {
		m.Records = &r.out
	}
	return m, nil
}

// payloadCodes lists the trace codes an event's payload names (from_code,
// inputs, outputs, code …), in order of appearance.
func payloadCodes(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if len(x) == 20 && codes.ValidTraceCode(x) {
				out = append(out, x)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				walk(x[k])
			}
		}
	}
	walk(v)
	return out
}

// reader collects the records of one message.
type reader struct {
	q    platform.Querier
	out  Records
	ops  map[int64]bool  // operator ids to include
	seen map[string]bool // codes already read
}

// code reads a trace code with everything recorded on it; withParent also
// reads the code it was sold or split from (a receipt changes the seller's
// stock too). A code that does not exist (a payload value that only looks
// like one) is skipped.
func (r *reader) code(ctx context.Context, code string, withParent bool) error {
	if r.seen[code] {
		return nil
	}
	r.seen[code] = true
	var c CodeRec
	var opID int64
	var holderStatus string
	var parent, ovr sql.NullString
	var trID, trOp sql.NullInt64
	var trKind, trDate, trNote sql.NullString
	var trAt sql.NullTime
	err := r.q.QueryRow(ctx, `SELECT t.code, t.type, t.operator_id, t.region_code, t.product_code, t.unit, t.quantity_milli, t.produced_on,
		t.origin, t.attributes, t.source, t.parent_code, t.override_reason, t.created_at,
		x.id, x.kind, x.operator_id, x.on_date, x.note, x.created_at, o.status
		FROM trace_codes t JOIN operators o ON o.id = t.operator_id LEFT JOIN transformations x ON x.id = t.transformation_id WHERE t.code = $1`, code).Scan(
		&c.Code, &c.Type, &opID, &c.RegionCode, &c.ProductCode, &c.Unit, &c.QuantityMilli, &c.ProducedOn,
		&c.Origin, &c.Attributes, &c.Source, &parent, &ovr, &c.CreatedAt,
		&trID, &trKind, &trOp, &trDate, &trNote, &trAt, &holderStatus)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read code %s: %w", code, err)
	}
	c.ParentCode, c.OverrideReason = parent.String, ovr.String
	c.OperatorCode = r.opRef(opID)
	if trID.Valid {
		c.Transformation = &TransformationRec{SourceID: trID.Int64, Kind: trKind.String, OperatorCode: r.opRef(trOp.Int64),
			OnDate: trDate.String, Note: trNote.String, CreatedAt: trAt.Time}
	}
	if err := r.details(ctx, &c); err != nil {
		return fmt.Errorf("read code %s: %w", code, err)
	}
	// another node's code kept here as a reference (held by another node's
	// operator, and not sold from here): that node sends it, not this one
	foreign := holderStatus == operator.StatusExternal && (c.Transfer == nil || c.Transfer.sellerExternal)
	if withParent {
		from := c.ParentCode
		if c.Transfer != nil {
			from = c.Transfer.FromCode
		}
		if from != "" {
			if err := r.code(ctx, from, false); err != nil {
				return err
			}
		}
	}
	if !foreign {
		r.out.Codes = append(r.out.Codes, c)
	}
	return nil
}

// opRef notes an operator id to ship and returns a placeholder that
// operators() replaces by the operator's code.
func (r *reader) opRef(id int64) string {
	if id == 0 {
		return ""
	}
	r.ops[id] = true
	return "#" + strconv.FormatInt(id, 10)
}

// details reads the rows that hang off a code.
func (r *reader) details(ctx context.Context, c *CodeRec) error {
	var err error
	if c.Moves, err = list(ctx, r.q, scanMove, `SELECT delta_milli, kind, ref, on_date, at FROM stock_moves WHERE code = $1 ORDER BY id`, c.Code); err != nil {
		return err
	}
	if c.EdgesIn, err = list(ctx, r.q, scanEdge, `SELECT from_code, kind, quantity_milli FROM trace_edges WHERE to_code = $1 ORDER BY from_code`, c.Code); err != nil {
		return err
	}
	if err := r.transfer(ctx, c); err != nil {
		return err
	}
	if c.Inputs, err = list(ctx, r.q, scanInput, `SELECT kind, name, reg_no, dose, used_on, interval_days FROM batch_inputs WHERE code = $1 ORDER BY id`, c.Code); err != nil {
		return err
	}
	if c.Operations, err = list(ctx, r.q, scanOperation, `SELECT kind, description, on_date FROM farming_operations WHERE code = $1 ORDER BY id`, c.Code); err != nil {
		return err
	}
	if c.Corrections, err = list(ctx, r.q, scanCorrection, `SELECT version, corrects, quantity_milli, produced_on, origin, attributes, reason, created_at
		FROM batch_corrections WHERE code = $1 ORDER BY version`, c.Code); err != nil {
		return err
	}
	if c.Aliases, err = list(ctx, r.q, scanAlias, `SELECT scheme, value, created_at FROM trace_aliases WHERE code = $1 ORDER BY scheme, value`, c.Code); err != nil {
		return err
	}
	c.Certificates, err = list(ctx, r.q, func(rs *sql.Rows) (k CertificateRec, err error) {
		var op int64
		err = rs.Scan(&k.Number, &op, &k.Basis, &k.TestRef, &k.QuantityMilli, &k.Scope, &k.VehiclePlate, &k.IssuedOn, &k.ShowContact, &k.CreatedAt)
		k.OperatorCode = r.opRef(op)
		return k, err
	}, `SELECT number, operator_id, basis, test_ref, quantity_milli, scope, vehicle_plate, issued_on,
		show_contact, created_at FROM certificates WHERE code = $1 ORDER BY number`, c.Code)
	return err
}

func scanMove(rs *sql.Rows) (m MoveRec, err error) {
	return m, rs.Scan(&m.DeltaMilli, &m.Kind, &m.Ref, &m.OnDate, &m.At)
}

func scanEdge(rs *sql.Rows) (e EdgeRec, err error) {
	return e, rs.Scan(&e.From, &e.Kind, &e.QuantityMilli)
}

func scanInput(rs *sql.Rows) (in InputRec, err error) {
	return in, rs.Scan(&in.Kind, &in.Name, &in.RegNo, &in.Dose, &in.UsedOn, &in.IntervalDays)
}

func scanOperation(rs *sql.Rows) (o OperationRec, err error) {
	return o, rs.Scan(&o.Kind, &o.Description, &o.OnDate)
}

func scanCorrection(rs *sql.Rows) (k CorrectionRec, err error) {
	return k, rs.Scan(&k.Version, &k.Corrects, &k.QuantityMilli, &k.ProducedOn, &k.Origin, &k.Attributes, &k.Reason, &k.CreatedAt)
}

func scanAlias(rs *sql.Rows) (a AliasRec, err error) {
	return a, rs.Scan(&a.Scheme, &a.Value, &a.CreatedAt)
}

// transfer reads the sale that issued c, if any.
func (r *reader) transfer(ctx context.Context, c *CodeRec) error {
	var t TransferRec
	var seller int64
	var sellerStatus string
	var buyer, rec sql.NullInt64
	var on sql.NullString
	var at sql.NullTime
	err := r.q.QueryRow(ctx, `SELECT tr.from_code, tr.kind, tr.seller_operator_id, tr.seller_region, tr.buyer_operator_id, tr.buyer_region,
		tr.market_name, tr.market_kind, tr.quantity_milli, tr.unit, tr.shipped_on, tr.status, tr.received_milli, tr.responded_on, tr.reason,
		tr.created_at, tr.responded_at, so.status FROM transfers tr JOIN operators so ON so.id = tr.seller_operator_id WHERE tr.code = $1`, c.Code).Scan(
		&t.FromCode, &t.Kind, &seller, &t.SellerRegion, &buyer, &t.BuyerRegion, &t.MarketName, &t.MarketKind,
		&t.QuantityMilli, &t.Unit, &t.ShippedOn, &t.Status, &rec, &on, &t.Reason, &t.CreatedAt, &at, &sellerStatus)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	t.SellerCode, t.BuyerCode, t.RespondedOn = r.opRef(seller), r.opRef(buyer.Int64), on.String
	t.sellerExternal = sellerStatus == operator.StatusExternal
	if rec.Valid {
		t.ReceivedMilli = &rec.Int64
	}
	if at.Valid {
		t.RespondedAt = &at.Time
	}
	c.Transfer = &t
	return nil
}

// operators reads every operator noted and puts their codes in place of the
// placeholders. An operator without a code (a draft, a pending or rejected
// application) is not shipped: the national node keeps registered operators.
func (r *reader) operators(ctx context.Context) error {
	ids := make([]int64, 0, len(r.ops))
	for id := range r.ops {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	codeOf := map[string]string{}
	for _, id := range ids {
		o, ok, err := readOperator(ctx, r.q, id)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		codeOf["#"+strconv.FormatInt(id, 10)] = o.Code
		if o.Status == operator.StatusExternal {
			continue // another node's operator: named by its code, sent by its node
		}
		r.out.Operators = append(r.out.Operators, o)
	}
	ref := func(s *string) {
		if *s != "" {
			*s = codeOf[*s]
		}
	}
	for i := range r.out.Codes {
		c := &r.out.Codes[i]
		ref(&c.OperatorCode)
		if c.Transformation != nil {
			ref(&c.Transformation.OperatorCode)
		}
		if c.Transfer != nil {
			ref(&c.Transfer.SellerCode)
			ref(&c.Transfer.BuyerCode)
		}
		for j := range c.Certificates {
			ref(&c.Certificates[j].OperatorCode)
		}
	}
	for i := range r.out.Inspections {
		ref(&r.out.Inspections[i].OperatorCode)
	}
	for i := range r.out.Samples {
		ref(&r.out.Samples[i].OperatorCode)
	}
	return nil
}

// readOperator reads one operator with its decisions; ok is false when it
// has no code yet (or does not exist).
func readOperator(ctx context.Context, q platform.Querier, id int64) (OperatorRec, bool, error) {
	var o OperatorRec
	var code, credit, lead, due sql.NullString
	var lat, lng, output sql.NullFloat64
	var submitted, approved sql.NullTime
	err := q.QueryRow(ctx, `SELECT code, name, kind, category, credit_code, id_number_masked, legal_rep, contact_name, phone_masked,
		region_code, county_code, address, lat, lng, products, annual_output, annual_output_unit, leading_enterprise, demo_cooperative,
		certifications, status, status_reason, submitted_at, review_due, approved_at, created_at, updated_at FROM operators WHERE id = $1`, id).Scan(
		&code, &o.Name, &o.Kind, &o.Category, &credit, &o.IDNumberMasked, &o.LegalRep, &o.ContactName, &o.PhoneMasked,
		&o.RegionCode, &o.CountyCode, &o.Address, &lat, &lng, &o.Products, &output, &o.AnnualOutputUnit, &lead, &o.DemoCooperative,
		&o.Certifications, &o.Status, &o.StatusReason, &submitted, &due, &approved, &o.CreatedAt, &o.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !code.Valid) {
		return o, false, nil
	}
	if err != nil {
		return o, false, fmt.Errorf("read operator %d: %w", id, err)
	}
	o.Code, o.CreditCode, o.LeadingEnterprise, o.ReviewDue = code.String, credit.String, lead.String, due.String
	o.Lat, o.Lng, o.AnnualOutput = nullFloat(lat), nullFloat(lng), nullFloat(output)
	o.SubmittedAt, o.ApprovedAt = nullTime(submitted), nullTime(approved)
	o.Decisions, err = list(ctx, q, func(rs *sql.Rows) (d DecisionRec, err error) {
		return d, rs.Scan(&d.Kind, &d.Reason, &d.ActorName, &d.At, &d.Payload, &d.Signature)
	}, `SELECT kind, reason, actor_name, at, payload, signature FROM operator_decisions
		WHERE operator_id = $1 ORDER BY id`, id)
	return o, err == nil, err
}

func nullFloat(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	return &v.Float64
}

func nullTime(v sql.NullTime) *time.Time {
	if !v.Valid {
		return nil
	}
	return &v.Time
}

// list runs query on q and scans each row with scan (platform.Collect).
func list[T any](ctx context.Context, q platform.Querier, scan func(*sql.Rows) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	return platform.Collect(rows, err, scan)
}
