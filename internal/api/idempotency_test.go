package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/platform"
)

// TestIdempotencyKey: a batch posted twice with one key is recorded once
// and both answers name the same code; the key with another body is 422; a
// refused request is not kept (fixed and sent again with the same key it is
// done); another account's same key is its own; eight copies of one sale
// sent at once sell once.
func TestIdempotencyKey(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		srv := apptest.Server(t, a)
		anon := apptest.NewClient(t, srv)
		_, su, sp := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞绿源苹果专业合作社", Kind: "cooperative", RegionCode: "370686"})
		buyer, bu, bp := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "烟台鲜果商贸有限公司", Kind: "enterprise", Category: "trader", RegionCode: "370686"})
		sc, bc := anon.Login(su, sp), anon.Login(bu, bp)
		today := platform.Today(time.Now())
		codes := func() int {
			var n int
			if err := a.DB.QueryRow(t.Context(), `SELECT COUNT(*) FROM trace_codes`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		batch := map[string]any{"product_code": "apple", "quantity": 300, "unit": "kg", "produced_at": today}
		key := map[string]string{"Idempotency-Key": "3f1c2a9e-0b7d-4c55-9a8e-offline-0001"}
		before := codes()
		first := sc.DoHeader("POST", "/api/v1/batches", batch, key).Expect(t, 201)
		again := sc.DoHeader("POST", "/api/v1/batches", batch, key).Expect(t, 201)
		if again.Header.Get("Idempotent-Replayed") != "true" || again.Str("trace_code") != first.Str("trace_code") {
			t.Fatalf("the retry: replayed %q, code %q vs %q", again.Header.Get("Idempotent-Replayed"), again.Str("trace_code"), first.Str("trace_code"))
		}
		if n := codes(); n != before+1 {
			t.Fatalf("%d codes written for one batch sent twice", n-before)
		}
		other := map[string]any{"product_code": "apple", "quantity": 301, "unit": "kg", "produced_at": today}
		sc.DoHeader("POST", "/api/v1/batches", other, key).Expect(t, 422)
		bc.DoHeader("POST", "/api/v1/batches", batch, key).Expect(t, 201) // another account, its own key space
		sc.DoHeader("POST", "/api/v1/batches", batch, map[string]string{"Idempotency-Key": "has space"}).Expect(t, 422)

		// a refusal is not kept: fixed and sent again with the same key, it is done
		k2 := map[string]string{"Idempotency-Key": "offline-0002"}
		sc.DoHeader("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 0, "unit": "kg", "produced_at": today}, k2).Expect(t, 422)
		sc.DoHeader("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 5, "unit": "kg", "produced_at": today}, k2).Expect(t, 201)

		// eight copies of one sale at once: one sale
		sale, _ := json.Marshal(map[string]any{"from_code": first.Str("trace_code"), "quantity": 10, "buyer_operator_code": buyer.Code})
		var wg sync.WaitGroup
		statuses := make([]int, 8)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", srv.URL+"/api/v1/transfers", bytes.NewReader(sale))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+sc.Token)
				req.Header.Set("Idempotency-Key", "offline-sale-0003")
				resp, err := srv.Client().Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		var sales int
		if err := a.DB.QueryRow(t.Context(), `SELECT COUNT(*) FROM transfers WHERE from_code = $1`, first.Str("trace_code")).Scan(&sales); err != nil {
			t.Fatal(err)
		}
		created := 0
		for _, st := range statuses {
			switch st {
			case 201:
				created++
			case 409:
			default:
				t.Errorf("a copy answered %d", st)
			}
		}
		if sales != 1 || created == 0 {
			t.Fatalf("eight copies of one sale: %d sales, statuses %v", sales, statuses)
		}
		t.Logf("eight copies at once: %s", fmt.Sprint(statuses))
	})
}
