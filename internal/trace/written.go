package trace

// What a write method returns is built from what it wrote, inside its
// transaction, instead of being read back after the commit (CreateBatch
// used to re-read a batch with 8–9 queries, Sell/Confirm/Reject/Accept the
// transfer with one join). The values are exactly what GetBatch and
// GetTransfer would read (tested on both engines).

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// writtenAt is tx.Now() as the database gives it back (UTC; PostgreSQL keeps microseconds).
func writtenAt(tx *platform.Tx) time.Time {
	t := tx.Now().UTC()
	if tx.Dialect() == platform.Postgres {
		t = t.Truncate(time.Microsecond)
	}
	return t
}

func partyOf(o operator.Operator) Party {
	return Party{ID: o.ID, Code: o.Code, Name: o.Name, Kind: o.Kind, RegionCode: o.RegionCode}
}

// writtenBatch is the production batch createBatchTx has just written (in
// and bi as validated and written).
func (s *Service) writtenBatch(tx *platform.Tx, op operator.Operator, in NewBatch, bi batchInput, code, source string) Batch {
	b := Batch{TraceCode: code, Type: 1, TypeName: codes.TraceCodeType(1).Label(), ProductCode: in.ProductCode, ProductName: bi.product.Name,
		Quantity: fromMilli(bi.qty), Stock: fromMilli(bi.qty), Unit: in.Unit, UnitName: UnitName(in.Unit), ProducedAt: in.ProducedAt,
		Origin: in.Origin, Source: source, Operator: partyOf(op), Status: batchStatus(1, bi.qty, nil), Version: 1,
		OverrideReason: bi.override, CreatedAt: writtenAt(tx), LabelURL: "/api/v1/batches/" + code + "/label.pdf",
		PublicURL: s.QRURL(code), Certificates: []Certificate{}, Corrections: []Correction{}}
	// The attributes as stored (JSON), as a reader decodes them.
	b.Attributes = map[string]any{}
	if len(bi.attrs) > 0 {
		if raw, err := json.Marshal(bi.attrs); err == nil {
			_ = json.Unmarshal(raw, &b.Attributes)
		}
	}
	b.Inputs = append([]InputUse{}, in.Inputs...)
	sort.SliceStable(b.Inputs, func(i, j int) bool { return b.Inputs[i].UsedAt < b.Inputs[j].UsedAt }) // ORDER BY used_on, id
	b.Operations = append([]Operation{}, in.Operations...)
	sort.SliceStable(b.Operations, func(i, j int) bool { return b.Operations[i].At < b.Operations[j].At }) // ORDER BY on_date, id
	b.Aliases = []Alias{}
	for _, al := range aliasesFromAttributes(bi.product, bi.attrs) {
		b.Aliases = append(b.Aliases, Alias{Scheme: al[0], Value: al[1]})
	}
	sort.Slice(b.Aliases, func(i, j int) bool { // ORDER BY scheme, value
		if b.Aliases[i].Scheme != b.Aliases[j].Scheme {
			return b.Aliases[i].Scheme < b.Aliases[j].Scheme
		}
		return b.Aliases[i].Value < b.Aliases[j].Value
	})
	return b
}

// writtenTransfer is the sale sellTx has just written.
func (s *Service) writtenTransfer(ctx context.Context, tx *platform.Tx, code string, src codeRow, seller operator.Operator,
	buyer *operator.Operator, market *Market, status string, qty int64, shipped string) (Transfer, error) {
	p, err := s.Product(ctx, src.ProductCode)
	if err != nil {
		return Transfer{}, err
	}
	t := Transfer{TraceCode: code, FromCode: src.Code, Kind: "operator", Status: status, Seller: partyOf(seller),
		ProductCode: src.ProductCode, ProductName: p.Name, Quantity: fromMilli(qty), Unit: src.Unit, UnitName: UnitName(src.Unit),
		ShippedAt: shipped, CreatedAt: writtenAt(tx)}
	if buyer != nil {
		b := partyOf(*buyer)
		t.Buyer = &b
	} else {
		t.Kind = "market"
		m := *market
		t.Market = &m
		t.CertificateURL = "/api/v1/transfers/" + code + "/certificate.pdf"
	}
	if status == "confirmed" || status == "accepted" {
		r := fromMilli(qty)
		t.ReceivedQuantity, t.RespondedAt = &r, shipped
	}
	return t, nil
}

// answered is t (as locked) after answerTransfer moved it to status with a.
func (t Transfer) answered(status string, a answer) Transfer {
	t.Status, t.RespondedAt = status, a.on
	if a.received != 0 {
		r := fromMilli(a.received)
		t.ReceivedQuantity = &r
	}
	if a.reason != "" {
		t.Reason = a.reason
	}
	return t
}
