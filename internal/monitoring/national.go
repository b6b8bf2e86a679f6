package monitoring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// Recalls decided at the national node (docs/exchange.md "Recalls from the
// national node"): the national node sends a recall to every province node
// holding batches in its scope. The province keeps a copy (source_node set,
// no sample here) so that its batches are held under it like under one of
// its own, its supervisors are alerted and its holders record what became
// of the goods; the national node alone confirms, releases and closes it.

// NationalRecall is a national recall as it reaches a province node.
type NationalRecall struct {
	Number, Status, Reason string
	RootCode, RegionCode   string
	OpenedAt               time.Time
	DecidedBy              string
	ReleaseReason          string
	Codes                  map[string]int // the recall's scope: code → depth from the sampled batch
	Node                   string         // the node that decided it
}

// SetRecallPrefix makes this node's recall numbers ZH-<prefix>-<year>-<n>
// (the national node's "GJ"), so that a national recall copied to a
// province never takes a number the province uses.
func (s *Service) SetRecallPrefix(p string) { s.recallPrefix = p }

// recallNumber is the n-th recall number of year.
func (s *Service) recallNumber(year string, n int64) string {
	if s.recallPrefix != "" {
		return fmt.Sprintf("ZH-%s-%s-%05d", s.recallPrefix, year, n)
	}
	return fmt.Sprintf("ZH-%s-%05d", year, n)
}

// errNational refuses a province's own decision on a national recall.
var errNational = platform.Conflict("此召回由国家平台决定，请在国家平台确认或解除", "this recall is decided at the national platform; confirm or release it there")

// NationalRecallTx keeps, inside tx, this node's copy of a national recall:
// the recall by its number with its status, its batches that are this
// node's own (not another node's codes kept here for reference), the hold
// on them while it is open or confirmed — released with it — and, the
// first time, an alert to the supervisors of each county holding them.
// It reports whether anything here changed.
func NationalRecallTx(ctx context.Context, tx *platform.Tx, in NationalRecall) (bool, error) {
	type held struct {
		code, region, county string
		op, depth            int64
		quantity, stock      int64
	}
	var local []held
	for code, depth := range in.Codes {
		var h held
		err := tx.QueryRow(ctx, `SELECT c.operator_id, c.region_code, c.quantity_milli,
			CAST(COALESCE((SELECT SUM(m.delta_milli) FROM stock_moves m WHERE m.code = c.code), 0) AS BIGINT)
			FROM trace_codes c JOIN operators o ON o.id = c.operator_id WHERE c.code = $1 AND o.status <> $2`, code, operator.StatusExternal).Scan(
			&h.op, &h.region, &h.quantity, &h.stock)
		if errors.Is(err, sql.ErrNoRows) {
			continue // not held here
		}
		if err != nil {
			return false, err
		}
		h.code, h.depth, h.county = code, int64(depth), countyOf(h.region)
		local = append(local, h)
	}
	var root any
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM trace_codes WHERE code = $1`, in.RootCode).Scan(&one); err == nil {
		root = in.RootCode
	} else if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	var closed any
	if in.Status == RecallClosed {
		closed = tx.Now()
	}
	var id int64
	var fresh bool
	err := tx.QueryRow(ctx, `SELECT id FROM recalls WHERE number = $1 AND source_node = $2`, in.Number, in.Node).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if len(local) == 0 {
			return false, nil // nothing of it here
		}
		err = tx.QueryRow(ctx, `INSERT INTO recalls (number, root_code, region_code, status, reason, opened_at, decided_by, release_reason, closed_at, source_node)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`, in.Number, root, in.RegionCode, in.Status, in.Reason, in.OpenedAt,
			in.DecidedBy, in.ReleaseReason, closed, in.Node).Scan(&id)
		if platform.IsUniqueViolation(err) {
			return false, platform.Invalid(platform.FieldError{Field: "records.recall.number", Code: "conflict",
				ZH: "本节点已有同号召回 " + in.Number, EN: "a recall of this node already has the number " + in.Number})
		}
		fresh = true
	case err == nil:
		_, err = tx.Exec(ctx, `UPDATE recalls SET status = $2, reason = $3, decided_by = $4, release_reason = $5, decided_at = $6,
			closed_at = COALESCE(closed_at, $7) WHERE id = $1`, id, in.Status, in.Reason, in.DecidedBy, in.ReleaseReason, tx.Now(), closed)
	}
	if err != nil {
		return false, err
	}
	var codes []string
	counties := map[string]int{}
	for _, h := range local {
		if _, err := tx.Exec(ctx, `INSERT INTO recall_batches (recall_id, code, depth, operator_id, region_code, quantity_milli, stock_milli)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (recall_id, code) DO NOTHING`, id, h.code, h.depth, h.op, h.region, h.quantity, h.stock); err != nil {
			return false, err
		}
		codes = append(codes, h.code)
		counties[h.county]++
	}
	switch in.Status {
	case RecallOpen, RecallConfirmed:
		err = trace.HoldTx(ctx, tx, id, codes)
	case RecallReleased:
		err = trace.ReleaseTx(ctx, tx, id, nil)
	}
	if err != nil {
		return false, err
	}
	if fresh {
		today := platform.Today(tx.Now())
		for _, c := range sortedKeys(counties) {
			if _, err := trace.RaiseTx(ctx, tx, today, trace.RuleFinding{Kind: trace.FindingRecallHold, Key: in.Number + ":" + c, Code: in.Number, Region: c,
				Detail: map[string]any{"number": in.Number, "recall_id": id, "batches": counties[c], "reason": in.Reason, "national": in.Node}}); err != nil {
				return false, err
			}
		}
	}
	return true, tx.Emit(ctx, platform.Event{Action: "recall.national", ResourceType: "recall", ResourceID: fmt.Sprint(id),
		Data: map[string]any{"number": in.Number, "status": in.Status, "batches": len(codes), "regions": sortedKeys(counties), "via": in.Node}})
}

// NationalRecallOf reads one of this node's own recalls as the province
// nodes receive it (ok false: not one of its own).
func NationalRecallOf(ctx context.Context, q platform.Querier, id int64, node string) (NationalRecall, bool, error) {
	r := NationalRecall{Codes: map[string]int{}, Node: node}
	var source string
	err := q.QueryRow(ctx, `SELECT number, status, reason, COALESCE(root_code, ''), region_code, opened_at, decided_by, release_reason, source_node
		FROM recalls WHERE id = $1`, id).Scan(&r.Number, &r.Status, &r.Reason, &r.RootCode, &r.RegionCode, &r.OpenedAt, &r.DecidedBy, &r.ReleaseReason, &source)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && source != "") {
		return r, false, nil
	}
	if err != nil {
		return r, false, err
	}
	rows, err := q.Query(ctx, `SELECT code, depth FROM recall_batches WHERE recall_id = $1`, id)
	list, err := platform.Collect(rows, err, func(rs *sql.Rows) (struct {
		code  string
		depth int
	}, error) {
		var x struct {
			code  string
			depth int
		}
		return x, rs.Scan(&x.code, &x.depth)
	})
	for _, x := range list {
		r.Codes[x.code] = x.depth
	}
	return r, err == nil, err
}

// RemoteDispositionTx records, inside tx, what a holder on a province node
// did with a batch held under one of this node's recalls (number): the
// disposition as the province recorded it, once; the recall closes when
// every batch in its scope is accounted for. It reports whether anything
// changed (false: not such a recall's batch, or recorded already).
func RemoteDispositionTx(ctx context.Context, tx *platform.Tx, number, code, action string, qty int64, note, by, node string) (bool, error) {
	if !slices.Contains(Dispositions, action) || qty < 0 {
		return false, platform.Invalid(platform.FieldError{Field: "payload.action", Code: "enum", ZH: "处置方式无效：" + action, EN: "unknown disposition: " + action})
	}
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM recalls WHERE number = $1 AND source_node = '' AND status IN ('open', 'confirmed')`, number).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	res, err := tx.Exec(ctx, `UPDATE recall_batches SET disposition = $1, disposed_milli = $2, note = $3, disposed_by = $4, disposed_at = $5
		WHERE recall_id = $6 AND code = $7 AND disposition = ''`, action, qty, note, by+"@"+node, tx.Now(), id, code)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	left, err := closeIfAccounted(ctx, tx, id)
	if err != nil {
		return false, err
	}
	return true, tx.Emit(ctx, platform.Event{Action: "recall.disposition", ResourceType: "trace_code", ResourceID: code,
		Data: map[string]any{"recall_id": id, "number": number, "action": action, "quantity": float64(qty) / 1000, "closed": left == 0, "via": node}})
}

// closeIfAccounted closes one of this node's own recalls once every batch
// in its scope has a disposition; it returns how many are left.
func closeIfAccounted(ctx context.Context, tx *platform.Tx, id int64) (int, error) {
	var left int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM recall_batches WHERE recall_id = $1 AND disposition = ''`, id).Scan(&left); err != nil {
		return 0, err
	}
	if left == 0 {
		if _, err := tx.Exec(ctx, `UPDATE recalls SET status = 'closed', closed_at = $1 WHERE id = $2 AND status IN ('open', 'confirmed') AND source_node = ''`,
			tx.Now(), id); err != nil {
			return 0, err
		}
	}
	return left, nil
}
