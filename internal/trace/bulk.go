package trace

// Bulk import: many records in one transaction.
//
// An import (a spreadsheet or ERP upload, or a province's daily exchange
// file) carries operations that would otherwise be separate requests:
// batches, sales, receipts, market acceptances, splits, merges and
// transformations, each by its own account. Each Importer method runs the
// same code as the service method (its pre-transaction check, then its
// transaction body with the import's transaction), so every operation is
// authorized, validated and checked for stock and time under the same row
// locks, and emits the same event; the whole import commits, or nothing does.

import (
	"context"

	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// Importer writes the operations of one import inside its transaction.
type Importer struct {
	s     *Service
	ctx   context.Context
	tx    *platform.Tx
	short *shortage
	ops   map[int64]operator.Operator // acting operators, checked once per import
	kept  *keptCodes                  // codes the next operation keeps instead of issuing (port.go)
}

// Import runs fn with an Importer bound to one transaction: every
// operation fn performs commits together, or none does (a refused
// operation's error aborts the import). Over-shipments refused during an
// import are recorded as findings after the rollback, as for a request.
func (s *Service) Import(ctx context.Context, fn func(im *Importer) error) error {
	var short *shortage
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		if err := lockSequences(ctx, tx); err != nil {
			return err
		}
		im := &Importer{s: s, ctx: ctx, tx: tx, ops: map[int64]operator.Operator{}}
		err := fn(im)
		short = im.short
		return err
	})
	if err != nil {
		s.recordShortage(ctx, short)
	}
	return err
}

// lockSequences serialises imports on PostgreSQL before they write
// anything. An import issues codes in several counties in the order its
// operations come and holds each code_sequences row until it commits, so two
// concurrent imports taking them in different orders (or creating the same
// new county's row) would deadlock. Every import first takes the lock of one
// fixed row, code_sequences "import" (its value counts imports), so imports
// queue instead; a single request holds at most one sequence row and cannot
// close a cycle with them. SQLite serialises write transactions already.
func lockSequences(ctx context.Context, tx *platform.Tx) error {
	if tx.Dialect() != platform.Postgres {
		return nil
	}
	_, err := tx.NextSerial(ctx, "import")
	return err
}

// operator is Service.actorOperator, cached per acting operator for the
// import (an operatorOf).
func (im *Importer) operator(ctx context.Context, actor *auth.Actor) (operator.Operator, error) {
	if actor != nil {
		if o, ok := im.ops[actor.OperatorID]; ok {
			return o, nil
		}
	}
	o, err := im.s.actorOperator(ctx, actor)
	if err == nil {
		im.ops[actor.OperatorID] = o
	}
	return o, err
}

// noteShortage keeps a refused over-shipment to record after the rollback.
func (im *Importer) noteShortage(sh *shortage) {
	if sh != nil {
		im.short = sh
	}
}

// CreateBatch records a production batch (as Service.CreateBatch) and returns its code.
func (im *Importer) CreateBatch(actor *auth.Actor, in NewBatch) (string, error) {
	op, err := im.s.batchOperator(im.ctx, actor, im.operator)
	if err != nil {
		return "", err
	}
	return im.s.createBatchTx(im.ctx, im.tx, actor, op, in, SourceRecord, nil)
}

// Sell sells to an operator or into a market (as Service.Sell) and returns the new code.
func (im *Importer) Sell(actor *auth.Actor, in SaleInput) (string, error) {
	r, err := im.s.prepareSale(im.ctx, actor, in, im.operator)
	if err != nil {
		return "", err
	}
	code, sh, err := im.s.saleTx(im.ctx, im.tx, actor, r, nil)
	im.noteShortage(sh)
	return code, err
}

// Confirm records the buyer's receipt (as Service.Confirm).
func (im *Importer) Confirm(actor *auth.Actor, code string, in ConfirmInput) error {
	rec, err := prepareConfirm(actor, in)
	if err != nil {
		return err
	}
	return im.s.confirmTx(im.ctx, im.tx, actor, code, in.ReceivedAt, rec, nil)
}

// Accept marks a market-entry code accepted by a market clerk (as Service.Accept).
func (im *Importer) Accept(actor *auth.Actor, code string) error {
	if err := auth.Authorize(actor, auth.ActMarketAccept, auth.Resource{}); err != nil {
		return err
	}
	return im.s.acceptTx(im.ctx, im.tx, actor, code, nil)
}

// Split splits a code into parts (as Service.Split) and returns the new codes.
func (im *Importer) Split(actor *auth.Actor, code string, in SplitInput) ([]string, error) {
	r, err := im.s.prepareSplit(im.ctx, actor, in, im.operator)
	if err != nil {
		return nil, err
	}
	res, sh, err := im.s.splitTx(im.ctx, im.tx, actor, code, r)
	im.noteShortage(sh)
	if err != nil {
		return nil, err
	}
	return res.Codes, nil
}

// Merge merges lots into one (as Service.Merge) and returns the new code.
func (im *Importer) Merge(actor *auth.Actor, in MergeInput) (string, error) {
	r, err := im.s.prepareMerge(im.ctx, actor, in, im.operator)
	if err != nil {
		return "", err
	}
	res, sh, err := im.s.mergeTx(im.ctx, im.tx, actor, r)
	im.noteShortage(sh)
	if err != nil {
		return "", err
	}
	return res.Codes[0], nil
}

// Transform consumes inputs and produces outputs (as Service.Transform) and returns the new codes.
func (im *Importer) Transform(actor *auth.Actor, in TransformInput) ([]string, error) {
	r, err := im.s.prepareTransform(im.ctx, actor, in, im.operator)
	if err != nil {
		return nil, err
	}
	res, sh, err := im.s.transformTx(im.ctx, im.tx, actor, r)
	im.noteShortage(sh)
	if err != nil {
		return nil, err
	}
	return res.Codes, nil
}
