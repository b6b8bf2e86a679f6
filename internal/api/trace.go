package api

import (
	"net/http"
	"strconv"
	"strings"

	"agtrace/internal/httpx"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

type aliasRequest struct {
	Scheme string `json:"scheme" doc:"ear_tag | quarantine_cert | gs1 | provincial"`
	Value  string `json:"value"`
}

type rejectRequest struct {
	Reason string `json:"reason"`
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
	t := s.svc.Trace
	s.handle(Route{Method: "GET", Path: "/api/v1/products", Summary: "The product catalogue: units and extension-field schema per product", Tag: "trace",
		Public: true, Response: Items[trace.Product]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			list, err := t.Products(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, items(list))
			return nil
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/product-categories", Summary: "The catalogue's category tree", Tag: "trace", Public: true,
		Response: Items[trace.Category]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			list, err := t.Categories(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, items(list))
			return nil
		})

	s.handle(Route{Method: "POST", Path: "/api/v1/batches", Summary: "Record a batch and issue its production trace code", Tag: "trace",
		Request: trace.NewBatch{}, Response: trace.Batch{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in trace.NewBatch
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			b, err := t.CreateBatch(r.Context(), httpx.Actor(r), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusCreated, b)
			return nil
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/batches", Summary: "Your operator's codes, or the codes held in your jurisdiction (newest first)", Tag: "trace",
		Response: Items[trace.BatchSummary]{}, Query: []Param{{Name: "q", Description: "code prefix, product name or origin"},
			{Name: "status", Description: "in_stock | depleted | pending"}, {Name: "region", Description: "officials: a sub-region"}, {Name: "limit"}, {Name: "offset"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			limit, err := queryInt(r, "limit")
			if err != nil {
				return err
			}
			offset, err := queryInt(r, "offset")
			if err != nil {
				return err
			}
			list, err := t.ListBatches(r.Context(), httpx.Actor(r), trace.BatchFilter{Q: q.Get("q"), Status: q.Get("status"), Region: q.Get("region"),
				Limit: limit, Offset: offset})
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, items(list))
			return nil
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/batches/{code}", Summary: "A code with its stock, inputs, aliases, certificates and corrections", Tag: "trace",
		Response: trace.Batch{}},
		func(w http.ResponseWriter, r *http.Request) error {
			code, err := pathCode(r)
			if err != nil {
				return err
			}
			b, err := t.GetBatch(r.Context(), httpx.Actor(r), code)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, b)
			return nil
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/batches/{code}/corrections", Summary: "Correct a production batch: a new version with a reason (the old one stays)",
		Tag: "trace", Request: trace.CorrectionInput{}, Response: trace.Batch{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			code, err := pathCode(r)
			if err != nil {
				return err
			}
			var in trace.CorrectionInput
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			b, err := t.Correct(r.Context(), httpx.Actor(r), code, in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusCreated, b)
			return nil
		})
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
		s.handle(Route{Method: "GET", Path: "/api/v1/batches/{code}/label." + f, Summary: summary, Tag: "trace", Produces: produces, Query: params},
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
	s.handle(Route{Method: "GET", Path: "/api/v1/batches/{code}/trace-certificate.pdf", Summary: "Trace certificate (追溯凭证) for goods that cannot carry a label; logged",
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
	s.handle(Route{Method: "GET", Path: "/api/v1/batches/{code}/prints", Summary: "The print log of a code", Tag: "trace", Response: Items[trace.PrintEntry]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			code, err := pathCode(r)
			if err != nil {
				return err
			}
			list, err := t.PrintLog(r.Context(), httpx.Actor(r), code)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, items(list))
			return nil
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/batches/{code}/certificates", Summary: "Issue a compliance certificate (承诺达标合格证) bound to a batch",
		Tag: "trace", Request: trace.CertificateInput{}, Response: trace.Certificate{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			code, err := pathCode(r)
			if err != nil {
				return err
			}
			var in trace.CertificateInput
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			c, err := t.IssueCertificate(r.Context(), httpx.Actor(r), code, in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusCreated, c)
			return nil
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/certificates/{number}/certificate.pdf", Summary: "A compliance certificate as PDF; logged", Tag: "trace",
		Produces: "application/pdf", Query: []Param{{Name: "size", Description: "A6 (default) | 100x75"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			d, err := t.CertificatePDF(r.Context(), httpx.Actor(r), r.PathValue("number"), r.URL.Query().Get("size"))
			if err != nil {
				return err
			}
			writeDoc(w, d)
			return nil
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/batches/{code}/split", Summary: "Split a code into parts, each a new production code", Tag: "trace",
		Request: trace.SplitInput{}, Response: trace.TransformResult{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			code, err := pathCode(r)
			if err != nil {
				return err
			}
			var in trace.SplitInput
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			res, err := t.Split(r.Context(), httpx.Actor(r), code, in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusCreated, res)
			return nil
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/batches/{code}/aliases", Summary: "Attach an ear tag, quarantine certificate no., GS1 GTIN+lot or provincial code",
		Tag: "trace", Request: aliasRequest{}, Response: trace.Alias{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			code, err := pathCode(r)
			if err != nil {
				return err
			}
			var in aliasRequest
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			a, err := t.AddAlias(r.Context(), httpx.Actor(r), code, in.Scheme, in.Value)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusCreated, a)
			return nil
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/merges", Summary: "Merge lots into one new production code (blending, pooling)", Tag: "trace",
		Request: trace.MergeInput{}, Response: trace.TransformResult{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in trace.MergeInput
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			res, err := t.Merge(r.Context(), httpx.Actor(r), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusCreated, res)
			return nil
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/transformations", Summary: "Transform inputs into outputs (slaughter, cutting, processing)", Tag: "trace",
		Request: trace.TransformInput{}, Response: trace.TransformResult{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in trace.TransformInput
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			res, err := t.Transform(r.Context(), httpx.Actor(r), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusCreated, res)
			return nil
		})

	s.handle(Route{Method: "POST", Path: "/api/v1/transfers", Summary: "Sell: to a registered operator (circulation code, pending) or into a market (market-entry code, issued)",
		Tag: "trace", Request: trace.SaleInput{}, Response: trace.Transfer{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in trace.SaleInput
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			tr, err := t.Sell(r.Context(), httpx.Actor(r), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusCreated, tr)
			return nil
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/transfers", Summary: "Sales: your incoming / outgoing ones, your market's entries, or those in your jurisdiction",
		Tag: "trace", Response: Items[trace.Transfer]{}, Query: []Param{{Name: "direction", Description: "incoming | outgoing"},
			{Name: "status", Description: "pending | confirmed | rejected | issued | accepted"}, {Name: "limit"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			limit, err := queryInt(r, "limit")
			if err != nil {
				return err
			}
			list, err := t.ListTransfers(r.Context(), httpx.Actor(r), trace.TransferFilter{Direction: q.Get("direction"), Status: q.Get("status"), Limit: limit})
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, items(list))
			return nil
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/transfers/{code}", Summary: "One sale", Tag: "trace", Response: trace.Transfer{}},
		func(w http.ResponseWriter, r *http.Request) error {
			code, err := pathCode(r)
			if err != nil {
				return err
			}
			tr, err := t.GetTransfer(r.Context(), httpx.Actor(r), code)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, tr)
			return nil
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/transfers/{code}/confirm", Summary: "The buyer confirms receipt (a quantity difference is recorded and flagged)",
		Tag: "trace", Request: trace.ConfirmInput{}, Response: trace.Transfer{}},
		func(w http.ResponseWriter, r *http.Request) error {
			code, err := pathCode(r)
			if err != nil {
				return err
			}
			var in trace.ConfirmInput
			if r.ContentLength != 0 {
				if err := httpx.DecodeJSON(w, r, &in); err != nil {
					return err
				}
			}
			tr, err := t.Confirm(r.Context(), httpx.Actor(r), code, in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, tr)
			return nil
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/transfers/{code}/reject", Summary: "The buyer rejects a transfer with a reason (stock returns to the seller)",
		Tag: "trace", Request: rejectRequest{}, Response: trace.Transfer{}},
		func(w http.ResponseWriter, r *http.Request) error {
			code, err := pathCode(r)
			if err != nil {
				return err
			}
			var in rejectRequest
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			tr, err := t.Reject(r.Context(), httpx.Actor(r), code, in.Reason)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, tr)
			return nil
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/transfers/{code}/accept", Summary: "A market clerk accepts a market-entry code (end of the chain)",
		Tag: "trace", Response: trace.Transfer{}},
		func(w http.ResponseWriter, r *http.Request) error {
			code, err := pathCode(r)
			if err != nil {
				return err
			}
			tr, err := t.Accept(r.Context(), httpx.Actor(r), code)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, tr)
			return nil
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/transfers/{code}/certificate.pdf", Summary: "The market-entry certificate (入市追溯凭证) of a market-entry code; logged",
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
	s.handle(Route{Method: "POST", Path: "/api/v1/smallholder-purchases", Summary: "Record goods from an unregistered smallholder under a temporary operator code",
		Tag: "trace", Request: trace.SmallholderPurchase{}, Response: trace.PurchaseResult{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in trace.SmallholderPurchase
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			res, err := t.RecordSmallholder(r.Context(), httpx.Actor(r), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusCreated, res)
			return nil
		})

	s.handle(Route{Method: "GET", Path: "/api/v1/trace/{code...}", Summary: "The trace graph of any code or alias: ancestors (up), descendants (down) or both",
		Tag: "trace", Response: trace.Graph{}, Query: []Param{{Name: "direction", Description: "up | down | both (default)"},
			{Name: "depth", Description: "1–1000 (default 100)"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			depth, err := queryInt(r, "depth")
			if err != nil {
				return err
			}
			g, err := t.Trace(r.Context(), httpx.Actor(r), r.PathValue("code"), r.URL.Query().Get("direction"), depth)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, g)
			return nil
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/findings", Summary: "What the records reveal in a jurisdiction (art. 17): unconfirmed transfers, over-shipments, quantity mismatches, safety-interval overrides, backward timelines",
		Tag: "trace", Response: Items[trace.Finding]{}, Query: []Param{{Name: "region", Description: "default: your jurisdiction"},
			{Name: "kind", Description: strings.Join(trace.FindingKinds, " | ")}, {Name: "limit"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			limit, err := queryInt(r, "limit")
			if err != nil {
				return err
			}
			list, err := t.Findings(r.Context(), httpx.Actor(r), trace.FindingFilter{Region: q.Get("region"), Kind: q.Get("kind"), Limit: limit})
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusOK, items(list))
			return nil
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/public/trace/{code}", Summary: "What the public scan page shows (no personal data)", Tag: "public",
		Public: true, Response: trace.PublicTrace{}},
		func(w http.ResponseWriter, r *http.Request) error {
			p, err := t.Public(r.Context(), r.PathValue("code"))
			if err != nil {
				return err
			}
			w.Header().Set("Access-Control-Allow-Origin", "*")
			httpx.WriteJSON(w, http.StatusOK, p)
			return nil
		})
}
