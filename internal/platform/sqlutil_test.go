package platform_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"agtrace/internal/apptest"
	"agtrace/internal/platform"
)

// openBare opens an empty, unmigrated database on engine.
func openBare(t *testing.T, engine string) *platform.DB {
	t.Helper()
	o := platform.OpenOptions{DataDir: t.TempDir()}
	if engine == "postgres" {
		o.URL = apptest.FreshPostgres(t)
	}
	db, err := platform.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, db *platform.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestIsUniqueViolation: detected from the drivers' error codes for unique
// and primary-key conflicts, and only for those, on both engines.
func TestIsUniqueViolation(t *testing.T) {
	for _, engine := range apptest.Engines() {
		t.Run(engine, func(t *testing.T) {
			db := openBare(t, engine)
			ctx := context.Background()
			mustExec(t, db, `CREATE TABLE u_parent (id BIGINT PRIMARY KEY)`)
			mustExec(t, db, `CREATE TABLE u_child (
				id BIGINT PRIMARY KEY,
				name TEXT NOT NULL UNIQUE,
				a TEXT, b TEXT,
				qty BIGINT CHECK (qty >= 0),
				parent BIGINT REFERENCES u_parent (id),
				UNIQUE (a, b))`)
			mustExec(t, db, `INSERT INTO u_parent (id) VALUES (1)`)
			mustExec(t, db, `INSERT INTO u_child (id, name, a, b, qty, parent) VALUES (1, 'x', 'a', 'b', 1, 1)`)

			insert := func(id int64, name any, a, b string, qty, parent int64) error {
				_, err := db.Exec(ctx, `INSERT INTO u_child (id, name, a, b, qty, parent) VALUES ($1, $2, $3, $4, $5, $6)`,
					id, name, a, b, qty, parent)
				return err
			}
			inTx := func(id int64) error {
				return db.InTx(ctx, func(tx *platform.Tx) error {
					_, err := tx.Exec(ctx, `INSERT INTO u_child (id, name) VALUES ($1, 'x')`, id)
					return err
				})
			}
			cases := []struct {
				name    string
				err     error
				want    bool
				wantErr bool // the statement must fail
			}{
				{"primary key", insert(1, "y", "c", "d", 1, 1), true, true},
				{"unique column", insert(2, "x", "c", "d", 1, 1), true, true},
				{"composite unique", insert(3, "z", "a", "b", 1, 1), true, true},
				{"unique inside InTx", inTx(4), true, true},
				{"wrapped", fmt.Errorf("create thing: %w", insert(5, "x", "e", "f", 1, 1)), true, true},
				{"not null", insert(6, nil, "g", "h", 1, 1), false, true},
				{"check", insert(7, "w", "i", "j", -1, 1), false, true},
				{"foreign key", insert(8, "v", "k", "l", 1, 99), false, true},
				{"success", insert(9, "u", "m", "n", 1, 1), false, false},
				{"nil", nil, false, false},
				{"plain error mentioning the words", errors.New("UNIQUE constraint failed: SQLSTATE 23505 duplicate key value"), false, true},
				{"no rows", sql.ErrNoRows, false, true},
			}
			for _, c := range cases {
				if (c.err != nil) != c.wantErr {
					t.Errorf("%s: error %v, want an error: %v", c.name, c.err, c.wantErr)
					continue
				}
				if got := platform.IsUniqueViolation(c.err); got != c.want {
					t.Errorf("%s: IsUniqueViolation(%v) = %v, want %v", c.name, c.err, got, c.want)
				}
			}
		})
	}
}

// TestInstantsAreUTC: whatever location a time.Time is written in, it is
// stored as that instant and read back in time.UTC (not time.Local, not a
// fixed +00:00 zone), so feature code needs no .UTC() after a scan.
func TestInstantsAreUTC(t *testing.T) {
	for _, engine := range apptest.Engines() {
		t.Run(engine, func(t *testing.T) {
			db := openBare(t, engine)
			ctx := context.Background()
			typ := "TIMESTAMP"
			if db.Dialect() == platform.Postgres {
				typ = "TIMESTAMPTZ"
				var tz string
				if err := db.QueryRow(ctx, `SELECT current_setting('TimeZone')`).Scan(&tz); err != nil || tz != "UTC" {
					t.Errorf("session TimeZone = %q (%v), want UTC", tz, err)
				}
			}
			mustExec(t, db, `CREATE TABLE instants (id BIGINT PRIMARY KEY, at `+typ+` NOT NULL, maybe `+typ+`)`)

			utc := time.Date(2026, 3, 1, 2, 3, 4, 567000000, time.UTC)
			cases := []struct {
				name string
				in   time.Time
			}{
				{"UTC", utc},
				{"China", utc.In(platform.ChinaTZ)},
				{"west of UTC", utc.In(time.FixedZone("X", -5*3600))},
				{"local", utc.Local()},
			}
			for i, c := range cases {
				id := int64(i + 1)
				mustExec(t, db, `INSERT INTO instants (id, at, maybe) VALUES ($1, $2, $2)`, id, c.in)
				var at time.Time
				var maybe sql.NullTime
				if err := db.QueryRow(ctx, `SELECT at, maybe FROM instants WHERE id = $1`, id).Scan(&at, &maybe); err != nil {
					t.Fatal(err)
				}
				for col, got := range map[string]time.Time{"at": at, "maybe": maybe.Time} {
					if !got.Equal(utc) || got.Location() != time.UTC {
						t.Errorf("%s: %s read back as %v (location %q), want %v in time.UTC", c.name, col, got, got.Location(), utc)
					}
				}
			}
			// One stored form per instant, so ORDER BY and comparisons on the
			// column follow time on SQLite (where it is text) too.
			var n int
			if err := db.QueryRow(ctx, `SELECT COUNT(DISTINCT at) FROM instants`).Scan(&n); err != nil || n != 1 {
				t.Errorf("distinct stored instants = %d (%v), want 1", n, err)
			}
			if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM instants WHERE at = $1`, utc.In(platform.ChinaTZ)).Scan(&n); err != nil || n != len(cases) {
				t.Errorf("rows matching the instant given in China time = %d (%v), want %d", n, err, len(cases))
			}
		})
	}
}

type pair struct {
	n int64
	s string
}

func scanPair(r *sql.Rows) (pair, error) {
	var p pair
	err := r.Scan(&p.n, &p.s)
	return p, err
}

// TestCollect: all rows in order, an empty non-nil slice for none, errors
// from the query, the scan and the iteration, and rows always closed.
func TestCollect(t *testing.T) {
	for _, engine := range apptest.Engines() {
		t.Run(engine, func(t *testing.T) {
			db := openBare(t, engine)
			ctx := context.Background()
			mustExec(t, db, `CREATE TABLE things (n BIGINT PRIMARY KEY, s TEXT)`)
			mustExec(t, db, `INSERT INTO things (n, s) VALUES (1, 'a'), (2, 'b'), (3, NULL)`)
			held := 0 // the SQLite writer's own connection is always in use (writer.go)
			if db.Dialect() == platform.SQLite {
				held = 1
			}

			cases := []struct {
				name    string
				query   string
				want    []pair
				wantErr bool
			}{
				{"rows in order", `SELECT n, s FROM things WHERE s IS NOT NULL ORDER BY n DESC`, []pair{{2, "b"}, {1, "a"}}, false},
				{"no rows", `SELECT n, s FROM things WHERE n > 100`, []pair{}, false},
				{"query error", `SELECT n, s FROM no_such_table`, nil, true},
				{"scan error (NULL into string)", `SELECT n, s FROM things ORDER BY n`, nil, true},
				{"scan error (column count)", `SELECT n FROM things`, nil, true},
			}
			for _, c := range cases {
				rows, err := db.Query(ctx, c.query)
				got, err := platform.Collect(rows, err, scanPair)
				if (err != nil) != c.wantErr {
					t.Errorf("%s: error %v, want error %v", c.name, err, c.wantErr)
				}
				if !c.wantErr {
					if got == nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
						t.Errorf("%s: got %#v, want %#v", c.name, got, c.want)
					}
				}
				if inUse := db.SQL().Stats().InUse - held; inUse != 0 {
					t.Errorf("%s: %d connections still in use: rows not closed", c.name, inUse)
				}
			}

			rows, err := db.Query(ctx, `SELECT s FROM things WHERE s IS NOT NULL ORDER BY s`)
			names, err := platform.Collect(rows, err, platform.Scalar[string])
			if err != nil || fmt.Sprint(names) != "[a b]" {
				t.Errorf("Scalar: %v %v", names, err)
			}

			// A scan function written for QueryRow too (takes an interface).
			viaInterface := func(r platform.Scanner) (int64, error) {
				var n int64
				err := r.Scan(&n)
				return n, err
			}
			rows, err = db.Query(ctx, `SELECT n FROM things ORDER BY n`)
			ns, err := platform.Collect(rows, err, viaInterface)
			if err != nil || fmt.Sprint(ns) != "[1 2 3]" {
				t.Errorf("interface scanner: %v %v", ns, err)
			}
			// A scan function taking a type *sql.Rows is not: an error, not a panic.
			rows, err = db.Query(ctx, `SELECT n FROM things`)
			if _, err := platform.Collect(rows, err, func(r *sql.Row) (int64, error) { return 0, nil }); err == nil {
				t.Error("Collect with a *sql.Row scanner: no error")
			}
			if inUse := db.SQL().Stats().InUse - held; inUse != 0 {
				t.Errorf("%d connections still in use after a mismatched scanner", inUse)
			}
		})
	}
}
