package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

type aliasRequest struct {
	Scheme string `json:"scheme" doc:"ear_tag | quarantine_cert | gs1 | provincial"`
	Value  string `json:"value" validate:"required"`
}

type rejectRequest struct {
	Reason string `json:"reason" validate:"required"`
}

type withdrawRequest struct {
	Reason string `json:"reason" validate:"required"`
}

// writeDoc sends a rendered document inline.
func writeDoc(w http.ResponseWriter, d trace.Document) {
	w.Header().Set("Content-Type", d.ContentType)
	w.Header().Set("Content-Disposition", `inline; filename="`+d.Filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(d.Body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(d.Body)
}

func pathCode(r *http.Request) (string, error) { return trace.ParsePathCode(r.PathValue("code")) }

// pageArgs reads a list's ?limit= and ?offset= (400 when not numbers).
func pageArgs(r *http.Request) (limit, offset int, err error) {
	if limit, err = queryInt(r, "limit"); err != nil {
		return 0, 0, err
	}
	offset, err = queryInt(r, "offset")
	return limit, offset, err
}

func queryInt(r *http.Request, name string) (int, error) {
	s := strings.TrimSpace(r.URL.Query().Get(name))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, platform.Invalid(platform.FieldError{Field: name, Code: "type", ZH: "应为整数", EN: "must be an integer"})
	}
	return n, nil
}

func (s *Server) traceRoutes() {
	s.catalogueRoutes()
	s.batchRoutes()
	s.combineRoutes()
	s.transferRoutes()
	s.graphRoutes()
}

// catalogueRoutes registers the product catalogue.
func (s *Server) catalogueRoutes() {
	t := s.svc.Trace
	route(s, Route{Method: "GET", Path: "/api/v1/products", Summary: "The product catalogue: units and extension-field schema per product", Tag: "trace", Public: true},
		func(ctx context.Context, _ *auth.Actor, _ *http.Request, _ NoBody) (Items[trace.Product], error) {
			return itemsOf(t.Products(ctx))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/product-categories", Summary: "The catalogue's category tree", Tag: "trace", Public: true},
		func(ctx context.Context, _ *auth.Actor, _ *http.Request, _ NoBody) (Items[trace.Category], error) {
			return itemsOf(t.Categories(ctx))
		})
}

// batchRoutes registers batches, corrections, labels, certificates and aliases.
func (s *Server) batchRoutes() {
	t := s.svc.Trace
	route(s, Route{Method: "POST", Path: "/api/v1/batches", Summary: "Record a batch and issue its production trace code", Tag: "trace", Status: 201},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, in trace.NewBatch) (trace.Batch, error) {
			return t.CreateBatch(ctx, a, in)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/batches", Summary: "Your operator's codes, or the codes held in your jurisdiction (newest first)", Tag: "trace",
		Query: []Param{{Name: "q", Description: "code prefix, product name or origin"},
			{Name: "status", Description: "in_stock | depleted | pending"}, {Name: "region", Description: "officials: a sub-region"}, {Name: "limit"}, {Name: "offset"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[trace.BatchSummary], error) {
			q := r.URL.Query()
			limit, offset, err := pageArgs(r)
			if err != nil {
				return Items[trace.BatchSummary]{}, err
			}
			return itemsOf(t.ListBatches(ctx, a, trace.BatchFilter{Q: q.Get("q"), Status: q.Get("status"), Region: q.Get("region"),
				Limit: limit, Offset: offset}))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/batches/{code}", Summary: "A code with its stock, inputs, aliases, certificates and corrections", Tag: "trace"},
		byCode(t.GetBatch))
	route(s, Route{Method: "GET", Path: "/api/v1/batches/{code}/scans", Summary: "How the code's label was scanned: views by client class, by the province viewers shared, and per day (last 30); no viewer is identified", Tag: "trace"},
		byCode(t.Scans))
	route(s, Route{Method: "POST", Path: "/api/v1/batches/{code}/corrections", Summary: "Correct a production batch: a new version with a reason (the old one stays)", Tag: "trace", Status: 201},
		withCode(t.Correct))
	for _, f := range []string{"pdf", "png", "svg"} {
		produces := map[string]string{"pdf": "application/pdf", "png": "image/png", "svg": "image/svg+xml"}[f]
		summary := map[string]string{"pdf": "Trace labels (PDF) for thermal printers or A4 sheets; logged in the print log",
			"png": "The label's QR code (PNG); logged", "svg": "The label's QR code (SVG); logged"}[f]
		var params []Param
		switch f {
		case "pdf":
			params = []Param{{Name: "size", Description: "40x30 (default) | 50x30 | 60x40 | A4"}, {Name: "copies", Description: "1–500 (default 1)"}}
		case "png":
			params = []Param{{Name: "px", Description: "image size in pixels, 100–4000 (default 512)"}}
		}
		raw(s, Route{Method: "GET", Path: "/api/v1/batches/{code}/label." + f, Summary: summary, Tag: "trace", Produces: produces, Query: params},
			func(w http.ResponseWriter, r *http.Request) error {
				code, err := pathCode(r)
				if err != nil {
					return err
				}
				copies, err := queryInt(r, "copies")
				if err != nil {
					return err
				}
				px, err := queryInt(r, "px")
				if err != nil {
					return err
				}
				d, err := t.Label(r.Context(), httpx.Actor(r), code, f, r.URL.Query().Get("size"), copies, px)
				if err != nil {
					return err
				}
				writeDoc(w, d)
				return nil
			})
	}
	raw(s, Route{Method: "GET", Path: "/api/v1/batches/{code}/trace-certificate.pdf", Summary: "Trace certificate (追溯凭证) for goods that cannot carry a label; logged",
		Tag: "trace", Produces: "application/pdf", Query: []Param{{Name: "quantity", Description: "production codes: quantity covered (default: the stock)"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			code, err := pathCode(r)
			if err != nil {
				return err
			}
			q, ok := trace.ParseQty(r.URL.Query().Get("quantity"))
			if !ok {
				return platform.Invalid(platform.FieldError{Field: "quantity", Code: "type", ZH: "应为数字", EN: "must be a number"})
			}
			d, err := t.TraceCertificatePDF(r.Context(), httpx.Actor(r), code, q)
			if err != nil {
				return err
			}
			writeDoc(w, d)
			return nil
		})
	route(s, Route{Method: "GET", Path: "/api/v1/batches/{code}/prints", Summary: "The print log of a code", Tag: "trace"},
		byCode(func(ctx context.Context, a *auth.Actor, code string) (Items[trace.PrintEntry], error) {
			return itemsOf(t.PrintLog(ctx, a, code))
		}))
	route(s, Route{Method: "POST", Path: "/api/v1/batches/{code}/certificates", Summary: "Issue a compliance certificate (承诺达标合格证) bound to a batch", Tag: "trace", Status: 201},
		withCode(t.IssueCertificate))
	raw(s, Route{Method: "GET", Path: "/api/v1/certificates/{number}/certificate.pdf", Summary: "A compliance certificate as PDF; logged", Tag: "trace",
		Produces: "application/pdf", Query: []Param{{Name: "size", Description: "A6 (default) | 100x75"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			d, err := t.CertificatePDF(r.Context(), httpx.Actor(r), r.PathValue("number"), r.URL.Query().Get("size"))
			if err != nil {
				return err
			}
			writeDoc(w, d)
			return nil
		})
	route(s, Route{Method: "POST", Path: "/api/v1/batches/{code}/split", Summary: "Split a code into parts, each a new production code", Tag: "trace", Status: 201},
		withCode(t.Split))
	route(s, Route{Method: "POST", Path: "/api/v1/batches/{code}/aliases", Summary: "Attach an ear tag, quarantine certificate no., GS1 GTIN+lot or provincial code", Tag: "trace", Status: 201},
		withCode(func(ctx context.Context, a *auth.Actor, code string, in aliasRequest) (trace.Alias, error) {
			return t.AddAlias(ctx, a, code, in.Scheme, in.Value)
		}))
}

// combineRoutes registers splits, merges and transformations.
func (s *Server) combineRoutes() {
	t := s.svc.Trace
	route(s, Route{Method: "POST", Path: "/api/v1/merges", Summary: "Merge lots into one new production code (blending, pooling)", Tag: "trace", Status: 201},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, in trace.MergeInput) (trace.TransformResult, error) {
			return t.Merge(ctx, a, in)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/transformations", Summary: "Transform inputs into outputs (slaughter, cutting, processing)", Tag: "trace", Status: 201},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, in trace.TransformInput) (trace.TransformResult, error) {
			return t.Transform(ctx, a, in)
		})
}

// transferRoutes registers sales and their answers.
func (s *Server) transferRoutes() {
	t := s.svc.Trace
	route(s, Route{Method: "POST", Path: "/api/v1/transfers", Summary: "Sell: to a registered operator (circulation code, pending) or into a market (market-entry code, issued)", Tag: "trace", Status: 201},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, in trace.SaleInput) (trace.Transfer, error) {
			return t.Sell(ctx, a, in)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/transfers", Summary: "Sales: your incoming / outgoing ones, your market's entries, or those in your jurisdiction",
		Tag: "trace", Query: []Param{{Name: "direction", Description: "incoming | outgoing"},
			{Name: "status", Description: "pending | confirmed | rejected | issued | accepted"}, {Name: "limit"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[trace.Transfer], error) {
			q := r.URL.Query()
			limit, err := queryInt(r, "limit")
			if err != nil {
				return Items[trace.Transfer]{}, err
			}
			return itemsOf(t.ListTransfers(ctx, a, trace.TransferFilter{Direction: q.Get("direction"), Status: q.Get("status"), Limit: limit}))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/transfers/{code}", Summary: "One sale", Tag: "trace"},
		byCode(t.GetTransfer))
	route(s, Route{Method: "POST", Path: "/api/v1/transfers/{code}/confirm", Summary: "The buyer confirms receipt of received_quantity (> 0; nothing received is a rejection); a difference from the shipped quantity is recorded and flagged",
		Tag: "trace"},
		withCode(func(ctx context.Context, a *auth.Actor, code string, in trace.ConfirmInput) (trace.Transfer, error) {
			return t.Confirm(ctx, a, code, in)
		}))
	route(s, Route{Method: "POST", Path: "/api/v1/transfers/{code}/reject", Summary: "The receiver rejects a transfer with a reason: the buyer a pending sale, a market clerk of the market's region a market-entry code not yet accepted (stock returns to the seller)", Tag: "trace"},
		withCode(func(ctx context.Context, a *auth.Actor, code string, in rejectRequest) (trace.Transfer, error) {
			return t.Reject(ctx, a, code, in.Reason)
		}))
	route(s, Route{Method: "POST", Path: "/api/v1/transfers/{code}/withdraw", Summary: "The seller withdraws a pending sale with a reason (stock returns; the buyer can no longer confirm: 409)", Tag: "trace"},
		withCode(func(ctx context.Context, a *auth.Actor, code string, in withdrawRequest) (trace.Transfer, error) {
			return t.WithdrawTransfer(ctx, a, code, in.Reason)
		}))
	route(s, Route{Method: "GET", Path: "/api/v1/markets", Summary: "Registered markets (public reference data): sellers pick one by id instead of typing it",
		Tag: "trace", Public: true, Query: []Param{{Name: "region", Description: "a region prefix (province, city, county)"}, {Name: "q", Description: "name contains"}}},
		func(ctx context.Context, _ *auth.Actor, r *http.Request, _ NoBody) (Items[trace.RegisteredMarket], error) {
			q := r.URL.Query()
			return itemsOf(t.Markets(ctx, trace.MarketFilter{Region: q.Get("region"), Q: q.Get("q")}))
		})
	route(s, Route{Method: "POST", Path: "/api/v1/markets", Summary: "Register a market of your jurisdiction (county officials, administrators, market clerks); the same name twice in a region is 409",
		Tag: "trace", Status: 201},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, in trace.NewMarket) (trace.RegisteredMarket, error) {
			return t.CreateMarket(ctx, a, in)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/transfers/{code}/accept", Summary: "A market clerk accepts a market-entry code (end of the chain)", Tag: "trace"},
		byCode(t.Accept))
	raw(s, Route{Method: "GET", Path: "/api/v1/transfers/{code}/certificate.pdf", Summary: "The market-entry certificate (入市追溯凭证) of a market-entry code; logged",
		Tag: "trace", Produces: "application/pdf"},
		func(w http.ResponseWriter, r *http.Request) error {
			code, err := pathCode(r)
			if err != nil {
				return err
			}
			d, err := t.MarketEntryPDF(r.Context(), httpx.Actor(r), code)
			if err != nil {
				return err
			}
			writeDoc(w, d)
			return nil
		})
}

// graphRoutes registers smallholder purchases, the trace graph, findings and the public trace.
func (s *Server) graphRoutes() {
	t := s.svc.Trace
	route(s, Route{Method: "POST", Path: "/api/v1/smallholder-purchases", Summary: "Record goods from an unregistered smallholder under a temporary operator code", Tag: "trace", Status: 201},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, in trace.SmallholderPurchase) (trace.PurchaseResult, error) {
			return t.RecordSmallholder(ctx, a, in)
		})

	route(s, Route{Method: "GET", Path: "/api/v1/trace/{code...}", Summary: "The trace graph of any code or alias: ancestors (up), descendants (down) or both",
		Tag: "trace", Query: []Param{{Name: "direction", Description: "up | down | both (default)"},
			{Name: "depth", Description: "1–1000 (default 100)"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (trace.Graph, error) {
			depth, err := queryInt(r, "depth")
			if err != nil {
				return trace.Graph{}, err
			}
			return t.Trace(ctx, a, r.PathValue("code"), r.URL.Query().Get("direction"), depth)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/findings", Summary: "What the records reveal in a jurisdiction (art. 17): unconfirmed transfers, over-shipments, quantity mismatches, safety-interval overrides, backward timelines",
		Tag: "trace", Query: []Param{{Name: "region", Description: "default: your jurisdiction"},
			{Name: "kind", Description: strings.Join(trace.FindingKinds, " | ")},
			{Name: "status", Description: "open | in_progress | closed | active (open or in progress); default all"},
			{Name: "assignee", Description: "username, or me: findings taken up by that account"}, {Name: "limit"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[trace.Finding], error) {
			q := r.URL.Query()
			limit, err := queryInt(r, "limit")
			if err != nil {
				return Items[trace.Finding]{}, err
			}
			return itemsOf(t.Findings(ctx, a, trace.FindingFilter{Region: q.Get("region"), Kind: q.Get("kind"), Status: q.Get("status"),
				Assignee: q.Get("assignee"), Limit: limit}))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/findings/{id}", Summary: "One recorded finding with its handling history", Tag: "trace"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (trace.Finding, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return trace.Finding{}, err
			}
			return t.Finding(ctx, a, id)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/findings/{id}/actions", Summary: "Handle a finding: start (open → in progress, with a due date), close (with a note), reopen (closed → in progress, with a note); 409 from the wrong status",
		Tag: "trace"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in trace.FindingAction) (trace.Finding, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return trace.Finding{}, err
			}
			return t.HandleFinding(ctx, a, id, in)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/findings/{id}/status", Summary: "Move a finding to in_progress (take up, or reopen a closed one) or closed (with a note); 409 from the wrong status",
		Tag: "trace"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in trace.FindingStatusInput) (trace.Finding, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return trace.Finding{}, err
			}
			return t.SetFindingStatus(ctx, a, id, in)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/public/trace/{code}", Summary: "What the public scan page shows (no personal data) for a trace code, a 15-digit ear tag, a GS1 element string or scheme:value alias; ETag and If-None-Match → 304 (the ETag leaves out the scan count)",
		Tag: "public", Public: true, CORS: true, MaxAge: trace.PublicMaxAge, Stale: trace.PublicStale,
		Query: []Param{{Name: "v", Description: "verification token from the label's QR code; without the right one the answer is reduced (verified false: no downstream chain, no quantities)"},
			{Name: "r", Description: "optional: the province (2- or 6-digit region code) the viewer chooses to share, for clone detection; nothing else about the viewer is stored"}}},
		func(ctx context.Context, _ *auth.Actor, r *http.Request, _ NoBody) (trace.PublicTrace, error) {
			code, err := t.PublicCode(ctx, r.PathValue("code"))
			if err != nil {
				return trace.PublicTrace{}, err
			}
			p, err := t.Public(ctx, code, r.URL.Query().Get("v"))
			if err == nil {
				t.CountScan(p.Code, trace.ScanView{Client: trace.ClientClass(r.UserAgent()), Region: trace.SharedProvince(r.URL.Query().Get("r"))})
			}
			return p, err
		})
}

// byCode adapts a service method keyed by the {code} path value (a trace
// code; a wrong check digit is 400) to a route without a request body.
func byCode[Out any](fn func(ctx context.Context, a *auth.Actor, code string) (Out, error)) func(context.Context, *auth.Actor, *http.Request, NoBody) (Out, error) {
	return func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Out, error) {
		code, err := pathCode(r)
		if err != nil {
			var zero Out
			return zero, err
		}
		return fn(ctx, a, code)
	}
}

// withCode adapts a service method keyed by the {code} path value that takes
// the request body.
func withCode[In, Out any](fn func(ctx context.Context, a *auth.Actor, code string, in In) (Out, error)) func(context.Context, *auth.Actor, *http.Request, In) (Out, error) {
	return func(ctx context.Context, a *auth.Actor, r *http.Request, in In) (Out, error) {
		code, err := pathCode(r)
		if err != nil {
			var zero Out
			return zero, err
		}
		return fn(ctx, a, code, in)
	}
}
