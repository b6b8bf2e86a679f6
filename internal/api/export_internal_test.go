package api

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestStreamCSV: pages are fetched until one comes back short, offsets
// advance by the paged items (not the rows written), a refusal before the
// first byte keeps its status, a failure later ends the file with a line.
func TestStreamCSV(t *testing.T) {
	total := 2*exportPage + 7
	var offsets []int
	pages := func(ctx context.Context, offset, limit int) ([][]string, int, error) {
		offsets = append(offsets, offset)
		n := min(limit, total-offset)
		rows := make([][]string, 0, n+1)
		if offset == 0 {
			rows = append(rows, []string{"computed", "中文,带逗号"}) // not a paged item
		}
		for i := 0; i < n; i++ {
			rows = append(rows, []string{strconv.Itoa(offset + i), "x"})
		}
		return rows, n, nil
	}
	w := httptest.NewRecorder()
	if err := streamCSV(w, httptest.NewRequest("GET", "/x.csv", nil), "x.csv", []string{"编号 id", "值 value"}, pages); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	if !strings.HasPrefix(body, "\uFEFF") || w.Header().Get("Content-Type") != csvType {
		t.Fatalf("no BOM or wrong type: %q %q", body[:min(len(body), 10)], w.Header().Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+1+total || recs[1][1] != "中文,带逗号" || recs[len(recs)-1][0] != strconv.Itoa(total-1) {
		t.Fatalf("%d records, first %v, last %v", len(recs), recs[1], recs[len(recs)-1])
	}
	if want := []int{0, exportPage, 2 * exportPage}; len(offsets) != 3 || offsets[1] != want[1] || offsets[2] != want[2] {
		t.Fatalf("offsets %v, want %v", offsets, want)
	}

	refused := errors.New("refused")
	w = httptest.NewRecorder()
	err = streamCSV(w, httptest.NewRequest("GET", "/x.csv", nil), "x.csv", []string{"a"}, func(context.Context, int, int) ([][]string, int, error) {
		return nil, 0, refused
	})
	if !errors.Is(err, refused) || w.Body.Len() != 0 {
		t.Fatalf("a refusal before the first row: %v, %d bytes written", err, w.Body.Len())
	}

	calls := 0
	w = httptest.NewRecorder()
	_ = streamCSV(w, httptest.NewRequest("GET", "/x.csv", nil), "x.csv", []string{"a"}, func(context.Context, int, int) ([][]string, int, error) {
		calls++
		if calls > 1 {
			return nil, 0, errors.New("database gone")
		}
		return make([][]string, exportPage), exportPage, nil
	})
	if !strings.Contains(w.Body.String(), "export interrupted after 500 rows") {
		t.Fatalf("an interrupted export does not say so: ...%q", w.Body.String()[max(0, w.Body.Len()-80):])
	}
}
