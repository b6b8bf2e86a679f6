package operator

import (
	"context"
	"database/sql"
	"errors"

	"agtrace/internal/codes"
	"agtrace/internal/platform"
)

// External is what a node keeps of an operator registered on another
// province node: enough to name the counterparty of a cross-province sale
// (docs/exchange.md "Sales across provinces"). Personal numbers never
// travel in clear, and none are kept here.
type External struct {
	Code, Name, Kind, Category string
	RegionCode, CountyCode     string
	Address                    string
	Node                       string // the node it is registered on
}

// UpsertExternalTx writes (or refreshes) the reference copy of an operator
// of another node inside tx and returns its local id. A code that belongs
// to one of this node's own operators is refused: a node never overwrites
// its own register from another node's copy.
func UpsertExternalTx(ctx context.Context, tx *platform.Tx, e External) (int64, error) {
	if !codes.ValidOperatorCode(e.Code) {
		return 0, platform.Invalid(platform.FieldError{Field: "operator_code", Code: "format", ZH: "主体编码无效", EN: "invalid operator code"})
	}
	reason := "registered on node " + e.Node
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO operators (code, name, kind, category, region_code, county_code, address, status, status_reason,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
		ON CONFLICT (code) DO UPDATE SET name = $2, kind = $3, category = $4, region_code = $5, county_code = $6, address = $7,
		status_reason = $9, updated_at = $10 WHERE operators.status = $8
		RETURNING id`, e.Code, e.Name, e.Kind, e.Category, e.RegionCode, e.CountyCode, e.Address, StatusExternal, reason, tx.Now()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) { // the code is one of this node's own operators
		return 0, platform.Conflict("主体 "+e.Code+" 已在本节点登记，不能用其他节点的副本覆盖",
			"operator "+e.Code+" is registered on this node; another node's copy cannot replace it").With("field", "operator_code")
	}
	return id, err
}
