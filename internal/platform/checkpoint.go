package platform

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Checkpoints off the writer's path (SQLite). By default the connection
// that commits a transaction pushing the WAL past 1,000 pages copies the
// WAL into the database file there and then — inside the writer's turn, so
// every queued writer waits for it (6 % of the write path's CPU, plus an
// fsync). The writer connection turns that off (wal_autocheckpoint=0) and a
// background goroutine runs a PASSIVE checkpoint on its own connection
// instead, every checkpointEvery: PASSIVE never waits for the writer nor
// blocks it, so the copying runs on the other CPU while writes go on.

// checkpointEvery is how often the background checkpoint runs.
const checkpointEvery = 500 * time.Millisecond

type checkpointer struct {
	stop  context.CancelFunc
	done  sync.WaitGroup
	runs  atomic.Int64 // checkpoints done
	pages atomic.Int64 // WAL frames copied into the database file
}

// startCheckpointer runs PASSIVE checkpoints on a connection of its own
// until stopped.
func startCheckpointer(sdb *sql.DB) *checkpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{stop: cancel}
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var busy, logPages, copied int64
			err := sdb.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logPages, &copied)
			if err != nil {
				if ctx.Err() == nil {
					slog.Warn("platform: background checkpoint", "err", err)
				}
				continue
			}
			c.runs.Add(1)
			c.pages.Add(copied)
		}
	}()
	return c
}

func (c *checkpointer) close() {
	if c != nil {
		c.stop()
		c.done.Wait()
	}
}

// Checkpoints reports the background checkpoints run so far and the WAL
// frames they copied (SQLite; zero on PostgreSQL).
func (db *DB) Checkpoints() (runs, frames int64) {
	if db.checkpoints == nil {
		return 0, 0
	}
	return db.checkpoints.runs.Load(), db.checkpoints.pages.Load()
}
