package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/exchange/port"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
)

// exchangePortRoutes: the standard import and export (NY/T 4712 field set)
// and the changes feed (docs/exchange.md).
func (s *Server) exchangePortRoutes() {
	ps := s.svc.Port
	raw(s, Route{Method: "GET", Path: "/api/v1/exchange/export", Tag: "exchange", Produces: "application/json",
		Summary: "Export operators, production batches or per-stage records of a region and a date range (NY/T 4712-2025 field set), streamed as JSON or xlsx; the same data always gives the same bytes",
		Query: []Param{{Name: "kind", Description: "operators | batches | events", Required: true},
			{Name: "region", Description: "a region in your jurisdiction (default: your jurisdiction)"},
			{Name: "from", Description: "YYYY-MM-DD, inclusive: batches by production date, events by their date"},
			{Name: "to", Description: "YYYY-MM-DD, inclusive"}, {Name: "format", Description: "json (default) | xlsx"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			ex, err := ps.Export(r.Context(), httpx.Actor(r), port.ExportQuery{Kind: q.Get("kind"), Region: q.Get("region"), From: q.Get("from"),
				To: q.Get("to"), Format: q.Get("format")})
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", ex.ContentType())
			w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", ex.FileName()))
			w.Header().Set("Cache-Control", "no-store")
			if err := ex.WriteTo(r.Context(), w); err != nil {
				slog.Warn("api: export interrupted", "file", ex.FileName(), "err", err)
			}
			return nil
		})
	route(s, Route{Method: "POST", Path: "/api/v1/exchange/import", Tag: "exchange",
		Summary: "Import an exchange file (multipart field file, JSON or xlsx as exported; or the JSON document as the body): every row checked and written through the services, idempotent on operator and trace codes; up to 500 rows answered done, larger files answered running (poll the job)",
		Query:   []Param{{Name: "mode", Description: "all_or_nothing (default) | valid_rows (with a JSON body)"}, {Name: "kind", Description: "operators | batches | events: the file must hold this kind"}},
		Form: []Param{{Name: "file", Description: "the exchange file (JSON or xlsx, ≤ 10 MB)", Required: true},
			{Name: "mode", Description: "all_or_nothing (default) | valid_rows"}, {Name: "kind", Description: "operators | batches | events"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ Multipart) (port.Job, error) {
			in, err := importInput(r)
			if err != nil {
				return port.Job{}, err
			}
			return ps.Import(ctx, a, in)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/exchange/import/{job}", Tag: "exchange",
		Summary: "An import job: its status, progress, counts and the refused rows with their reasons (yours; any for an administrator)"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (port.Job, error) {
			id, err := pathID(r, "job")
			if err != nil {
				return port.Job{}, err
			}
			return ps.Job(ctx, a, id)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/changes", Tag: "exchange",
		Summary: "The changes feed: events after a position (the outbox id) that you may see, in order; keep next and ask again from it",
		Query: []Param{{Name: "after", Description: "position to start after (default 0)"},
			{Name: "limit", Description: fmt.Sprintf("at most this many events (default %d, at most %d)", port.DefaultChangesLimit, port.MaxChangesLimit)}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (port.Changes, error) {
			q := r.URL.Query()
			var after int64
			if v := strings.TrimSpace(q.Get("after")); v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 0 {
					return port.Changes{}, platform.Invalid(platform.FieldError{Field: "after", Code: "format", ZH: "after 应为不小于 0 的整数", EN: "after must be an integer ≥ 0"})
				}
				after = n
			}
			limit, err := queryInt(r, "limit")
			if err != nil {
				return port.Changes{}, err
			}
			return ps.Changes(ctx, a, after, limit)
		})
}

// importInput reads an import request: a multipart upload (fields file,
// mode, kind) or the JSON document as the body (mode and kind in the query).
func importInput(r *http.Request) (port.ImportInput, error) {
	q := r.URL.Query()
	in := port.ImportInput{Mode: q.Get("mode"), Kind: q.Get("kind")}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var body io.Reader
	switch ct {
	case "multipart/form-data":
		f, name, err := multipartFile(r)
		if err != nil {
			var pe *platform.Error
			if errors.As(err, &pe) && pe.Kind == platform.KindTooLarge {
				return in, platform.TooLarge(fmt.Sprintf("文件过大（最大 %d MB）", port.MaxFileBytes>>20), fmt.Sprintf("file too large (at most %d MB)", port.MaxFileBytes>>20))
			}
			return in, err
		}
		defer f.Close()
		defer r.MultipartForm.RemoveAll()
		body, in.FileName = f, name
		if v := r.FormValue("mode"); v != "" {
			in.Mode = v
		}
		if v := r.FormValue("kind"); v != "" {
			in.Kind = v
		}
	case "application/json":
		body = r.Body
	default:
		return in, platform.Unsupported("请以 multipart/form-data 上传文件，或以 application/json 发送交换文件", "upload the file as multipart/form-data, or send the exchange document as application/json")
	}
	b, err := io.ReadAll(io.LimitReader(body, port.MaxFileBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return in, platform.TooLarge("请求体过大", "request body too large")
		}
		return in, platform.BadRequest("无法读取上传的文件", "cannot read the upload")
	}
	in.Body = b
	return in, nil
}
