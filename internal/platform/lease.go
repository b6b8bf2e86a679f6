package platform

import (
	"context"
	"time"
)

// Leases (table job_leases) make one replica of many do a job: a guarded
// upsert, so two replicas racing on one database get one winner.

// LeaseMode says whether the current holder may extend its lease early.
type LeaseMode int

const (
	// LeasePeriodic: a job run once per period; nobody — the holder
	// included — takes the lease before it expires (the monitoring job).
	LeasePeriodic LeaseMode = iota
	// LeaseHeld: a job that runs continuously on one replica; the holder
	// renews its lease before it expires, others take it only when it has
	// (the exchange relay).
	LeaseHeld
)

// AcquireLease takes the lease name for holder until now+d if it is free
// (expired), or — in LeaseHeld mode — already this holder's; it reports
// whether holder has it now.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, now time.Time, d time.Duration, mode LeaseMode) (bool, error) {
	var won bool
	err := db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `INSERT INTO job_leases (name, holder, until_at, last_run, runs) VALUES ($1, $2, $3, $4, 1)
			ON CONFLICT (name) DO UPDATE SET holder = $2, until_at = $3, last_run = $4, runs = job_leases.runs + 1
			WHERE job_leases.until_at <= $4 OR ($5 AND job_leases.holder = $2)`, name, holder, now.Add(d), now, mode == LeaseHeld)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		won = n == 1
		return nil
	})
	return won, err
}
