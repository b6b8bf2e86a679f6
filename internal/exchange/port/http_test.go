package port_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/exchange/port"
)

// tokenFor creates an integration account of region and returns a client
// carrying its token.
func tokenFor(t *testing.T, a *app.App, c *apptest.Client, name, region string) *apptest.Client {
	t.Helper()
	ctx := context.Background()
	u := must(a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: name, Password: pw, Name: name, Role: string(auth.RoleIntegration), RegionCode: region}))
	sess := must(a.Auth.IssueIntegrationToken(ctx, auth.System(), u.ID, name, nil, 30))
	return &apptest.Client{T: c.T, Base: c.Base, HTTP: c.HTTP, Token: sess.Token}
}

// TestHTTP: the routes end to end, unhappy paths first: 422 naming the
// field, 404 outside the jurisdiction, 415 for a body that is no file;
// then an upload as multipart and as a JSON body, a replay with the same
// Idempotency-Key, a large file as a background job polled to its end.
func TestHTTP(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		seedRegion(t, a)
		srv := apptest.Server(t, a)
		anon := apptest.NewClient(t, srv)
		admin(t, a)
		adm := anon.Login("port-admin", pw)
		farC, homeC := tokenFor(t, a, anon, "int-far", far), tokenFor(t, a, anon, "int-home", home)

		for _, c := range []struct {
			path, field string
		}{
			{"/api/v1/exchange/export?kind=stock", "kind"},
			{"/api/v1/exchange/export", "kind"},
			{"/api/v1/exchange/export?kind=batches&format=csv", "format"},
			{"/api/v1/exchange/export?kind=batches&from=2026-02-01&to=2026-01-01", "to"},
			{"/api/v1/exchange/export?kind=batches&from=yesterday", "from"},
			{"/api/v1/exchange/export?kind=batches&region=379999", "region"},
		} {
			r := adm.Do("GET", c.path, nil).Expect(t, http.StatusUnprocessableEntity)
			if r.Str("errors.0.field") != c.field {
				t.Errorf("GET %s: the refusal names %q, want %q: %s", c.path, r.Str("errors.0.field"), c.field, r.Body)
			}
		}
		farC.Do("GET", "/api/v1/exchange/export?kind=operators&region="+home, nil).Expect(t, http.StatusNotFound)
		anon.Do("GET", "/api/v1/exchange/export?kind=operators", nil).Expect(t, http.StatusUnauthorized)

		r := homeC.Do("GET", "/api/v1/exchange/export?kind=operators", nil).Expect(t, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" || r.Header.Get("Content-Disposition") != `attachment; filename="agtrace-operators-370686.json"` {
			t.Fatalf("export headers: %v", r.Header)
		}
		ops := r.Body
		xr := adm.Do("GET", "/api/v1/exchange/export?kind=events&region="+home+"&format=xlsx&from="+daysAgo(30)+"&to="+daysAgo(0), nil).Expect(t, http.StatusOK)
		if !bytes.HasPrefix(xr.Body, []byte("PK")) {
			t.Fatalf("xlsx export is not a workbook: %q", xr.Body[:min(20, len(xr.Body))])
		}
		events := adm.Do("GET", "/api/v1/exchange/export?kind=events&region="+home, nil).Expect(t, http.StatusOK).Body
		batches := adm.Do("GET", "/api/v1/exchange/export?kind=batches&region="+home, nil).Expect(t, http.StatusOK).Body

		// imports into an empty node
		b := apptest.NewApp(t, engineOf(a))
		bsrv := apptest.Server(t, b)
		banon := apptest.NewClient(t, bsrv)
		admin(t, b)
		badm := banon.Login("port-admin", pw)
		badm.Upload("/api/v1/exchange/import", "x.txt", []byte("名称,数量\n苹果,1\n"), nil).Expect(t, http.StatusUnprocessableEntity)
		if r := badm.Upload("/api/v1/exchange/import", "ops.json", ops, map[string]string{"mode": "sideways"}).Expect(t, http.StatusUnprocessableEntity); r.Str("errors.0.field") != "mode" {
			t.Fatalf("bad mode: %s", r.Body)
		}
		if r := badm.Upload("/api/v1/exchange/import", "ops.json", ops, map[string]string{"kind": "batches"}).Expect(t, http.StatusUnprocessableEntity); r.Str("errors.0.field") != "kind" {
			t.Fatalf("kind mismatch: %s", r.Body)
		}
		badm.DoHeader("POST", "/api/v1/exchange/import", "kind=operators", map[string]string{"Content-Type": "text/plain"}).Expect(t, http.StatusUnsupportedMediaType)
		banon.Upload("/api/v1/exchange/import", "ops.json", ops, nil).Expect(t, http.StatusUnauthorized)

		key := map[string]string{"Idempotency-Key": "port-ops-1"}
		first := badm.DoHeader("POST", "/api/v1/exchange/import", ops, key).Expect(t, http.StatusOK)
		if first.Str("status") != "done" || first.Get("accepted") != 4.0 || first.Get("rejected") != 0.0 {
			t.Fatalf("JSON body import: %s", first.Body)
		}
		again := badm.DoHeader("POST", "/api/v1/exchange/import", ops, key).Expect(t, http.StatusOK)
		if again.Header.Get("Idempotent-Replayed") != "true" || again.Str("job") != first.Str("job") {
			t.Fatalf("replay with the same key: %s %v", again.Body, again.Header)
		}
		if r := badm.Upload("/api/v1/exchange/import", "batches.json", batches, map[string]string{"mode": "valid_rows"}).Expect(t, http.StatusOK); r.Get("accepted") != 3.0 {
			t.Fatalf("multipart import: %s", r.Body)
		}
		// a large file runs in the background: answered running, polled to its end
		b.Port.SyncRows = 2
		r = badm.Upload("/api/v1/exchange/import", "events.json", events, map[string]string{"mode": "valid_rows"}).Expect(t, http.StatusOK)
		if r.Str("status") != "running" {
			t.Fatalf("a file above SyncRows answers running: %s", r.Body)
		}
		job := fmt.Sprint(r.Get("job"))
		deadline := time.Now().Add(30 * time.Second)
		for {
			r = badm.Do("GET", "/api/v1/exchange/import/"+job, nil).Expect(t, http.StatusOK)
			if r.Str("status") != "running" || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if r.Str("status") != "done" || r.Get("accepted") != 10.0 || r.Get("processed") != 10.0 {
			t.Fatalf("background job: %s", r.Body)
		}
		b.Port.Wait()
		// jobs are their importer's
		bHome := tokenFor(t, b, banon, "int-home", home)
		bHome.Do("GET", "/api/v1/exchange/import/"+job, nil).Expect(t, http.StatusNotFound)
		bHome.Do("GET", "/api/v1/exchange/import/999999", nil).Expect(t, http.StatusNotFound)
		if got := badm.Do("GET", "/api/v1/exchange/export?kind=events&region="+home, nil).Expect(t, http.StatusOK).Body; !bytes.Equal(got, events) {
			t.Fatalf("events after the HTTP imports differ:\n%s\nwant\n%s", got, events)
		}
		_ = port.Kinds
	})
}
