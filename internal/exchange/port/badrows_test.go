package port_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/exchange/port"
	"agtrace/internal/platform"
)

// eventsWithBadRows is the region's events file with four bad rows after
// them (JSON rows 11–14): a code with a wrong check digit, an unknown
// operator, a sale of more than the stock, a sale dated before the batch
// was produced.
func eventsWithBadRows(t *testing.T, s *seeded, events []byte) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(events, &doc); err != nil {
		t.Fatal(err)
	}
	rows := doc["rows"].([]any)
	code := func(serial int64) string { return must(codes.NewTraceCode(codes.Circulation, home, serial)) }
	sale := func(out, seller, from string, qty float64, date string) map[string]any {
		return map[string]any{"stage": "sale", "date": date, "operator_code": seller, "destination_operator_code": s.trader.Code,
			"inbound": []any{map[string]any{"trace_code": from, "quantity": qty}}, "outbound": []any{map[string]any{"trace_code": out, "quantity": qty}}}
	}
	typo := code(900)
	typo = typo[:19] + string('0'+(typo[19]-'0'+1)%10)
	unknown := must(codes.NewOperatorCode(codes.Producer, home, 99999))
	rows = append(rows,
		sale(typo, s.farm.Code, s.apple2, 1, daysAgo(3)),
		sale(code(901), unknown, s.apple2, 1, daysAgo(3)),
		sale(code(902), s.farm.Code, s.apple2, 1000, daysAgo(3)),
		sale(code(903), s.farm.Code, s.apple1, 1, daysAgo(30)))
	doc["rows"] = rows
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantErrors checks that the job refused exactly rows 11–14, each naming its field.
func wantErrors(t *testing.T, j port.Job) {
	t.Helper()
	want := map[int]string{11: "outbound[0].trace_code", 12: "operator_code", 13: "outbound[0].quantity", 14: "date"}
	got := map[int]string{}
	for _, e := range j.Errors {
		got[e.Row] = e.Field
		if e.Message == "" || e.MessageZH == "" {
			t.Errorf("row %d: error without both messages: %+v", e.Row, e)
		}
	}
	for row, field := range want {
		if got[row] != field {
			t.Errorf("row %d: error on %q, want %q (errors %+v)", row, got[row], field, j.Errors)
		}
	}
	if len(got) != len(want) || j.Rejected != len(want) {
		t.Errorf("refused rows %v (rejected %d), want %v", got, j.Rejected, want)
	}
}

// TestBadRows: an import with bad rows refuses each of them with its row
// and field; all_or_nothing writes nothing at all, valid_rows writes the
// good rows and nothing of the bad ones.
func TestBadRows(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		s := seedRegion(t, a)
		adm := admin(t, a)
		ops := export(t, a, adm, port.ExportQuery{Kind: port.KindOperators, Region: home})
		batches := export(t, a, adm, port.ExportQuery{Kind: port.KindBatches, Region: home})
		events := eventsWithBadRows(t, s, export(t, a, adm, port.ExportQuery{Kind: port.KindEvents, Region: home}))

		b := apptest.NewApp(t, engineOf(a))
		badm := admin(t, b)
		importFile(t, b, badm, ops, port.ModeAllOrNothing)
		importFile(t, b, badm, batches, port.ModeAllOrNothing)
		before := counts(t, b)
		j := importFile(t, b, badm, events, port.ModeAllOrNothing)
		if j.Status != port.JobFailed || j.Accepted != 0 || j.Message == "" {
			t.Fatalf("all_or_nothing with bad rows: %+v", j)
		}
		wantErrors(t, j)
		if after := counts(t, b); !equalCounts(before, after) {
			t.Fatalf("all_or_nothing wrote something: before %v after %v", before, after)
		}

		j = importFile(t, b, badm, events, port.ModeValidRows)
		if j.Status != port.JobDone || j.Accepted != 10 || j.Unchanged != 0 {
			t.Fatalf("valid_rows: %+v", j)
		}
		wantErrors(t, j)
		for _, c := range []string{"23706860000000009004", "23706860000000009012", "23706860000000009020", "23706860000000009038"} {
			var n int
			if err := b.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM trace_codes WHERE code LIKE $1`, c[:18]+"%").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("a refused row wrote its code %s…", c[:18])
			}
		}
		// the good rows are all there: the region exports as the source does
		if got, want := export(t, b, badm, port.ExportQuery{Kind: port.KindEvents, Region: home}),
			export(t, a, adm, port.ExportQuery{Kind: port.KindEvents, Region: home}); string(got) != string(want) {
			t.Fatalf("after valid_rows the events differ:\n%s\nwant\n%s", got, want)
		}
		// a row that contradicts a recorded one is a conflict naming the field
		var doc map[string]any
		_ = json.Unmarshal(ops, &doc)
		row := doc["rows"].([]any)[0].(map[string]any)
		row["name"] = "改了名字的合作社"
		doc["rows"] = []any{row}
		changed, _ := json.Marshal(doc)
		if j := importFile(t, b, badm, changed, port.ModeValidRows); j.Rejected != 1 || len(j.Errors) != 1 || j.Errors[0].Field != "name" || j.Errors[0].Code != "conflict" {
			t.Fatalf("a changed operator row: %+v", j)
		}
	})
}

// TestImportScope: an integration client imports and exports only inside
// its jurisdiction; other roles may not at all.
func TestImportScope(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		seedRegion(t, a)
		ctx := context.Background()
		adm := admin(t, a)
		ops := export(t, a, adm, port.ExportQuery{Kind: port.KindOperators, Region: home})
		mk := func(name string, role auth.Role, region string) *auth.Actor {
			return apptest.ActorOf(must(a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: name, Password: pw, Name: name, Role: string(role), RegionCode: region})))
		}
		farClient := mk("int-far", auth.RoleIntegration, far)
		reviewer := mk("rev-home", auth.RoleReviewer, home)

		if _, err := a.Port.Export(ctx, farClient, port.ExportQuery{Kind: port.KindOperators, Region: home}); platform.KindOf(err) != platform.KindNotFound {
			t.Fatalf("far client exporting %s: %v, want 404", home, err)
		}
		if got := export(t, a, farClient, port.ExportQuery{Kind: port.KindBatches}); !strings.Contains(string(got), `"region":"`+far+`"`) ||
			!strings.Contains(string(got), "lychee") || strings.Contains(string(got), "apple") {
			t.Fatalf("far client's default export is its own region only:\n%s", got)
		}
		if _, err := a.Port.Export(ctx, reviewer, port.ExportQuery{Kind: port.KindOperators}); platform.KindOf(err) != platform.KindNotFound {
			t.Fatalf("reviewer exporting: %v, want 404", err)
		}
		if _, err := a.Port.Import(ctx, reviewer, port.ImportInput{Body: ops}); platform.KindOf(err) != platform.KindForbidden {
			t.Fatalf("reviewer importing: %v, want 403", err)
		}

		b := apptest.NewApp(t, engineOf(a))
		bFar := apptest.ActorOf(must(b.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "int-far", Password: pw, Role: "integration", RegionCode: far})))
		bHome := apptest.ActorOf(must(b.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "int-home", Password: pw, Role: "integration", RegionCode: home})))
		before := counts(t, b)
		j := importFile(t, b, bFar, ops, port.ModeValidRows)
		if j.Accepted != 0 || j.Rejected != j.Rows || j.Errors[0].Code != "forbidden" {
			t.Fatalf("far client importing %s operators: %+v", home, j)
		}
		if after := counts(t, b); !equalCounts(before, after) {
			t.Fatalf("a refused import wrote: %v → %v", before, after)
		}
		j = importFile(t, b, bHome, ops, port.ModeAllOrNothing)
		if j.Status != port.JobDone || j.Accepted != 4 {
			t.Fatalf("home client importing its operators: %+v", j)
		}
		// jobs are their importer's: another client does not see them
		if _, err := b.Port.Job(ctx, bFar, j.ID); platform.KindOf(err) != platform.KindNotFound {
			t.Fatalf("another client's job: %v, want 404", err)
		}
		if _, err := b.Port.Job(ctx, admin(t, b), j.ID); err != nil {
			t.Fatalf("the administrator reads every job: %v", err)
		}
	})
}

// TestConcurrentImports: the same files sent twice at once write every
// record once — one import writes it, the other finds it unchanged (or,
// racing on the same operator, is refused with 409 and writes nothing).
func TestConcurrentImports(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		seedRegion(t, a)
		adm := admin(t, a)
		files := map[string][]byte{}
		for _, k := range port.Kinds {
			files[k] = export(t, a, adm, port.ExportQuery{Kind: k, Region: home})
		}
		b := apptest.NewApp(t, engineOf(a))
		badm := admin(t, b)
		for _, k := range port.Kinds {
			jobs := make(chan port.Job, 2)
			for range 2 {
				go func() {
					j, err := b.Port.Import(context.Background(), badm, port.ImportInput{Mode: port.ModeValidRows, Body: files[k]})
					if err != nil {
						t.Errorf("import %s: %v", k, err)
					}
					jobs <- j
				}()
			}
			j1, j2 := <-jobs, <-jobs
			if j1.Accepted+j2.Accepted != j1.Rows || j1.Accepted+j1.Unchanged+j1.Rejected != j1.Rows || j2.Accepted+j2.Unchanged+j2.Rejected != j2.Rows {
				t.Fatalf("%s imported twice at once: %+v / %+v", k, j1, j2)
			}
			for _, e := range append(j1.Errors, j2.Errors...) {
				if e.Code != "conflict" {
					t.Fatalf("%s: a concurrent import refused a row for another reason: %+v", k, e)
				}
			}
		}
		for _, k := range port.Kinds {
			if got := export(t, b, badm, port.ExportQuery{Kind: k, Region: home}); string(got) != string(files[k]) {
				t.Fatalf("%s after concurrent imports:\n%s\nwant\n%s", k, got, files[k])
			}
		}
	})
}
