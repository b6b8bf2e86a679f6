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

// Emitted is an event as written to the audit log, handed to the emit hook.
type Emitted struct {
	AuditID      int64
	At           time.Time
	ActorID      int64
	Action       string
	ResourceType string
	ResourceID   string
	Detail       []byte // the event's data as JSON (empty when none)
}

// EmitHook runs in the writer's transaction after each event's audit row
// (the ledger appends its leaf there, the page store stales pages); an
// error rolls the write back.
type EmitHook func(ctx context.Context, tx *Tx, e Emitted) error

// AddEmitHook adds a hook every Emit calls after those already added.
// Hooks are added while the application is wired up, before it serves.
func (db *DB) AddEmitHook(h EmitHook) { db.emitHooks = append(db.emitHooks, h) }

// AddEarlyEmitHook adds a hook every Emit calls before those already added:
// work that need not wait for the ledger (whose hook takes the ledger's
// row lock, held to commit) runs before it — for most writes, whose only
// event is their first, outside that serialised stretch.
func (db *DB) AddEarlyEmitHook(h EmitHook) {
	db.emitHooks = append([]EmitHook{h}, db.emitHooks...)
}

// Emit records ev in the same transaction as the write it describes: the
// audit log, the outbox and (through the emit hook) the ledger.
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
	var auditID int64
	if err := tx.QueryRow(ctx, `INSERT INTO audit_log (at, actor_id, actor_name, addr, action, resource_type, resource_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		at, NullInt(o.UserID), o.Username, o.Addr, ev.Action, ev.ResourceType, ev.ResourceID, string(detail)).Scan(&auditID); err != nil {
		return fmt.Errorf("audit %s: %w", ev.Action, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO outbox (at, topic, resource_type, resource_id, payload)
		VALUES ($1, $2, $3, $4, $5)`, at, ev.Action, ev.ResourceType, ev.ResourceID, string(detail)); err != nil {
		return fmt.Errorf("outbox %s: %w", ev.Action, err)
	}
	for _, h := range tx.db.emitHooks {
		if err := h(ctx, tx, Emitted{AuditID: auditID, At: at, ActorID: o.UserID, Action: ev.Action, ResourceType: ev.ResourceType,
			ResourceID: ev.ResourceID, Detail: detail}); err != nil {
			return fmt.Errorf("emit hook %s: %w", ev.Action, err)
		}
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
