package trace

import (
	"fmt"
	"testing"
	"time"
)

// TestScanBookkeepingWhileCounting: a fold's logged and forget let go of
// the counter's lock between spans of codes; views counted meanwhile
// (old codes and new ones) must neither be reported as logged nor taken
// off.
func TestScanBookkeepingWhileCounting(t *testing.T) {
	c := newScanCounter()
	now := time.Now()
	const n = 3*scanLockSpan + 17
	code := func(i int) string { return fmt.Sprintf("1%019d", i) }
	for i := range n {
		c.record(code(i), ScanView{Client: ClientOther}, now)
	}
	c.take() // logged: every code has one view in the log
	stop, done := make(chan struct{}), make(chan int)
	go func() { // views while the bookkeeping runs: old codes and new ones
		extra := 0
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- extra
				return
			default:
			}
			c.record(code(i%(2*n)), ScanView{Client: ClientOther}, now)
			extra++
		}
	}()
	logged := c.logged()
	if len(logged) != n {
		t.Errorf("%d codes logged, want %d", len(logged), n)
	}
	for ck, v := range logged {
		if v != 1 {
			t.Fatalf("%s: %d logged, want 1", ck, v)
		}
	}
	c.forget(logged)
	close(stop)
	extra := <-done
	var unfolded, pending int64
	for _, cv := range c.codes {
		unfolded += cv.unfolded
	}
	for _, v := range c.take() {
		pending += v.n
	}
	if unfolded != int64(extra) || pending != int64(extra) {
		t.Fatalf("after forget: %d unfolded and %d pending views, want the %d counted meanwhile", unfolded, pending, extra)
	}
}
