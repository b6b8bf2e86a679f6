// Command agtrace runs the national agricultural-product traceability
// platform. It only parses flags and calls into internal/app.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/auth"
	"agtrace/internal/demo"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"serve", "run the platform (HTTP server)", serve},
		{"migrate", "apply database migrations and report the version", migrate},
		{"user", "manage accounts: user add | user passwd", user},
		{"demo", "load the pilot demo dataset (idempotent) and print the demo accounts", runDemo},
		{"verify", "check the ledger against the database (and a saved checkpoint): exit 0 when nothing was altered", verify},
		{"stats", "dashboard figures: stats rebuild (recompute from the raw records) | stats update (the incremental job)", stats},
		{"warnings", "early warnings: warnings evaluate (update the figures, then run the warning rules over the whole country)", warnings},
		{"bench", "write a synthetic pilot-region workload and measure writes, trace queries, recall, size, reopen", runBench},
		{"help", "explain a command: agtrace help <command>", help},
	}
}

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	tuneGC()
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	name := os.Args[1]
	if name == "-h" || name == "--help" {
		usage(os.Stdout)
		return
	}
	for _, c := range commands {
		if c.name == name {
			if err := c.run(ctx, os.Args[2:]); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return
				}
				fmt.Fprintln(os.Stderr, "agtrace "+name+": "+err.Error())
				os.Exit(1)
			}
			return
		}
	}
	fmt.Fprintf(os.Stderr, "agtrace: unknown command %q\n", name)
	usage(os.Stderr)
	os.Exit(2)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "agtrace — 国家农产品质量安全追溯管理信息平台 (national agricultural-product traceability platform)")
	fmt.Fprintln(w, "\nUsage: agtrace <command> [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'agtrace <command> --help' for a command's flags.")
}

func help(ctx context.Context, args []string) error {
	if len(args) == 0 {
		usage(os.Stdout)
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] && c.name != "help" {
			return c.run(ctx, []string{"--help"})
		}
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// dbFlags are shared by every command that opens the database.
type dbFlags struct {
	data, db string
}

func (d *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.data, "data", envOr("AGTRACE_DATA", "./data"), "data directory (SQLite file, keys, documents) [AGTRACE_DATA]")
	fs.StringVar(&d.db, "db", os.Getenv("AGTRACE_DB"), "PostgreSQL URL (postgres://user@host:5432/db); empty = embedded SQLite in --data [AGTRACE_DB]")
}

func (d *dbFlags) config() app.Config {
	return app.Config{DataDir: d.data, DBURL: d.db}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: agtrace %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see agtrace %s --help)", fs.Arg(0), fs.Name())
	}
	return nil
}

func serve(ctx context.Context, args []string) error {
	fs := newFlags("serve", "serve [--addr 127.0.0.1:8080] [--data ./data] [--db URL] [--public-url URL] [--node-role standalone|province|national --node-id ID --nats URL]")
	var d dbFlags
	d.register(fs)
	addr := fs.String("addr", envOr("AGTRACE_ADDR", "127.0.0.1:8080"), "listen address [AGTRACE_ADDR]")
	public := fs.String("public-url", os.Getenv("AGTRACE_PUBLIC_URL"), "base URL printed in QR codes, e.g. https://trace.example.cn (default http://<addr>) [AGTRACE_PUBLIC_URL]")
	proxies := fs.String("trusted-proxies", os.Getenv("AGTRACE_TRUSTED_PROXIES"),
		"comma-separated CIDR ranges of reverse proxies whose X-Forwarded-For/-Proto are believed, e.g. 10.0.0.0/8,127.0.0.1 [AGTRACE_TRUSTED_PROXIES]")
	metricsToken := fs.String("metrics-token", os.Getenv("AGTRACE_METRICS_TOKEN"),
		"bearer token that /metrics requires (default: /metrics answers only local requests) [AGTRACE_METRICS_TOKEN]")
	var envErr error
	envDur := func(k string, def time.Duration) time.Duration {
		if v := os.Getenv(k); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				envErr = fmt.Errorf("%s=%q: want a positive duration such as 2s", k, v)
				return def
			}
			return d
		}
		return def
	}
	var to app.Timeouts
	fs.DurationVar(&to.Public, "timeout-public", envDur("AGTRACE_TIMEOUT_PUBLIC", app.DefaultPublicTimeout),
		"how long an anonymous scan or public lookup may wait for the database before answering 503 [AGTRACE_TIMEOUT_PUBLIC]")
	fs.DurationVar(&to.Default, "timeout-user", envDur("AGTRACE_TIMEOUT_USER", app.DefaultUserTimeout),
		"the same for logged-in users' pages and API calls [AGTRACE_TIMEOUT_USER]")
	fs.DurationVar(&to.Long, "timeout-long", envDur("AGTRACE_TIMEOUT_LONG", app.DefaultLongTimeout),
		"the same for imports, exports and uploads; also PostgreSQL's statement_timeout [AGTRACE_TIMEOUT_LONG]")
	monitorEvery := fs.Duration("monitor-every", envDur("AGTRACE_MONITOR_EVERY", time.Hour),
		"how often to run the online-monitoring rules (one replica runs them per period; 0 disables) [AGTRACE_MONITOR_EVERY]")
	pageMemory := fs.Int("page-memory", envInt("AGTRACE_PAGE_MEMORY", trace.DefaultPageMemory>>20),
		"MiB of public scan pages kept in memory, answered without a database read (0: none) [AGTRACE_PAGE_MEMORY]")
	var xf exchangeFlags
	xf.register(fs)
	legacy := fs.Bool("trust-proxy", os.Getenv("AGTRACE_TRUST_PROXY") == "1", "deprecated: same as --trusted-proxies 127.0.0.0/8,::1 [AGTRACE_TRUST_PROXY=1]")
	if err := parse(fs, args); err != nil {
		return err
	}
	if envErr != nil {
		return envErr
	}
	if to.Public <= 0 || to.Default <= 0 || to.Long <= 0 {
		return fmt.Errorf("--timeout-public, --timeout-user and --timeout-long must be positive durations such as 2s")
	}
	start := time.Now()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %v", *addr, err)
	}
	cfg := d.config()
	cfg.Addr, cfg.PublicURL, cfg.MetricsToken = *addr, strings.TrimRight(*public, "/"), *metricsToken
	cfg.Timeouts = to
	cfg.MonitorEvery = *monitorEvery
	if cfg.PageMemory = int64(*pageMemory) << 20; *pageMemory <= 0 {
		cfg.PageMemory = -1
	}
	if cfg.Exchange, err = xf.config(); err != nil {
		ln.Close()
		return err
	}
	if *legacy && *proxies == "" {
		*proxies = "127.0.0.0/8,::1"
		slog.Warn("--trust-proxy is deprecated: use --trusted-proxies with your proxies' addresses", "trusted_proxies", *proxies)
	}
	if cfg.TrustedProxies, err = httpx.ParseTrustedProxies(*proxies); err != nil {
		ln.Close()
		return fmt.Errorf("--trusted-proxies: %v", err)
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Close()
	slog.Info("agtrace serving", "addr", "http://"+ln.Addr().String(), "public_url", a.Config.PublicURL, "dialect", a.DB.Dialect(),
		"data", a.Config.DataDir, "startup_ms", time.Since(start).Milliseconds(), "version", app.Version)
	fmt.Fprintf(os.Stderr, "\nagtrace is running: open http://%s/ (Ctrl-C to stop)\n\n", ln.Addr())
	err = a.Serve(ctx, ln)
	slog.Info("agtrace stopped")
	return err
}

func migrate(ctx context.Context, args []string) error {
	fs := newFlags("migrate", "migrate [--data ./data] [--db URL]")
	var d dbFlags
	d.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := app.Open(ctx, d.config())
	if err != nil {
		return err
	}
	defer a.Close()
	v, pending, err := a.DB.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("database (%s) at migration version %d; pending: %v\n", a.DB.Dialect(), v, pending)
	return nil
}

func user(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "passwd") {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Println("Usage:\n  agtrace user add --username U --password P --role ROLE --region CODE [--name NAME] [--data|--db]\n  agtrace user passwd --username U --password P [--data|--db]")
			fmt.Println("\nRoles: " + rolesList())
			return nil
		}
		return errors.New("usage: agtrace user add|passwd --help")
	}
	sub := args[0]
	fs := newFlags("user "+sub, "user "+sub+" --username U --password P"+map[string]string{"add": " --role ROLE --region CODE [--name NAME]", "passwd": ""}[sub])
	var d dbFlags
	d.register(fs)
	username := fs.String("username", "", "login name")
	password := fs.String("password", "", "password (≥ 10 characters, not all digits)")
	role := fs.String("role", "", "role: "+rolesList())
	regionCode := fs.String("region", "", "jurisdiction: GB/T 2260 code (000000 = national)")
	name := fs.String("name", "", "display name")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *username == "" || *password == "" {
		return errors.New("--username and --password are required")
	}
	if fe := auth.CheckPasswordPolicy("password", *password); fe != nil {
		return fmt.Errorf("--password: %s", fe.EN)
	}
	a, err := app.Open(ctx, d.config())
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = platform.WithOrigin(ctx, auth.SystemOrigin("cli"))
	if sub == "add" {
		u, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: *username, Password: *password, Role: *role, RegionCode: *regionCode, Name: *name})
		if err != nil {
			return err
		}
		fmt.Printf("created user %s (id %d, role %s, region %s)\n", u.Username, u.ID, u.Role, u.RegionCode)
		return nil
	}
	u, err := a.Auth.GetUserByName(ctx, *username)
	if err != nil {
		return err
	}
	if err := a.Auth.SetPassword(ctx, auth.System(), u.ID, *password); err != nil {
		return err
	}
	fmt.Printf("password changed for %s; existing sessions revoked\n", u.Username)
	return nil
}

func rolesList() string {
	var s []string
	for _, r := range auth.Roles {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

func runDemo(ctx context.Context, args []string) error {
	fs := newFlags("demo", "demo [--password P] [--data ./data] [--db URL] [--url http://127.0.0.1:8080]")
	var d dbFlags
	d.register(fs)
	pw := fs.String("password", "demo-pass-2026", "password for every demo account")
	url := fs.String("url", "http://127.0.0.1:8080", "where the platform will be opened (printed only)")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := app.Open(ctx, d.config())
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	l, err := demo.Load(ctx, a, *pw)
	if err != nil {
		return err
	}
	l.Print(os.Stdout, *url)
	fmt.Printf("\n(loaded in %.1f s)\n", time.Since(start).Seconds())
	return nil
}

// Garbage-collector defaults (docs/operations.md): the live heap is small
// (tens of MiB) and a trace query or write allocates many short-lived
// strings, so the collector runs less often (GOGC 400 instead of 100: it
// took 10–13 % of the CPU of a 10,000-node recall), under a soft memory
// limit of 2 GiB. GOGC and GOMEMLIMIT in the environment win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

const (
	defaultGOGC        = 400
	defaultMemoryLimit = 2 << 30
)
