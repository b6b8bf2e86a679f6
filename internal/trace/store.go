package trace

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"agtrace/internal/codes"
	"agtrace/internal/platform"
)

// codeRow is a trace code with its current (latest corrected) facts.
type codeRow struct {
	Code        string
	Type        int
	OperatorID  int64
	RegionCode  string
	ProductCode string
	Unit        string
	Quantity    int64 // at creation, or as last corrected
	ProducedOn  string
	Origin      string
	Attributes  string
	Source      string
	ParentCode  string
	Override    string
	Version     int
	CreatedAt   time.Time
	HeldRecall  int64 // the recall holding the batch (0: free)
}

// latestCorrection joins the newest correction of t (alias c), if any: the
// one no later version follows. Both lookups are probes of the unique index
// (code, version), evaluated only for codes that have corrections (a
// correlated MAX in the join condition can be evaluated once per trace_codes
// row instead).
const latestCorrection = `LEFT JOIN batch_corrections c ON c.code = t.code
	AND NOT EXISTS (SELECT 1 FROM batch_corrections c2 WHERE c2.code = c.code AND c2.version > c.version)`

const codeColumns = `t.code, t.type, t.operator_id, t.region_code, t.product_code, t.unit,
	COALESCE(c.quantity_milli, t.quantity_milli), COALESCE(c.produced_on, t.produced_on), COALESCE(c.origin, t.origin),
	COALESCE(c.attributes, t.attributes), t.source, COALESCE(t.parent_code, ''), t.override_reason, COALESCE(c.version, 1), t.created_at,
	COALESCE(t.held_recall, 0)`

func scanCode(row interface{ Scan(...any) error }) (codeRow, error) {
	var r codeRow
	err := row.Scan(&r.Code, &r.Type, &r.OperatorID, &r.RegionCode, &r.ProductCode, &r.Unit, &r.Quantity, &r.ProducedOn,
		&r.Origin, &r.Attributes, &r.Source, &r.ParentCode, &r.Override, &r.Version, &r.CreatedAt, &r.HeldRecall)
	return r, err
}

// loadCode reads a code; lock takes the row lock that serialises every
// conservation check on it (PostgreSQL; SQLite transactions are already
// serialised by BEGIN IMMEDIATE).
func loadCode(ctx context.Context, q platform.Querier, code string, lock bool) (codeRow, error) {
	if lock {
		var c string
		err := q.QueryRow(ctx, `SELECT code FROM trace_codes WHERE code = $1 FOR UPDATE`, code).Scan(&c)
		if errors.Is(err, sql.ErrNoRows) {
			return codeRow{}, errCodeNotFound
		}
		if err != nil {
			return codeRow{}, err
		}
	}
	r, err := scanCode(q.QueryRow(ctx, `SELECT `+codeColumns+` FROM trace_codes t `+latestCorrection+` WHERE t.code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return codeRow{}, errCodeNotFound
	}
	if err == nil && lock && r.HeldRecall != 0 {
		// every write that takes goods out of a batch or vouches for it locks
		// it here: a held batch cannot be sold, split, merged, transformed,
		// corrected or certified
		return codeRow{}, ErrHeld(r.HeldRecall)
	}
	return r, err
}

// ErrHeld is the 409 for a write on a batch a recall holds.
func ErrHeld(recallID int64) error {
	return platform.Conflict(fmt.Sprintf("该批次因召回（编号 %d）被暂扣，不能销售、拆分、合并、加工、更正、开具合格证或入市", recallID),
		fmt.Sprintf("the batch is held by recall %d: it cannot be sold, split, merged, transformed, corrected, certified or enter a market", recallID)).
		With("recall_id", recallID)
}

// stockOf sums a code's ledger and returns the first day it held stock
// (the date before which nothing can leave it).
func stockOf(ctx context.Context, q platform.Querier, code string) (stock int64, since string, err error) {
	err = q.QueryRow(ctx, `SELECT CAST(COALESCE(SUM(delta_milli), 0) AS BIGINT), COALESCE(MIN(CASE WHEN delta_milli > 0 THEN on_date END), '')
		FROM stock_moves WHERE code = $1`, code).Scan(&stock, &since)
	return stock, since, err
}

// newCode allocates the next trace code of type t in county.
func newCode(ctx context.Context, tx *platform.Tx, t codes.TraceCodeType, county string) (string, error) {
	if k := keptFrom(ctx); k != nil { // an imported record keeps its codes (port.go)
		return k.take(ctx, tx, t, county)
	}
	serial, err := tx.NextSerial(ctx, "trace:"+county)
	if err != nil {
		return "", err
	}
	return codes.NewTraceCode(t, county, serial)
}

// newCodeRow is what insertCode writes.
type newCodeRow struct {
	Code, RegionCode, ProductCode, Unit, ProducedOn, Origin, Source, ParentCode, Override string
	Type                                                                                  int
	OperatorID, Quantity, TransformationID, CreatedBy                                     int64
	Attributes                                                                            map[string]any
}

func insertCode(ctx context.Context, tx *platform.Tx, r newCodeRow) error {
	attrs := "{}"
	if len(r.Attributes) > 0 {
		b, err := json.Marshal(r.Attributes)
		if err != nil {
			return err
		}
		attrs = string(b)
	}
	_, err := tx.Exec(ctx, `INSERT INTO trace_codes (code, type, operator_id, region_code, product_code, unit, quantity_milli, produced_on,
		origin, attributes, source, parent_code, transformation_id, override_reason, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		r.Code, r.Type, r.OperatorID, r.RegionCode, r.ProductCode, r.Unit, r.Quantity, r.ProducedOn, r.Origin, attrs, r.Source,
		platform.NullString(r.ParentCode), platform.NullInt(r.TransformationID), r.Override, platform.NullInt(r.CreatedBy), tx.Now())
	if err != nil {
		return fmt.Errorf("insert trace code: %w", err)
	}
	return nil
}

func insertMove(ctx context.Context, tx *platform.Tx, code string, delta int64, kind, ref, onDate string) error {
	_, err := tx.Exec(ctx, `INSERT INTO stock_moves (code, delta_milli, kind, ref, on_date, at) VALUES ($1, $2, $3, $4, $5, $6)`,
		code, delta, kind, ref, onDate, tx.Now())
	if err != nil {
		return fmt.Errorf("insert stock move: %w", err)
	}
	return nil
}

func insertEdge(ctx context.Context, tx *platform.Tx, from, to, kind string, qty int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO trace_edges (from_code, to_code, kind, quantity_milli) VALUES ($1, $2, $3, $4)`, from, to, kind, qty)
	if err != nil {
		return fmt.Errorf("insert edge: %w", err)
	}
	return nil
}

// shortage is a refused consumption: recorded as a finding after the
// refused transaction has rolled back.
type shortage struct {
	code       string
	operatorID int64
	region     string
	op         string
	requested  int64
	available  int64
}

func (sh *shortage) err(field string, unit string) error {
	return platform.Conflict(
		fmt.Sprintf("库存不足：%s 仅剩 %s %s，不能%s %s %s", sh.code, FormatMilli(sh.available), UnitName(unit), opZH(sh.op), FormatMilli(sh.requested), UnitName(unit)),
		fmt.Sprintf("not enough stock: %s has %s %s available, cannot %s %s", sh.code, FormatMilli(sh.available), unit, sh.op, FormatMilli(sh.requested))).
		With("available", fromMilli(sh.available)).With("code", sh.code).With("field", field)
}

func opZH(op string) string {
	switch op {
	case "sell":
		return "销售"
	case "split":
		return "拆分"
	case "merge":
		return "合并"
	case "transform":
		return "加工"
	case "correct":
		return "更正为"
	}
	return op
}
