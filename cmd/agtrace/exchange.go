package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"agtrace/internal/exchange"
)

// exchangeFlags are serve's flags for the province ↔ national exchange
// (docs/exchange.md).
type exchangeFlags struct {
	role, node, nats, listen, stream, regions string
	creds, ca                                 string
	maxDeliver                                int
	backoff, lease                            time.Duration
}

func (x *exchangeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&x.role, "node-role", envOr("AGTRACE_NODE_ROLE", string(exchange.RoleStandalone)),
		"standalone (no exchange) | province (relay this node's records to the stream) | national (apply the provinces' records) [AGTRACE_NODE_ROLE]")
	fs.StringVar(&x.node, "node-id", os.Getenv("AGTRACE_NODE_ID"), "this node's id in the exchange, e.g. p37 or national (letters, digits, - and _) [AGTRACE_NODE_ID]")
	fs.StringVar(&x.nats, "nats", os.Getenv("AGTRACE_NATS"),
		"NATS server(s) with JetStream, e.g. nats://127.0.0.1:4222 (comma-separated for a cluster; credentials in the URL or a nats+tls URL); empty with province or national: run an embedded server [AGTRACE_NATS]")
	fs.StringVar(&x.creds, "nats-creds", os.Getenv("AGTRACE_NATS_CREDS"), "NATS credentials file (user JWT and seed) [AGTRACE_NATS_CREDS]")
	fs.StringVar(&x.ca, "nats-ca", os.Getenv("AGTRACE_NATS_CA"), "PEM file of the CAs of the NATS servers' TLS certificates (default: the system's) [AGTRACE_NATS_CA]")
	fs.StringVar(&x.listen, "nats-listen", envOr("AGTRACE_NATS_LISTEN", exchange.DefaultListen), "client address of the embedded NATS server (used when --nats is empty) [AGTRACE_NATS_LISTEN]")
	fs.StringVar(&x.stream, "exchange-stream", envOr("AGTRACE_EXCHANGE_STREAM", exchange.DefaultStream),
		"JetStream stream name; subjects are <stream>.<node>.<event>, parked messages go to <stream>_DLQ [AGTRACE_EXCHANGE_STREAM]")
	fs.IntVar(&x.maxDeliver, "exchange-max-deliver", envInt("AGTRACE_EXCHANGE_MAX_DELIVER", exchange.DefaultMaxDeliver),
		"national: deliveries of a message that fails validation before it is parked [AGTRACE_EXCHANGE_MAX_DELIVER]")
	fs.DurationVar(&x.backoff, "exchange-backoff", envDuration("AGTRACE_EXCHANGE_BACKOFF", exchange.DefaultBackoff),
		"national: delay before a refused message is delivered again, doubled each time (at most 1m) [AGTRACE_EXCHANGE_BACKOFF]")
	fs.DurationVar(&x.lease, "exchange-lease", envDuration("AGTRACE_EXCHANGE_LEASE", exchange.DefaultLease),
		"how long one process's hold on the node's relay (or apply) job lasts; another process of the node takes over after it expires [AGTRACE_EXCHANGE_LEASE]")
	fs.StringVar(&x.regions, "exchange-node-regions", os.Getenv("AGTRACE_EXCHANGE_NODE_REGIONS"),
		"national: the regions each node may send, e.g. p37=37,p44=44 (a node not named is not limited) [AGTRACE_EXCHANGE_NODE_REGIONS]")
}

// config checks the flags and returns the exchange configuration.
func (x *exchangeFlags) config() (exchange.Config, error) {
	cfg := exchange.Config{Role: exchange.Role(x.role), NodeID: x.node, NATSURL: x.nats, NATSCreds: x.creds, NATSCA: x.ca, Listen: x.listen, Stream: x.stream,
		MaxDeliver: x.maxDeliver, Backoff: x.backoff, Lease: x.lease}
	if x.maxDeliver < 1 {
		return cfg, fmt.Errorf("--exchange-max-deliver must be at least 1")
	}
	if x.backoff <= 0 || x.lease <= 0 {
		return cfg, fmt.Errorf("--exchange-backoff and --exchange-lease must be positive durations such as 1s")
	}
	if x.regions != "" {
		cfg.NodeRegions = map[string][]string{}
		for _, kv := range strings.Split(x.regions, ",") {
			node, prefix, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok || !exchange.ValidNodeID(node) || prefix == "" || strings.Trim(prefix, "0123456789") != "" {
				return cfg, fmt.Errorf("--exchange-node-regions: %q is not node=region-prefix (e.g. p37=37)", kv)
			}
			cfg.NodeRegions[node] = append(cfg.NodeRegions[node], prefix)
		}
	}
	if err := cfg.Check(); err != nil {
		return cfg, fmt.Errorf("--node-role/--node-id/--exchange-stream: %v", err)
	}
	return cfg, nil
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return v
	}
	return def
}

func envDuration(k string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(k)); err == nil {
		return v
	}
	return def
}
