package platform

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// A request's context: its class, its deadline and (public class) its
// deferred public slot, in one value. A scan page answered from memory
// never touches the database, yet a context.WithTimeout per request made
// a timer, registered it with the connection's context and stopped it
// again (about 4 % of the server's time under a scan load,
// docs/benchmarks.md). Here the deadline's timer is made only when
// something needs it — a wait on Done (every database call), Err, or a
// context derived with cancellation — so a request that never reaches the
// database never makes one. Deadline reports the deadline from the start.
type requestCtx struct {
	parent   context.Context
	class    Class
	slot     *publicSlot // nil: no deferred slot
	deadline time.Time

	mu    sync.Mutex
	ended bool                  // the request is over: a timer made now starts cancelled
	timed atomic.Pointer[timed] // made once, on first need
}

type timed struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// WithRequest gives ctx a request's class, a deadline timeout from now,
// and, when db is not nil, a deferred public slot of db (see
// WithPublicSlot). Call end once when the request is done: it releases
// the slot and stops the deadline's timer if one was made.
func WithRequest(ctx context.Context, c Class, timeout time.Duration, db *DB) (context.Context, func()) {
	rc := &requestCtx{parent: ctx, class: c, deadline: time.Now().Add(timeout)}
	if db != nil {
		rc.slot = &publicSlot{db: db}
	}
	return rc, rc.end
}

func (c *requestCtx) end() {
	c.mu.Lock()
	c.ended = true
	t := c.timed.Load()
	c.mu.Unlock()
	if t != nil {
		t.cancel()
	}
	if c.slot != nil {
		c.slot.releaseOnce()
	}
}

// ctx is the context with the deadline's timer, made on first use.
func (c *requestCtx) ctx() context.Context {
	if t := c.timed.Load(); t != nil {
		return t.ctx
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.timed.Load(); t != nil {
		return t.ctx
	}
	ctx, cancel := context.WithDeadline(c.parent, c.deadline)
	if c.ended {
		cancel()
	}
	c.timed.Store(&timed{ctx, cancel})
	return ctx
}

func (c *requestCtx) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *requestCtx) Done() <-chan struct{} { return c.ctx().Done() }

func (c *requestCtx) Err() error { return c.ctx().Err() }

// Value answers the class and the slot itself; other keys go to the
// timed context once it exists (context's own cancellation lookup must
// find it: a context derived with cancellation then registers with it
// instead of watching it from a goroutine), else to the parent.
func (c *requestCtx) Value(key any) any {
	switch key.(type) {
	case classKey:
		return c.class
	case slotKey:
		if c.slot != nil {
			return c.slot
		}
	}
	if t := c.timed.Load(); t != nil {
		return t.ctx.Value(key)
	}
	return c.parent.Value(key)
}

func (c *requestCtx) String() string { return "platform.requestCtx(" + c.class.String() + ")" }
