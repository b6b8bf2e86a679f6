package auth

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"agtrace/internal/platform"
)

// Login throttling. The threat model and what each limit covers are in
// docs/security.md. In short: guesses are counted before the password is
// checked, with one atomic statement per key, so parallel guesses cannot
// exceed a limit; past a limit the next attempt must wait a growing delay
// instead of the account being locked, so an attacker cannot lock a user out.
//
// Three keys are counted per attempt:
//   - the (account, address) pair: a few free guesses, then delays that grow
//     quickly — this is what stops a guesser;
//   - the address: many free guesses, then short delays — it slows one
//     address spraying many accounts, without shutting out a whole NAT;
//   - the account: a ceiling across all addresses that slows a distributed
//     guesser; a browser that has logged in to the account before (a signed
//     device cookie) is exempt from it, so the real user still gets in.
type throttleRule struct {
	prefix   string
	free     int           // attempts per window before delays start
	first    time.Duration // delay after the first attempt past free
	max      time.Duration // delays double up to this
	keyIsPII bool
}

var (
	pairRule    = throttleRule{prefix: "p:", free: 5, first: 5 * time.Second, max: 15 * time.Minute}
	addrRule    = throttleRule{prefix: "a:", free: 30, first: time.Second, max: time.Minute}
	accountRule = throttleRule{prefix: "u:", free: 20, first: time.Second, max: 5 * time.Minute}
)

const (
	// throttleWindow: a key's count starts again after this long.
	throttleWindow = 15 * time.Minute
	// purgeAfter: rows older than this are deleted (no delay left to enforce).
	purgeAfter = 24 * time.Hour
	// purgeEvery: how often a replica runs the purge, at most.
	purgeEvery = 10 * time.Minute
	// DeviceTTL is how long a device cookie exempts a browser from the account ceiling.
	DeviceTTL = 90 * 24 * time.Hour
	// DeviceCookie is the name of the signed device cookie.
	DeviceCookie = "agtrace_device"
)

// delay returns how long the next attempt must wait after the n-th attempt of a window.
func (r throttleRule) delay(n int) time.Duration {
	if n < r.free {
		return 0
	}
	d := r.first
	for i := r.free; i < n && d < r.max; i++ {
		d *= 2
	}
	return min(d, r.max)
}

func pairKey(username, addr string) string {
	return pairRule.prefix + strings.ToLower(username) + "|" + addr
}

// reserve counts one attempt on key atomically and reports whether it may
// proceed; when it may not, it says how long to wait. One statement decides
// and counts: an attempt passes if the key's window is over, or it is within
// the free allowance, or the delay set by the previous attempt has run out;
// an attempt at or past the allowance sets the next delay in the same
// statement (the shortest one, then lengthened), so parallel attempts that
// arrive before the lengthening are refused, not let through.
func (s *Service) reserve(ctx context.Context, r throttleRule, key string, now time.Time) (time.Duration, error) {
	var n int
	var firstDelay any
	if r.free <= 1 {
		firstDelay = now.Add(r.first)
	}
	err := s.db.QueryRow(ctx, `INSERT INTO login_attempts (key, failures, first_failure_at, locked_until) VALUES ($1, 1, $2, $6)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN login_attempts.first_failure_at < $3 THEN 1 ELSE login_attempts.failures + 1 END,
			first_failure_at = CASE WHEN login_attempts.first_failure_at < $3 THEN $2 ELSE login_attempts.first_failure_at END,
			locked_until = CASE WHEN login_attempts.first_failure_at >= $3 AND login_attempts.failures + 1 >= $4 THEN $5
				ELSE NULLIF(login_attempts.locked_until, login_attempts.locked_until) END -- a NULL typed like the column, so PostgreSQL types $5 too
		WHERE login_attempts.first_failure_at < $3
			OR (login_attempts.locked_until IS NULL AND login_attempts.failures < $4)
			OR login_attempts.locked_until <= $2
		RETURNING failures`, key, now, now.Add(-throttleWindow), r.free, now.Add(r.first), firstDelay).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		// The key's row exists and its delay has not run out.
		var until sql.NullTime
		if err := s.db.QueryRow(ctx, `SELECT locked_until FROM login_attempts WHERE key = $1`, key).Scan(&until); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return r.first, nil // purged meanwhile; ask to retry shortly
			}
			return 0, err
		}
		if until.Valid && until.Time.After(now) {
			return until.Time.Sub(now), nil
		}
		return r.first, nil
	}
	if err != nil {
		return 0, err
	}
	if d := r.delay(n); d > r.first {
		if _, err := s.db.Exec(ctx, `UPDATE login_attempts SET locked_until = $2 WHERE key = $1`, key, now.Add(d)); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func tooMany(wait time.Duration) error {
	secs := int(wait.Seconds())
	if time.Duration(secs)*time.Second < wait {
		secs++
	}
	return platform.TooMany("登录尝试过于频繁，请稍后再试", "too many login attempts; try again later").
		With("retry_after_seconds", max(secs, 1))
}

// LoginInput is one login attempt.
type LoginInput struct {
	Username, Password string
	Addr               string // client address (see httpx.TrustedProxies)
	Kind               string // "browser" or "api"
	// Device is the device cookie the browser sent, if any.
	Device string
}

// LoginResult is a successful login: the session and, for browsers, a fresh
// device cookie value to store (DeviceTTL).
type LoginResult struct {
	Session Session
	Device  string
}

// LoginDevice checks credentials with the throttling described above and
// issues a session token and a device cookie.
func (s *Service) LoginDevice(ctx context.Context, in LoginInput) (LoginResult, error) {
	now := s.clock.Now()
	s.maybePurge(ctx, now)
	user := strings.ToLower(in.Username)
	checks := []struct {
		rule throttleRule
		key  string
	}{
		{pairRule, pairKey(user, in.Addr)},
		{addrRule, addrRule.prefix + in.Addr},
	}
	if !s.validDevice(in.Device, user, now) {
		checks = append(checks, struct {
			rule throttleRule
			key  string
		}{accountRule, accountRule.prefix + user})
	}
	for _, c := range checks {
		wait, err := s.reserve(ctx, c.rule, c.key, now)
		if err != nil {
			return LoginResult{}, err
		}
		if wait > 0 {
			return LoginResult{}, tooMany(wait)
		}
	}
	var hash, status string
	var id int64
	err := s.db.QueryRow(ctx, `SELECT id, password_hash, status FROM users WHERE username = $1`, in.Username).Scan(&id, &hash, &status)
	if errors.Is(err, sql.ErrNoRows) {
		CheckPassword(dummyHash, in.Password) // same cost as a real check, so timing does not reveal usernames
		return LoginResult{}, errBadLogin
	}
	if err != nil {
		return LoginResult{}, err
	}
	if !CheckPassword(hash, in.Password) {
		return LoginResult{}, errBadLogin
	}
	if status != "active" {
		return LoginResult{}, platform.Forbidden("账号已停用", "account disabled")
	}
	// The right password from this address: its pair count starts again.
	if _, err := s.db.Exec(ctx, `DELETE FROM login_attempts WHERE key = $1`, pairKey(user, in.Addr)); err != nil {
		return LoginResult{}, err
	}
	ttl := APITokenTTL
	if in.Kind == "browser" {
		ttl = BrowserSessionTTL
	}
	sess, err := s.issue(ctx, id, in.Kind, "", nil, in.Addr, ttl)
	if err != nil {
		return LoginResult{}, err
	}
	res := LoginResult{Session: sess}
	if in.Kind == "browser" {
		res.Device = s.signDevice(user, now.Add(DeviceTTL))
	}
	return res, nil
}

// ClearLoginThrottle forgets every login attempt counted against an
// account (its account ceiling and all its (account, address) pairs). An
// administrator uses it after a guessing attack; a password reset does it too.
func (s *Service) ClearLoginThrottle(ctx context.Context, actor *Actor, userID int64) error {
	if err := Authorize(actor, ActUserManage, Resource{}); err != nil {
		return err
	}
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	if err := Authorize(actor, ActUserManage, Resource{Region: u.RegionCode}); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *platform.Tx) error {
		if err := clearThrottleTx(ctx, tx, u.Username); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "user.login_throttle_cleared", ResourceType: "user",
			ResourceID: strconv.FormatInt(u.ID, 10), Data: map[string]any{"username": u.Username}})
	})
}

func clearThrottleTx(ctx context.Context, tx *platform.Tx, username string) error {
	user := strings.ToLower(username)
	// Range on the primary key, not LIKE: the key may contain '_' or '%'.
	_, err := tx.Exec(ctx, `DELETE FROM login_attempts WHERE key = $1 OR (key >= $2 AND key < $3)`,
		accountRule.prefix+user, pairRule.prefix+user+"|", pairRule.prefix+user+"}")
	return err
}

var lastPurge atomic.Int64

// maybePurge deletes attempts that no longer delay anyone, at most once per
// purgeEvery per process.
func (s *Service) maybePurge(ctx context.Context, now time.Time) {
	last := lastPurge.Load()
	if now.UnixNano()-last < int64(purgeEvery) || !lastPurge.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	_ = s.PurgeLoginAttempts(ctx, now)
}

// PurgeLoginAttempts deletes rows whose window and delay are over (older than a day).
func (s *Service) PurgeLoginAttempts(ctx context.Context, now time.Time) error {
	cut := now.Add(-purgeAfter)
	_, err := s.db.Exec(ctx, `DELETE FROM login_attempts WHERE first_failure_at < $1 AND (locked_until IS NULL OR locked_until < $2)`, cut, now)
	return err
}

// SetDeviceKey sets the key that signs device cookies (derived from the
// platform secret; the same on every replica).
func (s *Service) SetDeviceKey(secret []byte) {
	m := hmac.New(sm3.New, secret)
	m.Write([]byte("agtrace device cookie v1"))
	s.deviceKey = m.Sum(nil)
}

// signDevice returns "<expiry unix>.<base64 HMAC-SM3(username, expiry)>".
func (s *Service) signDevice(username string, exp time.Time) string {
	if len(s.deviceKey) == 0 {
		return ""
	}
	e := strconv.FormatInt(exp.Unix(), 10)
	return e + "." + base64.RawURLEncoding.EncodeToString(s.deviceMAC(username, e))
}

func (s *Service) deviceMAC(username, exp string) []byte {
	m := hmac.New(sm3.New, s.deviceKey)
	m.Write([]byte(strings.ToLower(username) + "\x00" + exp))
	return m.Sum(nil)
}

// validDevice reports whether cookie is an unexpired device cookie for username.
func (s *Service) validDevice(cookie, username string, now time.Time) bool {
	if len(s.deviceKey) == 0 || cookie == "" {
		return false
	}
	e, mac, ok := strings.Cut(cookie, ".")
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || time.Unix(exp, 0).Before(now) {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(mac)
	return err == nil && hmac.Equal(got, s.deviceMAC(username, e))
}
