package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/trace"
)

// CSV exports of the lists officials and operators work from. An export is
// the list's own service call, page after page (so it sees exactly what
// the list shows, in the actor's reach), streamed as CSV in UTF-8 with a
// byte-order mark (Excel then opens the Chinese text right): memory stays
// at one page however long the list. Values are the stored ones (codes,
// ISO dates), so a spreadsheet or another system can compute with them.

const (
	csvType = "text/csv; charset=utf-8"
	// exportPage is how many rows one service call of an export fetches.
	exportPage = 500
)

// page fetches items [offset, offset+limit) of a list as CSV records and
// says how many of the paged items it read (findings add computed rows to
// the first page); fewer than limit ends the export.
type page func(ctx context.Context, offset, limit int) (rows [][]string, n int, err error)

// streamCSV writes the header and every page. The first page is fetched
// before anything is written, so a refusal (403, 404, 422) still answers
// with its status; a failure later ends the file with a line saying so.
func streamCSV(w http.ResponseWriter, r *http.Request, filename string, header []string, next page) error {
	rows, n, err := next(r.Context(), 0, exportPage)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", csvType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("\uFEFF"))
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	flusher, _ := w.(http.Flusher)
	for offset := 0; ; {
		for _, rec := range rows {
			if err := cw.Write(rec); err != nil {
				return nil // the client went away
			}
		}
		cw.Flush()
		if flusher != nil {
			flusher.Flush()
		}
		if n < exportPage {
			return nil
		}
		offset += n
		if rows, n, err = next(r.Context(), offset, exportPage); err != nil {
			slog.Warn("api: export interrupted", "file", filename, "rows", offset, "err", err)
			_ = cw.Write([]string{fmt.Sprintf("# 导出中断 export interrupted after %d rows", offset)})
			cw.Flush()
			return nil
		}
	}
}

// exportRoutes registers the CSV exports of the trace lists and the audit log.
func (s *Server) exportRoutes() {
	t := s.svc.Trace
	if t != nil {
		raw(s, Route{Method: "GET", Path: "/api/v1/batches/export.csv", Summary: "The batch list (same filters) as CSV, streamed", Tag: "trace", Produces: csvType,
			Query: []Param{{Name: "q"}, {Name: "status", Description: "in_stock | depleted | pending | all"}, {Name: "region"}}},
			func(w http.ResponseWriter, r *http.Request) error {
				q, a := r.URL.Query(), httpx.Actor(r)
				return streamCSV(w, r, "batches.csv", []string{"追溯码 code", "类型 type", "产品 product", "产品代码 product_code", "数量 quantity", "库存 stock",
					"单位 unit", "生产日期 produced_at", "产地 origin", "主体码 operator_code", "主体 operator", "状态 status", "登记时间 created_at"},
					func(ctx context.Context, offset, limit int) ([][]string, int, error) {
						status := q.Get("status")
						if status == "all" { // the pages' name for no filter
							status = ""
						}
						list, err := t.ListBatches(ctx, a, trace.BatchFilter{Q: q.Get("q"), Status: status, Region: q.Get("region"), Limit: limit, Offset: offset})
						out := make([][]string, len(list))
						for i, b := range list {
							out[i] = []string{b.TraceCode, strconv.Itoa(b.Type), b.ProductName, b.ProductCode, trace.FormatQty(b.Quantity), trace.FormatQty(b.Stock), b.Unit,
								b.ProducedAt, b.Origin, b.OperatorCode, b.OperatorName, b.Status, b.CreatedAt.Format(time.RFC3339)}
						}
						return out, len(list), err
					})
			})
		raw(s, Route{Method: "GET", Path: "/api/v1/transfers/export.csv", Summary: "The sales list (same filters) as CSV, streamed", Tag: "trace", Produces: csvType,
			Query: []Param{{Name: "direction", Description: "incoming | outgoing"}, {Name: "status"}}},
			func(w http.ResponseWriter, r *http.Request) error {
				q, a := r.URL.Query(), httpx.Actor(r)
				return streamCSV(w, r, "transfers.csv", []string{"追溯码 code", "来源码 from_code", "去向 kind", "状态 status", "卖方码 seller_code", "卖方 seller",
					"买方码 buyer_code", "买方或市场 buyer_or_market", "产品 product", "数量 quantity", "实收 received", "单位 unit", "发货日期 shipped_at",
					"答复日期 responded_at", "原因 reason"},
					func(ctx context.Context, offset, limit int) ([][]string, int, error) {
						list, err := t.ListTransfers(ctx, a, trace.TransferFilter{Direction: q.Get("direction"), Status: q.Get("status"), Limit: limit, Offset: offset})
						out := make([][]string, len(list))
						for i, x := range list {
							buyerCode, buyer, received := "", "", ""
							if x.Buyer != nil {
								buyerCode, buyer = x.Buyer.Code, x.Buyer.Name
							}
							if x.Market != nil {
								buyer = x.Market.Name
							}
							if x.ReceivedQuantity != nil {
								received = trace.FormatQty(*x.ReceivedQuantity)
							}
							out[i] = []string{x.TraceCode, x.FromCode, x.Kind, x.Status, x.Seller.Code, x.Seller.Name, buyerCode, buyer, x.ProductName,
								trace.FormatQty(x.Quantity), received, x.Unit, x.ShippedAt, x.RespondedAt, x.Reason}
						}
						return out, len(list), err
					})
			})
		raw(s, Route{Method: "GET", Path: "/api/v1/findings/export.csv", Summary: "The findings list (same filters) as CSV, streamed", Tag: "trace", Produces: csvType,
			Query: []Param{{Name: "region"}, {Name: "kind"}, {Name: "status", Description: "open | in_progress | closed | active"}}},
			func(w http.ResponseWriter, r *http.Request) error {
				q, a := r.URL.Query(), httpx.Actor(r)
				return streamCSV(w, r, "findings.csv", []string{"编号 id", "日期 date", "类型 kind", "追溯码 code", "主体码 operator_code", "主体 operator",
					"地区 region_code", "状态 status", "处理人 assignee", "期限 due_on", "处理情况 note", "详情 detail"},
					func(ctx context.Context, offset, limit int) ([][]string, int, error) {
						list, err := t.Findings(ctx, a, trace.FindingFilter{Region: q.Get("region"), Kind: q.Get("kind"), Status: q.Get("status"), Limit: limit, Offset: offset})
						out := make([][]string, 0, len(list))
						recorded := 0
						for _, f := range list {
							if f.ID != 0 {
								recorded++
							}
							detail, _ := json.Marshal(f.Detail)
							out = append(out, []string{strconv.FormatInt(f.ID, 10), f.Date, f.Kind, f.Code, f.OperatorCode, f.OperatorName, f.RegionCode,
								f.Status, f.AssigneeName, f.DueOn, f.Note, string(detail)})
						}
						return out, recorded, err // pages count recorded findings; computed ones come with the first
					})
			})
	}
	raw(s, Route{Method: "GET", Path: "/api/v1/audit/export.csv", Summary: "The audit log (same filters) as CSV, streamed (admin)", Tag: "admin", Produces: csvType,
		Query: []Param{{Name: "action"}, {Name: "resource_type"}, {Name: "resource_id"}, {Name: "actor"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			q, a := r.URL.Query(), httpx.Actor(r)
			var before int64 // keyset: each page continues below the last id
			return streamCSV(w, r, "audit.csv", []string{"编号 id", "时间 at", "操作人 actor", "地址 addr", "操作 action", "对象 resource_type", "对象编号 resource_id", "详情 detail"},
				func(ctx context.Context, _, limit int) ([][]string, int, error) {
					list, err := s.svc.Auth.ListAudit(ctx, a, auth.AuditFilter{Action: q.Get("action"), ResourceType: q.Get("resource_type"),
						ResourceID: q.Get("resource_id"), Actor: q.Get("actor"), BeforeID: before, Limit: limit})
					out := make([][]string, len(list))
					for i, e := range list {
						out[i] = []string{strconv.FormatInt(e.ID, 10), e.At.Format(time.RFC3339), e.ActorName, e.Addr, e.Action, e.ResourceType, e.ResourceID, e.Detail}
						before = e.ID
					}
					return out, len(list), err
				})
		})
}
