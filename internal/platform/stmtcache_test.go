package platform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func openTestSQLite(t *testing.T) *DB {
	t.Helper()
	db, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(context.Background(), `CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestStmtCacheReused: a query text is prepared once and the same statement
// serves later calls, outside and inside transactions.
func TestStmtCacheReused(t *testing.T) {
	ctx := context.Background()
	db := openTestSQLite(t)
	const ins = `INSERT INTO t (a) VALUES ($1)`
	for i := 0; i < 5; i++ {
		if _, err := db.Exec(ctx, ins, fmt.Sprint("x", i)); err != nil {
			t.Fatal(err)
		}
	}
	n := db.CachedStatements()
	st := db.stmt(ctx, db.Q(ins))
	if st == nil {
		t.Fatal("insert not cached")
	}
	err := db.InTx(ctx, func(tx *Tx) error {
		for i := 0; i < 5; i++ {
			if _, err := tx.Exec(ctx, ins, fmt.Sprint("y", i)); err != nil {
				return err
			}
		}
		var c int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM t WHERE a LIKE $1`, "y%").Scan(&c); err != nil {
			return err
		}
		if len(tx.stmts) != 2 { // bound to the transaction once per text
			return fmt.Errorf("%d statements bound to the transaction, want 2", len(tx.stmts))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := db.stmt(ctx, db.Q(ins)); got != st {
		t.Fatal("the cached statement was replaced")
	}
	if got := db.CachedStatements(); got != n+1 { // + the COUNT query
		t.Fatalf("cached statements = %d, want %d", got, n+1)
	}
	var c int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM t`).Scan(&c); err != nil || c != 10 {
		t.Fatalf("count = %d, %v; want 10", c, err)
	}
}

// TestStmtCacheBounded: beyond the bound, new texts run unprepared and
// still answer; the rewrite cache is bounded too.
func TestStmtCacheBounded(t *testing.T) {
	ctx := context.Background()
	db := openTestSQLite(t)
	db.stmts.max = 3
	for i := 0; i < 10; i++ {
		var v int
		if err := db.QueryRow(ctx, fmt.Sprintf(`SELECT %d + $1`, i), 1).Scan(&v); err != nil || v != i+1 {
			t.Fatalf("query %d = %d, %v", i, v, err)
		}
	}
	if got := db.CachedStatements(); got != 3 {
		t.Fatalf("cached statements = %d, want 3 (the bound)", got)
	}
	for i := 0; i < maxRewrites+10; i++ {
		db.Q(fmt.Sprintf(`SELECT %d`, i))
	}
	if got := db.rewrite.len(); got != maxRewrites {
		t.Fatalf("rewrites cached = %d, want %d", got, maxRewrites)
	}
}

// TestStmtCacheSchemaChange: a cached statement answers correctly after the
// table it reads is altered, and after it is dropped and recreated.
func TestStmtCacheSchemaChange(t *testing.T) {
	ctx := context.Background()
	db := openTestSQLite(t)
	if _, err := db.Exec(ctx, `INSERT INTO t (a) VALUES ('one')`); err != nil {
		t.Fatal(err)
	}
	const sel = `SELECT * FROM t WHERE id = $1`
	cols := func() []string {
		t.Helper()
		rows, err := db.Query(ctx, sel, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		c, _ := rows.Columns()
		return c
	}
	if c := cols(); len(c) != 2 {
		t.Fatalf("columns %v", c)
	}
	if _, err := db.Exec(ctx, `ALTER TABLE t ADD COLUMN b TEXT NOT NULL DEFAULT 'bee'`); err != nil {
		t.Fatal(err)
	}
	if c := cols(); len(c) != 3 || c[2] != "b" {
		t.Fatalf("after ALTER: columns %v, want id, a, b", c)
	}
	if _, err := db.Exec(ctx, `DROP TABLE t`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Query(ctx, sel, 1); err == nil {
		t.Fatal("query on a dropped table succeeded")
	}
	if _, err := db.Exec(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, z INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO t (z) VALUES (42)`); err != nil {
		t.Fatal(err)
	}
	var id, z int
	if err := db.QueryRow(ctx, sel, 1).Scan(&id, &z); err != nil || z != 42 {
		t.Fatalf("after recreate: %d, %v", z, err)
	}
}

// TestSQLiteWritersSerialised: concurrent transactions run one at a time
// (never two inside InTx together), none fails with SQLITE_BUSY, and a
// waiting writer gives up when its context ends.
func TestSQLiteWritersSerialised(t *testing.T) {
	ctx := context.Background()
	db := openTestSQLite(t)
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				errs <- db.InTx(ctx, func(tx *Tx) error {
					n := inside.Add(1)
					defer inside.Add(-1)
					for m := maxInside.Load(); n > m && !maxInside.CompareAndSwap(m, n); m = maxInside.Load() {
					}
					if _, err := tx.Exec(ctx, `INSERT INTO t (a) VALUES ($1)`, "w"); err != nil {
						return err
					}
					time.Sleep(time.Millisecond)
					return nil
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if maxInside.Load() != 1 {
		t.Fatalf("%d transactions ran at once, want 1", maxInside.Load())
	}
	var c int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM t`).Scan(&c); err != nil || c != 40 {
		t.Fatalf("rows = %d, %v; want 40", c, err)
	}

	// A writer waiting for the lock honours its context.
	hold, release := make(chan struct{}), make(chan struct{})
	go func() {
		_ = db.InTx(ctx, func(tx *Tx) error { close(hold); <-release; return nil })
	}()
	<-hold
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err := db.InTx(cctx, func(tx *Tx) error { return nil })
	close(release)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting writer: %v, want deadline exceeded", err)
	}
	// Reads do not wait for the writer.
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM t`).Scan(&c); err != nil {
		t.Fatal(err)
	}
}

// TestInTxRetryDeadlock (PostgreSQL): two transactions that lock two rows in
// opposite orders deadlock; PostgreSQL aborts one, and InTxRetry runs it
// again so both commit. On SQLite writers are serialised and both commit at
// the first attempt.
func TestInTxRetryDeadlock(t *testing.T) {
	ctx := context.Background()
	engines := map[string]func(t *testing.T) *DB{"sqlite": openTestSQLite}
	if url := os.Getenv("AGTRACE_TEST_POSTGRES"); url != "" && url != "off" {
		engines["postgres"] = func(t *testing.T) *DB {
			db, err := Open(ctx, OpenOptions{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			name := fmt.Sprintf("e_retry_%d", time.Now().UnixNano())
			if _, err := db.Exec(ctx, `CREATE TABLE `+name+` (id BIGINT PRIMARY KEY, a TEXT NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _, _ = db.Exec(ctx, `DROP TABLE `+name) })
			retryTable = name
			return db
		}
	}
	for engine, open := range engines {
		t.Run(engine, func(t *testing.T) {
			retryTable = "t"
			db := open(t)
			for _, id := range []int{1, 2} {
				if _, err := db.Exec(ctx, `INSERT INTO `+retryTable+` (id, a) VALUES ($1, 'start')`, id); err != nil {
					t.Fatal(err)
				}
			}
			var attempts atomic.Int32
			both := make(chan struct{})
			var once sync.Once
			var arrived atomic.Int32
			run := func(first, second int) error {
				return db.InTxRetry(ctx, func(tx *Tx) error {
					a := attempts.Add(1)
					if _, err := tx.Exec(ctx, `UPDATE `+retryTable+` SET a = a || 'x' WHERE id = $1`, first); err != nil {
						return err
					}
					if a <= 2 && db.Dialect() == Postgres { // first attempts: meet, then cross
						if arrived.Add(1) == 2 {
							once.Do(func() { close(both) })
						}
						select {
						case <-both:
						case <-time.After(2 * time.Second):
						}
					}
					_, err := tx.Exec(ctx, `UPDATE `+retryTable+` SET a = a || 'y' WHERE id = $1`, second)
					return err
				})
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			wg.Add(2)
			go func() { defer wg.Done(); errs[0] = run(1, 2) }()
			go func() { defer wg.Done(); errs[1] = run(2, 1) }()
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("transaction failed: %v", err)
				}
			}
			if db.Dialect() == Postgres && attempts.Load() < 3 {
				t.Fatalf("attempts = %d; expected a deadlock and a retry", attempts.Load())
			}
			var a1, a2 string
			if err := db.QueryRow(ctx, `SELECT a FROM `+retryTable+` WHERE id = 1`).Scan(&a1); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(ctx, `SELECT a FROM `+retryTable+` WHERE id = 2`).Scan(&a2); err != nil {
				t.Fatal(err)
			}
			if len(a1) != len("start")+2 || len(a2) != len("start")+2 {
				t.Fatalf("rows %q %q: each transaction should have applied exactly once", a1, a2)
			}
		})
	}
}

var retryTable = "t"
