package trace

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"agtrace/internal/codes"
	"agtrace/internal/platform"
)

// PublicTrace is what anyone who scans a label sees: no personal data
// (individual producers' names are masked, no phones, no ID numbers).
// Without the label's verification token (Verified false: a typed or
// guessed code) it is reduced to what a shopper needs: no downstream chain
// and no quantities.
type PublicTrace struct {
	Code         string              `json:"code"`
	Type         int                 `json:"type" doc:"1 production | 2 circulation | 3 market-entry"`
	CodeType     string              `json:"code_type" doc:"production | circulation | market_entry"`
	Product      PublicProduct       `json:"product"`
	Verified     bool                `json:"verified" doc:"the request carried the label's verification token (?v=): the full page; false: reduced (no downstream chain, no quantities)"`
	Batch        PublicBatch         `json:"batch"`
	Operator     PublicOperator      `json:"operator" doc:"the producer of the origin batch (the farthest upstream)"`
	Certificates []PublicCertificate `json:"certificates" doc:"compliance certificates on the code or upstream, newest first (at most 3)"`
	Chain        []ChainStep         `json:"chain"`
	Status       string              `json:"status"`
	Market       string              `json:"market,omitempty"`
	Hold         *PublicHold         `json:"hold,omitempty" doc:"present while a recall holds the batch: do not buy or eat"`
	Checks       []PublicCheck       `json:"checks" doc:"the latest sampling and inspection verdicts about this batch or its inputs"`
	Warning      string              `json:"warning,omitempty" doc:"suspected_copy: this code's scans look implausible (far more than the batch's units, or far-apart regions within a day) and supervisors are checking it"`
	Scans        ScanStats           `json:"scans"`
	Ledger       *LedgerRef          `json:"ledger,omitempty"`
	ETag         string              `json:"-"` // the facts' fingerprint (scans excluded)
	stamp        PageStamp           // the page revs the facts were read under (pagestore.go)
}

// PublicProduct is what the batch is.
type PublicProduct struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Variety string `json:"variety,omitempty" doc:"as recorded with the origin batch"`
}

// PublicBatch is the batch's facts. Quantities only when verified.
type PublicBatch struct {
	Quantity     float64 `json:"quantity,omitempty" doc:"only when verified"`
	Unit         string  `json:"unit,omitempty" doc:"only when verified"`
	ProducedAt   string  `json:"produced_at" doc:"production or harvest date of the origin batch, YYYY-MM-DD"`
	OriginRegion string  `json:"origin_region" doc:"the origin producer's region, by name"`
	Base         string  `json:"base,omitempty" doc:"the base or plot recorded with the origin batch"`
	Origins      int     `json:"origins" doc:"number of origin batches (more than 1 for merged goods)"`
}

// PublicOperator is the producer as the public sees it (individuals masked).
type PublicOperator struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Kind   string `json:"kind" doc:"enterprise | cooperative | family_farm | individual | …"`
	Region string `json:"region"`
	Credit string `json:"credit,omitempty" doc:"credit level (clean | warned | rectifying | penalised | blacklisted)"`
}

// PublicCertificate is a compliance certificate (合格证) and its basis.
type PublicCertificate struct {
	Basis    string `json:"basis" doc:"control | self_test | commissioned_test"`
	IssuedOn string `json:"issued_on"`
}

// WarningSuspectedCopy is the page's warning on a code whose scans look
// implausible (an open scan finding).
const WarningSuspectedCopy = "suspected_copy"

// ChainStep is one party in the public chain summary.
type ChainStep struct {
	Name    string `json:"name"`
	Role    string `json:"role" doc:"producer | trader | market"`
	Region  string `json:"region"`
	Date    string `json:"date"`
	Current bool   `json:"current" doc:"holds the scanned code"`
}

// How far the public answer walks the graph: upstream to the origin (the
// producer is found there), downstream one step — who bought from this
// batch — and at most 24 of them, so a production code with thousands of
// descendants does not cost a walk over all of them. One step, because a
// stored page must be staled by every write that changes it, in the
// writer's transaction (pagestore.go): a sale stales its seller's page, and
// with a deeper downstream view every sale would have to stale the pages of
// all its ancestors up to that depth — on PostgreSQL the shared ancestors'
// rev rows serialised concurrent sales and halved the write rate.
const (
	publicUpDepth, publicUpNodes     = 50, 2000
	publicDownDepth, publicDownNodes = 1, 24
)

// publicName masks the names of natural persons.
func publicName(name, kind string) string {
	if kind != "individual" {
		return name
	}
	r := []rune(strings.TrimSpace(name))
	if len(r) == 0 {
		return "个体生产者"
	}
	return string(r[0]) + strings.Repeat("*", min(len(r)-1, 2)) + "（个体）"
}

// Public answers the public scan page for a code (the check digit is
// checked first: a typo is a 400 before any lookup). token is the label's
// verification token (?v=); without the right one the answer is reduced
// (no downstream chain, no quantities). A well-formed code that does not
// exist counts against the client's miss allowance (404, then 429).
func (s *Service) Public(ctx context.Context, input, token string) (PublicTrace, error) {
	tc, err := codes.ParseTraceCode(input)
	if err != nil {
		return PublicTrace{}, platform.BadRequest("追溯码无效：请核对是否输错", "invalid trace code: please check for a typo").With("field", "code").Typed("invalid-code")
	}
	return s.PublicVerified(ctx, tc.Code, s.VerifyToken(tc.Code, token))
}

// PublicVerified is Public for a code already parsed (a valid code) whose
// token was already checked: the scan page checks both before it looks
// for a stored page, and does not pay for them twice on a first view.
func (s *Service) PublicVerified(ctx context.Context, code string, verified bool) (PublicTrace, error) {
	gen, err := s.generation(ctx)
	if err != nil {
		return PublicTrace{}, err
	}
	key := pageKey{code, verified}
	if e, ok := s.pages.get(key, gen); ok && gen >= 0 {
		return s.withSeen(e), nil
	}
	seenAt := s.scans.Seen(code)
	p, err := s.buildPublic(ctx, code, verified)
	if err != nil {
		return PublicTrace{}, err
	}
	p.stamp.Gen = gen // read before the facts
	if gen >= 0 {
		s.pages.put(key, &pageEntry{gen: gen, p: p, seenAt: seenAt})
	}
	return p, nil
}

// withSeen is a cached answer with the views counted since it was built.
func (s *Service) withSeen(e *pageEntry) PublicTrace {
	p := e.p
	p.Scans.Count += s.scans.Seen(p.Code) - e.seenAt
	if p.Scans.FirstAt == "" && p.Scans.Count > 0 {
		p.Scans.FirstAt = platform.Today(s.clock.Now()) // counted since the entry was built, not flushed yet
	}
	return p
}

// PublicCached is a code's public answer when this process holds it and
// nothing was written since it was read (ok false: see StoredPage, then
// Public). code must be a valid code.
func (s *Service) PublicCached(ctx context.Context, code string, verified bool) (PublicTrace, bool, error) {
	gen, err := s.generation(ctx)
	if err != nil || gen < 0 {
		return PublicTrace{}, false, err
	}
	e, ok := s.pages.get(pageKey{code, verified}, gen)
	if !ok {
		return PublicTrace{}, false, nil
	}
	return s.withSeen(e), true, nil
}

// SetCreditLookup gives the public answer the producer's credit level (the
// supervision feature's, which imports this package).
func (s *Service) SetCreditLookup(f func(ctx context.Context, operatorCode string) (string, error)) {
	s.creditOf = f
}

// buildPublic reads a code's public answer from the database.
func (s *Service) buildPublic(ctx context.Context, code string, verified bool) (PublicTrace, error) {
	stamp, err := s.readStamp(ctx, code) // before the facts: a write meanwhile leaves the page stale
	if err != nil {
		return PublicTrace{}, err
	}
	root, err := s.node(ctx, code)
	if errors.Is(err, errCodeNotFound) {
		return PublicTrace{}, s.missed(ctx)
	}
	if err != nil {
		return PublicTrace{}, err // an outage is not "no such code": the transport answers 503
	}
	up, err := s.graph(ctx, code, root.Node, "up", publicUpDepth, publicUpNodes)
	if err != nil {
		return PublicTrace{}, err
	}
	var down Graph
	if verified {
		if down, err = s.graph(ctx, code, root.Node, "down", publicDownDepth, publicDownNodes); err != nil {
			return PublicTrace{}, err
		}
	}
	p := PublicTrace{Code: code, Type: root.Type, CodeType: codes.TraceCodeType(root.Type).String(), Verified: verified, stamp: stamp,
		Product: PublicProduct{Code: root.ProductCode, Name: root.ProductName}, Status: root.Status, Market: root.Market}
	if verified {
		p.Batch.Quantity, p.Batch.Unit = root.Quantity, UnitName(root.Unit)
	}
	org := s.publicOrigin(ctx, &p, up)
	// compliance certificates on the code or upstream, newest first
	var ups []any
	for _, n := range up.Nodes {
		if len(ups) < 500 {
			ups = append(ups, n.Code)
		}
	}
	rows, err := s.db.Query(ctx, `SELECT basis, issued_on FROM certificates WHERE code IN `+inList(len(ups))+`
		ORDER BY created_at DESC, number DESC LIMIT 3`, ups...)
	if p.Certificates, err = platform.Collect(rows, err, func(r *sql.Rows) (PublicCertificate, error) {
		var c PublicCertificate
		return c, r.Scan(&c.Basis, &c.IssuedOn)
	}); err != nil {
		return PublicTrace{}, err
	}
	if p.Certificates == nil {
		p.Certificates = []PublicCertificate{}
	}
	p.Chain = s.publicChain(ctx, code, append(append([]Node{}, up.Nodes...), down.Nodes...))
	if p.Scans, err = s.scanStats(ctx, code); err != nil {
		return PublicTrace{}, err
	}
	if s.creditOf != nil && org.OperatorCode != "" {
		if p.Operator.Credit, err = s.creditOf(ctx, org.OperatorCode); err != nil {
			return PublicTrace{}, err
		}
	}
	return p, s.extras(ctx, &p, ups)
}

// publicOrigin fills the operator and batch facts from the origin: the
// farthest upstream node without parents (for merged goods, the nearest
// such node; Origins counts them).
func (s *Service) publicOrigin(ctx context.Context, p *PublicTrace, up Graph) Node {
	hasParent := map[string]bool{}
	for _, e := range up.Edges {
		hasParent[e.To] = true
	}
	var org Node
	for _, n := range up.Nodes {
		if hasParent[n.Code] {
			continue
		}
		p.Batch.Origins++
		if org.Code == "" || n.Depth < org.Depth {
			org = n
		}
	}
	region := s.regionName(ctx, org.RegionCode)
	p.Operator = PublicOperator{Code: org.OperatorCode, Name: publicName(org.OperatorName, org.OperatorKind), Kind: org.OperatorKind, Region: region}
	p.Batch.OriginRegion, p.Batch.ProducedAt = region, org.Time
	if r, err := loadCode(ctx, s.db, org.Code, false); err == nil {
		if org.Type != 1 {
			p.Batch.ProducedAt = r.ProducedOn
		}
		var attrs map[string]any
		_ = json.Unmarshal([]byte(r.Attributes), &attrs)
		p.Product.Variety, _ = attrs["variety"].(string)
		p.Batch.Base = strings.TrimSpace(r.Origin)
		if plot, _ := attrs["plot"].(string); plot != "" && !strings.Contains(p.Batch.Base, plot) {
			p.Batch.Base = strings.TrimSpace(p.Batch.Base + " " + plot)
		}
	}
	return org
}

// publicChain is the chain summary of the public page: upstream (farthest
// first), the code, then downstream; rejected and others' pending sales
// left out, consecutive steps of one party merged, at most 12 parties.
func (s *Service) publicChain(ctx context.Context, code string, nodes []Node) []ChainStep {
	var chain []ChainStep
	sort.SliceStable(nodes, func(i, j int) bool {
		if nodes[i].Depth != nodes[j].Depth {
			return nodes[i].Depth < nodes[j].Depth
		}
		return nodes[i].Time < nodes[j].Time
	})
	seen := map[string]bool{}
	add := func(st ChainStep) {
		key := st.Role + "|" + st.Name
		if n := len(chain); n > 0 && chain[n-1].Name == st.Name && chain[n-1].Role == st.Role {
			chain[n-1].Current = chain[n-1].Current || st.Current
			return
		}
		if seen[key] && !st.Current {
			return
		}
		seen[key] = true
		chain = append(chain, st)
	}
	for _, n := range nodes {
		if n.Status == "rejected" || n.Status == "pending" && n.Code != code {
			continue
		}
		role := "trader"
		if n.Source == SourceRecord || n.Source == SourceSmallholder {
			role = "producer"
		}
		name := publicName(n.OperatorName, n.OperatorKind)
		if n.Type == 2 || n.Type == 3 {
			// the seller made this sale; for type 2 the holder is the buyer
			if n.Type == 2 {
				add(ChainStep{Name: name, Role: "trader", Region: s.regionName(ctx, n.RegionCode), Date: n.Time, Current: n.Code == code})
			} else {
				add(ChainStep{Name: name, Role: role, Region: s.regionName(ctx, n.RegionCode), Date: n.Time})
				add(ChainStep{Name: n.Market, Role: "market", Date: n.Time, Current: n.Code == code})
			}
			continue
		}
		add(ChainStep{Name: name, Role: role, Region: s.regionName(ctx, n.RegionCode), Date: n.Time, Current: n.Code == code})
		if len(chain) >= 12 {
			break
		}
	}
	return chain
}

// errInvalidCode is the answer to a code that cannot be one (made when
// needed: every scan passes through PublicCode).
func errInvalidCode() error {
	return platform.BadRequest("追溯码无效：请核对是否输错", "invalid trace code: please check for a typo").With("field", "code").Typed("invalid-code")
}

// PublicCode turns what a shopper scanned or typed into the trace code it
// names, accepting only the shapes a label carries: a 20-digit trace code
// (a wrong check digit is a 400 before any lookup), a 15-digit ear tag, a
// GS1 element string or Digital Link (GTIN + lot), or scheme:value of a
// known alias scheme. Anything else is a 400 without a lookup; a
// well-formed identifier that names nothing counts against the client's
// miss allowance (404, then 429).
func (s *Service) PublicCode(ctx context.Context, input string) (string, error) {
	in := strings.TrimSpace(input)
	if in == "" || len(in) > 300 {
		return "", errInvalidCode()
	}
	n := codes.NormalizeCode(in)
	alias := false
	switch {
	case allDigits(n) && len(n) == codes.TraceCodeLen:
		tc, err := codes.ParseTraceCode(n)
		if err != nil {
			return "", errInvalidCode()
		}
		return tc.Code, nil
	case allDigits(n) && len(n) == 15: // an ear tag
		alias = true
	case strings.HasPrefix(in, "(01)") || strings.Contains(in, "/01/"):
		alias = true
	default:
		for _, sc := range AliasSchemes {
			alias = alias || strings.HasPrefix(in, sc+":") && len(in) > len(sc)+1
		}
	}
	if !alias {
		return "", errInvalidCode()
	}
	code, err := s.Resolve(ctx, in)
	switch {
	case err == nil:
		return code, nil
	case errors.Is(err, errCodeNotFound) || platform.IsNotFound(err):
		return "", s.missed(ctx)
	case platform.KindOf(err) == platform.KindInvalid || platform.KindOf(err) == platform.KindBadRequest:
		return "", errInvalidCode()
	}
	return "", err
}
