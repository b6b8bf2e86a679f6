package operator_test

import (
	"context"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/codes"
)

func TestApprovedOperatorHelper(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		o, user, pw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞苹果合作社", Kind: "cooperative", Category: "producer_trader", RegionCode: "370686"})
		if o.Status != "approved" || !o.Active() {
			t.Fatalf("status %q", o.Status)
		}
		oc, err := codes.ParseOperatorCode(o.Code)
		if err != nil || oc.County != "370686" || oc.Category != codes.ProducerTrader {
			t.Fatalf("code %q: %+v %v", o.Code, oc, err)
		}
		o2, _, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞果品商行", Kind: "enterprise", Category: "trader", RegionCode: "370686"})
		if o2.Code == o.Code {
			t.Fatal("same code twice")
		}
		srv := apptest.Server(t, a)
		apptest.NewClient(t, srv).Login(user, pw)
		got, err := a.Operators.ByCode(context.Background(), o.Code)
		if err != nil || got.ID != o.ID {
			t.Fatalf("ByCode: %v %v", got.ID, err)
		}
	})
}
