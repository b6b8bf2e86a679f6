package exchange

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"agtrace/internal/platform"
)

// The relay (province role): it reads the outbox rows not yet published,
// in id order, publishes each as one message with Nats-Msg-Id <node>:<id>,
// and marks a row published only after the stream acknowledged it. A crash
// between the acknowledgement and the mark publishes the row again: within
// the stream's de-duplication window JetStream drops it, after it the
// national node finds (node, seq) already applied. Reading "published_at IS
// NULL" rather than "id > last" also covers a lower id whose transaction
// committed after a higher one (PostgreSQL sequences are not commit order).

// relayState is what the status page shows of the relay.
type relayState struct {
	mu        sync.Mutex
	leader    bool
	published int64
	lastID    int64
	lastSeq   uint64
	lastErr   string
	lastErrAt time.Time
}

func (s *relayState) note(f func(s *relayState)) {
	s.mu.Lock()
	f(s)
	s.mu.Unlock()
}

// relayLoop relays while ctx lasts, holding the node's relay lease.
func (n *Node) relayLoop(ctx context.Context) {
	var streamsReady bool
	var leaseAt time.Time
	backoff := time.Second
	for ctx.Err() == nil {
		if time.Since(leaseAt) > n.cfg.Lease/3 {
			held := n.holdLease(ctx, "relay")
			n.relay.note(func(s *relayState) { s.leader = held })
			if !held {
				sleep(ctx, n.cfg.Lease/3)
				continue
			}
			leaseAt = time.Now()
		}
		js := n.jetStream()
		var sent int
		err := func() error {
			if !streamsReady {
				// the national side owns the stream; a province whose
				// credentials may only publish goes on without creating it
				if err := n.ensureStreams(ctx, js); err != nil {
					n.log.Warn("relay: stream not created here (publishing anyway)", "err", err)
				}
				streamsReady = true
			}
			var err error
			sent, err = n.relayOnce(ctx, js)
			return err
		}()
		if err != nil && ctx.Err() == nil {
			n.log.Warn("relay", "err", err)
			n.relay.note(func(s *relayState) { s.lastErr, s.lastErrAt = err.Error(), n.clock.Now() })
			sleep(ctx, backoff)
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = time.Second
		if sent == 0 {
			sleep(ctx, n.cfg.Poll)
		}
	}
}

// relayOnce publishes up to Window unpublished outbox rows and marks those
// the stream acknowledged; it returns how many it marked.
func (n *Node) relayOnce(ctx context.Context, js jetstream.JetStream) (int, error) {
	rows, err := list(ctx, n.db, func(rs *sql.Rows) (r outboxRow, err error) {
		return r, rs.Scan(&r.ID, &r.At, &r.Topic, &r.ResourceType, &r.ResourceID, &r.Payload)
	}, `SELECT id, at, topic, resource_type, resource_id, payload FROM outbox
		WHERE published_at IS NULL ORDER BY id LIMIT $1`, n.cfg.Window)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	type inflight struct {
		id   int64
		last bool // the row's last message (a row is marked when all of its messages are acknowledged)
		ack  jetstream.PubAckFuture
	}
	var sent []inflight
	var pubErr error
	var acked []int64
rows:
	for _, row := range rows {
		outs, err := n.outgoing(ctx, row)
		if err != nil {
			pubErr = err
			break
		}
		if len(outs) == 0 { // nothing to send for this row (the national node sends only some)
			if len(sent) == 0 {
				acked = append(acked, row.ID)
				continue
			}
			// marked with the rows before it only once those are acknowledged
			sent = append(sent, inflight{row.ID, true, nil})
			continue
		}
		for i, o := range outs {
			body, err := json.Marshal(o.m)
			if err != nil {
				pubErr = fmt.Errorf("outbox %d: %w", row.ID, err)
				break rows
			}
			msg := &nats.Msg{Subject: o.subject, Data: body, Header: nats.Header{}}
			f, err := js.PublishMsgAsync(msg, jetstream.WithMsgID(o.id), jetstream.WithExpectStream(o.stream))
			if err != nil {
				pubErr = err
				break rows
			}
			sent = append(sent, inflight{row.ID, i == len(outs)-1, f})
		}
	}
	var lastSeq uint64
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	failed := map[int64]bool{} // rows one of whose messages was refused
wait:
	for _, s := range sent {
		if s.ack == nil {
			acked = append(acked, s.id)
			continue
		}
		select {
		case a := <-s.ack.Ok():
			if s.last && !failed[s.id] {
				acked = append(acked, s.id)
			}
			lastSeq = max(lastSeq, a.Sequence)
		case err := <-s.ack.Err():
			failed[s.id] = true
			if pubErr == nil {
				pubErr = err
			}
		case <-timeout.C:
			if pubErr == nil {
				pubErr = fmt.Errorf("no acknowledgement from the stream within 30 s")
			}
			break wait
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if err := n.markPublished(ctx, acked); err != nil {
		return 0, err
	}
	if len(acked) > 0 {
		n.relay.note(func(s *relayState) {
			s.published += int64(len(acked))
			s.lastID = max(s.lastID, acked[len(acked)-1])
			s.lastSeq = max(s.lastSeq, lastSeq)
		})
	}
	return len(acked), pubErr
}

// out is one message the relay sends for an outbox row.
type out struct {
	stream, subject, id string // id: the de-duplication id
	m                   Message
}

// outgoing is what the relay sends for row: a province node sends every
// row to its subject of the stream; the national node sends to the
// province nodes' subjects of the down stream only what concerns them
// (down.go): the sales and answers it routes, and the reference data it
// publishes. None: nothing to send.
func (n *Node) outgoing(ctx context.Context, row outboxRow) ([]out, error) {
	if n.cfg.Role != RoleNational {
		m, err := snapshot(ctx, n.db, n.cfg.NodeID, row)
		return []out{{stream: n.cfg.Stream, subject: Subject(n.cfg.Stream, n.cfg.NodeID, row.Topic), id: MsgID(n.cfg.NodeID, row.ID), m: m}}, err
	}
	return n.downward(ctx, row)
}

// markPublished sets published_at on the acknowledged rows, in one
// transaction. It emits no event: it is the relay's bookkeeping, not a
// fact, and an event would be one more outbox row to relay.
func (n *Node) markPublished(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return n.db.InTx(ctx, func(tx *platform.Tx) error {
		now := tx.Now()
		for len(ids) > 0 {
			k := chunkSize(len(ids))
			part := ids[:min(k, len(ids))]
			args := []any{now}
			for i := range k {
				args = append(args, part[min(i, len(part)-1)]) // padded with the last id
			}
			if _, err := tx.Exec(ctx, `UPDATE outbox SET published_at = $1 WHERE published_at IS NULL AND id IN `+inList(2, k), args...); err != nil {
				return err
			}
			ids = ids[len(part):]
		}
		return nil
	})
}

// chunkSizes are the IN-list sizes of markPublished: a handful of fixed
// statement texts for the statement cache.
var chunkSizes = []int{1, 8, 64, 256}

func chunkSize(n int) int {
	for _, k := range chunkSizes {
		if n <= k {
			return k
		}
	}
	return chunkSizes[len(chunkSizes)-1]
}

// inList is "($from, …, $from+n-1)".
func inList(from, n int) string {
	ph := make([]string, n)
	for i := range ph {
		ph[i] = "$" + strconv.Itoa(from+i)
	}
	return "(" + strings.Join(ph, ", ") + ")"
}
