package platform_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"agtrace/internal/apptest"
	"agtrace/internal/platform"
)

// TestPublicSlots: public requests may hold two connections fewer than the
// pool has; the next one waits until its deadline and then reports an error
// the HTTP layer answers 503 (IsUnavailable), and a released slot is reusable.
func TestPublicSlots(t *testing.T) {
	for _, engine := range apptest.Engines() {
		t.Run(engine, func(t *testing.T) {
			db := openBare(t, engine)
			want := 2 // SQLite: 4 connections
			if engine == "postgres" {
				want = 6 // MaxConns is at least 8
			}
			if db.PublicSlots() < want || (engine == "sqlite" && db.PublicSlots() != want) {
				t.Fatalf("public slots = %d, want %d", db.PublicSlots(), want)
			}
			var releases []func()
			for range db.PublicSlots() {
				rel, err := db.AcquirePublic(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				releases = append(releases, rel)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := db.AcquirePublic(ctx)
			if !errors.Is(err, context.DeadlineExceeded) || !platform.IsUnavailable(err) {
				t.Fatalf("full public slots: %v, want a deadline error that reads as unavailable", err)
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("waited %v for a slot", time.Since(start))
			}
			// No spare slot: a public request reads sequentially, others in parallel.
			pub := platform.WithClass(context.Background(), platform.ClassPublic)
			if _, ok := db.ExtraConn(pub); ok {
				t.Fatal("a public request got an extra connection with every public slot taken")
			}
			if rel, ok := db.ExtraConn(context.Background()); !ok {
				t.Fatal("a logged-in request was refused an extra connection")
			} else {
				rel()
			}
			releases[0]()
			if rel, ok := db.ExtraConn(pub); !ok {
				t.Fatal("a public request was refused a spare slot")
			} else {
				rel()
			}
			rel, err := db.AcquirePublic(context.Background())
			if err != nil {
				t.Fatalf("after a release: %v", err)
			}
			rel()
			for _, r := range releases[1:] {
				r()
			}
		})
	}
}

func TestClassContext(t *testing.T) {
	ctx := context.Background()
	if platform.ClassOf(ctx) != platform.ClassDefault {
		t.Fatal("no class should read as default")
	}
	for _, c := range []platform.Class{platform.ClassPublic, platform.ClassLong, platform.ClassDefault} {
		if got := platform.ClassOf(platform.WithClass(ctx, c)); got != c {
			t.Fatalf("class %v came back as %v", c, got)
		}
	}
}

// TestStatementTimeout (PostgreSQL): every session carries the server-side
// statement_timeout, so a statement is cancelled by the server (SQLSTATE
// 57014, answered 503) even when the client never cancels it.
func TestStatementTimeout(t *testing.T) {
	if apptest.PostgresURL() == "" {
		t.Skip("no PostgreSQL")
	}
	url := apptest.FreshPostgres(t)
	db, err := platform.Open(context.Background(), platform.OpenOptions{URL: url, StatementTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var setting string
	if err := db.QueryRow(context.Background(), `SHOW statement_timeout`).Scan(&setting); err != nil {
		t.Fatal(err)
	}
	if setting != "300ms" {
		t.Fatalf("statement_timeout = %q, want 300ms", setting)
	}
	start := time.Now()
	_, err = db.Exec(context.Background(), `SELECT pg_sleep(5)`)
	if err == nil || !platform.IsUnavailable(err) {
		t.Fatalf("a statement past statement_timeout: %v, want a 57014 that reads as unavailable", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Fatalf("statement ran %v despite statement_timeout", time.Since(start))
	}

	// The default is the longest request class; a URL's own setting wins.
	def := openBare(t, "postgres")
	if err := def.QueryRow(context.Background(), `SHOW statement_timeout`).Scan(&setting); err != nil {
		t.Fatal(err)
	}
	if setting != "2min" {
		t.Fatalf("default statement_timeout = %q, want 2min", setting)
	}
	own, err := platform.Open(context.Background(), platform.OpenOptions{URL: url + "&statement_timeout=5000", StatementTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	if err := own.QueryRow(context.Background(), `SHOW statement_timeout`).Scan(&setting); err != nil {
		t.Fatal(err)
	}
	if setting != "5s" {
		t.Fatalf("URL's statement_timeout = %q, want 5s", setting)
	}
}

// TestLazyPublicSlot: a public request's slot is taken at its first query
// and held, one only, across its queries and transactions until released;
// a request that never queries takes none; with every slot taken a query
// fails with the deadline (read as unavailable) instead of running.
func TestLazyPublicSlot(t *testing.T) {
	for _, engine := range apptest.Engines() {
		t.Run(engine, func(t *testing.T) {
			db := openBare(t, engine)
			free := func() int { return freeSlots(db) }
			all := db.PublicSlots()
			_, idle := platform.WithPublicSlot(context.Background(), db)
			if got := free(); got != all {
				t.Fatalf("a request that has not queried holds a slot: %d of %d free", got, all)
			}
			idle()

			ctx, release := platform.WithPublicSlot(context.Background(), db)
			var one int
			for range 3 {
				if err := db.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.InTx(ctx, func(tx *platform.Tx) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if got := free(); got != all-1 {
				t.Fatalf("after queries: %d of %d slots free, want one taken", got, all)
			}
			release()
			release() // twice is harmless
			if got := free(); got != all {
				t.Fatalf("after release: %d of %d slots free", got, all)
			}

			rels := takeAllSlots(t, db)
			short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			short, release = platform.WithPublicSlot(short, db)
			err := db.QueryRow(short, `SELECT 1`).Scan(&one)
			if !errors.Is(err, context.DeadlineExceeded) || !platform.IsUnavailable(err) {
				t.Fatalf("query with every slot taken: %v, want the deadline, read as unavailable", err)
			}
			release()
			if err := db.QueryRow(platform.Unslotted(short), `SELECT 1`).Scan(&one); err == nil {
				t.Fatal("a query on an ended context ran")
			}
			if err := db.QueryRow(platform.Unslotted(context.Background()), `SELECT 1`).Scan(&one); err != nil {
				t.Fatalf("an unslotted query with every slot taken: %v", err)
			}
			waiting, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel2()
			waiting, release = platform.WithPublicSlot(waiting, db)
			if err := db.TakeSlot(waiting); !platform.IsUnavailable(err) {
				t.Fatalf("TakeSlot with every slot taken: %v, want unavailable", err)
			}
			release()
			for _, r := range rels {
				r()
			}
		})
	}
}

// freeSlots is how many public slots are free now: it takes them all, then
// gives them back.
func freeSlots(db *platform.DB) int {
	n := 0
	var rels []func()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		rel, err := db.AcquirePublic(ctx)
		cancel()
		if err != nil {
			break
		}
		n++
		rels = append(rels, rel)
	}
	for _, r := range rels {
		r()
	}
	return n
}

// takeAllSlots takes every public slot; call each release when done.
func takeAllSlots(t *testing.T, db *platform.DB) []func() {
	t.Helper()
	var rels []func()
	for range db.PublicSlots() {
		rel, err := db.AcquirePublic(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rels = append(rels, rel)
	}
	return rels
}
