package trace

import (
	"context"
	"errors"
	"fmt"
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
	Code             string        `json:"code"`
	Type             int           `json:"type"`
	TypeName         string        `json:"type_name"`
	ProductName      string        `json:"product_name"`
	Verified         bool          `json:"verified" doc:"the request carried the label's verification token (?v=): the full page; false: reduced (no downstream chain, no quantities)"`
	Quantity         float64       `json:"quantity,omitempty" doc:"only when verified"`
	Unit             string        `json:"unit,omitempty" doc:"only when verified"`
	Producer         string        `json:"producer"`
	ProducerRegion   string        `json:"producer_region"`
	ProducedAt       string        `json:"produced_at"`
	Origins          int           `json:"origins" doc:"number of origin batches (more than 1 for merged goods)"`
	CertificateBasis string        `json:"certificate_basis,omitempty" doc:"control | self_test | commissioned_test"`
	CertificateDate  string        `json:"certificate_date,omitempty"`
	Chain            []ChainStep   `json:"chain"`
	Status           string        `json:"status"`
	Market           string        `json:"market,omitempty"`
	Hold             *PublicHold   `json:"hold,omitempty" doc:"present while a recall holds the batch: do not buy or eat"`
	Checks           []PublicCheck `json:"checks" doc:"the latest sampling and inspection verdicts about this batch or its inputs"`
	Scans            ScanStats     `json:"scans"`
	Ledger           *LedgerRef    `json:"ledger,omitempty"`
	ProducerCode     string        `json:"-"` // the origin operator
	Credit           string        `json:"credit,omitempty" doc:"the producer's credit level (clean | warned | rectifying | penalised | blacklisted)"`
	ETag             string        `json:"-"` // the facts' fingerprint (scans excluded)
}

// ChainStep is one party in the public chain summary.
type ChainStep struct {
	Name    string `json:"name"`
	Role    string `json:"role" doc:"producer | trader | market"`
	Region  string `json:"region"`
	Date    string `json:"date"`
	Current bool   `json:"current" doc:"holds the scanned code"`
}

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
	code := tc.Code
	verified := s.VerifyToken(code, token)
	gen, err := s.generation(ctx)
	if err != nil {
		return PublicTrace{}, err
	}
	key := pageKey{code, verified}
	if e, ok := s.pages.get(key, gen); ok && gen >= 0 {
		p := e.p
		p.Scans.Count += s.scans.Seen(code) - e.seenAt
		if p.Scans.FirstAt == "" && p.Scans.Count > 0 {
			p.Scans.FirstAt = platform.Today(s.clock.Now()) // counted since the entry was built, not flushed yet
		}
		return p, nil
	}
	seenAt := s.scans.Seen(code)
	p, err := s.buildPublic(ctx, code, verified)
	if err != nil {
		return PublicTrace{}, err
	}
	if gen >= 0 {
		s.pages.put(key, &pageEntry{gen: gen, p: p, seenAt: seenAt})
	}
	return p, nil
}

// SetCreditLookup gives the public answer the producer's credit level (the
// supervision feature's, which imports this package).
func (s *Service) SetCreditLookup(f func(ctx context.Context, operatorCode string) (string, error)) {
	s.creditOf = f
}

// buildPublic reads a code's public answer from the database.
func (s *Service) buildPublic(ctx context.Context, code string, verified bool) (PublicTrace, error) {
	root, err := s.node(ctx, code)
	if errors.Is(err, errCodeNotFound) {
		return PublicTrace{}, s.missed(ctx)
	}
	if err != nil {
		return PublicTrace{}, err // an outage is not "no such code": the transport answers 503
	}
	up, err := s.graph(ctx, code, root.Node, "up", 50, 2000)
	if err != nil {
		return PublicTrace{}, err
	}
	var down Graph
	if verified {
		if down, err = s.graph(ctx, code, root.Node, "down", 10, 200); err != nil {
			return PublicTrace{}, err
		}
	}
	p := PublicTrace{Code: code, Type: root.Type, TypeName: root.TypeName, ProductName: root.ProductName, Verified: verified,
		Status: root.Status, Market: root.Market}
	if verified {
		p.Quantity, p.Unit = root.Quantity, UnitName(root.Unit)
	}
	// origin: the farthest upstream node without parents
	hasParent := map[string]bool{}
	for _, e := range up.Edges {
		hasParent[e.To] = true
	}
	var org Node
	for _, n := range up.Nodes {
		if hasParent[n.Code] {
			continue
		}
		p.Origins++
		if org.Code == "" || n.Depth < org.Depth {
			org = n
		}
	}
	p.Producer, p.ProducerCode = publicName(org.OperatorName, org.OperatorKind), org.OperatorCode
	p.ProducerRegion = s.regionName(ctx, org.RegionCode)
	p.ProducedAt = org.Time
	if org.Type != 1 {
		if r, err := loadCode(ctx, s.db, org.Code, false); err == nil {
			p.ProducedAt = r.ProducedOn
		}
	}
	// the newest compliance certificate on the code or upstream
	var ups []any
	for _, n := range up.Nodes {
		if len(ups) < 500 {
			ups = append(ups, n.Code)
		}
	}
	ph := make([]string, len(ups))
	for i := range ups {
		ph[i] = fmt.Sprintf("$%d", i+1)
	}
	_ = s.db.QueryRow(ctx, `SELECT basis, issued_on FROM certificates WHERE code IN (`+strings.Join(ph, ", ")+`)
		ORDER BY created_at DESC, number DESC LIMIT 1`, ups...).Scan(&p.CertificateBasis, &p.CertificateDate)
	p.Chain = s.publicChain(ctx, code, append(append([]Node{}, up.Nodes...), down.Nodes...))
	if p.Scans, err = s.scanStats(ctx, code); err != nil {
		return PublicTrace{}, err
	}
	if s.creditOf != nil && org.OperatorCode != "" {
		if p.Credit, err = s.creditOf(ctx, org.OperatorCode); err != nil {
			return PublicTrace{}, err
		}
	}
	return p, s.extras(ctx, &p, ups)
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
