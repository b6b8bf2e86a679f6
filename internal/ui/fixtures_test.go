package ui_test

import (
	"context"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/trace"
)

// farm is a browser test's approved apple cooperative in 栖霞 (370686)
// with its main account.
type farm struct {
	op       operator.Operator
	user, pw string
	actor    *auth.Actor
}

func newFarm(t *testing.T, a *app.App) farm {
	t.Helper()
	o, user, pw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞绿源苹果专业合作社", Kind: "cooperative", Category: "producer", RegionCode: "370686"})
	return farm{op: o, user: user, pw: pw, actor: actorFor(t, a, user)}
}

// apples records a batch of qty kg of apples picked on 2026-11-25.
func (f farm) apples(t *testing.T, a *app.App, qty float64) trace.Batch {
	t.Helper()
	b, err := a.Trace.CreateBatch(context.Background(), f.actor, trace.NewBatch{ProductCode: "apple", Quantity: qty, Unit: "kg",
		ProducedAt: "2026-11-25", Origin: "寺口镇 3 号果园"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
