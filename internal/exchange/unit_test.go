package exchange

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"agtrace/internal/codes"
	"agtrace/internal/platform"
)

func TestSubjects(t *testing.T) {
	cases := []struct{ stream, node, topic, want string }{
		{"AGTRACE", "p37", "batch.create", "AGTRACE.p37.batch.create"},
		{"AGTRACE", "p37", "agreement.template.create", "AGTRACE.p37.agreement.template.create"},
		{"AGTRACE", "p37", "", "AGTRACE.p37._"},
		{"AGTRACE", "p37", "a b*>", "AGTRACE.p37.a_b__"},
		{"AGTRACE", "p37", "a..b.", "AGTRACE.p37.a._.b"},
	}
	for _, c := range cases {
		if got := Subject(c.stream, c.node, c.topic); got != c.want {
			t.Errorf("Subject(%q, %q, %q) = %q, want %q", c.stream, c.node, c.topic, got, c.want)
		}
		if got := nodeOfSubject(c.stream, Subject(c.stream, c.node, c.topic)); got != c.node {
			t.Errorf("nodeOfSubject(%q) = %q", c.want, got)
		}
	}
	if got := DeadLetterSubject("S", "p44", "transfer.confirm"); got != "S_DLQ.p44.transfer.confirm" {
		t.Errorf("DeadLetterSubject = %q", got)
	}
	if nodeOfSubject("S", "T.p1.x") != "" {
		t.Error("a subject of another stream has no node")
	}
}

func TestNodeIDs(t *testing.T) {
	for id, ok := range map[string]bool{"p37": true, "national": true, "guang-dong_2": true, "": false, "p.37": false, "p 37": false,
		"p*": false, ">": false, strings.Repeat("x", 33): false, "省": false} {
		if ValidNodeID(id) != ok {
			t.Errorf("ValidNodeID(%q) = %v, want %v", id, !ok, ok)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	cases := []struct {
		name    string
		in      Config
		wantErr string
	}{
		{"zero is standalone", Config{}, ""},
		{"standalone needs no id", Config{Role: RoleStandalone}, ""},
		{"province needs an id", Config{Role: RoleProvince}, "node id"},
		{"bad id", Config{Role: RoleNational, NodeID: "a.b"}, "node id"},
		{"bad stream", Config{Role: RoleProvince, NodeID: "p37", Stream: "A.B"}, "stream"},
		{"unknown role", Config{Role: "county"}, "node role"},
		{"province", Config{Role: RoleProvince, NodeID: "p37"}, ""},
	}
	for _, c := range cases {
		got, err := c.in.withDefaults()
		if c.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			} else if got.Stream != DefaultStream || got.MaxDeliver != DefaultMaxDeliver || got.Window != DefaultWindow || got.Role == "" {
				t.Errorf("%s: defaults not filled: %+v", c.name, got)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: error %v, want one about %s", c.name, err, c.wantErr)
		}
	}
}

func TestPayloadCodes(t *testing.T) {
	a, _ := codes.NewTraceCode(codes.Production, "370686", 1)
	b, _ := codes.NewTraceCode(codes.Circulation, "370686", 2)
	c, _ := codes.NewTraceCode(codes.Production, "440304", 3)
	bad := a[:19] + string('0'+(a[19]-'0'+1)%10)
	payload := `{"from_code":"` + a + `","inputs":[{"code":"` + b + `","quantity":1}],"outputs":["` + c + `"],"note":"` + bad + `","n":12}`
	got := payloadCodes(json.RawMessage(payload))
	if !slices.Equal(got, []string{a, b, c}) {
		t.Errorf("payloadCodes = %v, want %v (not the one with a wrong check digit)", got, []string{a, b, c})
	}
	if payloadCodes(nil) != nil || payloadCodes(json.RawMessage(`not json`)) != nil {
		t.Error("no codes in an empty or broken payload")
	}
}

func TestDelay(t *testing.T) {
	n := &Node{cfg: Config{Backoff: time.Second}}
	for delivered, want := range map[uint64]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 7: time.Minute, 100: time.Minute} {
		if got := n.delay(delivered); got != want {
			t.Errorf("delay(%d) = %s, want %s", delivered, got, want)
		}
	}
}

func TestChunks(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 8, 8: 8, 9: 64, 256: 256, 1000: 256} {
		if got := chunkSize(n); got != want {
			t.Errorf("chunkSize(%d) = %d, want %d", n, got, want)
		}
	}
	if got := inList(2, 3); got != "($2, $3, $4)" {
		t.Errorf("inList = %q", got)
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("数据交换", 4); got != "数" {
		t.Errorf("truncate cut a character: %q", got)
	}
	if got := truncate("abc", 10); got != "abc" {
		t.Errorf("truncate = %q", got)
	}
}

// TestDecode: every malformed or unauthorised message is refused with the
// field named, in Chinese and English.
func TestDecode(t *testing.T) {
	code, _ := codes.NewTraceCode(codes.Production, "370686", 7)
	op, _ := codes.NewOperatorCode(codes.Producer, "370686", 7)
	now := time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)
	good := func() Message {
		return Message{V: 1, Node: "p37", Seq: 7, At: now, Topic: "batch.create", Records: &Records{
			Operators: []OperatorRec{{Code: op, Name: "合作社", Kind: "cooperative", Category: "producer", RegionCode: "370686", CountyCode: "370686",
				Products: "[]", Certifications: "[]", Status: "approved"}},
			Codes: []CodeRec{{Code: code, Type: 1, OperatorCode: op, RegionCode: "370686", ProductCode: "apple", Unit: "kg", QuantityMilli: 1000,
				ProducedOn: "2026-05-01", Attributes: "{}", Source: "record", Moves: []MoveRec{{DeltaMilli: 1000, Kind: "produce", OnDate: "2026-05-01"}}}}}}
	}
	cases := []struct {
		name  string
		edit  func(m *Message)
		raw   string
		field string
	}{
		{"good", func(*Message) {}, "", ""},
		{"not JSON", nil, "{", "body"},
		{"version", func(m *Message) { m.V = 2 }, "", "v"},
		{"another node's message", func(m *Message) { m.Node = "p44" }, "", "node"},
		{"no sequence", func(m *Message) { m.Seq = 0 }, "", "seq"},
		{"no topic", func(m *Message) { m.Topic = "" }, "", "topic"},
		{"bad check digit", func(m *Message) { m.Records.Codes[0].Code = code[:19] + "x" }, "", "records.codes[0].code"},
		{"type differs", func(m *Message) { m.Records.Codes[0].Type = 2 }, "", "records.codes[0].type"},
		{"zero quantity", func(m *Message) { m.Records.Codes[0].QuantityMilli = 0 }, "", "records.codes[0].quantity_milli"},
		{"bad date", func(m *Message) { m.Records.Codes[0].ProducedOn = "2026-13-01" }, "", "records.codes[0].produced_on"},
		{"unknown source", func(m *Message) { m.Records.Codes[0].Source = "magic" }, "", "records.codes[0].source"},
		{"unknown move", func(m *Message) { m.Records.Codes[0].Moves[0].Kind = "teleport" }, "", "records.codes[0].moves[0].kind"},
		{"bad holder", func(m *Message) { m.Records.Codes[0].OperatorCode = "123" }, "", "records.codes[0].operator_code"},
		{"bad attributes", func(m *Message) { m.Records.Codes[0].Attributes = "{" }, "", "records.codes[0].attributes"},
		{"bad edge", func(m *Message) { m.Records.Codes[0].EdgesIn = []EdgeRec{{From: "1", Kind: "transfer"}} }, "", "records.codes[0].edges_in[0].from"},
		{"bad transfer status", func(m *Message) {
			m.Records.Codes[0].Transfer = &TransferRec{FromCode: code, Kind: "operator", SellerCode: op, BuyerCode: op, QuantityMilli: 1, ShippedOn: "2026-05-01", Status: "lost"}
		}, "", "records.codes[0].transfer.status"},
		{"operator status", func(m *Message) { m.Records.Operators[0].Status = "sleeping" }, "", "records.operators[0].status"},
		{"operator code", func(m *Message) { m.Records.Operators[0].Code = "0370686" }, "", "records.operators[0].code"},
		{"operator county", func(m *Message) { m.Records.Operators[0].CountyCode = "37" }, "", "records.operators[0].county_code"},
	}
	for _, c := range cases {
		raw := []byte(c.raw)
		if c.edit != nil {
			m := good()
			c.edit(&m)
			raw, _ = json.Marshal(m)
		}
		_, err := decode(raw, "p37")
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var pe *platform.Error
		if !asPlatform(err, &pe) || pe.Kind != platform.KindInvalid {
			t.Errorf("%s: %v, want a 422 on %s", c.name, err, c.field)
			continue
		}
		if !slices.ContainsFunc(pe.Fields, func(f platform.FieldError) bool { return f.Field == c.field && f.ZH != "" && f.EN != "" }) {
			t.Errorf("%s: fields %+v do not name %s in both languages", c.name, pe.Fields, c.field)
		}
	}
}

func asPlatform(err error, pe **platform.Error) bool {
	e, ok := err.(*platform.Error)
	*pe = e
	return ok
}
