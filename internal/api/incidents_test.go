package api_test

import (
	"context"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/auth"
	"agtrace/internal/incident"
)

// lsIncidents declares an incident in each county of the list-scope
// fixture, on that county's traded batch (the far one named after its
// operator, so that a leak shows by name as well as by region).
func lsIncidents(t *testing.T, a *app.App, f *lsFixture) {
	t.Helper()
	for _, c := range []struct{ region, title, code string }{{lsHome, "鲁甲果园批次异常", f.neighbourCode}, {lsFar, "粤甲农场批次异常", f.farCode}} {
		if _, err := a.Incidents.Declare(context.Background(), auth.System(), incident.DeclareInput{Title: c.title, Region: c.region, BatchCodes: []string{c.code}}); err != nil {
			t.Fatalf("incident in %s: %v", c.region, err)
		}
	}
}
