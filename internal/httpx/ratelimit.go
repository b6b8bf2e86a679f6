package httpx

import (
	"math"
	"sync"
	"time"
)

// Bucket is a token bucket's shape: Burst tokens at most, refilled at Rate
// per second. A request takes one token.
type Bucket struct {
	Rate  float64
	Burst float64
}

// Limiter keeps one token bucket per key (a client address), in shards so
// that concurrent requests rarely wait on the same lock. Buckets idle long
// enough to be full again are dropped, so memory follows the active
// clients, not every address ever seen.
type Limiter struct {
	spec   Bucket
	now    func() time.Time
	shards [32]limiterShard
}

type limiterShard struct {
	mu    sync.Mutex
	m     map[string]tokens // by value: a crowd of addresses is no crowd of heap objects for the collector
	swept time.Time
}

type tokens struct {
	n    float64
	last time.Time
}

// NewLimiter returns a limiter of buckets shaped like spec (now: the
// clock; nil = time.Now).
func NewLimiter(spec Bucket, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	l := &Limiter{spec: spec, now: now}
	for i := range l.shards {
		l.shards[i].m = map[string]tokens{}
	}
	return l
}

// Allow takes a token from key's bucket; when there is none it reports how
// long until there will be.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	sh := &l.shards[fnv32a(key)%uint32(len(l.shards))]
	now := l.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if now.Sub(sh.swept) > time.Minute {
		sh.sweep(now, l.spec)
	}
	t, ok := sh.m[key]
	if !ok {
		t = tokens{n: l.spec.Burst, last: now}
	}
	t.n = math.Min(l.spec.Burst, t.n+now.Sub(t.last).Seconds()*l.spec.Rate)
	t.last = now
	allowed := t.n >= 1
	if allowed {
		t.n--
	}
	sh.m[key] = t
	if allowed {
		return true, 0
	}
	return false, time.Duration((1 - t.n) / l.spec.Rate * float64(time.Second))
}

// fnv32a is FNV-1a of key (hash/fnv without its allocation).
func fnv32a(key string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return h
}

// sweep drops the buckets that have refilled completely.
func (sh *limiterShard) sweep(now time.Time, spec Bucket) {
	full := time.Duration(spec.Burst / spec.Rate * float64(time.Second))
	for k, t := range sh.m {
		if now.Sub(t.last) >= full {
			delete(sh.m, k)
		}
	}
	sh.swept = now
}

// Size is the number of buckets kept (tests, metrics).
func (l *Limiter) Size() int {
	n := 0
	for i := range l.shards {
		l.shards[i].mu.Lock()
		n += len(l.shards[i].m)
		l.shards[i].mu.Unlock()
	}
	return n
}
