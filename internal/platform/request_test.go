package platform_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"agtrace/internal/platform"
)

type reqKey struct{}

// TestRequestContext: a request's context reports its class and deadline
// at once, ends at the deadline or with its parent like
// context.WithTimeout, releases its public slot when the request ends, and
// a context derived from it is cancelled with it.
func TestRequestContext(t *testing.T) {
	parent := context.WithValue(context.Background(), reqKey{}, "kept")

	t.Run("class, value and deadline", func(t *testing.T) {
		before := time.Now()
		ctx, end := platform.WithRequest(parent, platform.ClassPublic, time.Hour, nil)
		defer end()
		if got := platform.ClassOf(ctx); got != platform.ClassPublic {
			t.Fatalf("class %v", got)
		}
		if got := ctx.Value(reqKey{}); got != "kept" {
			t.Fatalf("parent's value %v", got)
		}
		d, ok := ctx.Deadline()
		if !ok || d.Before(before.Add(time.Hour)) || d.After(time.Now().Add(time.Hour)) {
			t.Fatalf("deadline %v %v", d, ok)
		}
		if ctx.Err() != nil {
			t.Fatalf("err %v before the deadline", ctx.Err())
		}
		if got := ctx.Value(reqKey{}); got != "kept" { // after the timer was made
			t.Fatalf("parent's value after Err: %v", got)
		}
	})

	t.Run("the deadline ends it and what derives from it", func(t *testing.T) {
		ctx, end := platform.WithRequest(parent, platform.ClassDefault, 30*time.Millisecond, nil)
		defer end()
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		select {
		case <-child.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("derived context not ended by the deadline")
		}
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) || !errors.Is(child.Err(), context.DeadlineExceeded) {
			t.Fatalf("errs %v, %v; want the deadline", ctx.Err(), child.Err())
		}
	})

	t.Run("derived contexts register, no goroutine each", func(t *testing.T) {
		ctx, end := platform.WithRequest(parent, platform.ClassDefault, time.Hour, nil)
		defer end()
		before := runtime.NumGoroutine()
		var cancels []context.CancelFunc
		for range 200 {
			_, cancel := context.WithCancel(ctx)
			cancels = append(cancels, cancel)
		}
		if n := runtime.NumGoroutine() - before; n > 20 {
			t.Fatalf("%d goroutines for 200 derived contexts", n)
		}
		for _, c := range cancels {
			c()
		}
	})

	t.Run("an earlier parent deadline wins", func(t *testing.T) {
		short, cancel := context.WithTimeout(parent, 20*time.Millisecond)
		defer cancel()
		ctx, end := platform.WithRequest(short, platform.ClassLong, time.Hour, nil)
		defer end()
		pd, _ := short.Deadline()
		if d, _ := ctx.Deadline(); !d.Equal(pd) {
			t.Fatalf("deadline %v, want the parent's %v", d, pd)
		}
		<-ctx.Done()
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("err %v", ctx.Err())
		}
	})

	t.Run("a cancelled parent ends it", func(t *testing.T) {
		p, cancel := context.WithCancel(parent)
		ctx, end := platform.WithRequest(p, platform.ClassDefault, time.Hour, nil)
		defer end()
		done := ctx.Done()
		cancel()
		<-done
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Fatalf("err %v", ctx.Err())
		}
	})

	t.Run("ended before any wait", func(t *testing.T) {
		ctx, end := platform.WithRequest(parent, platform.ClassDefault, time.Hour, nil)
		end()
		select {
		case <-ctx.Done():
		default:
			t.Fatal("a request's context is open after the request ended")
		}
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Fatalf("err %v", ctx.Err())
		}
	})

	t.Run("ended after a wait", func(t *testing.T) {
		ctx, end := platform.WithRequest(parent, platform.ClassDefault, time.Hour, nil)
		done := ctx.Done()
		end()
		<-done
	})
}

// TestRequestSlot: a public request's deferred slot is taken by its first
// query and given back when the request ends.
func TestRequestSlot(t *testing.T) {
	db := openBare(t, "sqlite")
	all := db.PublicSlots()
	free := func() int { return freeSlots(db) }
	ctx, end := platform.WithRequest(context.Background(), platform.ClassPublic, time.Minute, db)
	if got := free(); got != all {
		t.Fatalf("a request that has not queried holds a slot: %d of %d free", got, all)
	}
	var one int
	if err := db.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		t.Fatal(err)
	}
	if got := free(); got != all-1 {
		t.Fatalf("after a query: %d of %d free, want one taken", got, all)
	}
	end()
	end() // twice is harmless
	if got := free(); got != all {
		t.Fatalf("after the request: %d of %d free", got, all)
	}
	// the slot waits no longer than the request's deadline
	rels := takeAllSlots(t, db)
	ctx, end = platform.WithRequest(context.Background(), platform.ClassPublic, 30*time.Millisecond, db)
	if err := db.TakeSlot(ctx); !platform.IsUnavailable(err) {
		t.Fatalf("TakeSlot with every slot taken: %v, want unavailable", err)
	}
	end()
	for _, r := range rels {
		r()
	}
}
