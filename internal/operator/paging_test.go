package operator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// TestListPagingAndUTC: List pages with bound LIMIT/OFFSET parameters (a
// window of the full ordered list, defaults for out-of-range values), and
// every instant read back is in time.UTC without .UTC() in the service.
func TestListPagingAndUTC(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		// A clock in China time: what is stored and read back must still be UTC.
		a.DB.SetClock(&platform.FixedClock{T: time.Date(2026, 3, 2, 9, 30, 0, 0, platform.ChinaTZ)})
		for i := range 4 {
			apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: fmt.Sprintf("分页主体%d", i), RegionCode: "370686"})
		}
		rev := apptest.ActorOf(apptest.ReviewerFor(t, a, "370686"))
		all, err := a.Operators.List(ctx, rev, operator.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) < 4 {
			t.Fatalf("%d operators listed, want at least 4", len(all))
		}
		ids := func(os []operator.Operator) string {
			var s []int64
			for _, o := range os {
				s = append(s, o.ID)
			}
			return fmt.Sprint(s)
		}
		n := len(all)
		cases := []struct {
			limit, offset int
			want          []operator.Operator
		}{
			{2, 0, all[:2]},
			{2, 1, all[1:3]},
			{2, n - 1, all[n-1:]},
			{1, n, nil},
			{0, 0, all},    // 0 → default 200
			{5000, 0, all}, // over the cap → default
			{n, -3, all},   // negative offset → 0
		}
		for _, c := range cases {
			got, err := a.Operators.List(ctx, rev, operator.ListFilter{Limit: c.limit, Offset: c.offset})
			if err != nil {
				t.Fatalf("limit %d offset %d: %v", c.limit, c.offset, err)
			}
			if ids(got) != ids(c.want) {
				t.Errorf("limit %d offset %d: %s, want %s", c.limit, c.offset, ids(got), ids(c.want))
			}
		}
		// An offset that would be SQL if it were formatted into the text is
		// just a number now; the filter text is a bound value too.
		if got, err := a.Operators.List(ctx, rev, operator.ListFilter{Q: "1; DROP TABLE operators", Limit: 10}); err != nil || len(got) != 0 {
			t.Errorf("hostile filter: %d rows, %v", len(got), err)
		}

		utc := func(what string, at time.Time) {
			t.Helper()
			if at.IsZero() || at.Location() != time.UTC {
				t.Errorf("%s = %v (location %q), want a time in time.UTC", what, at, at.Location())
			}
		}
		o := all[0]
		utc("CreatedAt", o.CreatedAt)
		utc("UpdatedAt", o.UpdatedAt)
		if o.SubmittedAt == nil || o.ApprovedAt == nil {
			t.Fatalf("approved operator without submitted/approved times: %+v", o)
		}
		utc("SubmittedAt", *o.SubmittedAt)
		utc("ApprovedAt", *o.ApprovedAt)
		if !o.ApprovedAt.Equal(time.Date(2026, 3, 2, 1, 30, 0, 0, time.UTC)) {
			t.Errorf("ApprovedAt = %v, want the clock's instant", o.ApprovedAt)
		}
		decisions, err := a.Operators.Decisions(ctx, rev, o.ID)
		if err != nil || len(decisions) == 0 {
			t.Fatalf("decisions: %d %v", len(decisions), err)
		}
		utc("Decision.At", decisions[0].At)
		docs, err := a.Operators.Documents(ctx, rev, o.ID)
		if err != nil || len(docs) == 0 {
			t.Fatalf("documents: %d %v", len(docs), err)
		}
		utc("Document.CreatedAt", docs[0].CreatedAt)
	})
}
