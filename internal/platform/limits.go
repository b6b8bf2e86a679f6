package platform

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Request classes and the public connection limit.
//
// Every HTTP request is put in one class (see app's classifier), which
// decides how long its database work may take (a context deadline set by the
// HTTP middleware) and whether it must take a public slot first:
//
//   - ClassPublic: anonymous scans and lookups (/q/, /o/, /api/v1/public/,
//     health). Short deadline; each such request holds one of the DB's public
//     slots while it runs, and there are two fewer slots than connections
//     (SQLite 4 connections → 2 slots; PostgreSQL MaxConns → MaxConns−2), so
//     a flood of scans can never take the last connections from logged-in
//     users and writes.
//   - ClassDefault: everything else (logged-in users' pages and API calls).
//   - ClassLong: imports, exports and uploads.
//
// On PostgreSQL the session's statement_timeout is also set (to the longest
// class limit) so a statement cannot outlive its request on the server even
// if a client stops watching its context.
type Class int

const (
	ClassDefault Class = iota
	ClassPublic
	ClassLong
)

func (c Class) String() string {
	switch c {
	case ClassPublic:
		return "public"
	case ClassLong:
		return "long"
	}
	return "default"
}

// reservedConns are the connections public requests can never hold.
const reservedConns = 2

type classKey struct{}

// WithClass records the request class in ctx.
func WithClass(ctx context.Context, c Class) context.Context {
	return context.WithValue(ctx, classKey{}, c)
}

// ClassOf returns the class recorded in ctx (ClassDefault if none).
func ClassOf(ctx context.Context) Class {
	c, _ := ctx.Value(classKey{}).(Class)
	return c
}

// newSlots makes the public semaphore for a pool of conns connections.
func newSlots(conns int) chan struct{} {
	n := conns - reservedConns
	if n < 1 {
		n = 1
	}
	return make(chan struct{}, n)
}

// PublicSlots is how many public-class requests may use the database at once.
func (db *DB) PublicSlots() int { return cap(db.public) }

// AcquirePublic takes a public slot, waiting at most until ctx ends (then it
// returns ctx's error, which the HTTP layer answers 503 + Retry-After). Call
// release exactly once when the request is done with the database.
func (db *DB) AcquirePublic(ctx context.Context) (release func(), err error) {
	if db.public == nil {
		return func() {}, nil
	}
	select {
	case db.public <- struct{}{}:
		return func() { <-db.public }, nil
	default:
	}
	select {
	case db.public <- struct{}{}:
		return func() { <-db.public }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a public database slot: %w", ctx.Err())
	}
}

// ExtraConn asks whether ctx's request may use one more connection at the
// same time (a parallel read, such as a large graph's details). Requests
// outside the public class always may; a public request must take a further
// public slot, which is never waited for: if none is free the caller reads
// sequentially, so public traffic stays within its slots. Call release when
// the parallel work is done.
func (db *DB) ExtraConn(ctx context.Context) (release func(), ok bool) {
	if db.public == nil || ClassOf(ctx) != ClassPublic {
		return func() {}, true
	}
	select {
	case db.public <- struct{}{}:
		return func() { <-db.public }, true
	default:
		return nil, false
	}
}

// DefaultStatementTimeout is the server-side statement_timeout set on
// PostgreSQL sessions when OpenOptions.StatementTimeout is zero; it matches
// the longest request class (imports and exports).
const DefaultStatementTimeout = 120 * time.Second

// A deferred public slot: a public request may take its slot when it
// first needs the database rather than when it arrives, so a scan answered
// from memory never waits for or holds one. The request calls TakeSlot
// before its database work and before taking any lock another request may
// hold while it queries (else a slot holder waiting on the lock and the
// lock holder waiting on a slot stall each other until the deadline); a
// query on a context whose slot is not taken yet takes it first, as a
// safety net. The slot is held until the request ends (the release
// WithPublicSlot returns).
type publicSlot struct {
	db      *DB
	mu      sync.Mutex
	release func()
}

type slotKey struct{}

// WithPublicSlot gives ctx a deferred public slot of db. Call release once,
// when the request is done.
func WithPublicSlot(ctx context.Context, db *DB) (context.Context, func()) {
	s := &publicSlot{db: db}
	return context.WithValue(ctx, slotKey{}, s), s.releaseOnce
}

// releaseOnce gives the slot back if it was taken (a second call does
// nothing).
func (s *publicSlot) releaseOnce() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.release != nil {
		s.release()
		s.release = nil
	}
}

// Unslotted marks ctx's queries as taking no public slot: for a read one
// request makes on behalf of all (a single-flight read, at most one
// connection per process), which must not wait for a slot while others
// wait for it.
func Unslotted(ctx context.Context) context.Context {
	return context.WithValue(ctx, slotKey{}, (*publicSlot)(nil))
}

// TakeSlot takes ctx's deferred public slot now if it has one not taken
// yet, waiting at most until ctx ends (then it returns an error the HTTP
// layer answers 503 + Retry-After). Without a deferred slot it does nothing.
func (db *DB) TakeSlot(ctx context.Context) error {
	s, ok := ctx.Value(slotKey{}).(*publicSlot)
	if !ok || s == nil || s.db != db {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.release != nil {
		return nil
	}
	release, err := db.AcquirePublic(ctx)
	if err != nil {
		return err
	}
	s.release = release
	return nil
}

// takeSlot is TakeSlot before a query: a failure leaves the query to fail
// with ctx's error (ctx has ended).
func (db *DB) takeSlot(ctx context.Context) { _ = db.TakeSlot(ctx) }
