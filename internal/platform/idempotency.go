package platform

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"
)

// Idempotency keys: a request that carries one (the API's Idempotency-Key
// header) is done at most once per account and key. The key is claimed by
// the request's first write transaction, as its last statement: the write
// and its key commit together or not at all, and a duplicate running at the
// same time fails on the key and rolls back. The transport stores the
// answer after the handler (StoreAnswer) and replays it to retries
// (LookupKey) for IdempotencyTTL.

// IdempotencyTTL is how long a key and its answer are kept.
const IdempotencyTTL = 24 * time.Hour

// IdemKey is one request's key.
type IdemKey struct {
	Actor        int64
	Key          string
	Method, Path string
	Hash         string // of the request (method, path, body): a key reused for another request is refused

	mu      sync.Mutex
	settled bool // a write transaction has run to its end: later ones in the request do not claim
	claimed bool // the key row committed with the request's write
}

type idemCtx struct{}

// WithIdempotency carries k to the request's write transactions.
func WithIdempotency(ctx context.Context, k *IdemKey) context.Context {
	return context.WithValue(ctx, idemCtx{}, k)
}

func idemOf(ctx context.Context) *IdemKey {
	k, _ := ctx.Value(idemCtx{}).(*IdemKey)
	return k
}

// Claimed reports whether the request's write committed with the key.
func (k *IdemKey) Claimed() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.claimed
}

var errPanicked = errors.New("platform: the transaction panicked")

// ErrIdempotencyInFlight refuses a duplicate of a request that is being
// done, or whose answer was not stored.
var ErrIdempotencyInFlight = Conflict("同一请求（Idempotency-Key）正在处理或已处理，请稍后查询结果",
	"a request with this Idempotency-Key is being processed or was processed; look up its result")

// claimingFn wraps a write transaction's fn so that, when ctx carries an
// unsettled key, fn's success is followed by the key's row. after reports
// the transaction's outcome: a retryable failure on PostgreSQL leaves the
// key for the retry; any other end settles it.
func claimingFn(ctx context.Context, db *DB, fn func(tx *Tx) error) (func(tx *Tx) error, func(err error)) {
	k := idemOf(ctx)
	if k == nil {
		return fn, func(error) {}
	}
	k.mu.Lock()
	settled := k.settled
	k.mu.Unlock()
	if settled {
		return fn, func(error) {}
	}
	wrapped := func(tx *Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return claimKey(ctx, tx, k)
	}
	return wrapped, func(err error) {
		k.mu.Lock()
		defer k.mu.Unlock()
		if err == nil {
			k.claimed = true
		}
		if err == nil || !(db.dialect == Postgres && retryable(err)) {
			k.settled = true
		}
	}
}

// claimKey writes the key's row in the request's transaction (an expired
// row of the same key goes first); a live row means a duplicate.
func claimKey(ctx context.Context, tx *Tx, k *IdemKey) error {
	now := tx.Now()
	if _, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE actor_id = $1 AND idem_key = $2 AND created_at < $3`,
		k.Actor, k.Key, now.Add(-IdempotencyTTL)); err != nil {
		return err
	}
	res, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (actor_id, idem_key, method, path, request_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (actor_id, idem_key) DO NOTHING`, k.Actor, k.Key, k.Method, k.Path, k.Hash, now)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrIdempotencyInFlight
	}
	return nil
}

// StoredAnswer is a key's record: the request it was for and, once stored, its answer.
type StoredAnswer struct {
	Hash        string
	Status      int // 0: not stored (being done, or its answer was lost)
	ContentType string
	Body        string
}

// LookupKey returns a live key's record (ok false: unknown or expired).
func (db *DB) LookupKey(ctx context.Context, actor int64, key string) (StoredAnswer, bool, error) {
	var a StoredAnswer
	var status sql.NullInt64
	err := db.QueryRow(ctx, `SELECT request_hash, status, content_type, body FROM idempotency_keys
		WHERE actor_id = $1 AND idem_key = $2 AND created_at >= $3`, actor, key, time.Now().Add(-IdempotencyTTL)).
		Scan(&a.Hash, &status, &a.ContentType, &a.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return StoredAnswer{}, false, nil
	}
	a.Status = int(status.Int64)
	return a, err == nil, err
}

// StoreAnswer keeps the answer of a claimed key for its retries; it also
// drops expired keys of every account now and then (one store in 64).
func (db *DB) StoreAnswer(ctx context.Context, k *IdemKey, status int, contentType, body string) error {
	_, err := db.Exec(ctx, `UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5 WHERE actor_id = $1 AND idem_key = $2`,
		k.Actor, k.Key, status, contentType, body)
	if err == nil && time.Now().UnixNano()%64 == 0 {
		_, err = db.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, time.Now().Add(-IdempotencyTTL))
	}
	return err
}
