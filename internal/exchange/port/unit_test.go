package port

import (
	"bytes"
	"strings"
	"testing"

	"agtrace/internal/platform"
)

func TestEventField(t *testing.T) {
	for _, c := range []struct{ stage, in, want string }{
		{StageSale, "from_code", "inbound[0].trace_code"},
		{StageSale, "quantity", "outbound[0].quantity"},
		{StageSale, "shipped_at", "date"},
		{StageSale, "buyer_operator_code", "destination_operator_code"},
		{StageSale, "market.region_code", "market_region"},
		{StageSale, "codes[0]", "outbound[0].trace_code"},
		{StageSale, "received_quantity", "received_quantity"},
		{StageSplit, "code", "inbound[0].trace_code"},
		{StageSplit, "parts[1]", "outbound[1].quantity"},
		{StageSplit, "split_at", "date"},
		{StageMerge, "inputs[2].code", "inbound[2].trace_code"},
		{StageMerge, "inputs[0].quantity", "inbound[0].quantity"},
		{StageMerge, "attributes.variety", "outbound[0].attributes.variety"},
		{StageMerge, "product_code", "outbound[0].product_code"},
		{StageTransform, "outputs[1].attributes.cut", "outbound[1].attributes.cut"},
		{StageTransform, "outputs[0].quantity", "outbound[0].quantity"},
		{StageTransform, "produced_at", "date"},
		{StageTransform, "override_reason", "override_reason"},
	} {
		if got := eventField(c.stage, c.in); got != c.want {
			t.Errorf("%s %s → %s, want %s", c.stage, c.in, got, c.want)
		}
	}
}

func TestDiffers(t *testing.T) {
	q := 49.0
	rec := canonEvent(EventRow{Stage: StageSale, Date: "2026-03-01", OperatorCode: "037068600000000012", DestinationOperatorCode: "137068600000000027",
		Inbound:  []Lot{{TraceCode: "13706860000000000016", Quantity: 50, Unit: "kg"}},
		Outbound: []Lot{{TraceCode: "23706860000000000044", ProductCode: "apple", Quantity: 50, Unit: "kg"}},
		Status:   "confirmed", ReceivedQuantity: &q, ReceivedAt: "2026-03-02"})
	for _, c := range []struct {
		name string
		row  EventRow
		want string
	}{
		{"the same, written differently", EventRow{Stage: " sale ", Date: "2026-03-01", OperatorCode: "0370 6860 0000 0000 12", DestinationOperatorCode: "137068600000000027",
			Inbound:  []Lot{{TraceCode: "13706860000000000016", Quantity: 50}},
			Outbound: []Lot{{TraceCode: "2370-6860-0000-0000-0044", Quantity: 50}}, Status: "confirmed", ReceivedQuantity: &q}, ""},
		{"another date", EventRow{Stage: "sale", Date: "2026-03-02", OperatorCode: "037068600000000012", DestinationOperatorCode: "137068600000000027",
			Inbound: []Lot{{TraceCode: "13706860000000000016", Quantity: 50}}, Outbound: []Lot{{TraceCode: "23706860000000000044", Quantity: 50}},
			Status: "confirmed"}, "date"},
		{"another quantity", EventRow{Stage: "sale", Date: "2026-03-01", OperatorCode: "037068600000000012", DestinationOperatorCode: "137068600000000027",
			Inbound: []Lot{{TraceCode: "13706860000000000016"}}, Outbound: []Lot{{TraceCode: "23706860000000000044", Quantity: 40}}}, "inbound"}, // a sale takes in what it hands out
		{"another answer", EventRow{Stage: "sale", Date: "2026-03-01", OperatorCode: "037068600000000012", DestinationOperatorCode: "137068600000000027",
			Inbound: []Lot{{TraceCode: "13706860000000000016"}}, Outbound: []Lot{{TraceCode: "23706860000000000044", Quantity: 50}}, Status: "rejected", Reason: "坏果"}, "status"},
	} {
		if got := differs(KindEvents, canonEvent(c.row), rec); got != c.want {
			t.Errorf("%s: differs on %q, want %q", c.name, got, c.want)
		}
	}
	// an operator's personal numbers compare by their masked form
	o := OperatorRow{OperatorCode: "037068600000000012", Name: "合作社", Kind: "cooperative", Category: "producer", IDNumber: "37068619800101001X",
		Phone: "138-0000-0000", RegionCode: "370686", Products: []string{"苹果、梨"}, Status: "approved"}
	stored := OperatorRow{OperatorCode: "037068600000000012", Name: "合作社", Kind: "cooperative", Category: "producer", IDNumberMasked: "3706**********001X",
		PhoneMasked: "138****0000", RegionCode: "370686", Products: []string{"苹果", "梨"}, Status: "approved"}
	if got := differs(KindOperators, canonOperator(o), canonOperator(stored)); got != "" {
		t.Errorf("an operator row in clear differs from its stored form on %q", got)
	}
}

func TestParseFile(t *testing.T) {
	for _, c := range []struct {
		name, body, kind string
		rows             int
		field            string
	}{
		{"document", `{"format":"agtrace.exchange/1","kind":"batches","rows":[{"trace_code":"1"},{"trace_code":"2"}]}`, "", 2, ""},
		{"rows before kind", `{"rows":[{"stage":"sale"}],"kind":"events"}`, "", 1, ""},
		{"bare array with kind", `[{"operator_code":"0"}]`, "operators", 1, ""},
		{"bare array without kind", `[{"operator_code":"0"}]`, "", 0, "kind"},
		{"kind mismatch", `{"kind":"batches","rows":[{}]}`, "events", 0, "kind"},
		{"no rows", `{"kind":"batches","rows":[]}`, "", 0, "file"},
		{"not an exchange file", "名称,数量\n苹果,1\n", "", 0, "file"},
		{"truncated", `{"kind":"batches","rows":[{"trace_code":"1"}`, "", 0, "file"},
	} {
		p, err := parseFile([]byte(c.body), c.kind)
		if c.field == "" {
			if err != nil || len(p.rows) != c.rows || p.format != FormatJSON {
				t.Errorf("%s: %d rows, %v", c.name, len(p.rows), err)
			}
			continue
		}
		var pe *platform.Error
		if err == nil || !asError(err, &pe) || len(pe.Fields) == 0 || pe.Fields[0].Field != c.field {
			t.Errorf("%s: %v, want a refusal of %s", c.name, err, c.field)
		}
	}
}

func asError(err error, pe **platform.Error) bool {
	e, ok := err.(*platform.Error)
	*pe = e
	return ok
}

// TestXLSXRows: a workbook written by the export reads back as the same
// rows; a hand-made sheet with the keys in row 1 reads too, and a cell
// that is not a number is named.
func TestXLSXRows(t *testing.T) {
	var buf bytes.Buffer
	w, err := newXLSXWriter(&buf, KindBatches)
	if err != nil {
		t.Fatal(err)
	}
	row := BatchRow{TraceCode: "13706860000000000016", OperatorCode: "037068600000000012", ProductCode: "apple", Quantity: 12.5, Unit: "kg",
		ProducedAt: "2026-03-01", Attributes: map[string]any{"variety": "红富士"}}
	if err := w.Row(row); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p, err := parseFile(buf.Bytes(), "")
	if err != nil || p.kind != KindBatches || p.format != FormatXLSX || len(p.rows) != 1 || p.rows[0].n != 3 {
		t.Fatalf("read back: %+v %v", p, err)
	}
	items := decodeRows(p.kind, p.rows)
	got := items[0].row.(*BatchRow)
	if items[0].err != nil || got.TraceCode != row.TraceCode || got.Quantity != 12.5 || got.Attributes["variety"] != "红富士" {
		t.Fatalf("decoded %+v %v", got, items[0].err)
	}
	if !strings.Contains(string(buf.Bytes()[:2]), "PK") {
		t.Fatal("not a zip")
	}
	bad, _, err := cellsToJSON(KindBatches, []string{"trace_code", "quantity"}, []string{"13706860000000000016", "很多"})
	if err == nil || err.Error() != "quantity" {
		t.Fatalf("a bad number cell: %s %v", bad, err)
	}
}

func TestCheckSale(t *testing.T) {
	lot := []Lot{{TraceCode: "1", Quantity: 5}}
	for _, c := range []struct {
		name  string
		e     EventRow
		field string
	}{
		{"two destinations", EventRow{Date: "2026-01-01", Inbound: lot, Outbound: lot, DestinationOperatorCode: "0", MarketName: "市场"}, "destination_operator_code"},
		{"no destination", EventRow{Date: "2026-01-01", Inbound: lot, Outbound: lot}, "destination_operator_code"},
		{"market status for an operator", EventRow{Date: "2026-01-01", Inbound: lot, Outbound: lot, DestinationOperatorCode: "0", Status: "accepted"}, "status"},
		{"rejected without reason", EventRow{Date: "2026-01-01", Inbound: lot, Outbound: lot, DestinationOperatorCode: "0", Status: "rejected"}, "reason"},
		{"in and out differ", EventRow{Date: "2026-01-01", Inbound: []Lot{{TraceCode: "1", Quantity: 4}}, Outbound: lot, DestinationOperatorCode: "0"}, "inbound[0].quantity"},
		{"no date", EventRow{Inbound: lot, Outbound: lot, DestinationOperatorCode: "0"}, "date"},
		{"two outbound", EventRow{Date: "2026-01-01", Inbound: lot, Outbound: append(lot, lot...), DestinationOperatorCode: "0"}, "outbound"},
	} {
		err := checkSale(&c.e)
		var pe *platform.Error
		if !asError(err, &pe) || pe == nil || pe.Fields[0].Field != c.field {
			t.Errorf("%s: %v, want %s", c.name, err, c.field)
		}
	}
	ok := EventRow{Date: "2026-01-01", Inbound: lot, Outbound: lot, MarketName: "市场", MarketKind: "wholesale", MarketRegion: "370686"}
	if err := checkSale(&ok); err != nil || ok.Status != "issued" {
		t.Errorf("a market sale without status: %v %q", err, ok.Status)
	}
}
