package trace

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// The recall spreadsheet's files: CSV (UTF-8 with a BOM, which Excel reads)
// or xlsx with the quantity as a number and a filter on the English header.

// Sheet formats.
const (
	SheetXLSX = "xlsx"
	SheetCSV  = "csv"
)

// SheetContentType is the media type of a sheet format.
func SheetContentType(format string) string {
	if format == SheetCSV {
		return "text/csv; charset=utf-8"
	}
	return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
}

// WriteSheet writes rows in format (SheetXLSX or SheetCSV).
func WriteSheet(w io.Writer, rows []SheetRow, format string) error {
	if format == SheetCSV {
		return writeSheetCSV(w, rows)
	}
	return writeSheetXLSX(w, rows)
}

// sheetHeader is the recall spreadsheet's header: Chinese, then English
// (the FSMA 204 key data elements).
var sheetHeader = [2][]string{
	{"事件类型", "追溯码（批次码）", "产品", "数量", "单位", "事件日期", "事件地点", "地区代码", "批次码赋码方", "发货方", "收货方", "产地/基地", "来源批次", "单据"},
	{"event type", "traceability lot code", "product description", "quantity", "unit of measure", "event date", "event location", "region code",
		"lot code source", "ship-from", "receive-at", "harvest farm / field", "input lot codes", "reference document"},
}

var eventZH = map[string]string{EventProduction: "生产/采收", EventTransformation: "加工/分装", EventShipping: "发货", EventReceiving: "收货"}

func sheetRecord(r SheetRow) []string {
	return []string{eventZH[r.Event] + " " + r.Event, r.LotCode, r.Product, FormatQty(r.Quantity), r.Unit, r.Date, r.Location, r.Region,
		r.LotSource, r.ShipFrom, r.ReceiveAt, r.Origin, r.InputLots, r.Reference}
}

func writeSheetCSV(w io.Writer, rows []SheetRow) error {
	_, _ = io.WriteString(w, "\ufeff") // Excel reads UTF-8 with a BOM
	cw := csv.NewWriter(w)
	_ = cw.Write(sheetHeader[0])
	_ = cw.Write(sheetHeader[1])
	for _, r := range rows {
		if err := cw.Write(sheetRecord(r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeSheetXLSX(w io.Writer, rows []SheetRow) error {
	x := excelize.NewFile()
	defer x.Close()
	const sheet = "追溯事件 events"
	if err := x.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := x.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, len(sheetHeader[0]), 20); err != nil {
		return err
	}
	for i, h := range sheetHeader {
		row := make([]any, len(h))
		for j, v := range h {
			row[j] = v
		}
		if err := sw.SetRow("A"+strconv.Itoa(i+1), row); err != nil {
			return err
		}
	}
	for i, r := range rows {
		rec := sheetRecord(r)
		row := make([]any, len(rec))
		for j, v := range rec {
			row[j] = v
		}
		row[3] = r.Quantity // a number, so the sheet sorts and sums
		if err := sw.SetRow("A"+strconv.Itoa(i+3), row); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if err := x.AutoFilter(sheet, "A2:N"+strconv.Itoa(len(rows)+2), nil); err != nil {
		return err
	}
	return x.Write(w)
}

// SheetFileName is the download's file name: what was selected, in
// characters safe in any file system.
func SheetFileName(q SheetQuery, format string) string {
	parts := []string{q.Code + q.Operator + q.Product, q.Region, q.From, q.To}
	var b strings.Builder
	b.WriteString("recall")
	for _, p := range parts {
		if p == "" {
			continue
		}
		b.WriteByte('_')
		for _, r := range p {
			if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' {
				b.WriteRune(r)
			}
		}
	}
	return b.String() + "." + format
}
