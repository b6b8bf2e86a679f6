package port_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/exchange/port"
)

// TestRoundTrip: export a region (operators, batches, events) as JSON and
// xlsx; import the JSON into an empty node; its export is byte-identical
// (both formats); importing the files again — into the new node and into
// the source — changes no row and no outbox entry; the xlsx files imported
// into a third node give the same export too.
func TestRoundTrip(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		s := seedRegion(t, a)
		adm := admin(t, a)
		files := map[string][]byte{}
		sheets := map[string][]byte{}
		for _, k := range port.Kinds {
			files[k] = export(t, a, adm, port.ExportQuery{Kind: k, Region: home})
			sheets[k] = export(t, a, adm, port.ExportQuery{Kind: k, Region: home, Format: "xlsx"})
			if again := export(t, a, adm, port.ExportQuery{Kind: k, Region: home}); !bytes.Equal(again, files[k]) {
				t.Fatalf("%s: two exports of the same data differ", k)
			}
			if again := export(t, a, adm, port.ExportQuery{Kind: k, Region: home, Format: "xlsx"}); !bytes.Equal(again, sheets[k]) {
				t.Fatalf("%s: two xlsx exports of the same data differ", k)
			}
		}
		checkExported(t, s, files)

		b := apptest.NewApp(t, engineOf(a))
		badm := admin(t, b)
		for _, k := range port.Kinds {
			j := importFile(t, b, badm, files[k], port.ModeAllOrNothing)
			if j.Status != port.JobDone || j.Rejected != 0 || j.Accepted != j.Rows || j.Accepted == 0 {
				t.Fatalf("import %s into the empty node: %+v", k, j)
			}
		}
		for _, k := range port.Kinds {
			if got := export(t, b, badm, port.ExportQuery{Kind: k, Region: home}); !bytes.Equal(got, files[k]) {
				t.Fatalf("%s: the new node's export differs:\n%s\nwant:\n%s", k, got, files[k])
			}
			if got := export(t, b, badm, port.ExportQuery{Kind: k, Region: home, Format: "xlsx"}); !bytes.Equal(got, sheets[k]) {
				t.Fatalf("%s: the new node's xlsx export differs", k)
			}
		}
		// re-sending the files changes nothing, on the new node and on the source
		for _, n := range []*app.App{b, a} {
			before := counts(t, n)
			for _, k := range port.Kinds {
				j := importFile(t, n, admin(t, n), files[k], port.ModeValidRows)
				if j.Status != port.JobDone || j.Accepted != 0 || j.Rejected != 0 || j.Unchanged != j.Rows {
					t.Fatalf("re-import %s: %+v", k, j)
				}
			}
			if after := counts(t, n); !equalCounts(before, after) {
				t.Fatalf("re-import changed rows: before %v after %v", before, after)
			}
		}
		// the spreadsheets import as well as the JSON
		c := apptest.NewApp(t, engineOf(a))
		cadm := admin(t, c)
		for _, k := range port.Kinds {
			if j := importFile(t, c, cadm, sheets[k], port.ModeValidRows); j.Status != port.JobDone || j.Rejected != 0 || j.Accepted != j.Rows {
				t.Fatalf("import %s.xlsx: %+v", k, j)
			}
		}
		for _, k := range port.Kinds {
			if got := export(t, c, cadm, port.ExportQuery{Kind: k, Region: home}); !bytes.Equal(got, files[k]) {
				t.Fatalf("%s: the export after the xlsx import differs:\n%s\nwant:\n%s", k, got, files[k])
			}
		}
	})
}

func engineOf(a *app.App) string {
	if a.Config.DBURL != "" {
		return "postgres"
	}
	return "sqlite"
}

func equalCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// checkExported: the export holds the region's records and nothing of the
// other province, with personal numbers masked.
func checkExported(t *testing.T, s *seeded, files map[string][]byte) {
	t.Helper()
	var doc struct {
		Format, Standard, Kind string
		Rows                   []map[string]any
	}
	counts := map[string]int{}
	for k, f := range files {
		if err := json.Unmarshal(f, &doc); err != nil {
			t.Fatalf("%s is not JSON: %v\n%s", k, err, f)
		}
		if doc.Format != port.FormatName || doc.Standard != port.Standard || doc.Kind != k {
			t.Fatalf("%s header: %+v", k, doc)
		}
		counts[k] = len(doc.Rows)
		if strings.Contains(string(f), s.farOp.Code) || strings.Contains(string(f), "高州") {
			t.Fatalf("%s export of %s holds the other province's records:\n%s", k, home, f)
		}
	}
	// 4 operators; 3 recorded batches (two apple lots, the pigs); 6 sales from the farm, the pig sale, the merge, the split, the slaughter
	if counts["operators"] != 4 || counts["batches"] != 3 || counts["events"] != 10 {
		t.Fatalf("rows exported: %v\n%s", counts, files["events"])
	}
	if !strings.Contains(string(files["operators"]), `"id_number_masked":"3706`) || strings.Contains(string(files["operators"]), `"id_number":`) {
		t.Fatalf("operators must carry masked ID numbers only:\n%s", files["operators"])
	}
}
