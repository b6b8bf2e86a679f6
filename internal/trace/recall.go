package trace

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"agtrace/internal/platform"
)

// Holds: a recall (internal/monitoring) holds a batch by naming itself in
// trace_codes.held_recall; loadCode refuses every locking write on a held
// batch (ErrHeld), and a market does not accept one. These functions run in
// the recall's own transaction.

// ScopeBatch is a batch in a recall's scope.
type ScopeBatch struct {
	Code          string  `json:"code"`
	Depth         int     `json:"depth" doc:"0 = the sampled batch, 1 = made or sold from it, …"`
	OperatorID    int64   `json:"-"`
	OperatorCode  string  `json:"holder_code"`
	OperatorName  string  `json:"holder"`
	RegionCode    string  `json:"region_code" doc:"where the goods are: the holder's region, or the market's for a market entry"`
	ProductCode   string  `json:"product_code"`
	Unit          string  `json:"unit"`
	QuantityMilli int64   `json:"-"`
	StockMilli    int64   `json:"-"`
	Quantity      float64 `json:"quantity"`
	Stock         float64 `json:"stock"`
}

// DownstreamTx lists root and every batch made or sold from it, however
// far (the graph's edges from it), with holder, quantity and stock now. A
// market entry is where the market is (its county is alerted), though the
// seller, who holds the code, records what became of it.
func DownstreamTx(ctx context.Context, q platform.Querier, root string) ([]ScopeBatch, error) {
	rows, err := q.Query(ctx, `WITH RECURSIVE down(code, depth) AS (
			SELECT CAST($1 AS TEXT), 0
			UNION
			SELECT e.to_code, d.depth + 1 FROM trace_edges e JOIN down d ON e.from_code = d.code
		)
		SELECT d.code, MIN(d.depth), t.operator_id, COALESCE(o.code, ''), o.name, COALESCE(mk.buyer_region, t.region_code), t.product_code, t.unit, t.quantity_milli,
			CAST(COALESCE((SELECT SUM(m.delta_milli) FROM stock_moves m WHERE m.code = d.code), 0) AS BIGINT)
		FROM down d JOIN trace_codes t ON t.code = d.code JOIN operators o ON o.id = t.operator_id
		LEFT JOIN transfers mk ON mk.code = t.code AND mk.kind = 'market'
		GROUP BY d.code, t.operator_id, o.code, o.name, mk.buyer_region, t.region_code, t.product_code, t.unit, t.quantity_milli
		ORDER BY MIN(d.depth), d.code`, root)
	out, err := platform.Collect(rows, err, func(r *sql.Rows) (ScopeBatch, error) {
		var b ScopeBatch
		err := r.Scan(&b.Code, &b.Depth, &b.OperatorID, &b.OperatorCode, &b.OperatorName, &b.RegionCode, &b.ProductCode, &b.Unit, &b.QuantityMilli, &b.StockMilli)
		b.Quantity, b.Stock = fromMilli(b.QuantityMilli), fromMilli(b.StockMilli)
		return b, err
	})
	return out, err
}

// HoldTx holds the batches for recallID (those another recall already
// holds stay held by it). The caller emits the recall's event afterwards in
// the same transaction (recall.open, recall.national): that event stales
// the held codes' stored pages, so their banner shows at once.
func HoldTx(ctx context.Context, tx *platform.Tx, recallID int64, codes []string) error {
	// the stored pages: the recall event the caller emits next in this
	// transaction stales the pages of the codes the recall holds (pageSeeds)
	return forChunks(codes, func(chunk []string, args []any) error {
		_, err := tx.Exec(ctx, `UPDATE trace_codes SET held_recall = $1 WHERE held_recall IS NULL AND code IN (`+chunkPlaceholders(len(chunk), 2)+`)`,
			append([]any{recallID}, args...)...)
		return err
	})
}

// ReleaseTx frees the batches recallID holds (all of them when codes is nil).
func ReleaseTx(ctx context.Context, tx *platform.Tx, recallID int64, codes []string) error {
	if _, err := tx.Exec(ctx, bumpSQL(pageSeeds["recall"].query, reachOwn), recallID); err != nil { // the banner goes at once
		return err
	}
	if codes == nil {
		_, err := tx.Exec(ctx, `UPDATE trace_codes SET held_recall = NULL WHERE held_recall = $1`, recallID)
		return err
	}
	return forChunks(codes, func(chunk []string, args []any) error {
		_, err := tx.Exec(ctx, `UPDATE trace_codes SET held_recall = NULL WHERE held_recall = $1 AND code IN (`+chunkPlaceholders(len(chunk), 2)+`)`,
			append([]any{recallID}, args...)...)
		return err
	})
}

// heldRecall is the recall holding a code (0: none).
func heldRecall(ctx context.Context, q platform.Querier, code string) (int64, error) {
	var id sql.NullInt64
	err := q.QueryRow(ctx, `SELECT held_recall FROM trace_codes WHERE code = $1`, code).Scan(&id)
	return id.Int64, err
}

// forChunks calls fn on slices of at most 500 codes with their arguments.
func forChunks(codes []string, fn func(chunk []string, args []any) error) error {
	for len(codes) > 0 {
		n := min(len(codes), 500)
		args := make([]any, n)
		for i, c := range codes[:n] {
			args[i] = c
		}
		if err := fn(codes[:n], args); err != nil {
			return err
		}
		codes = codes[n:]
	}
	return nil
}

// chunkPlaceholders is "$from, $from+1, …" for n arguments.
func chunkPlaceholders(n, from int) string {
	ph := make([]string, n)
	for i := range ph {
		ph[i] = "$" + strconv.Itoa(from+i)
	}
	return strings.Join(ph, ", ")
}
