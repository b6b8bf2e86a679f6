package trace

// What the standard import (internal/exchange/port) needs from the bulk
// importer: records that keep the codes they were given on the node that
// issued them, and the answers a sale can get besides a confirmation.
//
// A record imported from another platform already has its trace codes:
// they are the natural keys of the exchange, printed on labels, and a
// second node must not issue new ones for the same goods. Keeping(codes)
// makes the operation's code allocation (newCode) take the given codes,
// in the order the operation issues codes, instead of the county
// sequence; each must be well formed, of the type and county the service
// would have issued, and not yet recorded. The county sequence is raised
// to the kept serial, so this node never issues the same code later.
// Everything else is the service's own path: the same checks, row locks
// and events.

import (
	"context"
	"fmt"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/platform"
)

// keptCodes are the codes an import keeps, taken in order.
type keptCodes struct {
	codes []string
	next  int
}

type keptKey struct{}

func keptFrom(ctx context.Context) *keptCodes {
	k, _ := ctx.Value(keptKey{}).(*keptCodes)
	return k
}

// Keeping returns an importer (on the same transaction) whose next
// operation issues the given codes instead of new ones.
func (im *Importer) Keeping(codes ...string) *Importer {
	k := *im
	k.kept = &keptCodes{codes: codes}
	k.ctx = context.WithValue(im.ctx, keptKey{}, k.kept)
	return &k
}

// Unused reports how many kept codes the operation did not issue (the
// record listed more codes than the operation makes).
func (im *Importer) Unused() int {
	if im.kept == nil {
		return 0
	}
	return len(im.kept.codes) - im.kept.next
}

// Tx is the import's transaction (for the importer's own reads and
// bookkeeping in the same transaction).
func (im *Importer) Tx() *platform.Tx { return im.tx }

// Context is the import's context.
func (im *Importer) Context() context.Context { return im.ctx }

// take issues the next kept code for an operation that wants a code of
// type t in county (newCode).
func (k *keptCodes) take(ctx context.Context, tx *platform.Tx, t codes.TraceCodeType, county string) (string, error) {
	i := k.next
	field := fmt.Sprintf("codes[%d]", i)
	if i >= len(k.codes) {
		return "", invalid(field, "missing", "记录产生的追溯码多于文件所列", "the record issues more codes than the file lists")
	}
	k.next++
	tc, err := codes.ParseTraceCode(k.codes[i])
	if err != nil {
		fe := codeFieldError(field, err)
		return "", platform.Invalid(fe)
	}
	if tc.Type != t {
		return "", invalid(field, "type", fmt.Sprintf("该记录产生的是%s，追溯码类型位应为 %d", t.Label(), int(t)),
			fmt.Sprintf("this record issues a %s: the code's type digit must be %d", t.LabelEN(), int(t)))
	}
	if tc.County != county {
		return "", invalid(field, "county", "追溯码的县级代码应为签发主体所在县 "+county, "the code's county digits must be the issuing operator's county "+county)
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM trace_codes WHERE code = $1`, tc.Code).Scan(&n); err != nil {
		return "", err
	}
	if n > 0 {
		return "", platform.Conflict("追溯码已存在："+tc.Code, "the trace code is already recorded: "+tc.Code).With("field", field)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO code_sequences (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = CASE WHEN code_sequences.value < $2 THEN $2 ELSE code_sequences.value END`,
		"trace:"+county, tc.Serial); err != nil {
		return "", err
	}
	return tc.Code, nil
}

// Reject records a refusal by the transfer's receiver (as Service.Reject):
// the buyer of a pending sale, or a market clerk of an issued market entry.
func (im *Importer) Reject(actor *auth.Actor, code, reason string) error {
	if err := auth.Authorize(actor, auth.ActTransferConfirm, auth.Resource{}); err != nil {
		if auth.Authorize(actor, auth.ActMarketAccept, auth.Resource{}) != nil {
			return err
		}
	}
	var v platform.Validator
	if v.Require("reason", reason) {
		v.MaxLen("reason", reason, 500)
	}
	if err := v.Err(); err != nil {
		return err
	}
	return im.s.rejectTx(im.ctx, im.tx, actor, code, reason, nil)
}

// Withdraw takes back a pending sale by its seller (as Service.WithdrawTransfer).
func (im *Importer) Withdraw(actor *auth.Actor, code, reason string) error {
	reason, err := prepareWithdraw(actor, reason)
	if err != nil {
		return err
	}
	return im.s.withdrawTx(im.ctx, im.tx, actor, code, reason)
}
