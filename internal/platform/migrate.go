package platform

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"

	"agtrace/migrations"
)

func (db *DB) provider() (*goose.Provider, error) {
	var (
		dialect goose.Dialect
		dir     string
	)
	switch db.dialect {
	case SQLite:
		dialect, dir = goose.DialectSQLite3, "sqlite"
	default:
		dialect, dir = goose.DialectPostgres, "postgres"
	}
	sub, err := fs.Sub(migrations.FS, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, db.sql, sub)
}

// Migrate applies every pending embedded migration and returns the version reached.
func (db *DB) Migrate(ctx context.Context) (int64, error) {
	p, err := db.provider()
	if err != nil {
		return 0, err
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	return p.GetDBVersion(ctx)
}

// MigrationStatus reports the current version and whether migrations are pending.
func (db *DB) MigrationStatus(ctx context.Context) (version int64, pending bool, err error) {
	p, err := db.provider()
	if err != nil {
		return 0, false, err
	}
	if version, err = p.GetDBVersion(ctx); err != nil {
		return 0, false, err
	}
	pending, err = p.HasPending(ctx)
	return version, pending, err
}
