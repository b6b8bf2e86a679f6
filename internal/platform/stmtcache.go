package platform

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Statement cache (SQLite).
//
// modernc.org/sqlite parses and plans a statement each time one is executed
// unprepared; a *sql.Stmt keeps the compiled statement per connection, and
// SQLite re-prepares it by itself after a schema change (sqlite3_prepare_v2).
// The cache holds one *sql.Stmt per rewritten query text, prepared on first
// use; inside a transaction the same statement is bound to the
// transaction's connection with tx.StmtContext (database/sql reuses the
// statement already prepared on that connection).
//
// It is bounded: once it holds maxCachedStmts texts, further texts run
// unprepared (the queries of this code base are a fixed set of a few
// hundred texts; only generated ones, such as IN lists of varying length,
// could grow it without bound). Nothing is ever evicted, so a statement
// handed out is never closed under a concurrent caller.
//
// PostgreSQL needs none of this: pgx already prepares and caches every
// statement per connection (QueryExecModeCacheStatement) and invalidates its
// cache after a schema change, so the cache is off there.
const maxCachedStmts = 512

type stmtCache struct {
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
	max   int
}

// get returns the prepared statement for q (rewritten text), preparing it
// if there is room; nil means "run q unprepared".
func (c *stmtCache) get(ctx context.Context, db *sql.DB, q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	st, ok := c.stmts[q]
	full := len(c.stmts) >= c.max
	c.mu.RUnlock()
	if ok {
		return st
	}
	if full {
		return nil
	}
	// Prepare outside the lock (it talks to the database); a concurrent
	// caller may prepare the same text: keep the first, close ours.
	st, err := db.PrepareContext(context.WithoutCancel(ctx), q)
	if err != nil {
		return nil // e.g. a table that does not exist yet: run unprepared, report the error there
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.stmts[q]; ok {
		_ = st.Close()
		return old
	}
	if len(c.stmts) >= c.max {
		_ = st.Close()
		return nil
	}
	c.stmts[q] = st
	return st
}

func (c *stmtCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.stmts)
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		_ = st.Close()
		delete(c.stmts, q)
	}
}

// CachedStatements reports how many prepared statements the DB holds (tests, metrics).
func (db *DB) CachedStatements() int { return db.stmts.len() }

// stmt returns the cached statement for the rewritten text q, or nil.
func (db *DB) stmt(ctx context.Context, q string) *sql.Stmt {
	return db.stmts.get(ctx, db.sql, q)
}

// txStmt is the cached statement for q bound to the transaction, once per
// text: database/sql keeps every statement a transaction binds until it
// ends, so binding it again on each call would grow a long transaction (a
// bulk import runs thousands of statements).
func (tx *Tx) txStmt(ctx context.Context, q string) *sql.Stmt {
	st := tx.db.stmt(ctx, q)
	if st == nil {
		return nil
	}
	if b, ok := tx.stmts[st]; ok {
		return b
	}
	if tx.stmts == nil {
		tx.stmts = map[*sql.Stmt]*sql.Stmt{}
	}
	b := tx.tx.StmtContext(ctx, st)
	tx.stmts[st] = b
	return b
}

// rewriteCache bounds the SQLite rewrite cache the same way (texts beyond
// the bound are rewritten on every call).
type rewriteCache struct {
	mu sync.RWMutex
	m  map[string]string
}

func (c *rewriteCache) load(q string) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.m[q]
	return s, ok
}

func (c *rewriteCache) store(q, s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	if len(c.m) < maxRewrites {
		c.m[q] = s
	}
}

func (c *rewriteCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

const maxRewrites = 2048

// retryable reports whether a PostgreSQL transaction failed only because of
// a serialization failure (40001) or a deadlock (40P01): running it again
// from the start is then the documented remedy.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return err != nil && (strings.Contains(err.Error(), "SQLSTATE 40001") || strings.Contains(err.Error(), "SQLSTATE 40P01"))
}

// txRetries is how many times InTxRetry runs a transaction that failed as retryable.
const txRetries = 4

// InTxRetry is InTx for transactions whose fn may safely run again from the
// start: on PostgreSQL a serialization failure or deadlock (SQLSTATE
// 40001 / 40P01) rolls everything back and fn runs again, up to 4 times in
// all. fn must have no effects outside tx except assigning its results
// (each run assigns them afresh). On SQLite writers are serialised and
// neither error occurs, so it is InTx.
func (db *DB) InTxRetry(ctx context.Context, fn func(tx *Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = db.InTx(ctx, fn)
		if db.dialect != Postgres || attempt >= txRetries || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt*attempt) * 5 * time.Millisecond):
		}
	}
}
