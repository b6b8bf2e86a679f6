package trace

// Listing batches: an operator's codes or an official's jurisdiction's,
// and the last batch a new one starts from.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
)

// BatchFilter narrows ListBatches.
type BatchFilter struct {
	Q      string // code prefix, product name or origin
	Status string // "" | in_stock | depleted | pending
	Region string // officials: a sub-region of their jurisdiction
	Limit  int
	Offset int
}

// BatchSummary is one row of a batch list.
type BatchSummary struct {
	TraceCode    string    `json:"trace_code"`
	Type         int       `json:"type"`
	ProductCode  string    `json:"product_code"`
	ProductName  string    `json:"product_name"`
	Quantity     float64   `json:"quantity"`
	Stock        float64   `json:"stock"`
	Unit         string    `json:"unit"`
	UnitName     string    `json:"unit_name"`
	ProducedAt   string    `json:"produced_at"`
	Origin       string    `json:"origin"`
	OperatorCode string    `json:"operator_code"`
	OperatorName string    `json:"operator_name"`
	Status       string    `json:"status"`
	CreatedAt    time.Time `json:"created_at"`
}

// ListBatches lists the actor's operator's codes (operators and staff) or
// the codes held in the actor's jurisdiction (officials), newest first.
func (s *Service) ListBatches(ctx context.Context, actor *auth.Actor, f BatchFilter) ([]BatchSummary, error) {
	sc := auth.ListScope(actor, auth.ActBatchRead)
	if err := sc.Err(actor, auth.ActBatchRead); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	switch f.Status {
	case "", "in_stock", "depleted", "pending":
	default:
		return nil, invalid("status", "not_allowed", "可选：in_stock | depleted | pending", "must be one of in_stock | depleted | pending")
	}
	root := "" // a region filter within the jurisdiction (officials)
	if f.Region != "" && sc.Kind != auth.ScopeOperator {
		if sc.Kind == auth.ScopeRegion && !auth.Within(f.Region, sc.Region) {
			return nil, invalid("region", "jurisdiction", "不在您的管辖范围内", "outside your jurisdiction")
		}
		root = f.Region
	}
	q := strings.TrimSpace(f.Q)
	w := auth.NewWhere()
	arg := w.Arg
	w.Scope(sc, auth.Columns{Region: []string{"t.region_code"}, Operator: []string{"t.operator_id"}})
	w.Region("t.region_code", root)
	if q != "" {
		c := arg(likeContains(q))
		w.Add("(t.code LIKE " + arg(codes.NormalizeCode(q)+"%") + " OR p.name LIKE " + c + " OR t.origin LIKE " + c + ")")
	}
	cond := w.SQL()
	outer := ""
	switch f.Status {
	case "in_stock":
		outer = "WHERE x.stock > 0"
	case "depleted":
		outer = "WHERE x.stock <= 0 AND x.tstatus NOT IN ('pending', 'rejected', 'issued', 'accepted')"
	case "pending":
		outer = "WHERE x.tstatus = 'pending'"
	}
	query := `SELECT * FROM (
		SELECT t.code, t.type, t.product_code, p.name, COALESCE(c.quantity_milli, t.quantity_milli) AS qty, t.unit,
			COALESCE(c.produced_on, t.produced_on) AS produced_on, COALESCE(c.origin, t.origin) AS origin, COALESCE(o.code, '') AS ocode,
			o.name AS oname, t.created_at,
			CAST(COALESCE((SELECT SUM(m.delta_milli) FROM stock_moves m WHERE m.code = t.code), 0) AS BIGINT) AS stock,
			COALESCE(tr.status, '') AS tstatus
		FROM trace_codes t JOIN products p ON p.code = t.product_code JOIN operators o ON o.id = t.operator_id
		LEFT JOIN transfers tr ON tr.code = t.code ` + latestCorrection + ` ` + cond + `
	) x ` + outer + ` ORDER BY x.created_at DESC, x.code DESC LIMIT ` + arg(f.Limit) + ` OFFSET ` + arg(f.Offset)
	rows, err := s.db.Query(ctx, query, w.Args()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []BatchSummary{}
	for rows.Next() {
		var b BatchSummary
		var qty, stock int64
		var tstatus string
		if err := rows.Scan(&b.TraceCode, &b.Type, &b.ProductCode, &b.ProductName, &qty, &b.Unit, &b.ProducedAt, &b.Origin,
			&b.OperatorCode, &b.OperatorName, &b.CreatedAt, &stock, &tstatus); err != nil {
			return nil, err
		}
		b.Quantity, b.Stock, b.UnitName = fromMilli(qty), fromMilli(stock), UnitName(b.Unit)
		var t *Transfer
		if tstatus != "" {
			t = &Transfer{Status: tstatus}
		}
		b.Status = batchStatus(b.Type, stock, t)
		out = append(out, b)
	}
	return out, rows.Err()
}

func likeOrEmpty(prefix string) string {
	if prefix == "" {
		return ""
	}
	return prefix + "%"
}

func likeContains(q string) string {
	q = strings.NewReplacer(`\`, ``, `%`, ``, `_`, ``).Replace(q)
	if q == "" {
		return ""
	}
	return "%" + q + "%"
}

// LastBatch returns the values of the operator's latest recorded batch, to
// prefill the next one (zero value when there is none).
func (s *Service) LastBatch(ctx context.Context, actor *auth.Actor) (NewBatch, error) {
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{}); err != nil {
		return NewBatch{}, err
	}
	var nb NewBatch
	var attrs string
	err := s.db.QueryRow(ctx, `SELECT product_code, unit, origin, attributes FROM trace_codes
		WHERE operator_id = $1 AND type = 1 ORDER BY CASE WHEN source = 'record' THEN 0 ELSE 1 END, created_at DESC, code DESC LIMIT 1`, actor.OperatorID).
		Scan(&nb.ProductCode, &nb.Unit, &nb.Origin, &attrs)
	if errors.Is(err, sql.ErrNoRows) {
		return NewBatch{}, nil
	}
	if err != nil {
		return NewBatch{}, err
	}
	_ = json.Unmarshal([]byte(attrs), &nb.Attributes)
	// only what stays the same from batch to batch; identifiers, test and
	// certificate numbers and dates belong to one batch only
	for k := range nb.Attributes {
		if !Remembered(k) {
			delete(nb.Attributes, k)
		}
	}
	return nb, nil
}
