package exchange

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"agtrace/internal/auth"
)

// Status is where a node stands in the exchange.
type Status struct {
	Role      string          `json:"role" doc:"standalone | province | national"`
	Node      string          `json:"node,omitempty"`
	Stream    string          `json:"stream,omitempty"`
	NATS      string          `json:"nats,omitempty" doc:"the NATS server (credentials removed); embedded when the node runs its own"`
	Embedded  bool            `json:"embedded"`
	Connected bool            `json:"connected"`
	State     *StreamState    `json:"stream_state,omitempty"`
	Relay     *RelayStatus    `json:"relay,omitempty" doc:"the outbox → stream relay (province: every event; national: the sales it routes between provinces)"`
	Consumer  *ConsumerStatus `json:"consumer,omitempty" doc:"the stream → database apply loop (national: the provinces' stream; province: what the national node routed to it)"`
	Parked    int64           `json:"parked" doc:"messages waiting in exchange_parked"`
	Applied   int64           `json:"applied" doc:"messages applied from other nodes"`
	Error     string          `json:"error,omitempty" doc:"the last error of the relay or apply loop"`
	ErrorAt   *time.Time      `json:"error_at,omitempty"`
}

// StreamState is the stream's own position.
type StreamState struct {
	Messages uint64     `json:"messages"`
	Bytes    uint64     `json:"bytes"`
	FirstSeq uint64     `json:"first_seq"`
	LastSeq  uint64     `json:"last_seq" doc:"last published sequence"`
	LastAt   *time.Time `json:"last_at,omitempty"`
}

// RelayStatus is the relay's position.
type RelayStatus struct {
	Leader          bool       `json:"leader" doc:"this process holds the node's relay lease"`
	Pending         int64      `json:"pending" doc:"outbox rows not yet acknowledged by the stream (lag in messages)"`
	OldestPendingAt *time.Time `json:"oldest_pending_at,omitempty"`
	LagSeconds      float64    `json:"lag_seconds" doc:"age of the oldest unpublished outbox row"`
	LastOutboxID    int64      `json:"last_outbox_id" doc:"the last outbox id acknowledged by this process"`
	LastStreamSeq   uint64     `json:"last_stream_seq" doc:"its stream sequence"`
	Published       int64      `json:"published" doc:"rows acknowledged since this process started"`
}

// ConsumerStatus is the apply loop's position.
type ConsumerStatus struct {
	Name        string  `json:"name"`
	Stream      string  `json:"stream" doc:"the stream it applies from"`
	Leader      bool    `json:"leader" doc:"this process holds the node's apply lease"`
	Delivered   uint64  `json:"delivered_seq" doc:"the last stream sequence delivered"`
	AckFloor    uint64  `json:"ack_floor" doc:"every message up to this stream sequence is acknowledged"`
	Pending     uint64  `json:"pending" doc:"messages not yet delivered"`
	AckPending  int     `json:"ack_pending" doc:"delivered, not yet acknowledged (in flight or waiting for redelivery)"`
	Redelivered int     `json:"redelivered"`
	LagMessages uint64  `json:"lag_messages" doc:"pending + ack_pending"`
	LagSeconds  float64 `json:"lag_seconds" doc:"age of the oldest message not yet acknowledged"`
}

// Status reports the node's position; the stream's part is left out when
// NATS does not answer (connected false).
func (n *Node) Status(ctx context.Context, actor *auth.Actor) (Status, error) {
	if err := auth.Authorize(actor, auth.ActExchangeStatus, auth.Resource{}); err != nil {
		return Status{}, err
	}
	st := Status{Role: string(n.cfg.Role)}
	if err := n.db.QueryRow(ctx, `SELECT COUNT(*) FROM exchange_parked WHERE status = $1`, ParkedStatus).Scan(&st.Parked); err != nil {
		return st, err
	}
	if !n.cfg.NeedsNATS() {
		return st, nil
	}
	st.Node, st.Stream, st.Embedded = n.cfg.NodeID, n.cfg.Stream, n.cfg.NATSURL == ""
	now := n.clock.Now()
	n.mu.Lock()
	nc, js := n.nc, n.js
	n.mu.Unlock()
	if nc != nil {
		st.NATS, st.Connected = redact(nc.ConnectedUrlRedacted()), nc.IsConnected()
	}
	// both roles relay (a province its events, the national node its
	// routes) and apply (the national node the stream, a province its
	// part of the down stream)
	if err := n.relayStatus(ctx, &st, now); err != nil {
		return st, err
	}
	if err := n.db.QueryRow(ctx, `SELECT COUNT(*) FROM exchange_applied`).Scan(&st.Applied); err != nil {
		return st, err
	}
	n.consumer.mu.Lock()
	in, _ := n.inStream()
	st.Consumer = &ConsumerStatus{Name: ConsumerName(n.cfg.NodeID), Stream: in, Leader: n.consumer.leader}
	if st.Error == "" || n.consumer.lastErrAt.After(n.relay.lastErrAt) {
		st.Error, st.ErrorAt = n.consumer.lastErr, timeOrNil(n.consumer.lastErrAt)
	}
	n.consumer.mu.Unlock()
	if st.Connected && js != nil {
		n.streamStatus(ctx, js, &st, now)
	}
	return st, nil
}

// relayStatus fills in the relay's part from the outbox and the loop.
func (n *Node) relayStatus(ctx context.Context, st *Status, now time.Time) error {
	r := &RelayStatus{}
	if err := n.db.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE published_at IS NULL`).Scan(&r.Pending); err != nil {
		return err
	}
	if r.Pending > 0 {
		// the oldest row itself (an aggregate's MIN(at) loses the column's
		// type on SQLite and reads as text)
		var oldest time.Time
		err := n.db.QueryRow(ctx, `SELECT at FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 1`).Scan(&oldest)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil {
			r.OldestPendingAt, r.LagSeconds = &oldest, now.Sub(oldest).Seconds()
		}
	}
	n.relay.mu.Lock()
	r.Leader, r.LastOutboxID, r.LastStreamSeq, r.Published = n.relay.leader, n.relay.lastID, n.relay.lastSeq, n.relay.published
	st.Error, st.ErrorAt = n.relay.lastErr, timeOrNil(n.relay.lastErrAt)
	n.relay.mu.Unlock()
	st.Relay = r
	return nil
}

// streamStatus asks the server for the stream's and the consumer's state
// (a short deadline: the status page must answer when NATS is slow).
func (n *Node) streamStatus(ctx context.Context, js jetstream.JetStream, st *Status, now time.Time) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, n.cfg.Stream)
	if err != nil {
		return
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return
	}
	s := info.State
	st.State = &StreamState{Messages: s.Msgs, Bytes: s.Bytes, FirstSeq: s.FirstSeq, LastSeq: s.LastSeq, LastAt: timeOrNil(s.LastTime)}
	if st.Consumer == nil {
		return
	}
	if st.Consumer.Stream != n.cfg.Stream { // a province applies from the down stream
		if stream, err = js.Stream(ctx, st.Consumer.Stream); err != nil {
			return
		}
		if info, err = stream.Info(ctx); err != nil {
			return
		}
		s = info.State
	}
	cons, err := stream.Consumer(ctx, st.Consumer.Name)
	if err != nil {
		return
	}
	ci, err := cons.Info(ctx)
	if err != nil {
		return
	}
	c := st.Consumer
	c.Delivered, c.AckFloor, c.Pending = ci.Delivered.Stream, ci.AckFloor.Stream, ci.NumPending
	c.AckPending, c.Redelivered = ci.NumAckPending, ci.NumRedelivered
	c.LagMessages = c.Pending + uint64(c.AckPending)
	if c.LagMessages > 0 && c.AckFloor < s.LastSeq {
		// the oldest message not yet acknowledged follows the ack floor
		if m, err := stream.GetMsg(ctx, max(c.AckFloor+1, s.FirstSeq)); err == nil {
			c.LagSeconds = max(0, now.Sub(m.Time).Seconds())
		}
	}
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
