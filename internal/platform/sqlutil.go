package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// pgUniqueViolation is PostgreSQL's SQLSTATE unique_violation.
const pgUniqueViolation = "23505"

// IsUniqueViolation reports whether err (or an error it wraps) is a unique or
// primary-key constraint failure, on either engine. It looks at the drivers'
// error codes, not at message texts.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgUniqueViolation
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return true
		}
	}
	return false
}

// utcSession makes every PostgreSQL connection work in UTC: the session
// TimeZone (what now()::text, date casts and text-format results use) and the
// location scanned TIMESTAMPTZ values come back in (pgx would otherwise use
// time.Local). SQLite gets the same from the _timezone=UTC DSN parameter, so
// feature code never needs .UTC() on a value read from the database.
func utcSession(cfg *pgxpool.Config) {
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	next := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		conn.TypeMap().RegisterType(&pgtype.Type{
			Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		if next != nil {
			return next(ctx, conn)
		}
		return nil
	}
}

// Scanner is what a row offers: *sql.Row and *sql.Rows both implement it, so
// one scanX(Scanner) function serves Get (QueryRow) and List (Collect).
type Scanner interface{ Scan(dest ...any) error }

// Collect scans every row of a query into a slice and closes rows. Pass the
// Query call's results straight in:
//
//	rows, err := db.Query(ctx, q, args...)
//	list, err := platform.Collect(rows, err, scanThing)
//
// scanThing takes *sql.Rows or any interface *sql.Rows implements (such as
// Scanner or a package's own `scanner`). Collect returns a non-nil empty
// slice when there are no rows (lists encode as [] in JSON) and the first
// query, scan or iteration (rows.Err) error.
func Collect[T any, R Scanner](rows *sql.Rows, err error, scan func(R) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	r, ok := any(rows).(R)
	if !ok {
		return nil, fmt.Errorf("platform.Collect: scan function takes %T, which *sql.Rows is not", r)
	}
	out := []T{}
	for rows.Next() {
		v, err := scan(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Scalar scans a one-column row; use it with Collect for lists of ids, codes
// and the like: platform.Collect(rows, err, platform.Scalar[string]).
func Scalar[T any](rows *sql.Rows) (T, error) {
	var v T
	err := rows.Scan(&v)
	return v, err
}
