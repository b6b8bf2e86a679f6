package exchange_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/exchange"
)

// poison builds a message of node pa whose records are an operator of
// 栖霞 (unless noOperator) and one batch of it.
func poison(t *testing.T, seq int64, serial int64, product string, noOperator bool) (exchange.Message, string, string) {
	t.Helper()
	op, err := codes.NewOperatorCode(codes.Producer, "370686", serial)
	if err != nil {
		t.Fatal(err)
	}
	code, err := codes.NewTraceCode(codes.Production, "370686", serial)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	m := exchange.Message{V: exchange.FormatVersion, Node: "pa", Seq: seq, At: now, Topic: "batch.create", ResourceType: "trace_code", ResourceID: code,
		Records: &exchange.Records{Codes: []exchange.CodeRec{{Code: code, Type: 1, OperatorCode: op, RegionCode: "370686", ProductCode: product,
			Unit: "kg", QuantityMilli: 5000, ProducedOn: now.Format(time.DateOnly), Attributes: "{}", Source: "record", CreatedAt: now,
			Moves: []exchange.MoveRec{{DeltaMilli: 5000, Kind: "produce", OnDate: now.Format(time.DateOnly), At: now}}}}}}
	if !noOperator {
		m.Records.Operators = []exchange.OperatorRec{operatorRec(op, now)}
	}
	return m, op, code
}

func operatorRec(code string, now time.Time) exchange.OperatorRec {
	return exchange.OperatorRec{Code: code, Name: "测试合作社", Kind: "cooperative", Category: "producer", RegionCode: "370686",
		CountyCode: "370686", Products: "[]", Certifications: "[]", Status: "approved", CreatedAt: now, UpdatedAt: now}
}

func publish(t *testing.T, js jetstream.JetStream, stream string, m any, node string, seq int64) {
	t.Helper()
	var body []byte
	switch b := m.(type) {
	case string:
		body = []byte(b)
	default:
		var err error
		if body, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := js.Publish(context.Background(), exchange.Subject(stream, node, "batch.create"), body, jetstream.WithMsgID(exchange.MsgID(node, seq))); err != nil {
		t.Fatal(err)
	}
}

// TestPoisonIsParked: messages that fail validation are delivered
// MaxDeliver times, then copied to the dead-letter stream and parked with
// their error, nothing of them written; the messages behind them are
// applied meanwhile. An administrator retries one: 422 naming the field
// while it is still wrong, applied once its operator arrived, 409 after;
// 404 for an unknown one; others may not.
func TestPoisonIsParked(t *testing.T) {
	url := natsURL(t)
	apptest.ForEachEngine(t, func(t *testing.T, nat *app.App) {
		stream := testStream(t, url)
		startNode(t, nat, exchange.Config{Role: exchange.RoleNational, NodeID: "national", NATSURL: url, Stream: stream, MaxDeliver: 2})
		_, adm := admin(t, nat, "exchange-admin")
		js := jsOf(t, url)

		publish(t, js, stream, "{not json", "pa", 900)
		unknownOp, op1, code1 := poison(t, 901, 901, "apple", true)
		publish(t, js, stream, unknownOp, "pa", 901)
		badProduct, op2, _ := poison(t, 902, 902, "no_such_product", false)
		publish(t, js, stream, badProduct, "pa", 902)
		claimsOther, _, _ := poison(t, 903, 903, "apple", false)
		claimsOther.Node = "pb" // published on pa's subject
		publish(t, js, stream, claimsOther, "pa", 903)
		good, op4, code4 := poison(t, 904, 904, "apple", false)
		publish(t, js, stream, good, "pa", 904)

		eventually(t, 20*time.Second, "four parked, the good one applied", func() (bool, string) {
			p := count(t, nat.DB, `SELECT COUNT(*) FROM exchange_parked WHERE status = 'parked'`)
			g := count(t, nat.DB, `SELECT COUNT(*) FROM trace_codes WHERE code = $1`, code4)
			return p == 4 && g == 1, fmt.Sprintf("parked %d, good %d", p, g)
		})
		if n := count(t, nat.DB, `SELECT COUNT(*) FROM operators WHERE code = $1 OR code = $2`, op1, op2); n != 0 {
			t.Fatalf("a refused message left %d operators behind", n)
		}
		if n := count(t, nat.DB, `SELECT COUNT(*) FROM operators WHERE code = $1`, op4); n != 1 {
			t.Fatalf("the good message's operator: %d rows", n)
		}
		if n := streamMsgs(t, js, exchange.DeadLetterStream(stream)); n != 4 {
			t.Fatalf("dead-letter stream holds %d messages, want 4", n)
		}

		st := adm.Do("GET", "/api/v1/exchange/status", nil).Expect(t, http.StatusOK)
		if st.Get("parked") != float64(4) || st.Str("role") != "national" || st.Get("consumer.lag_messages") != float64(0) {
			t.Fatalf("status: %s", st.Body)
		}
		list := adm.Do("GET", "/api/v1/exchange/parked", nil).Expect(t, http.StatusOK)
		items, _ := list.Get("items").([]any)
		if len(items) != 4 {
			t.Fatalf("parked list: %s", list.Body)
		}
		id := parkedID(t, nat, 901)
		if e := count(t, nat.DB, `SELECT deliveries FROM exchange_parked WHERE id = $1`, id); e != 2 {
			t.Fatalf("parked after %d deliveries, want 2", e)
		}

		// the administrators' page lists them with a retry each; a retry
		// that is still refused comes back on the message's page with the field
		page := adm.Do("GET", "/admin/exchange", nil).Expect(t, http.StatusOK)
		for _, want := range []string{"数据交换", "国家节点", fmt.Sprintf("/admin/exchange/parked/%d/retry", parkedID(t, nat, 902)), "records.codes[0].product_code"} {
			if !strings.Contains(string(page.Body), want) {
				t.Fatalf("/admin/exchange lacks %q", want)
			}
		}
		one := adm.Do("GET", fmt.Sprintf("/admin/exchange/parked/%d", parkedID(t, nat, 902)), nil).Expect(t, http.StatusOK)
		if !strings.Contains(string(one.Body), "no_such_product") {
			t.Fatalf("the parked message's page does not show its body")
		}
		form := adm.Do("POST", fmt.Sprintf("/admin/exchange/parked/%d/retry", parkedID(t, nat, 902)), nil).Expect(t, http.StatusUnprocessableEntity)
		if !strings.Contains(string(form.Body), "records.codes[0].product_code") {
			t.Fatalf("a refused retry on the page does not name the field")
		}

		// still wrong: 422 naming the field, the attempt recorded
		r := adm.Do("POST", fmt.Sprintf("/api/v1/exchange/parked/%d/retry", id), nil).Expect(t, http.StatusUnprocessableEntity)
		if !strings.Contains(string(r.Body), "records.codes[0].operator_code") {
			t.Fatalf("422 does not name the field: %s", r.Body)
		}
		if n := count(t, nat.DB, `SELECT retries FROM exchange_parked WHERE id = $1 AND status = 'parked'`, id); n != 1 {
			t.Fatalf("refused retry not recorded: retries %d", n)
		}
		// its operator arrives; the retry applies it
		opMsg := exchange.Message{V: 1, Node: "pa", Seq: 905, At: time.Now(), Topic: "operator.approve", ResourceType: "operator", ResourceID: "1",
			Records: &exchange.Records{Operators: []exchange.OperatorRec{operatorRec(op1, time.Now().UTC())}}}
		publish(t, js, stream, opMsg, "pa", 905)
		eventually(t, 10*time.Second, "operator applied", func() (bool, string) {
			return count(t, nat.DB, `SELECT COUNT(*) FROM operators WHERE code = $1`, op1) == 1, ""
		})
		r = adm.Do("POST", fmt.Sprintf("/api/v1/exchange/parked/%d/retry", id), nil).Expect(t, http.StatusOK)
		if r.Str("outcome") != exchange.OutcomeApplied || r.Str("parked.status") != exchange.AppliedStatus {
			t.Fatalf("retry: %s", r.Body)
		}
		if n := count(t, nat.DB, `SELECT COUNT(*) FROM trace_codes WHERE code = $1`, code1); n != 1 {
			t.Fatal("the retried batch is not there")
		}
		adm.Do("POST", fmt.Sprintf("/api/v1/exchange/parked/%d/retry", id), nil).Expect(t, http.StatusConflict)
		// two administrators retry the same message at once: one applies it, the other gets 409
		race, op6, code6 := poison(t, 906, 906, "apple", true)
		publish(t, js, stream, race, "pa", 906)
		eventually(t, 10*time.Second, "parked again", func() (bool, string) {
			return count(t, nat.DB, `SELECT COUNT(*) FROM exchange_parked WHERE node = 'pa' AND seq = 906`) == 1, ""
		})
		publish(t, js, stream, exchange.Message{V: 1, Node: "pa", Seq: 907, At: time.Now(), Topic: "operator.approve", ResourceType: "operator", ResourceID: "2",
			Records: &exchange.Records{Operators: []exchange.OperatorRec{operatorRec(op6, time.Now().UTC())}}}, "pa", 907)
		eventually(t, 10*time.Second, "its operator applied", func() (bool, string) {
			return count(t, nat.DB, `SELECT COUNT(*) FROM operators WHERE code = $1`, op6) == 1, ""
		})
		statuses := make(chan int, 2)
		for range 2 {
			go func() {
				statuses <- adm.Do("POST", fmt.Sprintf("/api/v1/exchange/parked/%d/retry", parkedID(t, nat, 906)), nil).Status
			}()
		}
		got := []int{<-statuses, <-statuses}
		slices.Sort(got)
		if !slices.Equal(got, []int{http.StatusOK, http.StatusConflict}) {
			t.Fatalf("concurrent retries answered %v, want one 200 and one 409", got)
		}
		if n := count(t, nat.DB, `SELECT COUNT(*) FROM stock_moves WHERE code = $1`, code6); n != 1 {
			t.Fatalf("the raced message's batch has %d stock moves, want 1", n)
		}
		adm.Do("POST", "/api/v1/exchange/parked/999999/retry", nil).Expect(t, http.StatusNotFound)
		adm.Do("POST", "/api/v1/exchange/parked/abc/retry", nil).Expect(t, http.StatusNotFound)

		// only administrators
		if _, err := nat.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: "sd-supervisor", Password: apptest.OperatorPassword,
			Name: "山东省监管", Role: string(auth.RoleSupervisor), RegionCode: "370000"}); err != nil {
			t.Fatal(err)
		}
		sup := apptest.NewClient(t, apptest.Server(t, nat)).Login("sd-supervisor", apptest.OperatorPassword)
		sup.Do("GET", "/api/v1/exchange/status", nil).Expect(t, http.StatusNotFound)
		sup.Do("GET", "/api/v1/exchange/parked", nil).Expect(t, http.StatusNotFound)
		sup.Do("POST", fmt.Sprintf("/api/v1/exchange/parked/%d/retry", parkedID(t, nat, 902)), nil).Expect(t, http.StatusForbidden)
		apptest.NewClient(t, apptest.Server(t, nat)).Do("GET", "/api/v1/exchange/status", nil).Expect(t, http.StatusUnauthorized)
	})
}

func parkedID(t *testing.T, a *app.App, seq int64) int64 {
	t.Helper()
	return count(t, a.DB, `SELECT id FROM exchange_parked WHERE node = 'pa' AND seq = $1`, seq)
}

func streamMsgs(t *testing.T, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}
