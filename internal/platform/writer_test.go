package platform

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"
)

func rowsOf(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT a FROM t ORDER BY a`)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGroupCommitAllOrNothing: many concurrent writers share commits; each
// one's answer says exactly what is in the database: the ones that
// succeeded are all there, those that failed or panicked left nothing, and
// groups really formed.
func TestGroupCommitAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := openTestSQLite(t)
	boom := errors.New("boom")
	var mu sync.Mutex
	var want []string
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				name := fmt.Sprintf("w%d-%02d", w, i)
				var err error
				func() {
					defer func() {
						if p := recover(); p != nil {
							err = fmt.Errorf("panic: %v", p)
						}
					}()
					err = db.InTx(ctx, func(tx *Tx) error {
						for k := 0; k < 2; k++ {
							if _, err := tx.Exec(ctx, `INSERT INTO t (a) VALUES ($1)`, fmt.Sprintf("%s-%d", name, k)); err != nil {
								return err
							}
						}
						time.Sleep(100 * time.Microsecond) // let the others queue
						switch i % 5 {
						case 1:
							return boom
						case 3:
							panic("member panics")
						}
						return nil
					})
				}()
				switch {
				case i%5 == 1 && !errors.Is(err, boom):
					t.Errorf("%s: %v, want boom", name, err)
				case i%5 == 3 && (err == nil || err.Error() != "panic: member panics"):
					t.Errorf("%s: %v, want the panic", name, err)
				case i%5 != 1 && i%5 != 3 && err != nil:
					t.Errorf("%s: %v", name, err)
				case err == nil:
					mu.Lock()
					want = append(want, name+"-0", name+"-1")
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	sort.Strings(want)
	got := rowsOf(t, db)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rows: %d, want %d (the successful writers' rows and nothing else)", len(got), len(want))
	}
	commits, writers := db.GroupCommits()
	if writers != int64(len(want)/2) {
		t.Errorf("group commits report %d writers, want %d", writers, len(want)/2)
	}
	if commits >= writers {
		t.Errorf("%d commits for %d writers: no group formed", commits, writers)
	}
	t.Logf("%d writers in %d commits", writers, commits)
}

// TestGroupCommitCancelledMember: a writer whose context ends in the middle
// of its work fails at its next statement, leaving nothing, and does not
// interrupt the transaction the others share.
func TestGroupCommitCancelledMember(t *testing.T) {
	ctx := context.Background()
	db := openTestSQLite(t)
	hold, release := make(chan struct{}), make(chan struct{})
	errs := make(chan error, 3)
	go func() {
		errs <- db.InTx(ctx, func(tx *Tx) error {
			close(hold)
			<-release
			_, err := tx.Exec(ctx, `INSERT INTO t (a) VALUES ('holder')`)
			return err
		})
	}()
	<-hold
	cctx, cancel := context.WithCancel(ctx)
	queued := make(chan struct{}, 2)
	go func() {
		queued <- struct{}{}
		errs <- db.InTx(cctx, func(tx *Tx) error {
			if _, err := tx.Exec(cctx, `INSERT INTO t (a) VALUES ('cancelled-1')`); err != nil {
				return err
			}
			cancel()
			_, err := tx.Exec(cctx, `INSERT INTO t (a) VALUES ('cancelled-2')`)
			return err
		})
	}()
	go func() {
		queued <- struct{}{}
		errs <- db.InTx(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO t (a) VALUES ('other')`)
			return err
		})
	}()
	<-queued
	<-queued
	for db.writer.waiting.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	var cancelled, ok int
	for i := 0; i < 3; i++ {
		switch err := <-errs; {
		case errors.Is(err, context.Canceled):
			cancelled++
		case err == nil:
			ok++
		default:
			t.Fatal(err)
		}
	}
	if cancelled != 1 || ok != 2 {
		t.Fatalf("%d cancelled, %d ok; want 1 and 2", cancelled, ok)
	}
	if got := fmt.Sprint(rowsOf(t, db)); got != "[holder other]" {
		t.Fatalf("rows %s, want [holder other]", got)
	}
}

// TestGroupCommitLastWaiterGivesUp: a group kept open for a queued writer
// that then gives up is committed by it, so the writers already in the
// group get their answer.
func TestGroupCommitLastWaiterGivesUp(t *testing.T) {
	ctx := context.Background()
	db := openTestSQLite(t)
	done := make(chan error)
	go func() {
		done <- db.InTx(ctx, func(tx *Tx) error {
			db.writer.waiting.Add(1) // a writer queues while this one runs…
			_, err := tx.Exec(ctx, `INSERT INTO t (a) VALUES ('kept open')`)
			return err
		})
	}()
	openMembers := func() int {
		db.writer.slot <- struct{}{}
		defer func() { <-db.writer.slot }()
		if db.writer.open == nil {
			return 0
		}
		return db.writer.open.members
	}
	for openMembers() == 0 {
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("answered before the commit: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	db.writer.giveUp() // …and gives up before its turn
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(rowsOf(t, db)); got != "[kept open]" {
		t.Fatalf("rows %s", got)
	}
}

// TestExecWritesOnWriter: on SQLite DB.Exec sends row writes to the
// writer's connection (counted as its writers; not as the process's
// commits) and everything else to the pool; its result is the statement's.
// Called inside an InTx callback it fails after writerWait instead of
// waiting for ever for the writer the callback holds, and the callback's
// own transaction still commits.
func TestExecWritesOnWriter(t *testing.T) {
	for _, c := range []struct {
		q     string
		write bool
	}{
		{"INSERT INTO t (a) VALUES ($1)", true},
		{"  \n\tupdate t SET a = 'x'", true},
		{"Delete FROM t", true},
		{"REPLACE INTO t (a) VALUES ('x')", true},
		{"PRAGMA wal_checkpoint(TRUNCATE)", false},
		{"ANALYZE", false},
		{"VACUUM", false},
		{"SELECT 1", false},
		{"CREATE TABLE u (a TEXT)", false},
		{"INSERT", false}, // the verb alone is not a statement
		{"", false},
	} {
		if got := isWrite(c.q); got != c.write {
			t.Errorf("isWrite(%q) = %v, want %v", c.q, got, c.write)
		}
	}

	ctx := context.Background()
	db := openTestSQLite(t)
	writers, commits := db.writer.writers.Load(), db.Commits()
	res, err := db.Exec(ctx, `INSERT INTO t (a) VALUES ($1), ($2)`, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 2 {
		t.Fatalf("rows affected: %d %v, want 2", n, err)
	}
	if got := db.writer.writers.Load() - writers; got != 1 {
		t.Fatalf("the insert ran as %d writers of the writer's connection, want 1", got)
	}
	if db.Commits() != commits {
		t.Fatal("an Exec counted as a commit of the process")
	}
	if got := rowsOf(t, db); len(got) != 2 {
		t.Fatalf("rows %v, want a and b", got)
	}

	defer func(old time.Duration) { writerWait = old }(writerWait)
	writerWait = 200 * time.Millisecond
	var inner error
	start := time.Now()
	err = db.InTx(ctx, func(tx *Tx) error {
		_, inner = db.Exec(ctx, `INSERT INTO t (a) VALUES ('inner')`)
		_, err := tx.Exec(ctx, `INSERT INTO t (a) VALUES ('outer')`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if inner == nil || !errors.Is(inner, context.DeadlineExceeded) {
		t.Fatalf("Exec inside InTx: %v, want a deadline error", inner)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Exec inside InTx gave up after %v", d)
	}
	if got := rowsOf(t, db); fmt.Sprint(got) != "[a b outer]" {
		t.Fatalf("rows %v, want [a b outer]", got)
	}
}
