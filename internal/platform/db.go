package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Dialect names the SQL engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is the platform's handle on its database. Queries are written once, in
// PostgreSQL syntax ($1 placeholders); on SQLite they are rewritten on the fly.
type DB struct {
	sql     *sql.DB
	pool    *pgxpool.Pool
	dialect Dialect
	rewrite rewriteCache  // query text -> rewritten text (SQLite only; bounded)
	stmts   *stmtCache    // rewritten text -> prepared statement (SQLite only; nil on PostgreSQL, see stmtcache.go)
	writer  *writer       // SQLite write transactions: one connection, queued, group commit (nil on PostgreSQL; writer.go)
	public  chan struct{} // public-class slots: connections − 2 (see limits.go)
	clk     Clock
	// emitHooks run after each Emit in the writer's transaction (the
	// ledger, the public page store); set up before the DB is used
	emitHooks []EmitHook
	// commits counts this process's committed transactions (Commits)
	commits atomic.Uint64
}

// Commits is how many transactions this process has committed: a reader
// that caches something derived from the database may keep it while the
// count is unchanged (other processes' writes it must poll for).
func (db *DB) Commits() uint64 { return db.commits.Load() }

// Dialect reports which engine this DB runs on.
func (db *DB) Dialect() Dialect { return db.dialect }

// SQL exposes the database/sql handle for libraries that need one (migrations, stats).
func (db *DB) SQL() *sql.DB { return db.sql }

// Close releases the database (the database/sql handle before the pool, see stack.md).
func (db *DB) Close() error {
	db.stmts.close()
	db.writer.close()
	err := db.sql.Close()
	if db.pool != nil {
		db.pool.Close()
	}
	return err
}

// OpenOptions says where the database is.
type OpenOptions struct {
	// URL is a postgres:// or postgresql:// URL; empty means SQLite in DataDir.
	URL string
	// DataDir holds agtrace.db when URL is empty.
	DataDir string
	// StatementTimeout is PostgreSQL's server-side statement_timeout for
	// every session (0: DefaultStatementTimeout; ignored on SQLite, and when
	// the URL already sets statement_timeout).
	StatementTimeout time.Duration
}

// Open connects to PostgreSQL or opens (creating if needed) the SQLite file.
// Every failure comes back as one line saying what to fix.
func Open(ctx context.Context, o OpenOptions) (*DB, error) {
	if o.URL != "" {
		return openPostgres(ctx, o.URL, o.StatementTimeout)
	}
	return OpenSQLite(ctx, filepath.Join(o.DataDir, "agtrace.db"))
}

func openPostgres(ctx context.Context, raw string, stmtTimeout time.Duration) (*DB, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return nil, fmt.Errorf("--db %q is not a PostgreSQL URL; use postgres://user@host:5432/dbname", redactURL(raw))
	}
	cfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("--db: %v", err)
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	utcSession(cfg) // instants in UTC on both engines, see sqlutil.go
	if stmtTimeout <= 0 {
		stmtTimeout = DefaultStatementTimeout
	}
	if _, set := cfg.ConnConfig.RuntimeParams["statement_timeout"]; !set {
		// A backstop: no statement outlives the longest request class on the server (limits.go).
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(stmtTimeout.Milliseconds())
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(pctx, cfg)
	if err == nil {
		err = pool.Ping(pctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		return nil, fmt.Errorf("cannot reach PostgreSQL at %s: %v", redactURL(raw), firstLine(err))
	}
	return &DB{sql: stdlib.OpenDBFromPool(pool), pool: pool, dialect: Postgres, public: newSlots(int(cfg.MaxConns))}, nil
}

// OpenSQLite opens the embedded database file with WAL, a busy timeout,
// foreign keys and IMMEDIATE transactions (so two writers queue instead of
// failing on lock upgrade).
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("cannot create data directory %s: %v", dir, errors.Unwrap(err))
	}
	if err := checkWritable(dir); err != nil {
		return nil, err
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(" + strconv.Itoa(int(sqliteBusyWait/time.Millisecond)) + ")&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)&_txlock=immediate&_time_format=sqlite&_timezone=UTC"
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %v", path, err)
	}
	sdb.SetMaxOpenConns(sqliteConns + 1)
	sdb.SetMaxIdleConns(sqliteConns + 1)
	sdb.SetConnMaxIdleTime(0)
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open %s: %v", path, firstLine(err))
	}
	w, err := newWriter(ctx, sdb)
	if err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open %s: %v", path, firstLine(err))
	}
	return &DB{sql: sdb, dialect: SQLite, stmts: &stmtCache{stmts: map[string]*sql.Stmt{}, max: maxCachedStmts},
		writer: w, public: newSlots(sqliteConns)}, nil
}

// sqliteConns is how many SQLite connections serve reads; one more is the
// writer's (writer.go).
const sqliteConns = 4

// sqliteBusyWait is how long a statement waits for SQLite's write lock (its
// busy timeout) and DB.Exec for the writer's connection.
const sqliteBusyWait = 15 * time.Second

// writerWait is how long DB.Exec waits for the writer's connection.
var writerWait = sqliteBusyWait

func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("data directory %s is not writable: fix its permissions or choose another with --data", dir)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

var (
	placeholder = regexp.MustCompile(`\$(\d+)`)
	forUpdate   = regexp.MustCompile(`(?i)\s+FOR\s+UPDATE(\s+SKIP\s+LOCKED)?`)
	ilike       = regexp.MustCompile(`\bILIKE\b`)
)

// Q rewrites a PostgreSQL-syntax query for this DB's dialect.
// SQLite: $n → ?n, FOR UPDATE dropped (IMMEDIATE transactions already
// serialise writers), ILIKE → LIKE (ASCII-case-insensitive in SQLite).
func (db *DB) Q(query string) string {
	if db.dialect != SQLite {
		return query
	}
	if q, ok := db.rewrite.load(query); ok {
		return q
	}
	q := placeholder.ReplaceAllString(query, "?$1")
	q = forUpdate.ReplaceAllString(q, "")
	q = ilike.ReplaceAllString(q, "LIKE")
	db.rewrite.store(query, q)
	return q
}

// Querier is what both *DB and *Tx offer, so store functions take either.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
	Dialect() Dialect
}

// Exec, Query and QueryRow run a query through the statement cache (SQLite).
//
// Exec runs one statement outside a transaction of the caller's. On SQLite
// a write (INSERT, UPDATE, DELETE, REPLACE) runs on the writer's connection
// as a one-statement member of its queue (writer.go): written on a pooled
// connection, it would make the writer's connection drop its whole page
// cache at its next transaction. It must not be called inside an InTx
// callback (use tx.Exec there): it would wait for the writer that callback
// holds, and fails after writerWait, as SQLite's busy timeout did.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	db.takeSlot(ctx)
	q := db.Q(query)
	if db.writer != nil && isWrite(q) {
		return db.execOnWriter(ctx, query, args)
	}
	if st := db.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.sql.ExecContext(ctx, q, args...)
}

// execOnWriter runs a write statement on SQLite's writer connection. It
// neither claims an Idempotency-Key nor counts as a commit of the process
// (DB.Commits): it is not a request's write transaction.
func (db *DB) execOnWriter(ctx context.Context, query string, args []any) (sql.Result, error) {
	wctx, cancel := context.WithTimeout(ctx, writerWait) // only the wait for the writer honours it
	defer cancel()
	var res sql.Result
	err := db.inGroupTx(wctx, func(tx *Tx) error {
		var err error
		res, err = tx.Exec(ctx, query, args...)
		return err
	})
	return res, err
}

// isWrite reports whether a statement writes rows (DB.Exec sends those to
// SQLite's writer; PRAGMA, ANALYZE and VACUUM stay on a pooled connection:
// some cannot run inside a transaction).
func isWrite(q string) bool {
	q = strings.TrimLeft(q, " \t\r\n")
	for _, verb := range [...]string{"INSERT", "UPDATE", "DELETE", "REPLACE"} {
		if len(q) > len(verb) && strings.EqualFold(q[:len(verb)], verb) {
			return true
		}
	}
	return false
}

func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	db.takeSlot(ctx)
	q := db.Q(query)
	if st := db.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.sql.QueryContext(ctx, q, args...)
}

func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	db.takeSlot(ctx)
	q := db.Q(query)
	if st := db.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.sql.QueryRowContext(ctx, q, args...)
}

// Tx is a transaction with the same query rewriting, plus Emit, the one way a
// write records what happened (audit log + outbox) in the same transaction.
type Tx struct {
	tx      *sql.Tx
	db      *DB
	now     time.Time
	stmts   map[*sql.Stmt]*sql.Stmt // cached statement -> bound to this transaction (see txStmt)
	grouped bool                    // one writer of a SQLite group commit (writer.go)
}

func (tx *Tx) Dialect() Dialect { return tx.db.dialect }

// Exec, Query and QueryRow bind the cached statement to the transaction's
// connection (tx.StmtContext reuses the one prepared there before).
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q := tx.db.Q(query)
	ctx = tx.ctx(ctx)
	if st := tx.txStmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.tx.ExecContext(ctx, q, args...)
}

func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q := tx.db.Q(query)
	ctx = tx.ctx(ctx)
	if st := tx.txStmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.tx.QueryContext(ctx, q, args...)
}

func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	q := tx.db.Q(query)
	ctx = tx.ctx(ctx)
	if st := tx.txStmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, q, args...)
}

// InTx runs fn in a transaction, committing if it returns nil and rolling
// back otherwise (also on panic). A request either commits whole or not at all.
// On SQLite, transactions queue in Go and may share a commit (writer.go);
// do not start one inside another.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	db.takeSlot(ctx)
	fn, settle := claimingFn(ctx, db, fn) // an Idempotency-Key commits with the request's write
	defer func() {
		if p := recover(); p != nil {
			settle(errPanicked)
			panic(p)
		}
		settle(err)
		if err == nil {
			db.commits.Add(1)
		}
	}()
	if db.writer != nil {
		return db.inGroupTx(ctx, fn)
	}
	stx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{tx: stx, db: db}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = stx.Rollback()
			return
		}
		if cerr := stx.Commit(); cerr != nil {
			err = fmt.Errorf("commit: %w", cerr)
		}
	}()
	return fn(tx)
}

// NextSerial allocates the next number of a named sequence (e.g.
// "trace:370686"). It runs inside the caller's transaction so a rolled-back
// write leaves no gap-free guarantee broken and replicas never collide.
func (tx *Tx) NextSerial(ctx context.Context, name string) (int64, error) {
	var n int64
	err := tx.QueryRow(ctx, `INSERT INTO code_sequences (name, value) VALUES ($1, 1)
		ON CONFLICT (name) DO UPDATE SET value = code_sequences.value + 1
		RETURNING value`, name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("next serial %s: %w", name, err)
	}
	return n, nil
}

// NullString turns "" into SQL NULL.
func NullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// NullInt turns 0 into SQL NULL.
func NullInt(n int64) sql.NullInt64 { return sql.NullInt64{Int64: n, Valid: n != 0} }
