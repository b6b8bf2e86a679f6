package migrations

import (
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

// The two folders describe one schema. They may differ only in the type names
// each engine spells differently; TestNoSchemaDrift normalises those (and
// whitespace and comments) away and diffs what is left, file by file, so a
// column, index or constraint cannot be added to one engine only.
//
// A line that must differ (an engine-only statement) carries the comment
// "-- drift:engine-only"; the introspection test in internal/platform still
// compares the resulting tables and columns.

// typeNames maps each engine's spelling to one canonical token.
var typeNames = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`(?i)\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b`), "«serial id»"},
	{regexp.MustCompile(`(?i)\bBIGSERIAL\s+PRIMARY\s+KEY\b`), "«serial id»"},
	{regexp.MustCompile(`(?i)\bTIMESTAMPTZ\b`), "«instant»"},
	{regexp.MustCompile(`(?i)\bTIMESTAMP(\s+WITH\s+TIME\s+ZONE)?\b`), "«instant»"},
	{regexp.MustCompile(`(?i)\bBYTEA\b`), "«bytes»"},
	{regexp.MustCompile(`(?i)\bBLOB\b`), "«bytes»"},
	{regexp.MustCompile(`(?i)\bDOUBLE\s+PRECISION\b`), "«float»"},
	{regexp.MustCompile(`(?i)\bREAL\b`), "«float»"},
	{regexp.MustCompile(`(?i)\bBOOL(EAN)?\b`), "«bool»"},
}

var (
	spaces     = regexp.MustCompile(`\s+`)
	engineOnly = regexp.MustCompile(`(?i)--\s*drift:engine-only`)
)

// normLine is one meaningful line of a migration: its text after
// normalisation and its line number in the original file.
type normLine struct {
	text string
	line int
}

// normalise strips comments (but keeps goose annotations, which change how a
// file runs), maps type names, collapses whitespace and drops empty lines.
func normalise(src string) []normLine {
	var out []normLine
	for i, l := range strings.Split(src, "\n") {
		if engineOnly.MatchString(l) {
			continue
		}
		t := strings.TrimSpace(l)
		if !strings.HasPrefix(t, "-- +goose") {
			if j := strings.Index(t, "--"); j >= 0 {
				t = t[:j]
			}
		}
		for _, tn := range typeNames {
			t = tn.re.ReplaceAllString(t, tn.repl)
		}
		t = strings.TrimSpace(spaces.ReplaceAllString(t, " "))
		if t != "" {
			out = append(out, normLine{text: t, line: i + 1})
		}
	}
	return out
}

// drift compares every file pair of the sqlite and postgres folders of fsys
// and describes each difference in a readable line.
func drift(fsys fs.FS) ([]string, error) {
	list := func(dir string) (map[string]bool, error) {
		m := map[string]bool{}
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") {
				m[e.Name()] = true
			}
		}
		return m, nil
	}
	lite, err := list("sqlite")
	if err != nil {
		return nil, err
	}
	pg, err := list("postgres")
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for n := range lite {
		names[n] = true
	}
	for n := range pg {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)

	var problems []string
	for _, n := range sorted {
		switch {
		case !pg[n]:
			problems = append(problems, fmt.Sprintf("%s exists in migrations/sqlite but not in migrations/postgres", n))
			continue
		case !lite[n]:
			problems = append(problems, fmt.Sprintf("%s exists in migrations/postgres but not in migrations/sqlite", n))
			continue
		}
		a, err := fs.ReadFile(fsys, "sqlite/"+n)
		if err != nil {
			return nil, err
		}
		b, err := fs.ReadFile(fsys, "postgres/"+n)
		if err != nil {
			return nil, err
		}
		problems = append(problems, diffLines(n, normalise(string(a)), normalise(string(b)))...)
	}
	return problems, nil
}

// diffLines reports the lines of a longest-common-subsequence diff that are
// only in one of the two files, each with its file and line number.
func diffLines(name string, a, b []normLine) []string {
	// lcs[i][j] = length of the LCS of a[i:] and b[j:]
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i].text == b[j].text {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i].text == b[j].text:
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			out = append(out, fmt.Sprintf("migrations/postgres/%s:%d only in postgres: %s", name, b[j].line, b[j].text))
			j++
		default:
			out = append(out, fmt.Sprintf("migrations/sqlite/%s:%d only in sqlite:   %s", name, a[i].line, a[i].text))
			i++
		}
	}
	return out
}

func TestNoSchemaDrift(t *testing.T) {
	problems, err := drift(FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("migrations/sqlite and migrations/postgres must describe the same schema (only type names may differ: "+
			"INTEGER PRIMARY KEY AUTOINCREMENT/BIGSERIAL PRIMARY KEY, TIMESTAMP/TIMESTAMPTZ, BLOB/BYTEA, REAL/DOUBLE PRECISION):\n  %s",
			strings.Join(problems, "\n  "))
	}
	// The check must have looked at something.
	if entries, _ := fs.ReadDir(FS, "sqlite"); len(entries) == 0 {
		t.Fatal("no migrations found in migrations/sqlite")
	}
}

func TestDriftDetector(t *testing.T) {
	const lite = "-- +goose Up\nCREATE TABLE t (\n    id INTEGER PRIMARY KEY AUTOINCREMENT, -- the id\n    at   TIMESTAMP NOT NULL,\n    ok BOOLEAN NOT NULL\n);\n"
	const pg = "-- +goose Up\n-- a comment only here\nCREATE TABLE t (\n    id BIGSERIAL PRIMARY KEY,\n\n    at TIMESTAMPTZ   NOT NULL,\n    ok BOOLEAN NOT NULL\n);\n"
	cases := []struct {
		name      string
		files     fstest.MapFS
		wantParts []string // all must appear in one problem line; nil = no drift
	}{
		{"same modulo types, whitespace, comments", fstest.MapFS{
			"sqlite/00001_a.sql": {Data: []byte(lite)}, "postgres/00001_a.sql": {Data: []byte(pg)},
		}, nil},
		{"column only in postgres", fstest.MapFS{
			"sqlite/00001_a.sql":   {Data: []byte(lite)},
			"postgres/00001_a.sql": {Data: []byte(strings.Replace(pg, "ok BOOLEAN NOT NULL", "ok BOOLEAN NOT NULL,\n    note TEXT", 1))},
		}, []string{"migrations/postgres/00001_a.sql:8", "only in postgres", "note TEXT"}},
		{"nullability differs", fstest.MapFS{
			"sqlite/00001_a.sql":   {Data: []byte(strings.Replace(lite, "ok BOOLEAN NOT NULL", "ok BOOLEAN", 1))},
			"postgres/00001_a.sql": {Data: []byte(strings.Replace(pg, "ok BOOLEAN NOT NULL", "ok BOOLEAN", 1))},
		}, nil},
		{"file only in sqlite", fstest.MapFS{
			"sqlite/00001_a.sql": {Data: []byte(lite)}, "postgres/00001_a.sql": {Data: []byte(pg)},
			"sqlite/00002_b.sql": {Data: []byte(lite)},
		}, []string{"00002_b.sql exists in migrations/sqlite but not in migrations/postgres"}},
		{"file only in postgres", fstest.MapFS{
			"sqlite/00001_a.sql": {Data: []byte(lite)}, "postgres/00001_a.sql": {Data: []byte(pg)},
			"postgres/00002_b.sql": {Data: []byte(pg)},
		}, []string{"00002_b.sql exists in migrations/postgres but not in migrations/sqlite"}},
		{"engine-only line is skipped", fstest.MapFS{
			"sqlite/00001_a.sql":   {Data: []byte(lite)},
			"postgres/00001_a.sql": {Data: []byte(pg + "SET lock_timeout = '1s'; -- drift:engine-only\n")},
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := drift(c.files)
			if err != nil {
				t.Fatal(err)
			}
			if c.wantParts == nil {
				if len(got) != 0 {
					t.Fatalf("unexpected drift: %q", got)
				}
				return
			}
			for _, g := range got {
				all := true
				for _, p := range c.wantParts {
					all = all && strings.Contains(g, p)
				}
				if all {
					return
				}
			}
			t.Fatalf("no problem line has all of %q: %q", c.wantParts, got)
		})
	}

	// A changed line shows up on both sides, with both line numbers.
	got := diffLines("x.sql", normalise("a\nb NOT NULL\nc"), normalise("a\n\nb\nc"))
	want := []string{"migrations/postgres/x.sql:3 only in postgres: b", "migrations/sqlite/x.sql:2 only in sqlite:   b NOT NULL"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("diffLines = %q, want %q", got, want)
	}
}
