package demo

import (
	"context"
	"fmt"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// clientsStep gives 荣成's provincial platform (its integration account)
// a token with a rate of its own (300 a minute, burst 30), pushes one turbot
// batch through it for the farm the import registered (as a push over the
// API would: the farm's record, the account named in the audit), and logs
// the calls the platform made — the imports and the push — so that
// /admin/integrations has content.
func clientsStep(ctx context.Context, l *Loader) error {
	u, err := l.App.Auth.GetUserByName(ctx, "rongcheng-integration")
	if err != nil {
		return fmt.Errorf("demo integration: %w", err)
	}
	sys := auth.System()
	toks, err := l.App.Auth.ListTokens(ctx, sys, u.ID)
	if err != nil || len(toks) > 0 {
		return err // loaded before
	}
	sess, err := l.App.Auth.IssueClientToken(ctx, sys, u.ID, auth.TokenRequest{Name: "山东省追溯平台对接", Rate: auth.ClientRate{PerMinute: 300, Burst: 30}})
	if err != nil {
		return err
	}
	farm, err := l.App.Operators.ByCode(ctx, opCode(codes.Producer, "371082", 9000001))
	if err != nil {
		return fmt.Errorf("demo integration: the imported farm: %w", err)
	}
	client := actorOf(u)
	now := l.App.Clock.Now()
	if _, err := l.App.Trace.CreateBatch(ctx, auth.OnBehalf(client, farm.ID, farm.RegionCode), trace.NewBatch{ProductCode: "turbot", Quantity: 650, Unit: "kg",
		ProducedAt: platform.Today(now), Origin: "荣成市石岛镇", Attributes: map[string]any{"tank": "2号车间", "harvest_size_g": 550.0}}); err != nil {
		return fmt.Errorf("demo push: %w", err)
	}
	id := sess.TokenID
	at := func(minutes int) time.Time { return now.Add(-time.Duration(minutes) * time.Minute) }
	for _, c := range []auth.Call{
		{At: at(4 * 24 * 60), Method: "GET", Route: "/api/v1/changes", Status: 200, Rows: 100, Ms: 18},
		{At: at(3 * 24 * 60), Method: "POST", Route: "/api/v1/exchange/import", Status: 200, Rows: -1, Ms: 240},
		{At: at(3*24*60 - 1), Method: "POST", Route: "/api/v1/exchange/import", Status: 200, Rows: -1, Ms: 310},
		{At: at(3*24*60 - 2), Method: "POST", Route: "/api/v1/exchange/import", Status: 200, Rows: -1, Ms: 120},
		{At: at(2 * 24 * 60), Method: "GET", Route: "/api/v1/changes", Status: 200, Rows: 37, Ms: 12},
		{At: at(30), Method: "POST", Route: "/api/v1/batches", Status: 403, Rows: -1, Ms: 3},
		{At: at(29), Method: "POST", Route: "/api/v1/batches", Status: 201, Rows: -1, Operator: farm.Code, Ms: 21},
		{At: at(28), Method: "GET", Route: "/api/v1/trace/{code...}", Status: 200, Rows: -1, Ms: 9},
		{At: at(1), Method: "GET", Route: "/api/v1/changes", Status: 200, Rows: 4, Ms: 11},
	} {
		c.UserID, c.TokenID = u.ID, id
		l.App.Auth.LogCall(c)
	}
	return l.App.Auth.FlushCalls(ctx)
}
