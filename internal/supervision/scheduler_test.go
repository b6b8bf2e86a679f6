package supervision_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/platform"
	"agtrace/internal/supervision"
)

// instance is one replica trying the monitoring job: its holder name and
// its supervision service.
type instance struct {
	holder string
	sv     *supervision.Service
}

// race starts RunMonitor on every instance at once and returns who ran.
func race(t *testing.T, inst ...instance) []string {
	t.Helper()
	start := make(chan struct{})
	reps := make([]supervision.MonitorReport, len(inst))
	errs := make([]error, len(inst))
	var wg sync.WaitGroup
	for i, in := range inst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			reps[i], errs[i] = in.sv.RunMonitor(context.Background(), in.holder, supervision.MonitorPeriod)
		}()
	}
	close(start)
	wg.Wait()
	var ran []string
	for i, r := range reps {
		if errs[i] != nil {
			t.Fatalf("%s: %v", inst[i].holder, errs[i])
		}
		if r.Holder != inst[i].holder {
			t.Fatalf("report of %s names %s", inst[i].holder, r.Holder)
		}
		if r.Ran {
			ran = append(ran, r.Holder)
		}
	}
	return ran
}

// openReplica opens another app on the same database (its own data directory).
func openReplica(t *testing.T, dbURL string) *app.App {
	t.Helper()
	a, err := app.Open(context.Background(), app.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", PublicURL: "http://trace.test",
		SeedProvinces: apptest.PilotProvinces, DBURL: dbURL,
		Timeouts: app.Timeouts{Public: 30 * time.Second, Default: 60 * time.Second, Long: 120 * time.Second}})
	if err != nil {
		t.Fatalf("open replica: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// serviceAt is a supervision service of a at a fixed time.
func serviceAt(t *testing.T, a *app.App, at time.Time) *supervision.Service {
	return supervision.NewService(a.DB, &platform.FixedClock{T: at}, a.Operators, a.Trace, a.Regions, a.Calendar, a.Signer, t.TempDir(), "http://trace.test")
}

// checkLease runs rounds of two instances racing: in the first round's
// period exactly one runs, however often they retry; once the lease has
// expired the one that lost can run, and each later period has exactly
// one run. Every run is one finished job_runs row.
func checkLease(t *testing.T, a, b *app.App) {
	t.Helper()
	now := time.Now()
	var winner string
	for round := range 5 {
		ran := race(t, instance{"a", a.Supervision}, instance{"b", b.Supervision})
		switch {
		case round == 0 && len(ran) == 1:
			winner = ran[0]
		case round == 0 || len(ran) != 0:
			t.Fatalf("round %d of the first period: %v ran", round, ran)
		}
	}
	if n := count(t, a, "job_runs"); n != 1 {
		t.Fatalf("%d job_runs rows after the first period, want 1", n)
	}
	loser, loserApp, winnerApp := "b", b, a
	if winner == "b" {
		loser, loserApp, winnerApp = "a", a, b
	}
	// the lease expires: the instance that lost runs, alone
	next := now.Add(supervision.MonitorPeriod + time.Minute)
	if ran := race(t, instance{loser, serviceAt(t, loserApp, next)}); len(ran) != 1 {
		t.Fatalf("%s could not run after the lease expired", loser)
	}
	if ran := race(t, instance{winner, serviceAt(t, winnerApp, next)}); len(ran) != 0 {
		t.Fatalf("%s ran inside %s's new lease", winner, loser)
	}
	runs := 2
	for period := 2; period <= 4; period++ {
		at := now.Add(time.Duration(period) * (supervision.MonitorPeriod + time.Minute))
		for round := range 3 {
			ran := race(t, instance{"a", serviceAt(t, a, at)}, instance{"b", serviceAt(t, b, at)})
			if want := map[bool]int{true: 1, false: 0}[round == 0]; len(ran) != want {
				t.Fatalf("period %d round %d: %v ran, want %d", period, round, ran, want)
			}
		}
		runs++
	}
	var rows, finished, failed, leaseRuns int
	if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*), COUNT(finished), COUNT(CASE WHEN error <> '' THEN 1 END),
		(SELECT runs FROM job_leases WHERE name = $1) FROM job_runs WHERE name = $1`, supervision.MonitorJob).Scan(&rows, &finished, &failed, &leaseRuns); err != nil {
		t.Fatal(err)
	}
	if rows != runs || finished != runs || failed != 0 || leaseRuns != runs {
		t.Fatalf("job_runs: %d rows, %d finished, %d failed, lease won %d times; want %d runs", rows, finished, failed, leaseRuns, runs)
	}
}

// TestMonitorLeaseTwoReplicas: two app instances on one PostgreSQL
// database try the monitoring job at the same moments: one runs per
// period, the other after the lease expires.
func TestMonitorLeaseTwoReplicas(t *testing.T) {
	if apptest.PostgresURL() == "" {
		t.Skip("needs PostgreSQL (two replicas share one database)")
	}
	url := apptest.FreshPostgres(t)
	a := openReplica(t, url)
	b := openReplica(t, url)
	checkLease(t, a, b)
}

// TestMonitorLeaseSQLite: the same lease on the embedded database, one
// app with two holders.
func TestMonitorLeaseSQLite(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	checkLease(t, a, a) // holders "a" and "b" in one process

}
