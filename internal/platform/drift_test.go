package platform_test

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"testing"

	"agtrace/internal/apptest"
	"agtrace/internal/platform"
)

// schemaShape is what must agree between engines after all migrations: the
// tables, their columns with NOT NULL-ness, and the explicitly created
// indexes (constraint-backed ones are covered by the columns' DDL, which
// migrations/drift_test.go compares as text).
type schemaShape struct {
	columns map[string]map[string]bool // table → column → NOT NULL
	indexes map[string]string          // index → table
}

func introspect(t *testing.T, db *platform.DB) schemaShape {
	t.Helper()
	ctx := context.Background()
	s := schemaShape{columns: map[string]map[string]bool{}, indexes: map[string]string{}}
	add := func(table, col string, notNull bool) {
		if table == "goose_db_version" { // goose's own bookkeeping, spelled per dialect by goose
			return
		}
		if s.columns[table] == nil {
			s.columns[table] = map[string]bool{}
		}
		s.columns[table][col] = notNull
	}
	switch db.Dialect() {
	case platform.SQLite:
		rows, err := db.Query(ctx, `SELECT m.name, p.name, p."notnull", p.pk
			FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`)
		type col struct {
			table, name string
			notNull     bool
			pk          int
		}
		cols, err := platform.Collect(rows, err, func(r *sql.Rows) (col, error) {
			var c col
			err := r.Scan(&c.table, &c.name, &c.notNull, &c.pk)
			return c, err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			// A primary-key column is NOT NULL in PostgreSQL; SQLite reports
			// notnull = 0 for an INTEGER PRIMARY KEY (the rowid).
			add(c.table, c.name, c.notNull || c.pk > 0)
		}
		rows, err = db.Query(ctx, `SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`)
		idx, err := platform.Collect(rows, err, scanStrings2)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range idx {
			s.indexes[i[0]] = i[1]
		}
	default:
		rows, err := db.Query(ctx, `SELECT table_name, column_name, is_nullable FROM information_schema.columns
			WHERE table_schema = current_schema()`)
		cols, err := platform.Collect(rows, err, func(r *sql.Rows) ([3]string, error) {
			var c [3]string
			err := r.Scan(&c[0], &c[1], &c[2])
			return c, err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			add(c[0], c[1], c[2] == "NO")
		}
		rows, err = db.Query(ctx, `SELECT indexname, tablename FROM pg_indexes
			WHERE schemaname = current_schema() AND indexname NOT IN (SELECT conname FROM pg_constraint)`)
		idx, err := platform.Collect(rows, err, scanStrings2)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range idx {
			if i[1] != "goose_db_version" {
				s.indexes[i[0]] = i[1]
			}
		}
	}
	return s
}

func scanStrings2(r *sql.Rows) ([2]string, error) {
	var v [2]string
	err := r.Scan(&v[0], &v[1])
	return v, err
}

// shapeDiff describes every difference between two schema shapes.
func shapeDiff(a, b schemaShape, an, bn string) []string {
	var out []string
	nn := func(v bool) string {
		if v {
			return "NOT NULL"
		}
		return "nullable"
	}
	tables := map[string]bool{}
	for tb := range a.columns {
		tables[tb] = true
	}
	for tb := range b.columns {
		tables[tb] = true
	}
	for tb := range tables {
		ca, cb := a.columns[tb], b.columns[tb]
		switch {
		case ca == nil:
			out = append(out, fmt.Sprintf("table %s exists only on %s", tb, bn))
			continue
		case cb == nil:
			out = append(out, fmt.Sprintf("table %s exists only on %s", tb, an))
			continue
		}
		for c, na := range ca {
			nb, ok := cb[c]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("column %s.%s exists only on %s", tb, c, an))
			case na != nb:
				out = append(out, fmt.Sprintf("column %s.%s is %s on %s but %s on %s", tb, c, nn(na), an, nn(nb), bn))
			}
		}
		for c := range cb {
			if _, ok := ca[c]; !ok {
				out = append(out, fmt.Sprintf("column %s.%s exists only on %s", tb, c, bn))
			}
		}
	}
	for i, ta := range a.indexes {
		if tb, ok := b.indexes[i]; !ok {
			out = append(out, fmt.Sprintf("index %s (on %s) exists only on %s", i, ta, an))
		} else if ta != tb {
			out = append(out, fmt.Sprintf("index %s is on %s on %s but on %s on %s", i, ta, an, tb, bn))
		}
	}
	for i, tb := range b.indexes {
		if _, ok := a.indexes[i]; !ok {
			out = append(out, fmt.Sprintf("index %s (on %s) exists only on %s", i, tb, bn))
		}
	}
	sort.Strings(out)
	return out
}

// TestMigratedSchemasAgree migrates a fresh SQLite and a fresh PostgreSQL
// database and compares what the engines report: table → columns (with NOT
// NULL) and index names. migrations/drift_test.go compares the SQL text.
func TestMigratedSchemasAgree(t *testing.T) {
	if apptest.PostgresURL() == "" {
		t.Skip("needs PostgreSQL to compare against")
	}
	shapes := map[string]schemaShape{}
	versions := map[string]int64{}
	for _, engine := range []string{"sqlite", "postgres"} {
		db := openBare(t, engine)
		v, err := db.Migrate(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		versions[engine] = v
		shapes[engine] = introspect(t, db)
	}
	if versions["sqlite"] != versions["postgres"] {
		t.Errorf("migrated to version %d on sqlite but %d on postgres", versions["sqlite"], versions["postgres"])
	}
	if n := len(shapes["sqlite"].columns); n < 10 {
		t.Fatalf("introspection found only %d tables on sqlite", n)
	}
	if d := shapeDiff(shapes["sqlite"], shapes["postgres"], "sqlite", "postgres"); len(d) > 0 {
		t.Fatalf("the migrated schemas differ between engines:\n  %s", strings.Join(d, "\n  "))
	}
}

func TestShapeDiff(t *testing.T) {
	base := func() schemaShape {
		return schemaShape{
			columns: map[string]map[string]bool{"t": {"id": true, "note": false}},
			indexes: map[string]string{"t_note": "t"},
		}
	}
	cases := []struct {
		name   string
		change func(s *schemaShape)
		want   string
	}{
		{"same", func(*schemaShape) {}, ""},
		{"extra column", func(s *schemaShape) { s.columns["t"]["x"] = false }, "column t.x exists only on postgres"},
		{"NOT NULL differs", func(s *schemaShape) { s.columns["t"]["note"] = true }, "column t.note is nullable on sqlite but NOT NULL on postgres"},
		{"missing table", func(s *schemaShape) { delete(s.columns, "t") }, "table t exists only on sqlite"},
		{"extra index", func(s *schemaShape) { s.indexes["t_id"] = "t" }, "index t_id (on t) exists only on postgres"},
	}
	for _, c := range cases {
		b := base()
		c.change(&b)
		got := strings.Join(shapeDiff(base(), b, "sqlite", "postgres"), "; ")
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
