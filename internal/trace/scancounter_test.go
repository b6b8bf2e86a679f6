package trace

import (
	"fmt"
	"maps"
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

// BenchmarkFoldSum is a fold's first step in memory at a crowd's minute of
// random scans (60 log rows of 16,000 keys over 200,000 codes): the rows
// read back, decoded and summed, then written as chunk rows ("read back"),
// against the chunk rows written from the sum kept in memory ("in
// memory"), which costs a merge at each log write ("log write").
func BenchmarkFoldSum(b *testing.B) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	rows := make([]map[scanKey]scanCount, 60)
	encoded := make([]string, len(rows))
	sum := map[scanKey]scanCount{}
	for r := range rows {
		rows[r] = map[scanKey]scanCount{}
		for i := range 16000 {
			code := fmt.Sprintf("1%019d", (r*7919+i*104729)%200000)
			rows[r][scanKey{code, "2026-12-01", ClientWeChat, ""}] = scanCount{int64(1 + i%3), now.Add(time.Duration(r) * time.Second)}
		}
		encoded[r] = encodeScanLog(rows[r])
		for k, v := range rows[r] {
			sum[k] = sum[k].plus(v)
		}
	}
	chunks := func(sum map[scanKey]scanCount) {
		for _, c := range chunkScans(sum, scanFoldChunk) {
			_ = encodeScanLog(c)
		}
	}
	b.Run("read back", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			got := map[scanKey]scanCount{}
			for _, e := range encoded {
				if err := decodeScanLog(e, got); err != nil {
					b.Fatal(err)
				}
			}
			chunks(got)
		}
	})
	b.Run("in memory", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			chunks(sum)
		}
	})
	b.Run("log write", func(b *testing.B) {
		b.ReportAllocs()
		into := maps.Clone(sum)
		for b.Loop() {
			for k, v := range rows[0] {
				into[k] = into[k].plus(v)
			}
		}
	})
}
