package httpx

import (
	"fmt"
	"hash/fnv"
	"testing"
	"time"
)

func TestLimiterBucket(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	l := NewLimiter(Bucket{Rate: 2, Burst: 5}, func() time.Time { return now })
	for i := range 5 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("after the burst: %v, retry after %v (want refused, 500ms)", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another address shares a's bucket")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("a token refilled after 0.5 s at 2/s")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("only one token refilled")
	}
	now = now.Add(time.Hour)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("refilled after an hour")
	}
	// the bucket never exceeds its burst
	for i := range 6 {
		ok, _ := l.Allow("a")
		if ok != (i < 4) {
			t.Fatalf("after an idle hour, request %d: %v", i+2, ok)
		}
	}
}

func TestLimiterSweeps(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	l := NewLimiter(Bucket{Rate: 10, Burst: 20}, func() time.Time { return now })
	for i := range 1000 {
		l.Allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if l.Size() != 1000 {
		t.Fatalf("size %d", l.Size())
	}
	now = now.Add(2 * time.Minute) // every bucket is full again
	for i := range 64 {
		l.Allow(fmt.Sprintf("192.168.0.%d", i))
	}
	if n := l.Size(); n > 64+64 {
		t.Fatalf("idle buckets kept: %d", n)
	}
}

// TestFNV32a: the shard hash equals hash/fnv's FNV-1a.
func TestFNV32a(t *testing.T) {
	for _, k := range []string{"", "a", "10.0.0.1", "2001:db8::1", "一个地址", string(make([]byte, 300))} {
		h := fnv.New32a()
		_, _ = h.Write([]byte(k))
		if got, want := fnv32a(k), h.Sum32(); got != want {
			t.Errorf("%q: %08x, hash/fnv %08x", k, got, want)
		}
	}
}
