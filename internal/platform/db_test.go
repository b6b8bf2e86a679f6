package platform_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"agtrace/internal/apptest"
	"agtrace/internal/platform"
)

func TestRewriteForSQLite(t *testing.T) {
	db, err := platform.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cases := map[string]string{
		`SELECT * FROM t WHERE a = $1 AND b = $12`:                  `SELECT * FROM t WHERE a = ?1 AND b = ?12`,
		`SELECT x FROM t WHERE id = $1 FOR UPDATE`:                  `SELECT x FROM t WHERE id = ?1`,
		"SELECT x FROM t WHERE id = $1\n\t\tFOR UPDATE SKIP LOCKED": `SELECT x FROM t WHERE id = ?1`,
		`SELECT x FROM t WHERE name ILIKE $1`:                       `SELECT x FROM t WHERE name LIKE ?1`,
	}
	for in, want := range cases {
		if got := db.Q(in); got != want {
			t.Errorf("Q(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTransactions: a failed write leaves nothing behind, a committed one is
// audited, and sequences never hand out the same number twice under
// concurrency — on each engine.
func TestTransactions(t *testing.T) {
	for _, engine := range apptest.Engines() {
		t.Run(engine, func(t *testing.T) {
			a := apptest.NewApp(t, engine)
			db := a.DB
			ctx := platform.WithOrigin(context.Background(), platform.Origin{UserID: 0, Username: "tester", Addr: "10.0.0.1"})
			count := func(q string) int {
				var n int
				if err := db.QueryRow(ctx, q).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			before := count(`SELECT COUNT(*) FROM audit_log`)

			boom := errors.New("boom")
			err := db.InTx(ctx, func(tx *platform.Tx) error {
				if _, err := tx.Exec(ctx, `INSERT INTO agencies (name, kind, region_code, created_at) VALUES ($1, 'other', '370686', $2)`, "临时机构", tx.Now()); err != nil {
					return err
				}
				if err := tx.Emit(ctx, platform.Event{Action: "test.write", ResourceType: "agency", ResourceID: "x"}); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("InTx returned %v", err)
			}
			if n := count(`SELECT COUNT(*) FROM agencies WHERE name = '临时机构'`); n != 0 {
				t.Fatalf("rolled-back insert left %d rows", n)
			}
			if count(`SELECT COUNT(*) FROM audit_log`) != before {
				t.Fatal("rolled-back write left an audit entry")
			}

			err = db.InTx(ctx, func(tx *platform.Tx) error {
				return tx.Emit(ctx, platform.Event{Action: "test.ok", ResourceType: "thing", ResourceID: "42", Data: map[string]int{"n": 1}})
			})
			if err != nil {
				t.Fatal(err)
			}
			var actor, addr, detail string
			if err := db.QueryRow(ctx, `SELECT actor_name, addr, detail FROM audit_log WHERE action = 'test.ok'`).Scan(&actor, &addr, &detail); err != nil {
				t.Fatal(err)
			}
			if actor != "tester" || addr != "10.0.0.1" || detail != `{"n":1}` {
				t.Fatalf("audit row: %q %q %q", actor, addr, detail)
			}
			if n := count(`SELECT COUNT(*) FROM outbox WHERE topic = 'test.ok' AND published_at IS NULL`); n != 1 {
				t.Fatalf("outbox rows for test.ok: %d", n)
			}

			// 8 goroutines × 25 serials each: all 200 distinct, 1..200
			var mu sync.Mutex
			seen := map[int64]bool{}
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 25; i++ {
						err := db.InTx(ctx, func(tx *platform.Tx) error {
							n, err := tx.NextSerial(ctx, "test:370686")
							if err != nil {
								return err
							}
							mu.Lock()
							defer mu.Unlock()
							if seen[n] {
								return errors.New("duplicate serial")
							}
							seen[n] = true
							return nil
						})
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			for i := int64(1); i <= 200; i++ {
				if !seen[i] {
					t.Fatalf("serial %d never issued (got %d distinct)", i, len(seen))
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		opts platform.OpenOptions
		want string
	}{
		{"malformed URL", platform.OpenOptions{URL: "mysql://x"}, "not a PostgreSQL URL"},
		{"unreachable", platform.OpenOptions{URL: "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"}, "cannot reach PostgreSQL"},
	}
	if os.Geteuid() != 0 { // root can write anywhere
		ro := t.TempDir()
		_ = os.Chmod(ro, 0o500)
		cases = append(cases, struct {
			name string
			opts platform.OpenOptions
			want string
		}{"read-only data dir", platform.OpenOptions{DataDir: ro}, "not writable"})
	}
	for _, c := range cases {
		_, err := platform.Open(ctx, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v (want one line containing %q)", c.name, err, c.want)
		}
	}
}
