package trace

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"agtrace/internal/platform"
)

// Verification tokens (docs/coding-rules.md "Verification token"): trace
// codes are sequential, so the code alone proves nothing. The label's QR
// carries <publicURL>/q/<code>?v=<token>, where token is the first
// TokenLen characters of base32(HMAC-SM3(verifyKey, code)). Only a holder
// of the label (or of the code's documents) sees the full public page; a
// typed or guessed code sees the reduced page (no downstream chain, no
// quantities).

// TokenLen is the length of a verification token (8 base32 characters:
// 40 bits).
const TokenLen = 8

// verifyKeyLabel derives the token key from the platform secret.
const verifyKeyLabel = "agtrace trace code token v1"

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// SetVerifyKey derives the token key from the platform secret (as
// auth.Service.SetDeviceKey does with its own label). Without it the
// service uses a random per-process key: tokens then do not survive a
// restart.
func (s *Service) SetVerifyKey(secret []byte) {
	s.verifyKey = deriveVerifyKey(secret)
	s.macs.Store(newTokenMACs(s.verifyKey))
}

// tokenMACs reuse keyed HMAC states: every scan of a label checks its
// token, and a fresh HMAC costs its key's two blocks and allocations.
type tokenMACs struct{ pool sync.Pool }

func newTokenMACs(key []byte) *tokenMACs {
	m := &tokenMACs{}
	m.pool.New = func() any { return hmac.New(sm3.New, key) }
	return m
}

func deriveVerifyKey(secret []byte) []byte {
	m := hmac.New(sm3.New, secret)
	m.Write([]byte(verifyKeyLabel))
	return m.Sum(nil)
}

func randomVerifyKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return deriveVerifyKey(b)
}

// Token is the verification token printed with code in QR codes.
func (s *Service) Token(code string) string {
	macs := s.macs.Load()
	m := macs.pool.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(code))
	var sum [sm3.Size]byte
	mac := m.Sum(sum[:0])
	macs.pool.Put(m)
	var enc [TokenLen]byte // base32 turns each 5 bytes into 8 characters
	tokenEncoding.Encode(enc[:], mac[:TokenLen*5/8])
	return string(enc[:])
}

// VerifyToken reports whether token is the verification token of code
// (case-insensitive, constant-time).
func (s *Service) VerifyToken(code, token string) bool {
	token = strings.ToUpper(strings.TrimSpace(token))
	if len(token) != TokenLen {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(s.Token(code)), []byte(token)) == 1
}

// QRURL is the public URL printed in QR codes and shown to the code's
// holder: <publicURL>/q/<code>?v=<token>.
func (s *Service) QRURL(code string) string {
	return s.publicURL + "/q/" + code + "?v=" + s.Token(code)
}

// Miss limiter defaults: well-formed codes that do not exist are limited
// far more strictly than hits (which keep the general public limit).
const (
	MissAllowance = 10
	MissWindow    = 10 * time.Minute
)

// MissLimiter counts lookups of well-formed trace codes that do not exist,
// per client address, in a fixed window (in memory, per replica).
type MissLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	now    func() time.Time
	hits   map[string]*missCount
	swept  time.Time
}

type missCount struct {
	start time.Time
	n     int
}

// NewMissLimiter allows limit misses per window per address.
func NewMissLimiter(limit int, window time.Duration, now func() time.Time) *MissLimiter {
	if now == nil {
		now = time.Now
	}
	return &MissLimiter{limit: limit, window: window, now: now, hits: map[string]*missCount{}}
}

// Miss records a miss by addr and returns how long addr must wait when it
// is over the allowance (0 while within it).
func (l *MissLimiter) Miss(addr string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.swept) > l.window {
		for k, c := range l.hits {
			if now.Sub(c.start) >= l.window {
				delete(l.hits, k)
			}
		}
		l.swept = now
	}
	c := l.hits[addr]
	if c == nil || now.Sub(c.start) >= l.window {
		c = &missCount{start: now}
		l.hits[addr] = c
	}
	c.n++
	if c.n <= l.limit {
		return 0
	}
	return c.start.Add(l.window).Sub(now)
}

// SetMissLimit replaces the miss limiter's allowance (tests).
func (s *Service) SetMissLimit(limit int, window time.Duration) {
	s.misses = NewMissLimiter(limit, window, s.clock.Now)
}

// missed answers a lookup of a well-formed code that does not exist:
// 404, or 429 with Retry-After once the client is over the allowance.
func (s *Service) missed(ctx context.Context) error {
	if wait := s.misses.Miss(platform.OriginFrom(ctx).Addr); wait > 0 {
		secs := max(int((wait+time.Second-1)/time.Second), 1)
		return platform.TooMany("未查到的追溯码查询过多，请稍后再试", "too many lookups of codes that do not exist; try again later").
			With("retry_after_seconds", secs)
	}
	return platform.NotFound("未查到该追溯码", "no product carries this trace code")
}
