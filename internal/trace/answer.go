package trace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// ConfirmInput is the buyer's receipt.
type ConfirmInput struct {
	ReceivedQuantity float64 `json:"received_quantity" validate:"required" doc:"required, > 0 (nothing received: reject instead); a difference from the shipped quantity is recorded and flagged"`
	ReceivedAt       string  `json:"received_at,omitempty" doc:"YYYY-MM-DD; default today"`
}

// lockTransfer locks a transfer row and loads it.
func (s *Service) lockTransfer(ctx context.Context, tx *platform.Tx, code string) (Transfer, error) {
	var c string
	err := tx.QueryRow(ctx, `SELECT code FROM transfers WHERE code = $1 FOR UPDATE`, code).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return Transfer{}, errCodeNotFound
	}
	if err != nil {
		return Transfer{}, err
	}
	t, err := scanTransfer(tx.QueryRow(ctx, `SELECT `+transferColumns+` `+transferFrom+` WHERE tr.code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return Transfer{}, errCodeNotFound
	}
	return t, err
}

func alreadyAnswered(t Transfer) error {
	return platform.Conflict("该交易已处理（"+t.Status+"）", "this transfer was already answered ("+t.Status+")").With("status", t.Status)
}

// Confirm records the buyer's receipt: the received quantity becomes the
// buyer's stock under the circulation code. A received quantity below the
// shipped one is recorded and flagged; more than shipped is refused.
// Someone else's transfer is 404.
func (s *Service) Confirm(ctx context.Context, actor *auth.Actor, code string, in ConfirmInput) (Transfer, error) {
	rec, err := prepareConfirm(actor, in)
	if err != nil {
		return Transfer{}, err
	}
	var t Transfer
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		return s.confirmTx(ctx, tx, actor, code, in.ReceivedAt, rec, &t)
	})
	if err != nil {
		return Transfer{}, err
	}
	return t, nil
}

// prepareConfirm authorizes and validates a receipt before its transaction
// and returns the received quantity. It is required and > 0: nothing
// received is a rejection (its own endpoint), and a missing quantity is not
// taken to mean "all" (the form pre-fills the shipped quantity).
func prepareConfirm(actor *auth.Actor, in ConfirmInput) (int64, error) {
	if err := auth.Authorize(actor, auth.ActTransferConfirm, auth.Resource{}); err != nil {
		return 0, err
	}
	var v platform.Validator
	var rec int64
	if in.ReceivedQuantity == 0 {
		v.Add("received_quantity", "required", "请填写实收数量（全部未收到请拒收）",
			"give the quantity received (nothing received: reject the transfer instead)")
	} else {
		rec, _ = toMilli(&v, "received_quantity", in.ReceivedQuantity, "")
	}
	if in.ReceivedAt != "" {
		checkDate(&v, "received_at", in.ReceivedAt, "9999-12-31", "", "", "")
	}
	return rec, v.Err()
}

// confirmTx writes a receipt inside tx: it locks the transfer, checks that
// it is addressed to the actor's operator and still pending, and records
// the received quantity (flagging a difference).
func (s *Service) confirmTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, code, receivedAt string, rec int64, out *Transfer) error {
	today := platform.Today(tx.Now())
	t, err := s.lockTransfer(ctx, tx, code)
	if err != nil {
		return err
	}
	if t.Buyer == nil || auth.Authorize(actor, auth.ActTransferConfirm, auth.Resource{OperatorID: t.Buyer.ID, Region: t.Buyer.RegionCode}) != nil {
		return errCodeNotFound
	}
	if t.Status != "pending" {
		return alreadyAnswered(t)
	}
	if err := s.checkActive(ctx, tx, t.Buyer.ID); err != nil {
		return err
	}
	shipped, _ := toMilliExact(t.Quantity)
	var v platform.Validator
	wholeUnits(&v, "received_quantity", t.Unit, rec)
	v.Check(rec <= shipped, "received_quantity", "more_than_shipped",
		fmt.Sprintf("实收数量不能超过发货数量 %s %s；多出的货物请让卖方另行销售", FormatMilli(shipped), UnitName(t.Unit)),
		fmt.Sprintf("cannot exceed the shipped quantity %s %s; ask the seller to sell the rest separately", FormatMilli(shipped), t.Unit))
	on := receivedAt
	if on == "" {
		on = today
	}
	checkDate(&v, "received_at", on, today, t.ShippedAt, "发货日期", "shipping_date")
	if err := v.Err(); err != nil {
		return err
	}
	if err := answerTransfer(ctx, tx, t, "pending", "confirmed", answer{received: rec, on: on, by: actor.UserID}); err != nil {
		return err
	}
	if out != nil {
		*out = t.answered("confirmed", answer{received: rec, on: on})
	}
	if err := insertMove(ctx, tx, code, rec, "receive", code, on); err != nil {
		return err
	}
	flag, err := s.mismatchOverTolerance(ctx, tx, t, shipped, rec)
	if err != nil {
		return err
	}
	if flag {
		if err := addFindingPair(ctx, tx, FindingQuantityMismatch, code, t.Seller.ID, t.Seller.RegionCode, t.Buyer.RegionCode, today, map[string]any{
			"from_code": t.FromCode, "shipped": fromMilli(shipped), "received": fromMilli(rec), "unit": t.Unit,
			"seller": t.Seller.Name, "buyer": t.Buyer.Name}); err != nil {
			return err
		}
	}
	return tx.Emit(ctx, platform.Event{Action: "transfer.confirm", ResourceType: "trace_code", ResourceID: code, Data: map[string]any{
		"biz_step": "receiving", "disposition": "in_progress", "received_quantity": fromMilli(rec), "shipped_quantity": fromMilli(shipped),
		"received_at": on, "operator_id": t.Buyer.ID}})
}

// toMilliExact converts a stored quantity back (always exact).
func toMilliExact(q float64) (int64, bool) {
	var v platform.Validator
	return toMilli(&v, "q", q, "")
}

// checkActive refuses a write for an operator whose registration is no
// longer approved (suspended or cancelled since).
func (s *Service) checkActive(ctx context.Context, tx *platform.Tx, operatorID int64) error {
	var status string
	if err := tx.QueryRow(ctx, `SELECT status FROM operators WHERE id = $1`, operatorID).Scan(&status); err != nil {
		return err
	}
	if status != operator.StatusApproved {
		return platform.Forbidden("您的主体登记状态为“"+statusZH(status)+"”，不能进行交易",
			"your operator's registration is "+status+"; it cannot trade").With("operator_status", status)
	}
	return nil
}

// Reject refuses a transfer with a reason, by its receiver: the buyer a
// pending sale, or a market clerk of the market's region a market-entry code
// not yet accepted (goods turned away at the gate). The quantity returns to
// the seller's stock.
func (s *Service) Reject(ctx context.Context, actor *auth.Actor, code, reason string) (Transfer, error) {
	if err := auth.Authorize(actor, auth.ActTransferConfirm, auth.Resource{}); err != nil {
		if auth.Authorize(actor, auth.ActMarketAccept, auth.Resource{}) != nil {
			return Transfer{}, err
		}
	}
	reason = strings.TrimSpace(reason)
	var v platform.Validator
	if v.Require("reason", reason) {
		v.MaxLen("reason", reason, 500)
	}
	if err := v.Err(); err != nil {
		return Transfer{}, err
	}
	var t Transfer
	err := s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		return s.rejectTx(ctx, tx, actor, code, reason, &t)
	})
	if err != nil {
		return Transfer{}, err
	}
	return t, nil
}

// rejectTx writes a refusal inside tx: it locks the transfer, checks that
// the actor is its receiver and that it still waits for an answer (a sale
// pending, a market entry issued), and returns the quantity to the seller's
// code.
func (s *Service) rejectTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, code, reason string, out *Transfer) error {
	today := platform.Today(tx.Now())
	t, err := s.lockTransfer(ctx, tx, code)
	if err != nil {
		return err
	}
	from, detail := TransferPending, map[string]any{"biz_step": "receiving", "disposition": "returned", "reason": reason, "from_code": t.FromCode}
	switch {
	case t.Market != nil && auth.Authorize(actor, auth.ActMarketAccept, auth.Resource{Region: t.Market.RegionCode}) == nil:
		from, detail["market"], detail["region_code"] = TransferIssued, t.Market.Name, t.Market.RegionCode
	case t.Buyer != nil && auth.Authorize(actor, auth.ActTransferConfirm, auth.Resource{OperatorID: t.Buyer.ID, Region: t.Buyer.RegionCode}) == nil:
		detail["operator_id"] = t.Buyer.ID
	default:
		return errCodeNotFound
	}
	if t.Status != from {
		return alreadyAnswered(t)
	}
	shipped, _ := toMilliExact(t.Quantity)
	on := answerDay(today, t.ShippedAt)
	if err := answerTransfer(ctx, tx, t, from, TransferRejected, answer{reason: reason, on: on, by: actor.UserID}); err != nil {
		return err
	}
	if out != nil {
		*out = t.answered(TransferRejected, answer{reason: reason, on: on})
	}
	if err := insertMove(ctx, tx, t.FromCode, shipped, "return", code, on); err != nil {
		return err
	}
	return tx.Emit(ctx, platform.Event{Action: "transfer.reject", ResourceType: "trace_code", ResourceID: code, Data: detail})
}

// Accept marks a market-entry code as accepted by a market clerk of the
// market's region: the end of the platform's chain.
func (s *Service) Accept(ctx context.Context, actor *auth.Actor, code string) (Transfer, error) {
	if err := auth.Authorize(actor, auth.ActMarketAccept, auth.Resource{}); err != nil {
		return Transfer{}, err
	}
	var t Transfer
	err := s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		return s.acceptTx(ctx, tx, actor, code, &t)
	})
	if err != nil {
		return Transfer{}, err
	}
	return t, nil
}

// acceptTx writes a market acceptance inside tx: it locks the transfer and
// checks that its market is in the clerk's region and it is still issued.
func (s *Service) acceptTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, code string, out *Transfer) error {
	today := platform.Today(tx.Now())
	t, err := s.lockTransfer(ctx, tx, code)
	if err != nil {
		return err
	}
	if t.Market == nil || auth.Authorize(actor, auth.ActMarketAccept, auth.Resource{Region: t.Market.RegionCode}) != nil {
		return errCodeNotFound
	}
	if t.Status != "issued" {
		return alreadyAnswered(t)
	}
	if held, err := heldRecall(ctx, tx, code); err != nil {
		return err
	} else if held != 0 {
		return ErrHeld(held) // goods under recall do not enter a market
	}
	q, _ := toMilliExact(t.Quantity)
	if err := answerTransfer(ctx, tx, t, "issued", "accepted", answer{received: q, on: answerDay(today, t.ShippedAt), by: actor.UserID}); err != nil {
		return err
	}
	if out != nil {
		*out = t.answered("accepted", answer{received: q, on: answerDay(today, t.ShippedAt)})
	}
	return tx.Emit(ctx, platform.Event{Action: "transfer.accept", ResourceType: "trace_code", ResourceID: code, Data: map[string]any{
		"biz_step": "receiving", "disposition": "sellable_accessible", "market": t.Market.Name, "region_code": t.Market.RegionCode}})
}

// CheckMarketEntry shows a market clerk what a market-entry code certifies
// (404 outside the clerk's region).
func (s *Service) CheckMarketEntry(ctx context.Context, actor *auth.Actor, input string) (Transfer, error) {
	if err := auth.Authorize(actor, auth.ActMarketAccept, auth.Resource{}); err != nil {
		return Transfer{}, err
	}
	code, err := s.Resolve(ctx, input)
	if err != nil {
		return Transfer{}, err
	}
	t, err := s.transfer(ctx, code)
	if err != nil {
		return Transfer{}, err
	}
	if t.Market == nil {
		return Transfer{}, invalid("code", "not_market_entry", "这不是入市码（入市码以 3 开头）", "this is not a market-entry code (they start with 3)")
	}
	if err := auth.Authorize(actor, auth.ActMarketAccept, auth.Resource{Region: t.Market.RegionCode}); err != nil {
		return Transfer{}, errCodeNotFound
	}
	return t, nil
}

// answer is how a transfer was answered: the quantity received (confirm,
// accept) or the reason (reject), on which civil date, by which user.
type answer struct {
	received int64
	reason   string
	on       string
	by       int64
}

// answerTransfer moves a locked transfer from one status to the next, the one
// in-place update a transfer ever gets; the guard on the old status makes a
// second answer (a race or a double click) fail as already answered.
func answerTransfer(ctx context.Context, tx *platform.Tx, t Transfer, from, to string, a answer) error {
	res, err := tx.Exec(ctx, `UPDATE transfers SET status = $2, received_milli = COALESCE($3, received_milli), reason = COALESCE($4, reason),
		responded_on = $5, responded_by = $6, responded_at = $7 WHERE code = $1 AND status = $8`,
		t.TraceCode, to, platform.NullInt(a.received), platform.NullString(a.reason), a.on, platform.NullInt(a.by), tx.Now(), from)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return alreadyAnswered(t)
	}
	return nil
}

// answerDay is the date an answer is recorded on: today, but never before
// the shipment it answers (time runs forward along the chain).
func answerDay(today, shippedAt string) string {
	if today < shippedAt {
		return shippedAt
	}
	return today
}

// MismatchTolerance is the share (percent) by which a received quantity
// may differ from the shipped one before it is a finding, set per region
// and product by the monitoring settings (nil: any difference is one).
type MismatchTolerance func(ctx context.Context, tx *platform.Tx, region, product string) (float64, error)

// SetMismatchTolerance installs the tolerance (the app wires supervision's).
func (s *Service) SetMismatchTolerance(fn MismatchTolerance) { s.tolerance = fn }

// mismatchOverTolerance reports whether received ≠ shipped by more than
// the seller region's tolerance (normal shrinkage is not flagged).
func (s *Service) mismatchOverTolerance(ctx context.Context, tx *platform.Tx, t Transfer, shipped, rec int64) (bool, error) {
	if rec == shipped {
		return false, nil
	}
	if s.tolerance == nil {
		return true, nil
	}
	pct, err := s.tolerance(ctx, tx, t.Seller.RegionCode, t.ProductCode)
	if err != nil {
		return false, err
	}
	diff := float64(shipped-rec) * 100 / float64(shipped)
	if diff < 0 {
		diff = -diff
	}
	return diff > pct, nil
}
