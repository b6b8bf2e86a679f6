package exchange

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"agtrace/internal/platform"
)

// The apply loop (national role): a durable pull consumer on the stream
// hands messages over in stream order, in batches; a batch is applied in
// one transaction and acknowledged after it committed. A batch that fails
// is applied again message by message, so one bad message costs only
// itself: it is negatively acknowledged with a growing delay (the stream
// keeps flowing past it) and, at its MaxDeliver-th delivery, copied to the
// dead-letter subject with its error, parked in exchange_parked and
// terminated. A crash after the commit and before the acknowledgement
// redelivers messages whose (node, seq) is already in exchange_applied:
// they change nothing.

// consumerState is what the status page shows of the apply loop.
type consumerState struct {
	mu        sync.Mutex
	leader    bool
	applied   int64
	lastErr   string
	lastErrAt time.Time
}

func (s *consumerState) note(f func(s *consumerState)) {
	s.mu.Lock()
	f(s)
	s.mu.Unlock()
}

// ConsumerName is the durable consumer a national node applies from.
func ConsumerName(node string) string { return "apply_" + node }

// applyLoop applies while ctx lasts, holding the node's apply lease.
func (n *Node) applyLoop(ctx context.Context) {
	var cons jetstream.Consumer
	var leaseAt time.Time
	backoff := time.Second
	for ctx.Err() == nil {
		if time.Since(leaseAt) > n.cfg.Lease/3 {
			held := n.holdLease(ctx, "apply")
			n.consumer.note(func(s *consumerState) { s.leader = held })
			if !held {
				sleep(ctx, n.cfg.Lease/3)
				continue
			}
			leaseAt = time.Now()
		}
		err := func() error {
			if cons == nil {
				c, err := n.ensureConsumer(ctx)
				if err != nil {
					return err
				}
				cons = c
			}
			// what is there now, up to a batch; when nothing is, wait (at
			// most a second) for the next message alone, so that one message
			// is applied when it arrives rather than when a batch fills
			msgs, err := fetch(cons.FetchNoWait(DefaultFetch))
			if err == nil && len(msgs) == 0 {
				msgs, err = fetch(cons.Fetch(1, jetstream.FetchMaxWait(time.Second)))
			}
			if len(msgs) > 0 {
				n.applyBatch(ctx, msgs)
			}
			return err
		}()
		if err != nil && ctx.Err() == nil {
			n.log.Warn("apply", "err", err)
			n.consumer.note(func(s *consumerState) { s.lastErr, s.lastErrAt = err.Error(), n.clock.Now() })
			if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
				cons = nil
			}
			sleep(ctx, backoff)
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = time.Second
	}
}

// fetch collects a fetched batch's messages; running out of time is not an error.
func fetch(batch jetstream.MessageBatch, err error) ([]jetstream.Msg, error) {
	if err != nil {
		return nil, err
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
		return msgs, err
	}
	return msgs, nil
}

// ensureConsumer creates (or finds) the node's durable consumer. MaxDeliver
// is unlimited on the server: the apply loop parks a message itself at its
// MaxDeliver-th delivery, after copying it to the dead-letter subject, so a
// message is never left undelivered and unparked.
func (n *Node) ensureConsumer(ctx context.Context) (jetstream.Consumer, error) {
	js := n.jetStream()
	if err := n.ensureStreams(ctx, js); err != nil {
		if n.cfg.Role == RoleNational {
			return nil, err
		}
		// a province whose credentials may not create streams: the national
		// side created the down stream; the consumer is the province's own
		n.log.Warn("apply: streams not created here", "err", err)
	}
	stream, filter := n.inStream()
	return js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{Durable: ConsumerName(n.cfg.NodeID),
		Description: "agtrace " + string(n.cfg.Role) + " apply", AckPolicy: jetstream.AckExplicitPolicy, AckWait: AckWait, MaxDeliver: -1,
		FilterSubject: filter, MaxAckPending: 4 * DefaultFetch, DeliverPolicy: jetstream.DeliverAllPolicy})
}

// inStream is the stream the node applies from and its filter: the
// national node every province's subjects of the stream; a province node
// its own subjects of the down stream (what the national node routed to it).
func (n *Node) inStream() (stream, filter string) {
	if n.cfg.Role == RoleProvince {
		return DownStream(n.cfg.Stream), DownStream(n.cfg.Stream) + "." + n.cfg.NodeID + ".>"
	}
	return n.cfg.Stream, n.cfg.Stream + ".>"
}

// sourceOf is the node a delivered message must claim to be from: the
// national node checks the subject's node token; a province node takes
// the down stream's messages from whichever node the national one is
// (only it may publish there: NATS permissions).
func (n *Node) sourceOf(subject string) string {
	if n.cfg.Role == RoleProvince {
		return anyNode
	}
	return nodeOfSubject(n.cfg.Stream, subject)
}

// apply applies one decoded message in tx by the node's role.
func (n *Node) apply(ctx context.Context, tx *platform.Tx, c *txCache, m Message, streamSeq uint64) (string, error) {
	if n.cfg.Role == RoleProvince {
		return n.applyDownTx(ctx, tx, m, streamSeq)
	}
	return n.applyTx(ctx, tx, c, m, streamSeq)
}

// incoming is a fetched message, decoded.
type incoming struct {
	msg  jetstream.Msg
	meta *jetstream.MsgMetadata
	m    Message
	err  error // decoding or validation error
}

// applyBatch applies msgs in one transaction, or one by one if that fails.
func (n *Node) applyBatch(ctx context.Context, msgs []jetstream.Msg) {
	in := make([]incoming, len(msgs))
	var good []int
	for i, msg := range msgs {
		in[i].msg = msg
		meta, err := msg.Metadata()
		if err != nil { // not a JetStream delivery: parked at its first failure
			meta = &jetstream.MsgMetadata{NumDelivered: uint64(n.cfg.MaxDeliver)}
		}
		in[i].meta = meta
		in[i].m, in[i].err = decode(msg.Data(), n.sourceOf(msg.Subject()))
		if in[i].err == nil {
			good = append(good, i)
		}
	}
	if len(good) > 1 {
		var applied int64
		err := n.db.InTx(ctx, func(tx *platform.Tx) error {
			applied = 0
			cache := newTxCache()
			for _, i := range good {
				out, err := n.apply(ctx, tx, cache, in[i].m, in[i].meta.Sequence.Stream)
				if err != nil {
					return err
				}
				if out == OutcomeApplied {
					applied++
				}
			}
			return cache.finish(ctx, tx)
		})
		if err == nil {
			for _, i := range good {
				_ = in[i].msg.Ack()
				in[i].msg = nil
			}
			n.consumer.note(func(s *consumerState) { s.applied += applied })
		}
	}
	for i := range in {
		if in[i].msg != nil {
			n.applyOne(ctx, in[i])
		}
	}
}

// applyOne applies one message in its own transaction and acknowledges,
// delays or parks it.
func (n *Node) applyOne(ctx context.Context, x incoming) {
	err := x.err
	if err == nil {
		var out string
		err = n.db.InTx(ctx, func(tx *platform.Tx) error {
			var err error
			c := newTxCache()
			if out, err = n.apply(ctx, tx, c, x.m, x.meta.Sequence.Stream); err != nil {
				return err
			}
			return c.finish(ctx, tx)
		})
		if err == nil {
			_ = x.msg.Ack()
			if out == OutcomeApplied {
				n.consumer.note(func(s *consumerState) { s.applied++ })
			}
			return
		}
	}
	if !n.permanent(ctx, err) {
		n.log.Warn("apply delayed", "subject", x.msg.Subject(), "err", err)
		_ = x.msg.NakWithDelay(n.delay(x.meta.NumDelivered))
		return
	}
	if x.meta.NumDelivered < uint64(n.cfg.MaxDeliver) {
		_ = x.msg.NakWithDelay(n.delay(x.meta.NumDelivered))
		return
	}
	if perr := n.park(ctx, x, err); perr != nil {
		n.log.Error("park failed; delivered again later", "subject", x.msg.Subject(), "err", perr)
		_ = x.msg.NakWithDelay(n.delay(x.meta.NumDelivered))
		return
	}
	_ = x.msg.Term()
}

// delay is the wait before delivery k+1: Backoff doubled per delivery,
// capped at a minute.
func (n *Node) delay(delivered uint64) time.Duration {
	d := n.cfg.Backoff
	for i := uint64(1); i < delivered && d < time.Minute; i++ {
		d *= 2
	}
	return min(d, time.Minute)
}

// permanent tells a message's own fault (it would fail the same way every
// time: parked after MaxDeliver) from the node's trouble (the database is
// unreachable: delayed, never parked). Refusals (*platform.Error) are the
// message's; other errors are too when the database still answers.
func (n *Node) permanent(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var pe *platform.Error
	if errors.As(err, &pe) {
		return true
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return n.db.SQL().PingContext(pctx) == nil
}

// park copies a message to the dead-letter subject (acknowledged by the
// dead-letter stream) and keeps it in exchange_parked with its error.
func (n *Node) park(ctx context.Context, x incoming, cause error) error {
	node := n.sourceOf(x.msg.Subject())
	if node == anyNode { // a province: the national node's message
		node = x.m.Node
		if !ValidNodeID(node) {
			node = "national"
		}
	}
	seq := -int64(x.meta.Sequence.Stream) // an unreadable message: its stream sequence
	if x.m.Node == node && x.m.Seq > 0 {
		seq = x.m.Seq
	}
	topic := x.m.Topic
	if topic == "" {
		topic = "unreadable"
	}
	js := n.jetStream()
	dl := &nats.Msg{Subject: DeadLetterSubject(n.cfg.Stream, node, topic), Data: x.msg.Data(), Header: nats.Header{}}
	dl.Header.Set("Agtrace-Error", truncate(cause.Error(), 2000))
	dl.Header.Set("Agtrace-Subject", x.msg.Subject())
	dl.Header.Set("Agtrace-Stream-Seq", strconv.FormatUint(x.meta.Sequence.Stream, 10))
	dl.Header.Set("Agtrace-Deliveries", strconv.FormatUint(x.meta.NumDelivered, 10))
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := js.PublishMsg(pctx, dl, jetstream.WithMsgID(fmt.Sprintf("%s:%d", node, seq))); err != nil {
		return fmt.Errorf("dead-letter publish: %w", err)
	}
	return n.keepParked(ctx, parkedMsg{node: node, seq: seq, streamSeq: int64(x.meta.Sequence.Stream), subject: x.msg.Subject(), topic: topic,
		body: x.msg.Data(), deliveries: int64(x.meta.NumDelivered)}, cause)
}

// parkedMsg is what exchange_parked keeps of a refused message.
type parkedMsg struct {
	node, subject, topic       string
	seq, streamSeq, deliveries int64
	body                       []byte
}

// keepParked stores (or, for the same node and sequence, renews) a parked
// message with its reason.
func (n *Node) keepParked(ctx context.Context, p parkedMsg, cause error) error {
	return n.db.InTx(ctx, func(tx *platform.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO exchange_parked (node, seq, stream_seq, subject, topic, body, error, deliveries, status, parked_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (node, seq) DO UPDATE SET stream_seq = $3, subject = $4, body = $6, error = $7, deliveries = $8, status = $9, parked_at = $10
			RETURNING id`, p.node, p.seq, p.streamSeq, p.subject, p.topic, string(p.body), truncate(errorText(cause), 4000),
			p.deliveries, ParkedStatus, tx.Now()).Scan(&id); err != nil {
			return err
		}
		n.log.Warn("message parked", "subject", p.subject, "parked", id, "err", cause)
		return tx.Emit(ctx, platform.Event{Action: "exchange.park", ResourceType: "exchange_message", ResourceID: strconv.FormatInt(id, 10),
			Data: map[string]any{"node": p.node, "seq": p.seq, "topic": p.topic, "stream_seq": p.streamSeq, "deliveries": p.deliveries}})
	})
}

// OutcomeParked: Receive kept a refused message among the parked ones.
const OutcomeParked = "parked"

// Receive applies one message that did not come through the stream — the
// demo loader plays a province node this way — as the apply loop would:
// applied, duplicate or ignored; a refused message is parked at once with
// its reason (there is no stream to redeliver it, nor a dead-letter copy).
func (n *Node) Receive(ctx context.Context, node string, body []byte) (string, error) {
	m, err := decode(body, node)
	if err == nil {
		var out string
		err = n.db.InTx(ctx, func(tx *platform.Tx) error {
			var err error
			c := newTxCache()
			if out, err = n.applyTx(ctx, tx, c, m, 0); err != nil {
				return err
			}
			return c.finish(ctx, tx)
		})
		if err == nil {
			return out, nil
		}
	}
	if !n.permanent(ctx, err) {
		return "", err
	}
	seq := m.Seq
	if m.Node != node || seq <= 0 {
		return "", err // nothing to key it by
	}
	p := parkedMsg{node: node, seq: seq, subject: Subject(n.cfg.Stream, node, m.Topic), topic: m.Topic, body: body, deliveries: 1}
	return OutcomeParked, n.keepParked(ctx, p, err)
}

// errorText is the reason kept with a parked message: the English message
// and each field's, with the Chinese one when there is one.
func errorText(err error) string {
	var pe *platform.Error
	if !errors.As(err, &pe) {
		return err.Error()
	}
	s := pe.EN
	for _, f := range pe.Fields {
		s += "; " + f.Field + ": " + f.EN
		if f.ZH != "" {
			s += "（" + f.ZH + "）"
		}
	}
	return s
}

// truncate cuts s to at most n bytes, on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
