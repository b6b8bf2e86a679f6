package api

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/xuri/excelize/v2"

	"agtrace/internal/httpx"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// sheetHeader is the recall spreadsheet's header: Chinese, then English
// (the FSMA 204 key data elements).
var sheetHeader = [2][]string{
	{"事件类型", "追溯码（批次码）", "产品", "数量", "单位", "事件日期", "事件地点", "地区代码", "批次码赋码方", "发货方", "收货方", "产地/基地", "来源批次", "单据"},
	{"event type", "traceability lot code", "product description", "quantity", "unit of measure", "event date", "event location", "region code",
		"lot code source", "ship-from", "receive-at", "harvest farm / field", "input lot codes", "reference document"},
}

var eventZH = map[string]string{trace.EventProduction: "生产/采收", trace.EventTransformation: "加工/分装", trace.EventShipping: "发货", trace.EventReceiving: "收货"}

func sheetRecord(r trace.SheetRow) []string {
	return []string{eventZH[r.Event] + " " + r.Event, r.LotCode, r.Product, trace.FormatQty(r.Quantity), r.Unit, r.Date, r.Location, r.Region,
		r.LotSource, r.ShipFrom, r.ReceiveAt, r.Origin, r.InputLots, r.Reference}
}

// recallSheetRoute: the 24-hour spreadsheet of a chain, as xlsx or csv.
func (s *Server) recallSheetRoute() {
	raw(s, Route{Method: "GET", Path: "/api/v1/recall-sheet", Summary: "Every tracking event of a code's chain (up and down), one row each, FSMA 204 columns; Chinese header row then English",
		Tag: "monitoring", Produces: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		Query: []Param{{Name: "code", Description: "any code type or alias"}, {Name: "format", Description: "xlsx (default) | csv"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			format := q.Get("format")
			if format == "" {
				format = "xlsx"
			}
			if format != "xlsx" && format != "csv" {
				return platform.Invalid(platform.FieldError{Field: "format", Code: "not_allowed", ZH: "格式应为 xlsx 或 csv", EN: "format must be xlsx or csv"})
			}
			rows, err := s.svc.Trace.RecallSheet(r.Context(), httpx.Actor(r), q.Get("code"))
			if err != nil {
				return err
			}
			name := "recall-" + q.Get("code") + "." + format
			if format == "csv" {
				w.Header().Set("Content-Type", "text/csv; charset=utf-8")
				w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
				return writeSheetCSV(w, rows)
			}
			w.Header().Set("Content-Type", xlsx)
			w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
			return writeSheetXLSX(w, rows)
		})
}

func writeSheetCSV(w io.Writer, rows []trace.SheetRow) error {
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

func writeSheetXLSX(w io.Writer, rows []trace.SheetRow) error {
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
