package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

const goodPW = "correct-horse-2026"

// fixedAuth is an auth service over the app's database whose clock stands
// still, so delays do not run out while a test runs.
func fixedAuth(a *app.App) *auth.Service {
	s := auth.NewService(a.DB, &platform.FixedClock{T: time.Now().UTC().Truncate(time.Microsecond)})
	s.SetDeviceKey([]byte("0123456789abcdef"))
	return s
}

func newUser(t *testing.T, a *app.App, name string) auth.User {
	t.Helper()
	u, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: name, Password: goodPW,
		Role: string(auth.RoleReviewer), RegionCode: "370686", Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// kindOf is the error's kind; -1 for success.
func kindOf(err error) platform.Kind {
	if err == nil {
		return -1
	}
	var pe *platform.Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	return platform.KindInternal
}

// TestLoginThrottleRace fires 100 parallel wrong passwords at one account
// from one address: at most pairRule's free attempts reach the password check,
// the rest are told to wait, and the real user from another address still gets in.
func TestLoginThrottleRace(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		svc := fixedAuth(a)
		newUser(t, a, "victim")
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[platform.Kind]int{}
		for i := 0; i < 100; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.Login(ctx, "victim", "wrong-password", "198.51.100.7", "api")
				mu.Lock()
				counts[kindOf(err)]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		checked := counts[platform.KindUnauthorized]
		if checked > 5 || checked < 1 || checked+counts[platform.KindTooMany] != 100 {
			t.Fatalf("100 parallel guesses: %d password checks (want 1..5), outcomes %v", checked, counts)
		}
		// The attack does not lock the account: the user logs in from elsewhere.
		if _, err := svc.Login(ctx, "victim", goodPW, "203.0.113.20", "api"); err != nil {
			t.Fatalf("right password from another address after the attack: %v", err)
		}
		// And the guessing address stays throttled even with the right password.
		_, err := svc.Login(ctx, "victim", goodPW, "198.51.100.7", "api")
		if kindOf(err) != platform.KindTooMany {
			t.Fatalf("right password from the attacking address: %v, want 429", err)
		}
		var pe *platform.Error
		if errors.As(err, &pe) && pe.Extra["retry_after_seconds"] == nil {
			t.Errorf("429 without retry_after_seconds: %+v", pe)
		}
	})
}

// TestLoginAccountCeiling: a distributed guesser (one guess per address)
// reaches the account ceiling; a new browser is slowed, a browser that logged
// in before (device cookie) is not; an administrator can clear the count.
func TestLoginAccountCeiling(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		svc := fixedAuth(a)
		u := newUser(t, a, "farmer")
		first, err := svc.LoginDevice(ctx, auth.LoginInput{Username: "farmer", Password: goodPW, Addr: "203.0.113.1", Kind: "browser"})
		if err != nil || first.Device == "" {
			t.Fatalf("first login: %v, device %q", err, first.Device)
		}
		throttled := 0
		for i := 0; i < 30; i++ {
			_, err := svc.Login(ctx, "farmer", "guess", fmt.Sprintf("192.0.2.%d", i+1), "api")
			if kindOf(err) == platform.KindTooMany {
				throttled++
			}
		}
		if throttled == 0 {
			t.Fatal("30 guesses from 30 addresses: account ceiling never applied")
		}
		if _, err := svc.LoginDevice(ctx, auth.LoginInput{Username: "farmer", Password: goodPW, Addr: "203.0.113.99", Kind: "browser"}); kindOf(err) != platform.KindTooMany {
			t.Fatalf("new browser during the attack: %v, want 429", err)
		}
		if _, err := svc.LoginDevice(ctx, auth.LoginInput{Username: "farmer", Password: goodPW, Addr: "203.0.113.99", Kind: "browser",
			Device: first.Device}); err != nil {
			t.Fatalf("known browser during the attack: %v", err)
		}
		// Another account's device cookie does not help.
		other := newUser(t, a, "other")
		od, err := svc.LoginDevice(ctx, auth.LoginInput{Username: "other", Password: goodPW, Addr: "203.0.113.5", Kind: "browser"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.LoginDevice(ctx, auth.LoginInput{Username: "farmer", Password: goodPW, Addr: "203.0.113.98", Kind: "browser",
			Device: od.Device}); kindOf(err) != platform.KindTooMany {
			t.Fatalf("another account's device cookie: %v, want 429", err)
		}
		// Only administrators clear; then the new browser gets in.
		if err := svc.ClearLoginThrottle(ctx, apptest.ActorOf(other), u.ID); kindOf(err) != platform.KindForbidden {
			t.Fatalf("reviewer clearing the throttle: %v, want 403", err)
		}
		var before int
		a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'user.login_throttle_cleared'`).Scan(&before)
		if err := svc.ClearLoginThrottle(ctx, auth.System(), u.ID); err != nil {
			t.Fatal(err)
		}
		var after int
		a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'user.login_throttle_cleared'`).Scan(&after)
		if after != before+1 {
			t.Errorf("clearing not audited: %d → %d", before, after)
		}
		if _, err := svc.LoginDevice(ctx, auth.LoginInput{Username: "farmer", Password: goodPW, Addr: "203.0.113.99", Kind: "browser"}); err != nil {
			t.Fatalf("new browser after clearing: %v", err)
		}
	})
}

// TestPasswordResetClearsThrottle and TestPurgeLoginAttempts: a reset ends
// the throttling; old rows are deleted.
func TestPasswordResetClearsThrottle(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		svc := fixedAuth(a)
		u := newUser(t, a, "clerk")
		for i := 0; i < 6; i++ {
			svc.Login(ctx, "clerk", "guess", "198.51.100.8", "api")
		}
		if _, err := svc.Login(ctx, "clerk", goodPW, "198.51.100.8", "api"); kindOf(err) != platform.KindTooMany {
			t.Fatalf("after 6 guesses: %v, want 429", err)
		}
		if err := svc.SetPassword(ctx, auth.System(), u.ID, "another-pass-2026"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Login(ctx, "clerk", "another-pass-2026", "198.51.100.8", "api"); err != nil {
			t.Fatalf("after the reset: %v", err)
		}
		var n int
		a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM login_attempts`).Scan(&n)
		if n == 0 {
			t.Fatal("expected the address row to remain")
		}
		if err := svc.PurgeLoginAttempts(ctx, time.Now().Add(48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM login_attempts`).Scan(&n)
		if n != 0 {
			t.Fatalf("%d rows left after the purge", n)
		}
	})
}
