package api

import (
	"context"
	"net/http"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/ledger"
	"agtrace/internal/platform"
)

// SubjectProofs answers ?code=: every leaf about a trace code, proved
// against the latest checkpoint.
type SubjectProofs struct {
	Checkpoint ledger.Checkpoint `json:"checkpoint"`
	Proofs     []ledger.Proof    `json:"proofs"`
}

// ledgerRoutes: the public side of the tamper-evident log (docs/ledger.md).
func (s *Server) ledgerRoutes() {
	lg := s.svc.Ledger
	route(s, Route{Method: "GET", Path: "/ledger/checkpoint", Summary: "The latest signed checkpoint of the ledger (a new one is signed when the log grew, at most once a second)",
		Tag: "ledger", Public: true, CORS: true},
		func(ctx context.Context, _ *auth.Actor, _ *http.Request, _ NoBody) (ledger.Checkpoint, error) {
			return lg.Checkpoint(ctx)
		})
	raw(s, Route{Method: "GET", Path: "/ledger/key", Summary: "The SM2 public key checkpoints are signed with (PEM)", Tag: "ledger", Public: true, CORS: true,
		Produces: "application/x-pem-file"},
		func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "application/x-pem-file")
			w.Header().Set("Cache-Control", "public, max-age=3600")
			_, err := w.Write(lg.PublicKeyPEM())
			return err
		})
	route(s, Route{Method: "GET", Path: "/api/v1/ledger/proof", Summary: "Inclusion proof of a leaf (leaf, size: default the latest checkpoint's), or of every leaf about a trace code (code)",
		Tag: "ledger", Public: true, CORS: true,
		Query: []Param{{Name: "leaf", Description: "leaf index (seq)"}, {Name: "size", Description: "tree size (default: the latest checkpoint's)"},
			{Name: "code", Description: "a trace code (any code type or alias): proofs of all its leaves; answers {checkpoint, proofs}"}}},
		func(ctx context.Context, _ *auth.Actor, r *http.Request, _ NoBody) (any, error) {
			q := r.URL.Query()
			if c := strings.TrimSpace(q.Get("code")); c != "" {
				code, err := s.svc.Trace.Resolve(ctx, c)
				if err != nil {
					return nil, err
				}
				proofs, cp, err := lg.SubjectProofs(ctx, "trace_code:"+code)
				return SubjectProofs{Checkpoint: cp, Proofs: proofs}, err
			}
			leaf, err := queryUint(r, "leaf", true)
			if err != nil {
				return nil, err
			}
			size, err := queryUint(r, "size", false)
			if err != nil {
				return nil, err
			}
			return lg.Proof(ctx, leaf, size)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/ledger/consistency", Summary: "Consistency proof: the tree of `to` leaves (default: the latest checkpoint's) extends the tree of `from` leaves",
		Tag: "ledger", Public: true, CORS: true, Query: []Param{{Name: "from", Description: "the older size (≥ 1)"}, {Name: "to", Description: "the newer size"}}},
		func(ctx context.Context, _ *auth.Actor, r *http.Request, _ NoBody) (ledger.Consistency, error) {
			from, err := queryUint(r, "from", true)
			if err != nil {
				return ledger.Consistency{}, err
			}
			to, err := queryUint(r, "to", false)
			if err != nil {
				return ledger.Consistency{}, err
			}
			return lg.Consistency(ctx, from, to)
		})
}

// queryUint reads a non-negative integer parameter (0 when absent and not required).
func queryUint(r *http.Request, name string, required bool) (uint64, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		if required {
			return 0, platform.Invalid(platform.FieldError{Field: name, Code: "required", ZH: "必填", EN: "required"})
		}
		return 0, nil
	}
	n, err := ledger.ParseIndex(v)
	if err != nil {
		return 0, platform.Invalid(platform.FieldError{Field: name, Code: "type", ZH: "应为非负整数", EN: "must be a non-negative integer"})
	}
	return n, nil
}
