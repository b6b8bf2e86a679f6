package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// SQLite write path: one writer connection, writers queued in Go, group commit.
//
// SQLite has one writer at a time. Three things make that cheap here:
//
//   - Writers queue on a Go lock (a one-slot channel) instead of SQLite's
//     busy handler, which sleeps (1, 2, 5 … 100 ms) rather than waking when
//     the lock is free; waiting honours the caller's context.
//   - Every write transaction runs on one dedicated connection. In WAL mode a
//     connection drops its whole page cache when it starts a transaction
//     after another connection has written; with writes spread over the
//     pool, every write began by re-reading index pages from the file.
//   - Group commit: when writers are queued while one runs, the transaction
//     is left open for them, each runs inside its own SAVEPOINT, and the last
//     of the queue commits for all. A commit writes every dirty page to the
//     WAL once, so the index pages that consecutive writes share are written
//     once per group instead of once per request.
//
// Each request is still all-or-nothing: a writer whose fn fails rolls back to
// its savepoint (the first writer of a group has none: it rolls back the
// transaction, which then holds nothing else) and gets its error at once; a
// writer whose fn succeeded gets no answer until the group's COMMIT has
// succeeded, and gets the COMMIT's error if it failed — so nothing is
// reported written that was not. A group commits when no writer is queued,
// when it holds maxGroup writers, or when it has been open maxGroupAge.
//
// Inside a group a statement does not run on a cancellable context (Tx.ctx):
// SQLite answers an interrupted INSERT/UPDATE/DELETE by rolling back the
// whole transaction, which would take the other writers' work with it. A
// request whose context has ended fails at its next statement instead.
type writer struct {
	slot    chan struct{} // held by the writer running now
	waiting atomic.Int32  // writers queued for slot
	conn    *sql.Conn     // the one connection write transactions run on
	open    *group        // the transaction left open for the queued writers (guarded by slot)
	commits atomic.Int64  // group commits so far
	writers atomic.Int64  // writers those commits committed
}

// group is one SQLite transaction shared by consecutive writers.
type group struct {
	tx      *sql.Tx
	stmts   map[*sql.Stmt]*sql.Stmt // statements bound to tx (see Tx.txStmt)
	members int                     // writers whose work is in tx and who wait for its commit
	started time.Time
	done    chan struct{} // closed once err is set
	err     error         // the COMMIT's outcome
}

const (
	maxGroup    = 32                    // writers per group commit
	maxGroupAge = 20 * time.Millisecond // a group commits once open this long
)

// errGroupAborted: SQLite rolled the shared transaction back under a writer
// (e.g. disk full); every writer of the group fails, none committed.
var errGroupAborted = errors.New("the write transaction was rolled back by the database")

func newWriter(ctx context.Context, db *sql.DB) (*writer, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return &writer{slot: make(chan struct{}, 1), conn: conn}, nil
}

func (w *writer) close() {
	if w != nil {
		_ = w.conn.Close()
	}
}

// acquire queues for the slot. A writer that gives up may leave a group that
// was kept open for it; if it was the last one queued, it commits it.
func (w *writer) acquire(ctx context.Context) error {
	w.waiting.Add(1)
	select {
	case w.slot <- struct{}{}:
		w.waiting.Add(-1)
		return nil
	case <-ctx.Done():
		w.giveUp()
		return ctx.Err()
	}
}

// giveUp leaves the queue. A group may have been kept open for the queue;
// if the queue is now empty, a goroutine waits for the slot and commits it
// (the caller must not wait: the slot's holder may be waiting for it).
func (w *writer) giveUp() {
	if w.waiting.Add(-1) != 0 {
		return
	}
	go func() {
		w.slot <- struct{}{}
		if g := w.open; g != nil && w.waiting.Load() == 0 {
			w.commit(g)
		}
		<-w.slot
	}()
}

// commit ends g (slot held) and wakes its writers.
func (w *writer) commit(g *group) {
	if err := g.tx.Commit(); err != nil {
		g.err = fmt.Errorf("commit: %w", err)
	} else {
		w.commits.Add(1)
		w.writers.Add(int64(g.members))
	}
	w.open = nil
	close(g.done)
}

// abort rolls g back (slot held): its writers all fail with cause.
func (w *writer) abort(g *group, cause error) {
	_ = g.tx.Rollback()
	g.err = fmt.Errorf("%w: %w", errGroupAborted, cause) // the cause stays visible to IsUnavailable
	w.open = nil
	close(g.done)
}

// inGroupTx is InTx on SQLite (see the comment on writer).
func (db *DB) inGroupTx(ctx context.Context, fn func(tx *Tx) error) error {
	w := db.writer
	if err := w.acquire(ctx); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	g, first := w.open, w.open == nil
	if first {
		stx, err := w.conn.BeginTx(context.WithoutCancel(ctx), nil)
		if err != nil {
			<-w.slot
			return fmt.Errorf("begin: %w", err)
		}
		g = &group{tx: stx, stmts: map[*sql.Stmt]*sql.Stmt{}, started: time.Now(), done: make(chan struct{})}
		w.open = g
	} else if _, err := g.tx.Exec(`SAVEPOINT writer`); err != nil {
		w.abort(g, err)
		<-w.slot
		return fmt.Errorf("begin: %w", err)
	}

	err, panicked := runMember(&Tx{tx: g.tx, db: db, stmts: g.stmts, grouped: true}, fn)
	switch {
	case (err != nil || panicked != nil) && first:
		// Nothing else is in the transaction yet.
		_ = g.tx.Rollback()
		w.open = nil
		close(g.done)
		<-w.slot
		if panicked != nil {
			panic(panicked)
		}
		return err
	case err != nil || panicked != nil:
		if rerr := rollbackMember(g.tx); rerr != nil {
			w.abort(g, rerr)
			<-w.slot
			if panicked != nil {
				panic(panicked)
			}
			return err
		}
	case !first:
		if _, rerr := g.tx.Exec(`RELEASE writer`); rerr != nil {
			w.abort(g, rerr)
			<-w.slot
			return g.err
		}
		g.members++
	default:
		g.members++
	}

	if w.waiting.Load() == 0 || g.members >= maxGroup || time.Since(g.started) >= maxGroupAge {
		w.commit(g)
	}
	<-w.slot
	if panicked != nil {
		panic(panicked)
	}
	if err != nil {
		return err
	}
	<-g.done
	return g.err
}

func rollbackMember(tx *sql.Tx) error {
	if _, err := tx.Exec(`ROLLBACK TO writer`); err != nil {
		return err
	}
	_, err := tx.Exec(`RELEASE writer`)
	return err
}

// runMember runs fn, turning a panic into a value to re-raise once the
// transaction is in order.
func runMember(tx *Tx, fn func(tx *Tx) error) (err error, panicked any) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
		}
	}()
	return fn(tx), nil
}

// ctx is the context a statement of tx runs on: inside a group, one that
// cannot interrupt SQLite mid-statement (see writer); a context that has
// already ended is passed as it is, so database/sql refuses the statement
// before it starts.
func (tx *Tx) ctx(ctx context.Context) context.Context {
	if !tx.grouped || ctx.Err() != nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// GroupCommits reports how many SQLite commits the writer made and how many
// successful write transactions they held (both 0 on PostgreSQL).
func (db *DB) GroupCommits() (commits, writers int64) {
	if db.writer == nil {
		return 0, 0
	}
	return db.writer.commits.Load(), db.writer.writers.Load()
}
