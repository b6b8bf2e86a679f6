package trace

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/platform"
	"agtrace/internal/printing"
)

// Print kinds in the print log (the real platform's T / P / X, plus C for
// the compliance certificate 合格证).
const (
	PrintLabel       = "T"
	PrintTraceCert   = "P"
	PrintMarketEntry = "X"
	PrintCompliance  = "C"
)

// Document is a rendered file.
type Document struct {
	ContentType string
	Filename    string
	Body        []byte
}

// Bases of a compliance certificate.
var Bases = []string{"control", "self_test", "commissioned_test"}

// CertificateInput issues a compliance certificate (承诺达标合格证) for a batch.
type CertificateInput struct {
	Basis        string  `json:"basis" doc:"control | self_test | commissioned_test"`
	TestRef      string  `json:"test_ref,omitempty" doc:"test report / self-test record no.; required for self_test and commissioned_test"`
	Quantity     float64 `json:"quantity" doc:"quantity covered; at most the batch's stock"`
	Scope        string  `json:"scope,omitempty" doc:"batch (default) | vehicle"`
	VehiclePlate string  `json:"vehicle_plate,omitempty"`
	// ShowContact prints the issuer's contact phone in full on the
	// certificate (the rules ask for a contact); false prints it masked.
	ShowContact *bool `json:"show_contact,omitempty" doc:"print the contact phone in full (default true); false prints it masked. Public pages always mask it"`
}

// Certificate is an issued compliance certificate.
type Certificate struct {
	Number       string    `json:"certificate_no"`
	TraceCode    string    `json:"trace_code"`
	Basis        string    `json:"basis"`
	TestRef      string    `json:"test_ref,omitempty"`
	Quantity     float64   `json:"quantity"`
	Unit         string    `json:"unit"`
	Scope        string    `json:"scope"`
	VehiclePlate string    `json:"vehicle_plate,omitempty"`
	IssuedAt     string    `json:"issued_at"`
	ShowContact  bool      `json:"show_contact"`
	PDFURL       string    `json:"pdf_url"`
	CreatedAt    time.Time `json:"created_at"`
}

func certURL(number string) string { return "/api/v1/certificates/" + number + "/certificate.pdf" }

// logPrint writes one print-log row (and its event).
func (s *Service) logPrint(ctx context.Context, actor *auth.Actor, code, kind, size string, copies int, ref string, operatorID int64) error {
	return s.db.InTx(ctx, func(tx *platform.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO print_log (code, kind, size, copies, doc_ref, operator_id, user_id, username, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, code, kind, size, copies, ref, platform.NullInt(operatorID),
			platform.NullInt(actor.UserID), actor.Username, tx.Now()); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "print." + kind, ResourceType: "trace_code", ResourceID: code,
			Data: map[string]any{"kind": kind, "size": size, "copies": copies, "ref": ref}})
	})
}

// printable loads a code the actor may print documents for: its holder's
// people with the print permission, or (for a circulation code) the seller's.
func (s *Service) printable(ctx context.Context, actor *auth.Actor, code string) (Batch, error) {
	if err := auth.Authorize(actor, auth.ActLabelPrint, auth.Resource{}); err != nil {
		return Batch{}, err
	}
	b, err := s.batch(ctx, code)
	if err != nil {
		return Batch{}, err
	}
	if err := authorizeAny(actor, auth.ActBatchRead, b.readResources()...); err != nil {
		return Batch{}, asNotFound(err)
	}
	res := []auth.Resource{{Region: b.Operator.RegionCode, OperatorID: b.Operator.ID}}
	if b.Transfer != nil {
		res = append(res, auth.Resource{Region: b.Transfer.Seller.RegionCode, OperatorID: b.Transfer.Seller.ID})
	}
	if err := authorizeAny(actor, auth.ActLabelPrint, res...); err != nil {
		return Batch{}, err
	}
	return b, nil
}

func parseDate(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

// Label renders trace labels for a code: format pdf (size 40x30 | 50x30 |
// 60x40 | A4, copies 1–500), png (QR only, px pixels) or svg (QR only).
// Every rendering is written to the print log.
func (s *Service) Label(ctx context.Context, actor *auth.Actor, code, format, size string, copies, px int) (Document, error) {
	b, err := s.printable(ctx, actor, code)
	if err != nil {
		return Document{}, err
	}
	url := printing.TraceURL(s.publicURL, code, s.Token(code))
	var doc Document
	switch format {
	case "pdf":
		if size == "" {
			size = string(printing.Label40x30)
		}
		ls, err := printing.ParseLabelSize(size)
		if err != nil {
			return Document{}, invalid("size", "not_allowed", "标签尺寸可选：40x30 | 50x30 | 60x40 | A4", "size must be 40x30 | 50x30 | 60x40 | A4")
		}
		if copies == 0 {
			copies = 1
		}
		if copies < 1 || copies > printing.MaxCopies {
			return Document{}, invalid("copies", "range", fmt.Sprintf("份数应在 1–%d 之间", printing.MaxCopies), fmt.Sprintf("copies must be between 1 and %d", printing.MaxCopies))
		}
		var buf bytes.Buffer
		if err := printing.TraceLabels(&buf, printing.Label{TraceCode: code, BaseURL: s.publicURL, Token: s.Token(code), ProductName: b.ProductName,
			OperatorName: b.Operator.Name, ProductionDate: parseDate(b.ProducedAt)}, ls, copies); err != nil {
			return Document{}, err
		}
		size = string(ls)
		doc = Document{ContentType: "application/pdf", Filename: "label-" + code + ".pdf", Body: buf.Bytes()}
	case "png":
		if px == 0 {
			px = 512
		}
		if px < 100 || px > 4000 {
			return Document{}, invalid("px", "range", "像素应在 100–4000 之间", "px must be between 100 and 4000")
		}
		png, err := printing.QRPNG(url, px)
		if err != nil {
			return Document{}, err
		}
		size, copies = fmt.Sprintf("%dpx", px), 1
		doc = Document{ContentType: "image/png", Filename: "qr-" + code + ".png", Body: png}
	case "svg":
		svg, err := printing.QRSVG(url)
		if err != nil {
			return Document{}, err
		}
		size, copies = "svg", 1
		doc = Document{ContentType: "image/svg+xml", Filename: "qr-" + code + ".svg", Body: svg}
	default:
		return Document{}, invalid("format", "not_allowed", "格式可选 pdf | png | svg", "format must be pdf | png | svg")
	}
	if err := s.logPrint(ctx, actor, code, PrintLabel, size, copies, format, b.Operator.ID); err != nil {
		return Document{}, err
	}
	return doc, nil
}

// IssueCertificate issues a compliance certificate bound to a code the
// actor's operator holds (production or confirmed circulation code).
func (s *Service) IssueCertificate(ctx context.Context, actor *auth.Actor, code string, in CertificateInput) (Certificate, error) {
	if err := auth.Authorize(actor, auth.ActLabelPrint, auth.Resource{}); err != nil {
		return Certificate{}, err
	}
	in.Basis, in.TestRef, in.Scope, in.VehiclePlate = strings.TrimSpace(in.Basis), strings.TrimSpace(in.TestRef), strings.TrimSpace(in.Scope), strings.TrimSpace(in.VehiclePlate)
	if in.Scope == "" {
		in.Scope = "batch"
	}
	var v platform.Validator
	v.OneOf("basis", in.Basis, Bases...)
	if in.Basis == "self_test" || in.Basis == "commissioned_test" {
		v.Require("test_ref", in.TestRef)
	}
	v.MaxLen("test_ref", in.TestRef, 60)
	qty, _ := toMilli(&v, "quantity", in.Quantity, "")
	v.OneOf("scope", in.Scope, "batch", "vehicle")
	if in.Scope != "vehicle" && in.VehiclePlate != "" {
		v.Add("vehicle_plate", "scope", "只有一车一证才填写车牌号", "only with scope vehicle")
	}
	v.MaxLen("vehicle_plate", in.VehiclePlate, 20)
	if err := v.Err(); err != nil {
		return Certificate{}, err
	}
	op, err := s.actorOperator(ctx, actor)
	if err != nil {
		return Certificate{}, err
	}
	showContact := in.ShowContact == nil || *in.ShowContact
	var number string
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		today := platform.Today(tx.Now())
		r, err := loadCode(ctx, tx, code, true)
		if err != nil {
			return err
		}
		if err := auth.Authorize(actor, auth.ActLabelPrint, auth.Resource{OperatorID: r.OperatorID, Region: r.RegionCode}); err != nil {
			return err
		}
		p, err := s.Product(ctx, r.ProductCode)
		if err != nil {
			return err
		}
		if !p.Certificate {
			return invalid("code", "not_certifiable",
				"“"+p.Name+"”不开具承诺达标合格证（合格证用于蔬菜、水果、茶叶鲜叶、畜禽、禽蛋、养殖水产品；畜禽屠宰产品、生鲜乳、粮食等除外）",
				p.NameEN+" takes no compliance certificate (certificates are for vegetables, fruit, fresh tea leaves, livestock and poultry, eggs and farmed aquatic products; not slaughtered meat, raw milk or grain)")
		}
		if err := checkWhole("quantity", r.Unit, qty); err != nil {
			return err
		}
		stock, _, err := consumable(ctx, tx, r, "code")
		if err != nil {
			return err
		}
		open, err := openSafetyIntervals(ctx, tx, code)
		if err != nil {
			return err
		}
		if len(open) > 0 {
			return invalid("code", "safety_interval",
				"该批次在安全间隔期或休药期内采收/出栏，不能承诺达标："+strings.Join(open, "；")+"。如日期录错，请先更正批次",
				"the batch was harvested or sent to slaughter inside a safety interval / withdrawal period; it cannot be certified (correct the batch if the date was wrong)")
		}
		if qty > stock {
			return invalid("quantity", "more_than_stock",
				fmt.Sprintf("合格证数量不能超过库存 %s %s", FormatMilli(stock), UnitName(r.Unit)),
				fmt.Sprintf("cannot exceed the stock of %s %s", FormatMilli(stock), r.Unit))
		}
		serial, err := tx.NextSerial(ctx, "certificate:"+op.CountyCode)
		if err != nil {
			return err
		}
		number = fmt.Sprintf("HG%s%010d", op.CountyCode, serial)
		if _, err := tx.Exec(ctx, `INSERT INTO certificates (number, code, operator_id, basis, test_ref, quantity_milli, scope, vehicle_plate,
			issued_on, created_by, created_at, show_contact) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			number, code, r.OperatorID, in.Basis, in.TestRef, qty, in.Scope, in.VehiclePlate, today, platform.NullInt(actor.UserID), tx.Now(),
			showContact); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "certificate.issue", ResourceType: "certificate", ResourceID: number, Data: map[string]any{
			"biz_step": "inspecting", "certification_info": map[string]any{"standard": "承诺达标合格证", "basis": in.Basis, "test_ref": in.TestRef},
			"code": code, "quantity": fromMilli(qty), "unit": r.Unit, "scope": in.Scope}})
	})
	if err != nil {
		return Certificate{}, err
	}
	return s.certificate(ctx, number)
}

const certColumns = `number, code, basis, test_ref, quantity_milli, scope, vehicle_plate, issued_on, created_at, show_contact`

func scanCert(row interface{ Scan(...any) error }, unit string) (Certificate, error) {
	var c Certificate
	var q int64
	if err := row.Scan(&c.Number, &c.TraceCode, &c.Basis, &c.TestRef, &q, &c.Scope, &c.VehiclePlate, &c.IssuedAt, &c.CreatedAt, &c.ShowContact); err != nil {
		return Certificate{}, err
	}
	c.Quantity, c.Unit, c.PDFURL = fromMilli(q), unit, certURL(c.Number)
	return c, nil
}

func (s *Service) certificate(ctx context.Context, number string) (Certificate, error) {
	c, err := scanCert(s.db.QueryRow(ctx, `SELECT `+certColumns+` FROM certificates WHERE number = $1`, number), "")
	if errors.Is(err, sql.ErrNoRows) {
		return Certificate{}, platform.NotFound("合格证不存在", "certificate not found")
	}
	if err != nil {
		return Certificate{}, err
	}
	err = s.db.QueryRow(ctx, `SELECT unit FROM trace_codes WHERE code = $1`, c.TraceCode).Scan(&c.Unit)
	return c, err
}

func (s *Service) certificates(ctx context.Context, code string) ([]Certificate, error) {
	var unit string
	_ = s.db.QueryRow(ctx, `SELECT unit FROM trace_codes WHERE code = $1`, code).Scan(&unit)
	rows, err := s.db.Query(ctx, `SELECT `+certColumns+` FROM certificates WHERE code = $1 ORDER BY created_at DESC, number DESC`, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Certificate{}
	for rows.Next() {
		c, err := scanCert(rows, unit)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CertificatePDF renders a compliance certificate (size A6 | 100x75) for
// the holder's people or officials who may read the batch; logged.
func (s *Service) CertificatePDF(ctx context.Context, actor *auth.Actor, number, size string) (Document, error) {
	if err := auth.Authorize(actor, auth.ActBatchRead, auth.Resource{}); err != nil {
		return Document{}, err
	}
	c, err := s.certificate(ctx, number)
	if err != nil {
		return Document{}, err
	}
	b, err := s.batch(ctx, c.TraceCode)
	if err != nil {
		return Document{}, err
	}
	if err := authorizeAny(actor, auth.ActBatchRead, b.readResources()...); err != nil {
		return Document{}, platform.NotFound("合格证不存在", "certificate not found")
	}
	var cs printing.CertSize
	switch strings.ToUpper(size) {
	case "", "A6":
		cs = printing.CertA6
	case "100X75":
		cs = printing.Cert100x75
	default:
		return Document{}, invalid("size", "not_allowed", "尺寸可选 A6 | 100x75", "size must be A6 | 100x75")
	}
	op, err := s.ops.ByID(ctx, b.Operator.ID)
	if err != nil {
		return Document{}, err
	}
	// the contact prints in full where the issuer chose to show it (public pages always mask it)
	phone := op.PhoneMasked
	if c.ShowContact {
		full, err := s.ops.ContactPhone(ctx, op.ID)
		if err != nil {
			return Document{}, err
		}
		if full != "" {
			phone = full
		}
	}
	if phone == "" {
		phone = "见平台登记信息"
	}
	origin := s.regionName(ctx, op.RegionCode)
	if b.Origin != "" {
		origin += " " + b.Origin
	}
	var buf bytes.Buffer
	if err := printing.ComplianceCertificate(&buf, printing.Certificate{Number: c.Number, TraceCode: c.TraceCode, BaseURL: s.publicURL, Token: s.Token(c.TraceCode),
		ProductName: b.ProductName, Quantity: c.Quantity, Unit: UnitName(b.Unit), ProducerName: op.Name, ContactPhone: phone, Origin: origin,
		IssueDate: parseDate(c.IssuedAt), Basis: printing.Basis(c.Basis), TestReference: c.TestRef, Scope: printing.Scope(c.Scope),
		VehiclePlate: c.VehiclePlate, Size: cs}); err != nil {
		return Document{}, err
	}
	if err := s.logPrint(ctx, actor, c.TraceCode, PrintCompliance, string(cs), 1, c.Number, b.Operator.ID); err != nil {
		return Document{}, err
	}
	return Document{ContentType: "application/pdf", Filename: "certificate-" + c.Number + ".pdf", Body: buf.Bytes()}, nil
}

// TraceCertificatePDF renders a trace certificate (追溯凭证) for goods that
// cannot carry a label: for a circulation code, the sale slip (seller,
// buyer, quantity); for a production code, the holder and the quantity
// given (default: the stock).
func (s *Service) TraceCertificatePDF(ctx context.Context, actor *auth.Actor, code string, quantity float64) (Document, error) {
	b, err := s.printable(ctx, actor, code)
	if err != nil {
		return Document{}, err
	}
	if b.Type == 3 {
		return Document{}, invalid("code", "market_entry", "入市码请打印入市追溯凭证", "print the market-entry certificate for a market-entry code")
	}
	tc := printing.TraceCert{TraceCode: code, BaseURL: s.publicURL, Token: s.Token(code), ProductName: b.ProductName, Unit: UnitName(b.Unit),
		SellerName: b.Operator.Name, SellerCode: b.Operator.Code, Date: parseDate(platform.Today(s.clock.Now()))}
	if t := b.Transfer; t != nil {
		tc.Quantity, tc.SellerName, tc.SellerCode, tc.Date = t.Quantity, t.Seller.Name, t.Seller.Code, parseDate(t.ShippedAt)
		if t.Buyer != nil {
			tc.BuyerName, tc.BuyerCode = t.Buyer.Name, t.Buyer.Code
		}
	} else {
		tc.Quantity = b.Stock
		if quantity > 0 {
			var v platform.Validator
			q, _ := toMilli(&v, "quantity", quantity, b.Unit)
			if err := v.Err(); err != nil {
				return Document{}, err
			}
			if fromMilli(q) > b.Stock {
				return Document{}, invalid("quantity", "more_than_stock", "数量不能超过库存 "+FormatQty(b.Stock), "cannot exceed the stock of "+FormatQty(b.Stock))
			}
			tc.Quantity = fromMilli(q)
		}
		if tc.Quantity <= 0 {
			return Document{}, invalid("quantity", "no_stock", "该批次已无库存", "this batch has no stock left")
		}
	}
	var buf bytes.Buffer
	if err := printing.TraceCertificate(&buf, tc); err != nil {
		return Document{}, err
	}
	if err := s.logPrint(ctx, actor, code, PrintTraceCert, "A5", 1, FormatQty(tc.Quantity), b.Operator.ID); err != nil {
		return Document{}, err
	}
	return Document{ContentType: "application/pdf", Filename: "trace-certificate-" + code + ".pdf", Body: buf.Bytes()}, nil
}

// origin finds the production batch at the start of a code's chain (the
// farthest upstream; for merged goods the first of several) and how many
// origins there are.
func (s *Service) origin(ctx context.Context, code string) (Node, int, error) {
	root, err := s.node(ctx, code)
	if err != nil {
		return Node{}, 0, err
	}
	g, err := s.graph(ctx, code, root.Node, "up", DefaultDepth, maxEdges)
	if err != nil {
		return Node{}, 0, err
	}
	hasParent := map[string]bool{}
	for _, e := range g.Edges {
		hasParent[e.To] = true
	}
	var best Node
	n := 0
	for _, x := range g.Nodes {
		if hasParent[x.Code] {
			continue
		}
		n++
		if best.Code == "" || x.Depth < best.Depth || (x.Depth == best.Depth && x.Time < best.Time) {
			best = x
		}
	}
	return best, n, nil
}

// MarketEntryPDF renders the market-entry certificate (入市追溯凭证) of a
// market-entry code: for the seller (print permission), the market's
// clerks, and officials who may read it; logged.
func (s *Service) MarketEntryPDF(ctx context.Context, actor *auth.Actor, code string) (Document, error) {
	if actor == nil {
		return Document{}, auth.Authorize(nil, auth.ActBatchRead, auth.Resource{})
	}
	t, err := s.transfer(ctx, code)
	if err != nil {
		return Document{}, err
	}
	if t.Market == nil {
		return Document{}, invalid("code", "not_market_entry", "这不是入市码", "not a market-entry code")
	}
	seller := auth.Resource{Region: t.Seller.RegionCode, OperatorID: t.Seller.ID}
	market := auth.Resource{Region: t.Market.RegionCode}
	ok := auth.Authorize(actor, auth.ActLabelPrint, seller) == nil || auth.Authorize(actor, auth.ActMarketAccept, market) == nil
	if !ok && actor.OperatorID == 0 {
		ok = authorizeAny(actor, auth.ActBatchRead, seller, market) == nil
	}
	if !ok {
		if authorizeAny(actor, auth.ActBatchRead, seller, market) == nil {
			return Document{}, auth.Authorize(actor, auth.ActLabelPrint, seller)
		}
		return Document{}, errCodeNotFound
	}
	org, n, err := s.origin(ctx, code)
	if err != nil {
		return Document{}, err
	}
	originName := org.OperatorName
	if n > 1 {
		originName += fmt.Sprintf(" 等 %d 个来源", n)
	}
	upstream := t.FromCode
	if tc, err := codes.ParseTraceCode(upstream); err != nil || tc.Type == codes.MarketEntry {
		upstream = ""
	}
	originDate := org.Time
	if org.Type == 1 {
		if r, err := loadCode(ctx, s.db, org.Code, false); err == nil {
			originDate = r.ProducedOn
		}
	}
	var buf bytes.Buffer
	if err := printing.MarketEntryCertificate(&buf, printing.TraceCert{Number: code, TraceCode: upstream, BaseURL: s.publicURL, Token: s.Token(code),
		ProductName: t.ProductName, Quantity: t.Quantity, Unit: UnitName(t.Unit), SellerName: t.Seller.Name, SellerCode: t.Seller.Code,
		Date: parseDate(t.ShippedAt), MarketName: t.Market.Name, MarketKind: printing.MarketKind(t.Market.Kind), MarketEntryCode: code,
		OriginOperatorName: originName, OriginBatchCode: org.Code, ProductionDate: parseDate(originDate)}); err != nil {
		return Document{}, err
	}
	if err := s.logPrint(ctx, actor, code, PrintMarketEntry, "A5", 1, t.Market.Name, t.Seller.ID); err != nil {
		return Document{}, err
	}
	return Document{ContentType: "application/pdf", Filename: "market-entry-" + code + ".pdf", Body: buf.Bytes()}, nil
}

// PrintEntry is one print-log row.
type PrintEntry struct {
	Kind     string    `json:"kind" doc:"T label | P trace certificate | X market-entry certificate | C compliance certificate"`
	Size     string    `json:"size"`
	Copies   int       `json:"copies"`
	Ref      string    `json:"ref"`
	Username string    `json:"username"`
	At       time.Time `json:"at"`
}

// PrintLog lists what was printed for a code (newest first).
func (s *Service) PrintLog(ctx context.Context, actor *auth.Actor, code string) ([]PrintEntry, error) {
	if _, err := s.GetBatch(ctx, actor, code); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT kind, size, copies, doc_ref, username, at FROM print_log WHERE code = $1 ORDER BY at DESC, id DESC LIMIT 200`, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []PrintEntry{}
	for rows.Next() {
		var p PrintEntry
		if err := rows.Scan(&p.Kind, &p.Size, &p.Copies, &p.Ref, &p.Username, &p.At); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
