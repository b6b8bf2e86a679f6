package exchange

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// What a replicated record may hold: the enumerations of the source's tables.
var (
	codeSources    = []string{trace.SourceRecord, trace.SourceSmallholder, "split", "merge", "transform", "transfer", "market"}
	moveKinds      = []string{"produce", "receive", "ship", "return", "consume", "adjust"}
	edgeKinds      = []string{"transfer", "split", "merge", "transform"}
	transferKinds  = []string{"operator", "market"}
	transferStates = []string{"pending", "confirmed", "rejected", "withdrawn", "issued", "accepted"}
)

// anyNode, as decode's subjectNode, takes the body's node as it is (the
// down stream's subjects name the target node, not the source).
const anyNode = "*"

// decode parses a stream message's body and checks what can be checked
// without the database: the envelope (format version, node, sequence) and
// every record's codes, enumerations, quantities and dates. subjectNode is
// the node token of the subject it arrived on; a body that claims another
// node is refused (a node publishes only its own records).
func decode(body []byte, subjectNode string) (Message, error) {
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		return m, platform.Invalid(platform.FieldError{Field: "body", Code: "json",
			ZH: "消息不是有效的 JSON：" + err.Error(), EN: "the message is not valid JSON: " + err.Error()})
	}
	var v platform.Validator
	v.Check(m.V == FormatVersion, "v", "version", fmt.Sprintf("消息格式版本应为 %d", FormatVersion), fmt.Sprintf("message format version must be %d", FormatVersion))
	if v.Check(ValidNodeID(m.Node), "node", "format", "节点标识无效", "invalid node id") && subjectNode != anyNode {
		v.Check(m.Node == subjectNode, "node", "subject", "消息声明的节点与主题中的节点（"+subjectNode+"）不符",
			"the node the message claims differs from its subject's node ("+subjectNode+")")
	}
	v.Check(m.Seq > 0, "seq", "required", "缺少源节点事件序号", "the source event sequence is missing")
	v.Require("topic", m.Topic)
	if m.Records != nil {
		for i, o := range m.Records.Operators {
			checkOperator(&v, fmt.Sprintf("records.operators[%d]", i), o)
		}
		for i, c := range m.Records.Codes {
			checkCode(&v, fmt.Sprintf("records.codes[%d]", i), c)
		}
		for i, x := range m.Records.Inspections {
			f := fmt.Sprintf("records.inspections[%d]", i)
			v.Require(f+".number", x.Number)
			v.Check(codes.ValidOperatorCode(x.OperatorCode), f+".operator_code", "format", "主体代码无效", "invalid operator code")
			v.OneOf(f+".kind", x.Kind, "site", "enforcement")
			v.OneOf(f+".result", x.Result, "pass", "rectify", "violation")
			v.Check(json.Valid([]byte(x.Checklist)), f+".checklist", "json", "检查项应为 JSON", "the checklist must be JSON")
			checkDay(&v, f+".on_date", x.OnDate)
			for j, c := range x.Batches {
				v.Check(codes.ValidTraceCode(c), fmt.Sprintf("%s.batches[%d]", f, j), "format", "追溯码无效", "invalid trace code")
			}
		}
		for i, x := range m.Records.Samples {
			f := fmt.Sprintf("records.samples[%d]", i)
			v.Require(f+".sample_no", x.SampleNo)
			v.Check(codes.ValidOperatorCode(x.OperatorCode), f+".operator_code", "format", "主体代码无效", "invalid operator code")
			v.Check(codes.ValidTraceCode(x.BatchCode), f+".batch_code", "format", "追溯码无效", "invalid trace code")
			v.OneOf(f+".kind", x.Kind, "lab", "quick")
			v.OneOf(f+".verdict", x.Verdict, "pass", "fail", "not_judged", "positive", "negative")
			checkDay(&v, f+".sampled_on", x.SampledOn)
			for j, it := range x.Items {
				v.Require(fmt.Sprintf("%s.items[%d].substance", f, j), it.Substance)
				v.Require(fmt.Sprintf("%s.items[%d].verdict", f, j), it.Verdict)
			}
		}
	}
	return m, v.Err()
}

func checkOperator(v *platform.Validator, f string, o OperatorRec) {
	v.Check(codes.ValidOperatorCode(o.Code), f+".code", "format", "主体代码无效", "invalid operator code")
	v.Require(f+".name", o.Name)
	v.Require(f+".kind", o.Kind)
	v.Require(f+".category", o.Category)
	v.Check(codes.ValidCounty(o.CountyCode), f+".county_code", "format", "县级区划代码无效", "invalid county code")
	v.Require(f+".region_code", o.RegionCode)
	v.OneOf(f+".status", o.Status, operator.Statuses...)
	v.Check(json.Valid([]byte(o.Products)), f+".products", "json", "经营产品应为 JSON", "products must be JSON")
	v.Check(json.Valid([]byte(o.Certifications)), f+".certifications", "json", "认证信息应为 JSON", "certifications must be JSON")
}

func checkCode(v *platform.Validator, f string, c CodeRec) {
	tc, err := codes.ParseTraceCode(c.Code)
	if !v.Check(err == nil, f+".code", "format", "追溯码无效（格式或校验位）", "invalid trace code (format or check digit)") {
		return
	}
	v.Check(int(tc.Type) == c.Type, f+".type", "mismatch", "码类型与追溯码首位不符", "type differs from the code's first digit")
	v.Check(codes.ValidOperatorCode(c.OperatorCode), f+".operator_code", "format", "持有主体代码无效", "invalid holder operator code")
	v.Require(f+".region_code", c.RegionCode)
	v.Require(f+".product_code", c.ProductCode)
	v.Require(f+".unit", c.Unit)
	v.Check(c.QuantityMilli > 0, f+".quantity_milli", "positive", "数量应大于 0", "quantity must be positive")
	checkDay(v, f+".produced_on", c.ProducedOn)
	v.OneOf(f+".source", c.Source, codeSources...)
	v.Check(json.Valid([]byte(c.Attributes)), f+".attributes", "json", "扩展属性应为 JSON", "attributes must be JSON")
	if x := c.Transformation; x != nil {
		v.Check(x.SourceID > 0, f+".transformation.source_id", "required", "缺少加工记录序号", "the transformation's id is missing")
		v.Check(codes.ValidOperatorCode(x.OperatorCode), f+".transformation.operator_code", "format", "加工主体代码无效", "invalid operator code")
		v.OneOf(f+".transformation.kind", x.Kind, "split", "merge", "transform")
	}
	for i, m := range c.Moves {
		v.OneOf(fmt.Sprintf("%s.moves[%d].kind", f, i), m.Kind, moveKinds...)
		checkDay(v, fmt.Sprintf("%s.moves[%d].on_date", f, i), m.OnDate)
	}
	for i, e := range c.EdgesIn {
		v.Check(codes.ValidTraceCode(e.From), fmt.Sprintf("%s.edges_in[%d].from", f, i), "format", "上游追溯码无效", "invalid upstream trace code")
		v.OneOf(fmt.Sprintf("%s.edges_in[%d].kind", f, i), e.Kind, edgeKinds...)
	}
	if t := c.Transfer; t != nil {
		v.Check(codes.ValidTraceCode(t.FromCode), f+".transfer.from_code", "format", "来源追溯码无效", "invalid source trace code")
		v.OneOf(f+".transfer.kind", t.Kind, transferKinds...)
		v.OneOf(f+".transfer.status", t.Status, transferStates...)
		v.Check(codes.ValidOperatorCode(t.SellerCode), f+".transfer.seller_operator_code", "format", "卖方主体代码无效", "invalid seller operator code")
		if t.Kind == "operator" {
			v.Check(codes.ValidOperatorCode(t.BuyerCode), f+".transfer.buyer_operator_code", "format", "买方主体代码无效", "invalid buyer operator code")
		}
		v.Check(t.QuantityMilli > 0, f+".transfer.quantity_milli", "positive", "数量应大于 0", "quantity must be positive")
		checkDay(v, f+".transfer.shipped_on", t.ShippedOn)
	}
	for i, k := range c.Certificates {
		v.Require(fmt.Sprintf("%s.certificates[%d].number", f, i), k.Number)
		v.Check(codes.ValidOperatorCode(k.OperatorCode), fmt.Sprintf("%s.certificates[%d].operator_code", f, i), "format", "开具主体代码无效", "invalid operator code")
	}
	for i, a := range c.Aliases {
		v.OneOf(fmt.Sprintf("%s.aliases[%d].scheme", f, i), a.Scheme, trace.AliasSchemes...)
		v.Require(fmt.Sprintf("%s.aliases[%d].value", f, i), a.Value)
	}
}

func checkDay(v *platform.Validator, field, s string) {
	_, err := time.Parse(time.DateOnly, s)
	v.Check(err == nil, field, "format.date", "日期应为 YYYY-MM-DD", "date must be YYYY-MM-DD")
}

// oneOf reports whether s is one of list (for callers outside a Validator).
func oneOf(s string, list []string) bool { return slices.Contains(list, s) }
