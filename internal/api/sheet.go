package api

import (
	"fmt"
	"net/http"

	"agtrace/internal/httpx"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// recallSheetRoute: the 24-hour spreadsheet of a chain, as xlsx or csv.
func (s *Server) recallSheetRoute() {
	raw(s, Route{Method: "GET", Path: "/api/v1/recall-sheet", Summary: "Every tracking event of the selected lots' chains (up and down), one row each, FSMA 204 columns; Chinese header row then English",
		Tag: "monitoring", Produces: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		Query: []Param{{Name: "code", Description: "a lot: any code type or alias (give one of code, operator, product)"},
			{Name: "operator", Description: "an operator code: the lots it holds"}, {Name: "product", Description: "a product code: its lots in your jurisdiction"},
			{Name: "region", Description: "narrow operator/product lots to a region subtree"},
			{Name: "from", Description: "lots produced or shipped on or after (YYYY-MM-DD)"}, {Name: "to", Description: "lots produced or shipped on or before (YYYY-MM-DD)"},
			{Name: "format", Description: "xlsx (default) | csv"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			format := q.Get("format")
			if format == "" {
				format = trace.SheetXLSX
			}
			if format != trace.SheetXLSX && format != trace.SheetCSV {
				return platform.Invalid(platform.FieldError{Field: "format", Code: "not_allowed", ZH: "格式应为 xlsx 或 csv", EN: "format must be xlsx or csv"})
			}
			sel := trace.SheetQuery{Code: q.Get("code"), Operator: q.Get("operator"), Product: q.Get("product"), Region: q.Get("region"), From: q.Get("from"), To: q.Get("to")}
			rows, err := s.svc.Trace.RecallSheet(r.Context(), httpx.Actor(r), sel)
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", trace.SheetContentType(format))
			w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", trace.SheetFileName(sel, format)))
			return trace.WriteSheet(w, rows, format)
		})
}
