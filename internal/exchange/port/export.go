package port

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// ExportQuery selects what an export holds.
type ExportQuery struct {
	Kind   string // operators | batches | events
	Region string // a region in the actor's jurisdiction (default: the jurisdiction)
	From   string // YYYY-MM-DD, inclusive: batches by production date, events by their date ("" = open)
	To     string // YYYY-MM-DD, inclusive
	Format string // json (default) | xlsx
}

// Export is a validated, authorized export, ready to be written.
type Export struct {
	s     *Service
	q     ExportQuery
	slice slice
}

// Export checks the query and the actor's right to export the region
// (exchange.export; a region outside the jurisdiction is 404). Nothing is
// read until WriteTo.
func (s *Service) Export(ctx context.Context, actor *auth.Actor, q ExportQuery) (*Export, error) {
	if err := auth.Authorize(actor, auth.ActExchangeExport, auth.Resource{}); err != nil {
		return nil, err
	}
	q.Kind, q.Region, q.From, q.To, q.Format = strings.TrimSpace(q.Kind), strings.TrimSpace(q.Region), strings.TrimSpace(q.From),
		strings.TrimSpace(q.To), strings.TrimSpace(q.Format)
	if q.Format == "" {
		q.Format = FormatJSON
	}
	if q.Region == "" {
		q.Region = actor.Region
	}
	if q.Region == "" {
		q.Region = "000000"
	}
	var v platform.Validator
	if v.Require("kind", q.Kind) {
		v.OneOf("kind", q.Kind, Kinds...)
	}
	v.OneOf("format", q.Format, FormatJSON, FormatXLSX)
	for _, d := range []struct{ field, val string }{{"from", q.From}, {"to", q.To}} {
		if d.val != "" {
			_, err := time.Parse(time.DateOnly, d.val)
			v.Check(err == nil, d.field, "format", "日期格式应为 YYYY-MM-DD", "must be a date YYYY-MM-DD")
		}
	}
	if q.From != "" && q.To != "" && q.From > q.To {
		v.Add("to", "before_from", "结束日期不能早于开始日期", "must not be before from")
	}
	if q.Region != "000000" {
		if _, err := s.regions.Get(ctx, q.Region); err != nil {
			v.Add("region", "unknown", "行政区划代码不存在", "unknown region code")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := auth.Authorize(actor, auth.ActExchangeExport, auth.Resource{Region: q.Region}); err != nil {
		return nil, err
	}
	sc := auth.ListScope(actor, auth.ActExchangeExport)
	if err := sc.Err(actor, auth.ActExchangeExport); err != nil {
		return nil, err
	}
	return &Export{s: s, q: q, slice: slice{scope: sc, region: q.Region, from: q.From, to: q.To}}, nil
}

// ContentType is the export's media type.
func (e *Export) ContentType() string {
	if e.q.Format == FormatXLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "application/json; charset=utf-8"
}

// FileName is the export's file name: kind, region and dates, never the time it was made.
func (e *Export) FileName() string {
	name := "agtrace-" + e.q.Kind + "-" + e.q.Region
	if e.q.From != "" || e.q.To != "" {
		name += "-" + e.q.From + "_" + e.q.To
	}
	return name + "." + e.q.Format
}

// Query is the export's (normalized) query.
func (e *Export) Query() ExportQuery { return e.q }

// WriteTo streams the export to w: a page of records at a time (the JSON
// rows as they are read; the workbook through excelize's stream writer).
func (e *Export) WriteTo(ctx context.Context, w io.Writer) error {
	var rw rowWriter
	var err error
	if e.q.Format == FormatXLSX {
		rw, err = newXLSXWriter(w, e.q.Kind)
	} else {
		rw, err = newJSONWriter(w, header{Format: FormatName, Standard: Standard, Kind: e.q.Kind, Region: e.q.Region, From: e.q.From, To: e.q.To})
	}
	if err != nil {
		return err
	}
	switch e.q.Kind {
	case KindOperators:
		err = e.s.eachOperator(ctx, e.slice, rw.Row)
	case KindBatches:
		err = e.s.eachBatch(ctx, e.slice, rw.Row)
	default:
		err = e.s.eachEvent(ctx, e.slice, rw.Row)
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", e.q.Kind, err)
	}
	return rw.Close()
}

func (s *Service) eachOperator(ctx context.Context, sl slice, emit func(any) error) error {
	after := ""
	for {
		list, err := operatorPage(ctx, s.db, sl, after, exportPage)
		if err != nil {
			return err
		}
		for _, o := range list {
			if err := emit(o); err != nil {
				return err
			}
			after = o.OperatorCode
		}
		if len(list) < exportPage {
			return nil
		}
	}
}

func (s *Service) eachBatch(ctx context.Context, sl slice, emit func(any) error) error {
	names, err := s.productNames(ctx)
	if err != nil {
		return err
	}
	afterDate, afterCode := "", ""
	for {
		list, err := batchPage(ctx, s.db, sl, afterDate, afterCode, exportPage)
		if err != nil {
			return err
		}
		for _, b := range list {
			b.ProductName = names[b.ProductCode]
			if err := emit(b.BatchRow); err != nil {
				return err
			}
			afterDate, afterCode = b.ProducedAt, b.TraceCode
		}
		if len(list) < exportPage {
			return nil
		}
	}
}

func (s *Service) eachEvent(ctx context.Context, sl slice, emit func(any) error) error {
	afterDate, afterKey := "", ""
	for {
		keys, err := eventPage(ctx, s.db, sl, afterDate, afterKey, exportPage)
		if err != nil {
			return err
		}
		for _, k := range keys {
			e, err := event(ctx, s.db, k)
			if err != nil {
				return err
			}
			if err := emit(e); err != nil {
				return err
			}
			afterDate, afterKey = k.date, k.key
		}
		if len(keys) < exportPage {
			return nil
		}
	}
}

// productNames maps catalogue codes to Chinese names (informative columns).
func (s *Service) productNames(ctx context.Context) (map[string]string, error) {
	ps, err := s.trace.Products(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[p.Code] = p.Name
	}
	return m, nil
}
