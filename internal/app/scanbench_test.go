package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"agtrace/internal/apptest"
	"agtrace/internal/trace"
)

// BenchmarkScanPage: one public scan page view through the whole handler
// chain (middleware, cache, template, gzip), cached answer.
func BenchmarkScanPage(b *testing.B) {
	a := apptest.NewApp(b, "sqlite")
	_, user, _ := apptest.ApprovedOperator(b, a, apptest.OperatorSpec{Name: "压测合作社", RegionCode: "370686", Products: []string{"apple"}})
	u, _ := a.Auth.GetUserByName(context.Background(), user)
	lot, err := a.Trace.CreateBatch(context.Background(), apptest.ActorOf(u), trace.NewBatch{ProductCode: "apple", Quantity: 10, Unit: "kg", ProducedAt: time.Now().Format(time.DateOnly)})
	if err != nil {
		b.Fatal(err)
	}
	h, err := a.Handler()
	if err != nil {
		b.Fatal(err)
	}
	path := "/q/" + lot.TraceCode + "?v=" + a.Trace.Token(lot.TraceCode)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Accept-Encoding", "gzip")
			req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", i>>16&255, i>>8&255, i&255) // shoppers, each its own bucket
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}

// BenchmarkScanPageFirstView measures the first view of codes never viewed
// before (the answer built from the database, rendered and gzipped): run it
// with -benchtime=2000x or less, each iteration a code of its own.
func BenchmarkScanPageFirstView(b *testing.B) {
	a := apptest.NewApp(b, "sqlite")
	ctx := context.Background()
	_, user, _ := apptest.ApprovedOperator(b, a, apptest.OperatorSpec{Name: "压测合作社", RegionCode: "370686", Products: []string{"apple"}})
	u, _ := a.Auth.GetUserByName(ctx, user)
	const lots = 2000
	paths := make([]string, lots)
	for i := range paths {
		lot, err := a.Trace.CreateBatch(ctx, apptest.ActorOf(u), trace.NewBatch{ProductCode: "apple", Quantity: 10, Unit: "kg", ProducedAt: time.Now().Format(time.DateOnly)})
		if err != nil {
			b.Fatal(err)
		}
		paths[i] = "/q/" + lot.TraceCode + "?v=" + a.Trace.Token(lot.TraceCode)
	}
	if b.N > lots {
		b.Skipf("each iteration needs a code of its own: run with -benchtime=%dx or less", lots)
	}
	h, err := a.Handler()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest("GET", paths[i], nil)
		req.Header.Set("Accept-Encoding", "gzip")
		req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", i>>16&255, i>>8&255, i&255)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkScanPageStored measures a view answered from the page store:
// every code viewed once and its page stored, then a write elsewhere (the
// in-memory cache is gone), then views of codes drawn in turn — the steady
// state of a million codes scanned at random.
func BenchmarkScanPageStored(b *testing.B) {
	a := apptest.NewApp(b, "sqlite")
	ctx := context.Background()
	_, user, _ := apptest.ApprovedOperator(b, a, apptest.OperatorSpec{Name: "压测合作社", RegionCode: "370686", Products: []string{"apple"}})
	u, _ := a.Auth.GetUserByName(ctx, user)
	const lots = 2000
	paths := make([]string, lots)
	for i := range paths {
		lot, err := a.Trace.CreateBatch(ctx, apptest.ActorOf(u), trace.NewBatch{ProductCode: "apple", Quantity: 10, Unit: "kg", ProducedAt: time.Now().Format(time.DateOnly)})
		if err != nil {
			b.Fatal(err)
		}
		paths[i] = "/q/" + lot.TraceCode + "?v=" + a.Trace.Token(lot.TraceCode)
	}
	h, err := a.Handler()
	if err != nil {
		b.Fatal(err)
	}
	get := func(i int) {
		req := httptest.NewRequest("GET", paths[i%lots], nil)
		req.Header.Set("Accept-Encoding", "gzip")
		req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", i>>16&255, i>>8&255, i&255)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	for i := range lots {
		get(i)
	}
	if err := a.Trace.FlushPages(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := a.Trace.CreateBatch(ctx, apptest.ActorOf(u), trace.NewBatch{ProductCode: "apple", Quantity: 1, Unit: "kg", ProducedAt: time.Now().Format(time.DateOnly)}); err != nil {
		b.Fatal(err)
	}
	hits := a.Trace.PageStoreHits()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			get(i * 7919)
		}
	})
	b.StopTimer()
	if got := a.Trace.PageStoreHits() - hits; got < int64(b.N)*9/10 {
		b.Fatalf("%d of %d views answered from the store", got, b.N)
	}
}
