package exchange_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/exchange"
	"agtrace/internal/platform"
)

// DefaultNATS is the machine's NATS server (with JetStream) that the
// exchange tests use; AGTRACE_TEST_NATS names another.
const DefaultNATS = "nats://127.0.0.1:4222"

// natsURL returns the NATS server for the test. An unreachable server skips
// the test with the reason, except in CI (CI=true), where it fails it.
func natsURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("AGTRACE_TEST_NATS")
	if u == "" {
		u = DefaultNATS
	}
	host := strings.TrimPrefix(u, "nats://")
	c, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		msg := "exchange tests need NATS with JetStream at " + u + " (start nats-server -js, or set AGTRACE_TEST_NATS): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	c.Close()
	return u
}

// testStream is a fresh stream name for one test; its streams (and the
// dead-letter one) are deleted when the test ends.
func testStream(t testing.TB, url string) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "AGT_TEST_" + strings.ToUpper(hex.EncodeToString(b))
	t.Cleanup(func() {
		nc, err := nats.Connect(url)
		if err != nil {
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, name)
		_ = js.DeleteStream(ctx, exchange.DeadLetterStream(name))
		_ = js.DeleteStream(ctx, exchange.DownStream(name))
	})
	return name
}

// jsOf connects a JetStream client for the test.
func jsOf(t testing.TB, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// startNode runs a's exchange node with cfg until the test ends and makes
// it the node a's HTTP handler serves.
func startNode(t testing.TB, a *app.App, cfg exchange.Config) *exchange.Node {
	t.Helper()
	cfg.Backoff = max(cfg.Backoff, 20*time.Millisecond)
	cfg.Poll = 20 * time.Millisecond
	n, err := exchange.New(a.DB, a.Clock, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := n.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); n.Close() })
	a.Node = n
	return n
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not reached within %s (last: %s)", what, within, last)
}

// count is SELECT COUNT(*) on db.
func count(t testing.TB, db *platform.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// actorOf is the actor of an account.
func actorOf(t testing.TB, a *app.App, username string) *auth.Actor {
	t.Helper()
	u, err := a.Auth.GetUserByName(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	return apptest.ActorOf(u)
}

// admin creates an administrator account on a and returns its actor and a
// logged-in API client.
func admin(t testing.TB, a *app.App, username string) (*auth.Actor, *apptest.Client) {
	t.Helper()
	u, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: username, Password: apptest.OperatorPassword,
		Name: username, Role: string(auth.RoleAdmin), RegionCode: "000000"})
	if err != nil {
		t.Fatal(err)
	}
	srv := apptest.Server(t, a)
	return apptest.ActorOf(u), apptest.NewClient(t, srv).Login(username, apptest.OperatorPassword)
}
