package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Origin says who caused a write and from where; transports put it in the
// request context once the actor is known, so services need not pass it around.
type Origin struct {
	UserID   int64
	Username string
	Addr     string
}

type originKey struct{}

// WithOrigin attaches the origin of the current request or command.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the origin in ctx (zero value for the system itself).
func OriginFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

// Event is one fact a service wrote. Emit appends it to the audit log and the
// outbox inside the caller's transaction; later the ledger hangs off the same call.
type Event struct {
	Action       string // e.g. "operator.approve"
	ResourceType string // e.g. "operator"
	ResourceID   string
	Data         any // JSON-encodable detail; never personal data in clear
}

// Emit records ev in the same transaction as the write it describes.
func (tx *Tx) Emit(ctx context.Context, ev Event) error {
	o := OriginFrom(ctx)
	var detail []byte
	if ev.Data != nil {
		var err error
		if detail, err = json.Marshal(ev.Data); err != nil {
			return fmt.Errorf("emit %s: %w", ev.Action, err)
		}
	}
	at := tx.Now()
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (at, actor_id, actor_name, addr, action, resource_type, resource_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		at, NullInt(o.UserID), o.Username, o.Addr, ev.Action, ev.ResourceType, ev.ResourceID, string(detail)); err != nil {
		return fmt.Errorf("audit %s: %w", ev.Action, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO outbox (at, topic, resource_type, resource_id, payload)
		VALUES ($1, $2, $3, $4, $5)`, at, ev.Action, ev.ResourceType, ev.ResourceID, string(detail)); err != nil {
		return fmt.Errorf("outbox %s: %w", ev.Action, err)
	}
	return nil
}

// Now is the transaction's timestamp: one instant for every row it writes.
func (tx *Tx) Now() time.Time {
	if tx.now.IsZero() {
		tx.now = tx.db.clock().Now()
	}
	return tx.now
}

// SetClock replaces the clock used for transaction timestamps (tests, demo).
func (db *DB) SetClock(c Clock) { db.clk = c }

func (db *DB) clock() Clock {
	if db.clk == nil {
		return SystemClock{}
	}
	return db.clk
}
