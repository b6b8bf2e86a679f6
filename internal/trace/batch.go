package trace

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// Input kinds (投入品).
var InputKinds = []string{"pesticide", "fertiliser", "feed", "vet_drug", "fishery_drug", "other"}

// InputUse is one input used on a batch.
type InputUse struct {
	Kind         string `json:"kind" doc:"pesticide | fertiliser | feed | vet_drug | fishery_drug | other"`
	Name         string `json:"name"`
	RegNo        string `json:"reg_no,omitempty" doc:"registration number (农药登记证号 / 兽药批准文号)"`
	Dose         string `json:"dose,omitempty"`
	UsedAt       string `json:"used_at" doc:"YYYY-MM-DD"`
	IntervalDays int    `json:"interval_days,omitempty" doc:"safety interval (安全间隔期) or withdrawal period (休药期), days"`
}

// Operation is one farming operation (农事操作).
type Operation struct {
	Kind        string `json:"kind" doc:"e.g. spraying, fertilising, vaccination, harvesting, irrigation"`
	Description string `json:"description,omitempty"`
	At          string `json:"at" doc:"YYYY-MM-DD"`
}

// NewBatch is what an operator records.
type NewBatch struct {
	ProductCode    string         `json:"product_code"`
	Quantity       float64        `json:"quantity"`
	Unit           string         `json:"unit"`
	ProducedAt     string         `json:"produced_at" validate:"required" doc:"production / harvest / slaughter date, YYYY-MM-DD (China time)"`
	Origin         string         `json:"origin" doc:"base, plot or place of production"`
	Attributes     map[string]any `json:"attributes,omitempty" doc:"product extension fields (see GET /api/v1/products)"`
	Inputs         []InputUse     `json:"inputs,omitempty"`
	Operations     []Operation    `json:"operations,omitempty"`
	OverrideReason string         `json:"override_reason,omitempty" doc:"required to record a harvest inside a safety interval / withdrawal period; the batch is then flagged"`
}

// Party is an operator as shown on a trace record.
type Party struct {
	ID         int64  `json:"id"`
	Code       string `json:"operator_code"`
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	RegionCode string `json:"region_code"`
}

// Alias is another identifier that resolves to a code.
type Alias struct {
	Scheme string `json:"scheme" doc:"ear_tag | quarantine_cert | gs1 | provincial"`
	Value  string `json:"value"`
	Code   string `json:"trace_code,omitempty"`
}

// Correction is one later version of a batch's facts.
type Correction struct {
	Version    int       `json:"version"`
	Corrects   int       `json:"corrects"`
	Quantity   float64   `json:"quantity"`
	ProducedAt string    `json:"produced_at"`
	Origin     string    `json:"origin"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
}

// Batch is a trace code with its facts, stock and history.
type Batch struct {
	TraceCode      string         `json:"trace_code"`
	Type           int            `json:"type" doc:"1 production | 2 circulation | 3 market-entry"`
	TypeName       string         `json:"type_name"`
	ProductCode    string         `json:"product_code"`
	ProductName    string         `json:"product_name"`
	Quantity       float64        `json:"quantity" doc:"as recorded (latest correction)"`
	Stock          float64        `json:"stock" doc:"produced + received − shipped − consumed ± corrections"`
	Unit           string         `json:"unit"`
	UnitName       string         `json:"unit_name"`
	ProducedAt     string         `json:"produced_at"`
	Origin         string         `json:"origin"`
	Attributes     map[string]any `json:"attributes"`
	Source         string         `json:"source" doc:"record | smallholder | split | merge | transform | transfer | market"`
	ParentCode     string         `json:"parent_code,omitempty"`
	Operator       Party          `json:"operator"`
	Status         string         `json:"status" doc:"active | depleted | pending | rejected | withdrawn | issued | accepted"`
	Version        int            `json:"version"`
	OverrideReason string         `json:"override_reason,omitempty"`
	CreatedAt      time.Time      `json:"created_at"`
	Inputs         []InputUse     `json:"inputs"`
	Operations     []Operation    `json:"operations"`
	Aliases        []Alias        `json:"aliases"`
	Certificates   []Certificate  `json:"certificates"`
	Corrections    []Correction   `json:"corrections"`
	Transfer       *Transfer      `json:"transfer,omitempty" doc:"for circulation and market-entry codes: the sale that issued it"`
	LabelURL       string         `json:"label_url"`
	PublicURL      string         `json:"public_url"`
}

// CreateBatch records a batch and issues its production trace code.
func (s *Service) CreateBatch(ctx context.Context, actor *auth.Actor, in NewBatch) (Batch, error) {
	op, err := s.batchOperator(ctx, actor, s.actorOperator)
	if err != nil {
		return Batch{}, err
	}
	var b Batch
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		_, err := s.createBatchTx(ctx, tx, actor, op, in, SourceRecord, &b)
		return err
	})
	if err != nil {
		return Batch{}, err
	}
	return b, nil
}

// batchOperator authorizes recording a batch (before its transaction) and
// returns the actor's operator, which will hold it.
func (s *Service) batchOperator(ctx context.Context, actor *auth.Actor, opOf operatorOf) (operator.Operator, error) {
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{}); err != nil {
		return operator.Operator{}, err
	}
	op, err := opOf(ctx, actor)
	if err != nil {
		return operator.Operator{}, err
	}
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{OperatorID: op.ID, Region: op.RegionCode}); err != nil {
		return operator.Operator{}, err
	}
	return op, nil
}

// batchInput is a validated NewBatch.
type batchInput struct {
	product  Product
	qty      int64
	attrs    map[string]any
	flagged  []map[string]any // inputs whose interval was overridden
	override string
}

func (s *Service) validateBatch(ctx context.Context, in *NewBatch, today string) (batchInput, error) {
	var v platform.Validator
	var out batchInput
	in.ProductCode, in.Unit, in.Origin = strings.TrimSpace(in.ProductCode), strings.TrimSpace(in.Unit), strings.TrimSpace(in.Origin)
	in.OverrideReason = strings.TrimSpace(in.OverrideReason)
	p, okP := s.productAndUnit(ctx, &v, "", in.ProductCode, in.Unit)
	if okP && in.Unit == "" {
		in.Unit = p.Units[0].Code
	}
	out.product = p
	out.qty, _ = toMilli(&v, "quantity", in.Quantity, in.Unit)
	dateOK := false
	if v.Require("produced_at", in.ProducedAt) {
		dateOK = checkDate(&v, "produced_at", in.ProducedAt, today, "", "", "")
	}
	v.MaxLen("origin", in.Origin, 200)
	v.MaxLen("override_reason", in.OverrideReason, 500)
	if p.Code != "" {
		out.attrs = validateAttributes(&v, "attributes.", p, in.Attributes, today)
	}
	if len(in.Inputs) > 100 {
		v.Add("inputs", "too_many", "投入品最多 100 条", "at most 100 inputs")
	}
	var safety []string
	for i := range in.Inputs {
		x := &in.Inputs[i]
		pre := fmt.Sprintf("inputs[%d].", i)
		x.Name, x.RegNo, x.Dose = strings.TrimSpace(x.Name), strings.TrimSpace(x.RegNo), strings.TrimSpace(x.Dose)
		v.OneOf(pre+"kind", x.Kind, InputKinds...)
		if v.Require(pre+"name", x.Name) {
			v.MaxLen(pre+"name", x.Name, 100)
		}
		v.MaxLen(pre+"reg_no", x.RegNo, 60)
		v.MaxLen(pre+"dose", x.Dose, 100)
		v.Check(x.IntervalDays >= 0 && x.IntervalDays <= 3650, pre+"interval_days", "range", "间隔期应在 0–3650 天之间", "must be between 0 and 3650 days")
		usedOK := v.Require(pre+"used_at", x.UsedAt) && checkDate(&v, pre+"used_at", x.UsedAt, today, "", "", "")
		if usedOK && dateOK && x.UsedAt > in.ProducedAt {
			v.Add(pre+"used_at", "after_production", "投入品使用日期不能晚于采收/出栏（生产）日期（"+in.ProducedAt+"）",
				"must be on or before the harvest / production date ("+in.ProducedAt+")")
			usedOK = false
		}
		if usedOK && dateOK && x.IntervalDays > 0 {
			used, _ := time.Parse(time.DateOnly, x.UsedAt)
			safe := used.AddDate(0, 0, x.IntervalDays).Format(time.DateOnly)
			if x.UsedAt <= in.ProducedAt && in.ProducedAt < safe {
				safety = append(safety, fmt.Sprintf("%s（%s 使用，间隔期 %d 天，%s 后方可采收/出栏）", x.Name, x.UsedAt, x.IntervalDays, safe))
				out.flagged = append(out.flagged, map[string]any{"input": x.Name, "reg_no": x.RegNo, "used_at": x.UsedAt,
					"interval_days": x.IntervalDays, "safe_from": safe, "produced_at": in.ProducedAt})
			}
		}
	}
	if len(in.Operations) > 100 {
		v.Add("operations", "too_many", "农事操作最多 100 条", "at most 100 operations")
	}
	for i := range in.Operations {
		o := &in.Operations[i]
		pre := fmt.Sprintf("operations[%d].", i)
		o.Kind, o.Description = strings.TrimSpace(o.Kind), strings.TrimSpace(o.Description)
		if v.Require(pre+"kind", o.Kind) {
			v.MaxLen(pre+"kind", o.Kind, 60)
		}
		v.MaxLen(pre+"description", o.Description, 500)
		if v.Require(pre+"at", o.At) {
			checkDate(&v, pre+"at", o.At, today, "", "", "")
		}
	}
	if len(safety) > 0 && in.OverrideReason == "" {
		v.Add("produced_at", "safety_interval", "采收/出栏日期在安全间隔期或休药期内："+strings.Join(safety, "；")+"。如确需记录，请填写原因（该批次将被标记）",
			"harvest date is inside a safety interval / withdrawal period; give override_reason to record it anyway (the batch is flagged)")
	}
	if len(safety) > 0 {
		out.override = in.OverrideReason
	}
	return out, v.Err()
}

// createBatchTx writes a production batch held by op (inside tx); when out
// is not nil it receives the batch as written (what GetBatch would read).
func (s *Service) createBatchTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, op operator.Operator, in NewBatch, source string,
	out *Batch) (string, error) {
	today := platform.Today(tx.Now())
	bi, err := s.validateBatch(ctx, &in, today)
	if err != nil {
		return "", err
	}
	code, err := newCode(ctx, tx, codes.Production, op.CountyCode)
	if err != nil {
		return "", err
	}
	if err := insertCode(ctx, tx, newCodeRow{Code: code, Type: 1, OperatorID: op.ID, RegionCode: op.RegionCode, ProductCode: in.ProductCode,
		Unit: in.Unit, Quantity: bi.qty, ProducedOn: in.ProducedAt, Origin: in.Origin, Attributes: bi.attrs, Source: source,
		Override: bi.override, CreatedBy: actor.UserID}); err != nil {
		return "", err
	}
	if err := insertMove(ctx, tx, code, bi.qty, "produce", "", in.ProducedAt); err != nil {
		return "", err
	}
	for _, x := range in.Inputs {
		if _, err := tx.Exec(ctx, `INSERT INTO batch_inputs (code, kind, name, reg_no, dose, used_on, interval_days) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			code, x.Kind, x.Name, x.RegNo, x.Dose, x.UsedAt, x.IntervalDays); err != nil {
			return "", err
		}
	}
	for _, o := range in.Operations {
		if _, err := tx.Exec(ctx, `INSERT INTO farming_operations (code, kind, description, on_date) VALUES ($1, $2, $3, $4)`,
			code, o.Kind, o.Description, o.At); err != nil {
			return "", err
		}
	}
	for _, al := range aliasesFromAttributes(bi.product, bi.attrs) {
		if err := insertAlias(ctx, tx, al[0], al[1], code, actor.UserID, "attributes"); err != nil {
			return "", err
		}
	}
	for _, f := range bi.flagged {
		f["override_reason"] = bi.override
		if err := addFinding(ctx, tx, FindingSafetyInterval, code, op.ID, op.RegionCode, today, f); err != nil {
			return "", err
		}
	}
	if out != nil {
		*out = s.writtenBatch(tx, op, in, bi, code, source)
	}
	return code, tx.Emit(ctx, platform.Event{Action: "batch.create", ResourceType: "trace_code", ResourceID: code, Data: map[string]any{
		"biz_step": "commissioning", "type": 1, "source": source, "operator_id": op.ID, "product_code": in.ProductCode,
		"quantity": fromMilli(bi.qty), "unit": in.Unit, "produced_at": in.ProducedAt, "override": bi.override != ""}})
}

// GetBatch returns a code the actor may read, with its stock and history.
func (s *Service) GetBatch(ctx context.Context, actor *auth.Actor, code string) (Batch, error) {
	if err := auth.Authorize(actor, auth.ActBatchRead, auth.Resource{}); err != nil {
		return Batch{}, err
	}
	b, err := s.batch(ctx, code)
	if err != nil {
		return Batch{}, err
	}
	if err := authorizeAny(actor, auth.ActBatchRead, b.readResources()...); err != nil {
		return Batch{}, asNotFound(err)
	}
	return b, nil
}

// readResources lists whose a code is: its holder, and for a sale also the
// seller and the buyer (or the market's region).
func (b Batch) readResources() []auth.Resource {
	res := []auth.Resource{{Region: b.Operator.RegionCode, OperatorID: b.Operator.ID}}
	if t := b.Transfer; t != nil {
		res = append(res, auth.Resource{Region: t.Seller.RegionCode, OperatorID: t.Seller.ID})
		if t.Buyer != nil {
			res = append(res, auth.Resource{Region: t.Buyer.RegionCode, OperatorID: t.Buyer.ID})
		} else {
			res = append(res, auth.Resource{Region: t.Market.RegionCode})
		}
	}
	return res
}

// batch loads a code with everything shown on its page (no authorization).
func (s *Service) batch(ctx context.Context, code string) (Batch, error) {
	r, err := loadCode(ctx, s.db, code, false)
	if err != nil {
		return Batch{}, err
	}
	p, err := s.Product(ctx, r.ProductCode)
	if err != nil {
		return Batch{}, err
	}
	b := Batch{TraceCode: r.Code, Type: r.Type, TypeName: codes.TraceCodeType(r.Type).Label(), ProductCode: r.ProductCode, ProductName: p.Name,
		Quantity: fromMilli(r.Quantity), Unit: r.Unit, UnitName: UnitName(r.Unit), ProducedAt: r.ProducedOn, Origin: r.Origin,
		Source: r.Source, ParentCode: r.ParentCode, Version: r.Version, OverrideReason: r.Override, CreatedAt: r.CreatedAt,
		LabelURL: "/api/v1/batches/" + r.Code + "/label.pdf", PublicURL: s.QRURL(r.Code)}
	_ = json.Unmarshal([]byte(r.Attributes), &b.Attributes)
	if b.Attributes == nil {
		b.Attributes = map[string]any{}
	}
	if b.Operator, err = s.party(ctx, r.OperatorID); err != nil {
		return Batch{}, err
	}
	stock, _, err := stockOf(ctx, s.db, code)
	if err != nil {
		return Batch{}, err
	}
	b.Stock = fromMilli(stock)
	if r.Type != 1 {
		t, err := s.transfer(ctx, code)
		if err != nil {
			return Batch{}, err
		}
		b.Transfer = &t
	}
	b.Status = batchStatus(r.Type, stock, b.Transfer)
	if b.Inputs, err = s.inputs(ctx, code); err != nil {
		return Batch{}, err
	}
	if b.Operations, err = s.operations(ctx, code); err != nil {
		return Batch{}, err
	}
	if b.Aliases, err = s.aliases(ctx, code); err != nil {
		return Batch{}, err
	}
	if b.Certificates, err = s.certificates(ctx, code); err != nil {
		return Batch{}, err
	}
	if b.Corrections, err = s.corrections(ctx, code); err != nil {
		return Batch{}, err
	}
	return b, nil
}

func batchStatus(typ int, stock int64, t *Transfer) string {
	if t != nil && (t.Status == TransferPending || t.Status == TransferRejected || t.Status == TransferWithdrawn || typ == TypeMarketEntry) {
		return t.Status
	}
	if stock > 0 {
		return "active"
	}
	return "depleted"
}

func (s *Service) party(ctx context.Context, id int64) (Party, error) {
	var p Party
	err := s.db.QueryRow(ctx, `SELECT id, COALESCE(code, ''), name, kind, region_code FROM operators WHERE id = $1`, id).
		Scan(&p.ID, &p.Code, &p.Name, &p.Kind, &p.RegionCode)
	if errors.Is(err, sql.ErrNoRows) {
		return Party{}, platform.NotFound("主体不存在", "operator not found")
	}
	return p, err
}

func (s *Service) inputs(ctx context.Context, code string) ([]InputUse, error) {
	rows, err := s.db.Query(ctx, `SELECT kind, name, reg_no, dose, used_on, interval_days FROM batch_inputs WHERE code = $1 ORDER BY used_on, id`, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []InputUse{}
	for rows.Next() {
		var x InputUse
		if err := rows.Scan(&x.Kind, &x.Name, &x.RegNo, &x.Dose, &x.UsedAt, &x.IntervalDays); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

func (s *Service) operations(ctx context.Context, code string) ([]Operation, error) {
	rows, err := s.db.Query(ctx, `SELECT kind, description, on_date FROM farming_operations WHERE code = $1 ORDER BY on_date, id`, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Operation{}
	for rows.Next() {
		var o Operation
		if err := rows.Scan(&o.Kind, &o.Description, &o.At); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

func (s *Service) corrections(ctx context.Context, code string) ([]Correction, error) {
	rows, err := s.db.Query(ctx, `SELECT version, corrects, quantity_milli, produced_on, origin, reason, created_at
		FROM batch_corrections WHERE code = $1 ORDER BY version`, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Correction{}
	for rows.Next() {
		var c Correction
		var q int64
		if err := rows.Scan(&c.Version, &c.Corrects, &q, &c.ProducedAt, &c.Origin, &c.Reason, &c.At); err != nil {
			return nil, err
		}
		c.Quantity = fromMilli(q)
		out = append(out, c)
	}
	return out, rows.Err()
}

// regionName is the full name of a region (the code if unknown).
func (s *Service) regionName(ctx context.Context, code string) string {
	if s.regions == nil || code == "" {
		return code
	}
	n, err := s.regions.FullName(ctx, code)
	if err != nil || n == "" {
		return code
	}
	return n
}
