package exchange

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"agtrace/internal/monitoring"
	"agtrace/internal/region"
)

// FormatVersion is the version of the message body (Message.V).
const FormatVersion = 1

// Message is the body of one stream message: one outbox row of the source
// node, plus the records it touched as they stood when the relay read them.
//
// The outbox payload is the event's audit detail (what the service chose to
// say, never personal data in clear); it is not enough to rebuild a record.
// So the relay ships the rows themselves (Records), read by resource type
// and id in the same step that reads the outbox row — one place that knows
// the tables, instead of enriching every tx.Emit call site.
type Message struct {
	V            int             `json:"v"`
	Node         string          `json:"node" doc:"source node id"`
	Seq          int64           `json:"seq" doc:"the source node's outbox id"`
	At           time.Time       `json:"at" doc:"when the source wrote the event"`
	Topic        string          `json:"topic" doc:"the event's action, e.g. batch.create"`
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	Payload      json.RawMessage `json:"payload,omitempty" doc:"the event's detail as the service wrote it"`
	Records      *Records        `json:"records,omitempty" doc:"the rows the event touched, when the national node keeps that kind"`
}

// MsgID is the JetStream de-duplication id of a node's outbox row.
func MsgID(node string, seq int64) string { return fmt.Sprintf("%s:%d", node, seq) }

// Records are the replicated rows of one message. Operators come first:
// every operator a code names (holder, seller, buyer …) is included, so a
// message can be applied on its own once the codes it links from exist.
type Records struct {
	Operators []OperatorRec `json:"operators,omitempty"`
	Codes     []CodeRec     `json:"codes,omitempty"`
	// the province's oversight of them (oversight.go)
	Inspections []InspectionRec `json:"inspections,omitempty"`
	Samples     []SampleRec     `json:"samples,omitempty"`
	// reference data the national node publishes to the province nodes
	Calendar []CalendarRec          `json:"calendar,omitempty" doc:"years of holidays and make-up working days, each whole"`
	Recall   *RecallRec             `json:"recall,omitempty" doc:"a national recall reaching the node's batches"`
	Limit    *monitoring.LimitInput `json:"limit,omitempty" doc:"one residue limit as the national node holds it"`
}

// RecallRec is a recall decided at the national node, as the province
// nodes holding batches in its scope receive it.
type RecallRec struct {
	Number        string         `json:"number"`
	Status        string         `json:"status"`
	Reason        string         `json:"reason"`
	RootCode      string         `json:"root_code"`
	RegionCode    string         `json:"region_code"`
	OpenedAt      time.Time      `json:"opened_at"`
	DecidedBy     string         `json:"decided_by,omitempty"`
	ReleaseReason string         `json:"release_reason,omitempty"`
	Codes         map[string]int `json:"codes" doc:"the scope: trace code → depth from the sampled batch"`
}

// CalendarRec is one year of the national holiday calendar.
type CalendarRec struct {
	Year int `json:"year"`
	region.YearInput
}

// OperatorRec is an operator as the national node keeps it: the registered
// facts with personal numbers only masked (the ciphertexts and keyed hashes
// are the province's and stay there), and its review decisions.
type OperatorRec struct {
	Code              string        `json:"code"`
	Name              string        `json:"name"`
	Kind              string        `json:"kind"`
	Category          string        `json:"category"`
	CreditCode        string        `json:"credit_code,omitempty"`
	IDNumberMasked    string        `json:"id_number_masked,omitempty"`
	LegalRep          string        `json:"legal_rep,omitempty"`
	ContactName       string        `json:"contact_name,omitempty"`
	PhoneMasked       string        `json:"phone_masked,omitempty"`
	RegionCode        string        `json:"region_code"`
	CountyCode        string        `json:"county_code"`
	Address           string        `json:"address,omitempty"`
	Lat               *float64      `json:"lat,omitempty"`
	Lng               *float64      `json:"lng,omitempty"`
	Products          string        `json:"products"`
	AnnualOutput      *float64      `json:"annual_output,omitempty"`
	AnnualOutputUnit  string        `json:"annual_output_unit,omitempty"`
	LeadingEnterprise string        `json:"leading_enterprise,omitempty"`
	DemoCooperative   bool          `json:"demo_cooperative,omitempty"`
	Certifications    string        `json:"certifications"`
	Status            string        `json:"status"`
	StatusReason      string        `json:"status_reason,omitempty"`
	SubmittedAt       *time.Time    `json:"submitted_at,omitempty"`
	ReviewDue         string        `json:"review_due,omitempty"`
	ApprovedAt        *time.Time    `json:"approved_at,omitempty"`
	CreatedAt         time.Time     `json:"created_at"`
	UpdatedAt         time.Time     `json:"updated_at"`
	Decisions         []DecisionRec `json:"decisions,omitempty"`
}

// DecisionRec is one review decision (signed by the source node's key).
type DecisionRec struct {
	Kind      string    `json:"kind"`
	Reason    string    `json:"reason,omitempty"`
	ActorName string    `json:"actor_name,omitempty"`
	At        time.Time `json:"at"`
	Payload   string    `json:"payload,omitempty"`
	Signature string    `json:"signature,omitempty"`
}

// CodeRec is one trace code with everything recorded on it. Operators are
// named by their codes (ids are per node).
type CodeRec struct {
	Code           string             `json:"code"`
	Type           int                `json:"type"`
	OperatorCode   string             `json:"operator_code"`
	RegionCode     string             `json:"region_code"`
	ProductCode    string             `json:"product_code"`
	Unit           string             `json:"unit"`
	QuantityMilli  int64              `json:"quantity_milli"`
	ProducedOn     string             `json:"produced_on"`
	Origin         string             `json:"origin,omitempty"`
	Attributes     string             `json:"attributes"`
	Source         string             `json:"source"`
	ParentCode     string             `json:"parent_code,omitempty"`
	Transformation *TransformationRec `json:"transformation,omitempty"`
	OverrideReason string             `json:"override_reason,omitempty"`
	CreatedAt      time.Time          `json:"created_at"`
	Moves          []MoveRec          `json:"moves"`
	EdgesIn        []EdgeRec          `json:"edges_in,omitempty"`
	Transfer       *TransferRec       `json:"transfer,omitempty"`
	Inputs         []InputRec         `json:"inputs,omitempty"`
	Operations     []OperationRec     `json:"operations,omitempty"`
	Corrections    []CorrectionRec    `json:"corrections,omitempty"`
	Aliases        []AliasRec         `json:"aliases,omitempty"`
	Certificates   []CertificateRec   `json:"certificates,omitempty"`
}

// TransformationRec is the split, merge or transformation that made a code.
type TransformationRec struct {
	SourceID     int64     `json:"source_id"`
	Kind         string    `json:"kind"`
	OperatorCode string    `json:"operator_code"`
	OnDate       string    `json:"on_date"`
	Note         string    `json:"note,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// MoveRec is one stock move of a code.
type MoveRec struct {
	DeltaMilli int64     `json:"delta_milli"`
	Kind       string    `json:"kind"`
	Ref        string    `json:"ref,omitempty"`
	OnDate     string    `json:"on_date"`
	At         time.Time `json:"at"`
}

// EdgeRec is an edge of the trace graph that leads into the code.
type EdgeRec struct {
	From          string `json:"from"`
	Kind          string `json:"kind"`
	QuantityMilli int64  `json:"quantity_milli"`
}

// TransferRec is the sale that issued a circulation or market-entry code.
type TransferRec struct {
	FromCode      string     `json:"from_code"`
	Kind          string     `json:"kind"`
	SellerCode    string     `json:"seller_operator_code"`
	SellerRegion  string     `json:"seller_region"`
	BuyerCode     string     `json:"buyer_operator_code,omitempty"`
	BuyerRegion   string     `json:"buyer_region"`
	MarketName    string     `json:"market_name,omitempty"`
	MarketKind    string     `json:"market_kind,omitempty"`
	QuantityMilli int64      `json:"quantity_milli"`
	Unit          string     `json:"unit"`
	ShippedOn     string     `json:"shipped_on"`
	Status        string     `json:"status"`
	ReceivedMilli *int64     `json:"received_milli,omitempty"`
	RespondedOn   string     `json:"responded_on,omitempty"`
	Reason        string     `json:"reason,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	RespondedAt   *time.Time `json:"responded_at,omitempty"`

	sellerExternal bool // read by the relay: the seller is another node's operator (not sent)
}

// InputRec is an input used on a batch (投入品).
type InputRec struct {
	Kind         string `json:"kind"`
	Name         string `json:"name"`
	RegNo        string `json:"reg_no,omitempty"`
	Dose         string `json:"dose,omitempty"`
	UsedOn       string `json:"used_on"`
	IntervalDays int    `json:"interval_days,omitempty"`
}

// OperationRec is a farming operation (农事操作).
type OperationRec struct {
	Kind        string `json:"kind"`
	Description string `json:"description,omitempty"`
	OnDate      string `json:"on_date"`
}

// CorrectionRec is a later version of a batch's facts.
type CorrectionRec struct {
	Version       int       `json:"version"`
	Corrects      int       `json:"corrects"`
	QuantityMilli int64     `json:"quantity_milli"`
	ProducedOn    string    `json:"produced_on"`
	Origin        string    `json:"origin"`
	Attributes    string    `json:"attributes"`
	Reason        string    `json:"reason"`
	CreatedAt     time.Time `json:"created_at"`
}

// AliasRec is another identifier of the code.
type AliasRec struct {
	Scheme    string    `json:"scheme"`
	Value     string    `json:"value"`
	CreatedAt time.Time `json:"created_at"`
}

// CertificateRec is a compliance certificate (承诺达标合格证) on the code.
type CertificateRec struct {
	Number        string    `json:"number"`
	OperatorCode  string    `json:"operator_code"`
	Basis         string    `json:"basis"`
	TestRef       string    `json:"test_ref,omitempty"`
	QuantityMilli int64     `json:"quantity_milli"`
	Scope         string    `json:"scope"`
	VehiclePlate  string    `json:"vehicle_plate,omitempty"`
	IssuedOn      string    `json:"issued_on"`
	ShowContact   bool      `json:"show_contact,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

// A node id is one subject token: letters, digits, '-' and '_'.
var nodeIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// ValidNodeID reports whether id can name a node (and a subject token).
func ValidNodeID(id string) bool { return nodeIDPattern.MatchString(id) }

// ValidStreamName reports whether name can name a stream (and the first
// token of its subjects).
func ValidStreamName(name string) bool { return nodeIDPattern.MatchString(name) }

// Subject is where a node publishes an event: <stream>.<node>.<topic>.
func Subject(stream, node, topic string) string {
	return stream + "." + node + "." + subjectTopic(topic)
}

// DeadLetterSubject is where a parked message is copied, with its error.
func DeadLetterSubject(stream, node, topic string) string {
	return DeadLetterStream(stream) + "." + node + "." + subjectTopic(topic)
}

// DeadLetterStream names the stream that keeps a stream's parked messages.
func DeadLetterStream(stream string) string { return stream + "_DLQ" }

// subjectTopic makes an event action safe as subject tokens (actions are
// dotted words already; anything else becomes '_').
func subjectTopic(topic string) string {
	if topic == "" {
		return "_"
	}
	b := []byte(topic)
	for i, c := range b {
		if c == ' ' || c == '*' || c == '>' || c < 0x21 || c > 0x7e {
			b[i] = '_'
		}
	}
	return strings.Trim(strings.ReplaceAll(string(b), "..", "._."), ".")
}

// nodeOfSubject returns the node token of a stream subject ("" if none).
func nodeOfSubject(stream, subject string) string {
	rest, ok := strings.CutPrefix(subject, stream+".")
	if !ok {
		return ""
	}
	node, _, _ := strings.Cut(rest, ".")
	return node
}

// DownStream names the stream of messages from the national node to the
// province nodes (routed sales and answers): subjects
// <stream>_DOWN.<target node>.<topic>.
func DownStream(stream string) string { return stream + "_DOWN" }

// DownSubject is where the national node sends a message to one province node.
func DownSubject(stream, target, topic string) string {
	return DownStream(stream) + "." + target + "." + subjectTopic(topic)
}

// LookupSubject is the request subject on which the national node answers
// "which node's operator is this code?" (core NATS request–reply).
func LookupSubject(stream string) string { return stream + "_RPC.operator" }

// targetOfSubject returns the target node token of a down-stream subject.
func targetOfSubject(stream, subject string) string {
	return nodeOfSubject(DownStream(stream), subject)
}
