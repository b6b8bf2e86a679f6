package trace

import (
	"context"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// WithdrawTransfer lets the seller take back a sale the buyer has not
// answered yet (pending → withdrawn, with a reason): the quantity returns
// to the seller's code and the circulation code can no longer be confirmed
// (a later confirmation or rejection is 409). Someone else's sale is 404;
// a sale already answered (or a market entry) is 409.
func (s *Service) WithdrawTransfer(ctx context.Context, actor *auth.Actor, code string, reason string) (Transfer, error) {
	reason, err := prepareWithdraw(actor, reason)
	if err != nil {
		return Transfer{}, err
	}
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		return s.withdrawTx(ctx, tx, actor, code, reason)
	})
	if err != nil {
		return Transfer{}, err
	}
	return s.transfer(ctx, code)
}

// prepareWithdraw authorizes and validates a withdrawal before its transaction.
func prepareWithdraw(actor *auth.Actor, reason string) (string, error) {
	if err := auth.Authorize(actor, auth.ActTransferSell, auth.Resource{}); err != nil {
		return "", err
	}
	reason = strings.TrimSpace(reason)
	var v platform.Validator
	if v.Require("reason", reason) {
		v.MaxLen("reason", reason, 500)
	}
	return reason, v.Err()
}

// withdrawTx writes a withdrawal inside tx: it locks the transfer, checks
// that the actor's operator sold it and that it is still pending, and
// returns the quantity to the seller's code.
func (s *Service) withdrawTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, code, reason string) error {
	today := platform.Today(tx.Now())
	t, err := s.lockTransfer(ctx, tx, code)
	if err != nil {
		return err
	}
	if auth.Authorize(actor, auth.ActTransferSell, auth.Resource{OperatorID: t.Seller.ID, Region: t.Seller.RegionCode}) != nil {
		return errCodeNotFound
	}
	if t.Status != TransferPending {
		return platform.Conflict("该交易已处理（"+t.Status+"），不能撤回", "this transfer was already answered ("+t.Status+"); it cannot be withdrawn").
			With("status", t.Status)
	}
	if t.Buyer != nil {
		// a sale to another province's buyer is answered there; taking it
		// back here could cross the buyer's confirmation on the way
		if ext, err := isExternal(ctx, tx, t.Buyer.ID); err != nil {
			return err
		} else if ext {
			return platform.Conflict("销往外省的交易不能撤回，请联系购买方拒收", "a sale to another province cannot be withdrawn; ask the buyer to reject it").
				With("status", t.Status)
		}
	}
	shipped, _ := toMilliExact(t.Quantity)
	on := answerDay(today, t.ShippedAt)
	if err := answerTransfer(ctx, tx, t, TransferPending, TransferWithdrawn, answer{reason: reason, on: on, by: actor.UserID}); err != nil {
		return err
	}
	if err := insertMove(ctx, tx, t.FromCode, shipped, "return", code, on); err != nil {
		return err
	}
	buyer := int64(0)
	if t.Buyer != nil {
		buyer = t.Buyer.ID
	}
	return tx.Emit(ctx, platform.Event{Action: "transfer.withdraw", ResourceType: "trace_code", ResourceID: code, Data: map[string]any{
		"biz_step": "shipping", "disposition": "returned", "error_declaration": map[string]any{"reason": reason, "declaration": "withdrawn"},
		"from_code": t.FromCode, "quantity": t.Quantity, "unit": t.Unit, "operator_id": t.Seller.ID, "buyer_operator_id": buyer, "at": on}})
}
