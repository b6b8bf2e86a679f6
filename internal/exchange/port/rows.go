package port

import (
	"bytes"
	"encoding/json"

	"agtrace/internal/operator"
	"agtrace/internal/trace"
)

// OperatorRow is a basic record (NY/T 4712 基础信息): a legal person with its
// credit code, or a natural person with a (masked) ID number, its address
// and region, under its operator code. IDNumber and Phone are read on
// import only (sealed there); exports carry the masked copies.
type OperatorRow struct {
	OperatorCode      string                   `json:"operator_code"`
	Name              string                   `json:"name"`
	Kind              string                   `json:"kind" doc:"enterprise | cooperative | family_farm | slaughterhouse | individual"`
	Category          string                   `json:"category" doc:"producer | trader | producer_trader | input_supplier | temporary"`
	CreditCode        string                   `json:"credit_code" doc:"统一社会信用代码; empty for individuals"`
	IDNumberMasked    string                   `json:"id_number_masked"`
	IDNumber          string                   `json:"id_number,omitempty" doc:"import only: the ID number in clear (stored encrypted, never exported)"`
	LegalRep          string                   `json:"legal_rep"`
	ContactName       string                   `json:"contact_name"`
	PhoneMasked       string                   `json:"phone_masked"`
	Phone             string                   `json:"phone,omitempty" doc:"import only: the phone number in clear (stored encrypted, never exported)"`
	RegionCode        string                   `json:"region_code"`
	Address           string                   `json:"address"`
	Products          []string                 `json:"products"`
	LeadingEnterprise string                   `json:"leading_enterprise"`
	DemoCooperative   bool                     `json:"demo_cooperative"`
	Certifications    []operator.Certification `json:"certifications"`
	Status            string                   `json:"status" doc:"approved | suspended | cancelled | temporary"`
}

// BatchRow is a production batch record: the outbound batch of the
// production stage (its trace code), who holds it, the product and its
// extension fields, inputs and farming operations. Facts are the latest
// corrected version.
type BatchRow struct {
	TraceCode      string            `json:"trace_code"`
	OperatorCode   string            `json:"operator_code"`
	OperatorName   string            `json:"operator_name,omitempty" doc:"informative"`
	ProductCode    string            `json:"product_code"`
	ProductName    string            `json:"product_name,omitempty" doc:"informative"`
	Quantity       float64           `json:"quantity"`
	Unit           string            `json:"unit"`
	ProducedAt     string            `json:"produced_at" doc:"YYYY-MM-DD"`
	Origin         string            `json:"origin"`
	Attributes     map[string]any    `json:"attributes" doc:"product extension fields (扩展信息)"`
	Inputs         []trace.InputUse  `json:"inputs"`
	Operations     []trace.Operation `json:"operations"`
	OverrideReason string            `json:"override_reason"`
}

// Lot is one batch a stage takes in or hands out, with the quantity.
type Lot struct {
	TraceCode   string         `json:"trace_code"`
	ProductCode string         `json:"product_code,omitempty"`
	Quantity    float64        `json:"quantity"`
	Unit        string         `json:"unit,omitempty"`
	Origin      string         `json:"origin,omitempty"`
	Attributes  map[string]any `json:"attributes,omitempty"`
}

// EventRow is a per-stage business record (环节业务信息): the stage's
// operator (the source), its inbound batches (进货批次) and outbound batches
// (出货批次 = the trace codes it hands downstream), the destination of a
// sale and its answer, quantities and the date.
type EventRow struct {
	Stage                   string   `json:"stage" doc:"sale | split | merge | transform"`
	Date                    string   `json:"date" doc:"YYYY-MM-DD: shipping date of a sale, date of a split, merge or transformation"`
	OperatorCode            string   `json:"operator_code" doc:"the seller or the processor (source)"`
	Inbound                 []Lot    `json:"inbound"`
	Outbound                []Lot    `json:"outbound"`
	DestinationOperatorCode string   `json:"destination_operator_code,omitempty" doc:"sale to a registered operator: the buyer"`
	MarketName              string   `json:"market_name,omitempty" doc:"sale into a market"`
	MarketKind              string   `json:"market_kind,omitempty" doc:"wholesale | retail | processor"`
	MarketRegion            string   `json:"market_region,omitempty"`
	Status                  string   `json:"status,omitempty" doc:"sale: pending | confirmed | rejected | withdrawn | issued | accepted"`
	ReceivedQuantity        *float64 `json:"received_quantity,omitempty" doc:"confirmed sale: the quantity received"`
	ReceivedAt              string   `json:"received_at,omitempty" doc:"confirmed sale: YYYY-MM-DD"`
	Reason                  string   `json:"reason,omitempty" doc:"rejected or withdrawn sale"`
	Note                    string   `json:"note,omitempty"`
	OverrideReason          string   `json:"override_reason,omitempty" doc:"transformation outside its plausible yield, recorded anyway"`
}

// colType says how a column is written to and read from a spreadsheet cell.
type colType int

const (
	colText   colType = iota // text (codes stay text, never numbers)
	colNumber                // a number cell
	colBool                  // TRUE / FALSE
	colJSON                  // a list or an object, as compact JSON text
)

// column is one field of a kind: its JSON key, its Chinese header and its cell type.
type column struct {
	Key string
	ZH  string
	T   colType
}

// columns are the fields of each kind in file order; an export writes
// exactly these (the spreadsheet's header rows: Chinese, then the keys).
var columns = map[string][]column{
	KindOperators: {
		{"operator_code", "主体编码", colText}, {"name", "主体名称/姓名", colText}, {"kind", "主体类型", colText}, {"category", "主体类别", colText},
		{"credit_code", "统一社会信用代码", colText}, {"id_number_masked", "身份证号（脱敏）", colText}, {"id_number", "身份证号（仅导入）", colText},
		{"legal_rep", "法定代表人", colText}, {"contact_name", "联系人", colText}, {"phone_masked", "联系电话（脱敏）", colText},
		{"phone", "联系电话（仅导入）", colText}, {"region_code", "行政区划代码", colText}, {"address", "地址", colText},
		{"products", "主营产品", colJSON}, {"leading_enterprise", "龙头企业级别", colText}, {"demo_cooperative", "示范合作社", colBool},
		{"certifications", "三品一标认证", colJSON}, {"status", "状态", colText},
	},
	KindBatches: {
		{"trace_code", "追溯码（出货批次）", colText}, {"operator_code", "主体编码", colText}, {"operator_name", "主体名称", colText},
		{"product_code", "产品代码", colText}, {"product_name", "产品名称", colText}, {"quantity", "数量", colNumber}, {"unit", "单位", colText},
		{"produced_at", "生产日期", colText}, {"origin", "产地", colText}, {"attributes", "扩展信息", colJSON}, {"inputs", "投入品", colJSON},
		{"operations", "农事操作", colJSON}, {"override_reason", "间隔期内采收原因", colText},
	},
	KindEvents: {
		{"stage", "环节", colText}, {"date", "日期", colText}, {"operator_code", "主体编码（来源）", colText},
		{"inbound", "进货批次", colJSON}, {"outbound", "出货批次（追溯码）", colJSON},
		{"destination_operator_code", "去向主体编码", colText}, {"market_name", "去向市场", colText}, {"market_kind", "市场类型", colText},
		{"market_region", "市场所在地区", colText}, {"status", "状态", colText}, {"received_quantity", "实收数量", colNumber},
		{"received_at", "收货日期", colText}, {"reason", "原因", colText}, {"note", "备注", colText}, {"override_reason", "超出得率原因", colText},
	},
}

// importOnly are the columns an export leaves empty (personal numbers in clear).
var importOnly = map[string]bool{"id_number": true, "phone": true}

// newRow returns a pointer to a zero row of kind.
func newRow(kind string) any {
	switch kind {
	case KindOperators:
		return &OperatorRow{}
	case KindBatches:
		return &BatchRow{}
	}
	return &EventRow{}
}

// asMap is a row as its JSON object (numbers as float64), for comparison.
func asMap(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	_ = d.Decode(&m)
	return m
}
