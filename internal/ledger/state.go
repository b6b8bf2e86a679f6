package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"agtrace/internal/platform"
)

// StateReader reads a subject's state as a flat JSON object of its columns
// (every value as text), or nil when the subject has no row.
type StateReader func(ctx context.Context, q platform.Querier, id string) (json.RawMessage, error)

// stateReaders: the subjects whose rows a leaf also fixes. A row changed
// later without an event (a direct UPDATE in the database) no longer
// matches its latest leaf, and Verify names it. Only columns that change
// solely through writes that emit an event are listed (a batch's hold, set
// by its recall's event, is not).
var stateReaders = map[string]StateReader{
	"trace_code": columns(`SELECT code, type, operator_id, region_code, product_code, unit, quantity_milli, produced_on, origin, attributes, source,
		COALESCE(parent_code, '') AS parent_code FROM trace_codes WHERE code = $1`),
	"sample": columns(`SELECT s.sample_no, s.kind, s.operator_id, s.batch_code, s.product_code, s.sampled_on, s.verdict,
		(SELECT COUNT(*) FROM sample_items i WHERE i.sample_id = s.id) AS items,
		(SELECT COUNT(*) FROM sample_items i WHERE i.sample_id = s.id AND i.verdict = 'fail') AS failed
		FROM samples s WHERE CAST(s.id AS TEXT) = $1`),
	"case": columns(`SELECT number, source, source_id, violation, region_code, status, decision, COALESCE(penalty_fen, 0) AS penalty_fen
		FROM cases WHERE CAST(id AS TEXT) = $1`),
}

// columns reads one row of query (bound to the subject id) as a state.
func columns(query string) StateReader {
	return func(ctx context.Context, q platform.Querier, id string) (json.RawMessage, error) {
		rows, err := q.Query(ctx, query, id)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		if !rows.Next() {
			return nil, rows.Err()
		}
		cols, err := rows.Columns()
		if err != nil {
			return nil, err
		}
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := make(map[string]string, len(cols))
		for i, c := range cols {
			m[c] = vals[i].String
		}
		b, err := Canonical(m)
		return json.RawMessage(b), err
	}
}

// readState is the subject's state for a record ("null" when it has no
// reader or no row).
func (s *Service) readState(ctx context.Context, q platform.Querier, typ, id string) (json.RawMessage, error) {
	r, ok := s.states[typ]
	if !ok {
		return json.RawMessage("null"), nil
	}
	st, err := r(ctx, q, id)
	if err != nil {
		return nil, fmt.Errorf("state of %s:%s: %w", typ, id, err)
	}
	if st == nil {
		return json.RawMessage("null"), nil
	}
	return st, nil
}
