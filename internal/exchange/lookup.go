package exchange

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"agtrace/internal/codes"
	"agtrace/internal/operator"
)

// Operator lookups (docs/exchange.md "Sales across provinces"): a province
// node whose seller names a buyer code it does not hold asks the national
// node, over core NATS request–reply on <stream>_RPC.operator, which node
// registered it. The national node answers from the records the provinces
// sent it; nothing is written on either side by a lookup.

// LookupTimeout bounds a province's wait for the national node's answer.
const LookupTimeout = 3 * time.Second

// lookupReply is the national node's answer to a lookup.
type lookupReply struct {
	Found    bool         `json:"found"`
	Node     string       `json:"node,omitempty"`
	Status   string       `json:"status,omitempty"`
	Operator *OperatorRec `json:"operator,omitempty"`
	Error    string       `json:"error,omitempty"`
}

// answerLookups subscribes the national node to lookups (a queue group:
// one replica answers each).
func (n *Node) answerLookups(ctx context.Context, nc *nats.Conn) error {
	sub, err := nc.QueueSubscribe(LookupSubject(n.cfg.Stream), "agtrace-national", func(msg *nats.Msg) {
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		rep := n.lookup(qctx, string(msg.Data))
		b, _ := json.Marshal(rep)
		_ = msg.Respond(b)
	})
	if err != nil {
		return fmt.Errorf("lookup subscription: %w", err)
	}
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
	}()
	return nil
}

// lookup finds an operator code among the records the provinces sent.
func (n *Node) lookup(ctx context.Context, code string) lookupReply {
	if !codes.ValidOperatorCode(code) {
		return lookupReply{Error: "invalid operator code"}
	}
	var node string
	err := n.db.QueryRow(ctx, `SELECT node FROM exchange_records WHERE kind = $1 AND record_key = $2`, kindOperator, code).Scan(&node)
	if errors.Is(err, sql.ErrNoRows) {
		return lookupReply{}
	}
	if err != nil {
		return lookupReply{Error: "lookup failed"}
	}
	var id int64
	if err := n.db.QueryRow(ctx, `SELECT id FROM operators WHERE code = $1`, code).Scan(&id); err != nil {
		return lookupReply{Error: "lookup failed"}
	}
	o, ok, err := readOperator(ctx, n.db, id)
	if err != nil || !ok {
		return lookupReply{Error: "lookup failed"}
	}
	o.Decisions = nil // a counterparty's name and place are enough
	return lookupReply{Found: true, Node: node, Status: o.Status, Operator: &o}
}

// RemoteOperator asks the national node which node registered an operator
// code (trace.Directory, on a province node).
func (n *Node) RemoteOperator(ctx context.Context, code string) (operator.External, string, bool, error) {
	n.mu.Lock()
	nc := n.nc
	n.mu.Unlock()
	if nc == nil {
		return operator.External{}, "", false, errors.New("not connected to NATS")
	}
	ctx, cancel := context.WithTimeout(ctx, LookupTimeout)
	defer cancel()
	msg, err := nc.RequestWithContext(ctx, LookupSubject(n.cfg.Stream), []byte(code))
	if err != nil {
		return operator.External{}, "", false, fmt.Errorf("ask the national node: %w", err)
	}
	var rep lookupReply
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return operator.External{}, "", false, fmt.Errorf("the national node's answer: %w", err)
	}
	if rep.Error != "" {
		return operator.External{}, "", false, errors.New("the national node: " + rep.Error)
	}
	if !rep.Found || rep.Operator == nil || rep.Node == n.cfg.NodeID {
		return operator.External{}, "", false, nil
	}
	o := rep.Operator
	return operator.External{Code: o.Code, Name: o.Name, Kind: o.Kind, Category: o.Category, RegionCode: o.RegionCode,
		CountyCode: o.CountyCode, Address: o.Address, Node: rep.Node}, rep.Status, true, nil
}
