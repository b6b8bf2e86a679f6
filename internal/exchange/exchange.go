// Package exchange connects province and national nodes over NATS
// JetStream (全国追溯一盘棋): a province node's relay publishes its
// transactional outbox to a stream, and the national node applies what
// arrives into its own database, idempotently, so that a chain crossing
// provinces is one graph there. docs/exchange.md describes the stream and
// subject layout, the message format, the guarantees and the failure cases.
package exchange

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"agtrace/internal/platform"
)

// Role is what a node does in the exchange.
type Role string

const (
	// RoleStandalone is one platform on its own: no NATS, nothing relayed.
	RoleStandalone Role = "standalone"
	// RoleProvince relays its outbox to the stream.
	RoleProvince Role = "province"
	// RoleNational applies the provinces' records from the stream.
	RoleNational Role = "national"
)

// Roles lists the roles a node may have.
var Roles = []Role{RoleStandalone, RoleProvince, RoleNational}

// Defaults of Config.
const (
	DefaultStream     = "AGTRACE"
	DefaultListen     = "127.0.0.1:4222"
	DefaultMaxDeliver = 5
	DefaultBackoff    = time.Second
	DefaultWindow     = 256
	DefaultDuplicates = 10 * time.Minute
	DefaultFetch      = 100
	DefaultLease      = 15 * time.Second
	// AckWait is how long a delivered message may stay unacknowledged
	// before JetStream delivers it again (a national node killed mid-batch).
	AckWait = 10 * time.Second
)

// Config is a node's place in the exchange.
type Config struct {
	Role   Role
	NodeID string // one subject token, e.g. p37, p44, national
	// NATSURL is the NATS server or cluster (nats://host:4222, comma-separated
	// for several). Empty with a role that needs NATS: an embedded server
	// listening on Listen, storing JetStream data under DataDir/nats.
	NATSURL string
	// NATSCreds is a NATS credentials file (user JWT + seed) and NATSCA a
	// PEM file of the CAs that sign the servers' TLS certificates (a
	// tls:// URL; default: the system's roots).
	NATSCreds, NATSCA string
	Listen            string
	DataDir           string
	// Stream names the JetStream stream (and the first subject token);
	// dead-lettered messages go to <Stream>_DLQ.
	Stream string
	// MaxDeliver is how many deliveries a message that fails validation gets
	// before it is parked; Backoff is the delay before the second delivery,
	// doubled for each later one (capped at a minute).
	MaxDeliver int
	Backoff    time.Duration
	// Window is how many publishes the relay keeps in flight (and the most
	// outbox rows it reads at once).
	Window int
	// Duplicates is the stream's de-duplication window (Nats-Msg-Id).
	Duplicates time.Duration
	// NodeRegions, on the national node, limits the regions each source
	// node may send records of (node id → region code prefixes); a node not
	// listed is not limited.
	NodeRegions map[string][]string
	// Poll is how long the relay waits when the outbox is empty.
	Poll time.Duration
	// Lease is how long a relay or apply lease lasts (one process per node
	// does the job; it renews the lease every Lease/3). A process killed
	// without a goodbye holds it until it expires.
	Lease time.Duration
}

// NeedsNATS reports whether the role uses NATS.
func (c Config) NeedsNATS() bool { return c.Role == RoleProvince || c.Role == RoleNational }

// Check reports what is wrong with the configuration (nil: it can start).
func (c Config) Check() error {
	_, err := c.withDefaults()
	return err
}

// withDefaults fills in the zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Role == "" {
		c.Role = RoleStandalone
	}
	switch c.Role {
	case RoleStandalone, RoleProvince, RoleNational:
	default:
		return c, fmt.Errorf("node role %q: want standalone, province or national", c.Role)
	}
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = DefaultMaxDeliver
	}
	if c.Backoff <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.Duplicates <= 0 {
		c.Duplicates = DefaultDuplicates
	}
	if c.Poll <= 0 {
		c.Poll = 200 * time.Millisecond
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if !c.NeedsNATS() {
		return c, nil
	}
	if !ValidNodeID(c.NodeID) {
		return c, fmt.Errorf("node id %q: a %s node needs --node-id of 1–32 letters, digits, '-' or '_'", c.NodeID, c.Role)
	}
	if !ValidStreamName(c.Stream) {
		return c, fmt.Errorf("stream %q: 1–32 letters, digits, '-' or '_'", c.Stream)
	}
	return c, nil
}

// Node is this platform instance's part in the exchange.
type Node struct {
	cfg    Config
	db     *platform.DB
	clock  platform.Clock
	log    *slog.Logger
	holder string // lease holder: host:pid

	mu       sync.Mutex
	srv      *server.Server // the embedded NATS server, if any
	nc       *nats.Conn
	js       jetstream.JetStream
	relay    relayState
	consumer consumerState
}

// New checks cfg and returns the node; nothing connects before Start.
func New(db *platform.DB, clock platform.Clock, cfg Config) (*Node, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	return &Node{cfg: cfg, db: db, clock: clock, log: slog.Default().With("component", "exchange", "node", cfg.NodeID),
		holder: host + ":" + strconv.Itoa(os.Getpid())}, nil
}

// Config returns the node's configuration (defaults filled in).
func (n *Node) Config() Config { return n.cfg }

// Start starts the embedded NATS server if the node runs one, connects,
// and runs the relay (province) or the apply loop (national) until ctx
// ends. A standalone node does nothing. An unreachable NATS server is not
// an error here: the loops retry until it answers.
func (n *Node) Start(ctx context.Context) error {
	if !n.cfg.NeedsNATS() {
		return nil
	}
	url := n.cfg.NATSURL
	if url == "" {
		srv, err := startEmbedded(n.cfg)
		if err != nil {
			return err
		}
		n.srv, url = srv, srv.ClientURL()
		n.log.Info("embedded NATS server with JetStream", "url", url, "store", filepath.Join(n.cfg.DataDir, "nats"))
	}
	opts := []nats.Option{nats.Name("agtrace " + string(n.cfg.Role) + " " + n.cfg.NodeID), nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1), nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				n.log.Warn("NATS disconnected", "err", err)
			}
		})}
	if n.cfg.NATSCreds != "" {
		opts = append(opts, nats.UserCredentials(n.cfg.NATSCreds))
	}
	if n.cfg.NATSCA != "" {
		opts = append(opts, nats.RootCAs(n.cfg.NATSCA))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		n.Close()
		return fmt.Errorf("--nats %s: %w", redact(url), err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(n.cfg.Window))
	if err != nil {
		nc.Close()
		n.Close()
		return err
	}
	n.mu.Lock()
	n.nc, n.js = nc, js
	n.mu.Unlock()
	// both roles relay their outbox (a province every event, the national
	// node the sales it routes) and apply a stream (the national node the
	// provinces', a province what the national node routed to it)
	go n.relayLoop(ctx)
	go n.applyLoop(ctx)
	if n.cfg.Role == RoleNational {
		if err := n.answerLookups(ctx, nc); err != nil {
			nc.Close()
			n.Close()
			return err
		}
	}
	return nil
}

// Close disconnects and stops the embedded server.
func (n *Node) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.nc != nil {
		n.nc.Close()
		n.nc = nil
	}
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
		n.srv = nil
	}
}

// startEmbedded runs a NATS server with JetStream inside this process.
func startEmbedded(cfg Config) (*server.Server, error) {
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("--nats-listen %q: %v", cfg.Listen, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("--nats-listen %q: bad port", cfg.Listen)
	}
	store := filepath.Join(cfg.DataDir, "nats")
	if err := os.MkdirAll(store, 0o750); err != nil {
		return nil, err
	}
	srv, err := server.NewServer(&server.Options{ServerName: "agtrace-" + cfg.NodeID, Host: host, Port: p, JetStream: true,
		StoreDir: store, NoSigs: true, NoLog: true, MaxPayload: 8 << 20})
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(15 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded NATS server did not start on %s (is the port in use? set --nats-listen or --nats)", cfg.Listen)
	}
	return srv, nil
}

// conn returns the JetStream handle (nil before Start).
func (n *Node) jetStream() jetstream.JetStream {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.js
}

// ensureStreams creates the stream and its dead-letter stream if they do
// not exist; an existing stream keeps its configuration (change it with
// the nats CLI).
func (n *Node) ensureStreams(ctx context.Context, js jetstream.JetStream) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second) // a publish-only account gets no answer
	defer cancel()
	for _, name := range []string{n.cfg.Stream, DeadLetterStream(n.cfg.Stream), DownStream(n.cfg.Stream)} {
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}, Storage: jetstream.FileStorage,
			Retention: jetstream.LimitsPolicy, Duplicates: n.cfg.Duplicates,
			Description: "agtrace province → national exchange (docs/exchange.md)"})
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return fmt.Errorf("stream %s: %w", name, err)
		}
	}
	return nil
}

// holdLease takes or renews the node's lease for job; one process per node
// relays (or applies), the others wait.
func (n *Node) holdLease(ctx context.Context, job string) bool {
	ok, err := n.db.AcquireLease(ctx, "exchange."+job+":"+n.cfg.NodeID, n.holder, n.clock.Now(), n.cfg.Lease, platform.LeaseHeld)
	if err != nil && ctx.Err() == nil {
		n.log.Warn("exchange lease", "job", job, "err", err)
	}
	return ok && err == nil
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// redact removes credentials from a NATS URL for logs and answers.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = url.User("***")
	return u.String()
}
