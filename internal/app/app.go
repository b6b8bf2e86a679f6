// Package app wires the platform together: it opens the database, builds the
// feature services and the HTTP handler, and runs the server. cmd/agtrace
// only parses flags and calls into here.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"agtrace/internal/assess"
	"agtrace/internal/auth"
	"agtrace/internal/complaints"
	"agtrace/internal/exchange"
	"agtrace/internal/exchange/port"
	"agtrace/internal/feedback"
	"agtrace/internal/httpx"
	"agtrace/internal/incident"
	"agtrace/internal/insight"
	"agtrace/internal/ledger"
	"agtrace/internal/monitoring"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/region"
	"agtrace/internal/secure"
	"agtrace/internal/supervision"
	"agtrace/internal/trace"
)

// Version is set at build time with -ldflags "-X agtrace/internal/app.Version=...".
var Version = "dev"

// Config is everything the platform needs to start.
type Config struct {
	Addr      string // listen address
	DataDir   string // SQLite file, secret keys, uploaded documents
	DBURL     string // postgres://...; empty = SQLite in DataDir
	PublicURL string // base URL printed in QR codes; default http://<addr>
	// TrustedProxies are the reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (nil: none).
	TrustedProxies *httpx.TrustedProxies
	// MetricsToken, when set, is the bearer token /metrics requires; when
	// empty, /metrics answers only direct loopback peers.
	MetricsToken string
	// SeedProvinces limits region seeding (tests); empty = the whole country.
	SeedProvinces []string
	// DocumentsDir holds uploaded proof documents (content-addressed); default <DataDir>/documents.
	DocumentsDir string
	// Timeouts limits how long a request of each class may use the database
	// (zero fields: the defaults, see limits.go).
	Timeouts Timeouts
	// MonitorEvery is how often Serve tries to run the online-monitoring
	// rules (one replica wins each period's lease); 0 = never.
	MonitorEvery time.Duration
	// Exchange is the node's place among province and national nodes
	// (docs/exchange.md); the zero value is a standalone node.
	Exchange exchange.Config
	// LedgerHash is the ledger's hash algorithm when the log is created
	// (sm3, the default, or sha256); an existing log keeps its own.
	LedgerHash string
	// PageMemory is the byte budget of public scan pages kept in memory
	// (trace/pagememory.go): 0 = trace.DefaultPageMemory, negative = none.
	PageMemory int64
}

// App is a running platform instance: database plus services.
type App struct {
	Config   Config
	DB       *platform.DB
	Clock    platform.Clock
	Auth     *auth.Service
	Regions  *region.Service
	Calendar *region.Calendar
	Log      *slog.Logger
	// Cipher encrypts personal fields (SM4-GCM); Signer signs key acts (SM2).
	Cipher secure.Cipher
	Signer secure.Signer
	// Operators registers and reviews producers and traders.
	Operators *operator.Service
	// Trace records batches, codes, transfers and the trace graph.
	Trace *trace.Service
	// Supervision records inspections, draws, cases and credit, and runs
	// the online-monitoring rules.
	Supervision *supervision.Service
	// Monitoring keeps the residue limits (sampling tests and recalls next).
	Monitoring *monitoring.Service
	// Ledger is the tamper-evident log of every event (docs/ledger.md).
	Ledger *ledger.Service
	// Complaints are the public's reports (举报).
	Complaints *complaints.Service
	// Feedback is the users' problem reports about the platform (问题反馈).
	Feedback *feedback.Service
	// Insight keeps the dashboards' aggregates and reads them (分析决策).
	Insight *insight.Service
	// Assess is the pilot performance assessment (绩效考核): sheets, monthly rankings, reports.
	Assess *assess.Service
	// Node relays this node's records to the stream (province) or applies
	// other nodes' records (national); docs/exchange.md.
	Node *exchange.Node
	// Incidents is emergency command (应急指挥): incidents, their batches and tasks.
	Incidents *incident.Service
	// Port is the standard import/export (NY/T 4712) and the changes feed; docs/exchange.md.
	Port *port.Service
}

// Open opens (creating and migrating if needed) the database and builds the services.
func Open(ctx context.Context, cfg Config) (*App, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + cfg.Addr
	}
	cfg.Timeouts = cfg.Timeouts.withDefaults()
	// Connect first, so a wrong --db leaves no empty data directory behind.
	db, err := platform.Open(ctx, platform.OpenOptions{URL: cfg.DBURL, DataDir: cfg.DataDir,
		StatementTimeout: cfg.Timeouts.Long})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot create data directory %s: %v", cfg.DataDir, errors.Unwrap(err))
	}
	a, err := build(ctx, cfg, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func build(ctx context.Context, cfg Config, db *platform.DB) (*App, error) {
	if _, err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(cfg.DataDir)
	cfg.DataDir = abs
	key, err := secure.LoadOrCreateKey(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	cipher, err := secure.NewSM4GCM(key)
	if err != nil {
		return nil, err
	}
	signer, err := secure.LoadOrCreateSigner(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	// the ledger first: every event from here on (seeds included) is a leaf
	ledg := ledger.New(db, signer)
	if err := ledg.Init(ctx, cfg.LedgerHash); err != nil {
		return nil, err
	}
	if _, err := region.Seed(ctx, db, cfg.SeedProvinces...); err != nil {
		return nil, err
	}
	if _, err := region.SeedCalendar(ctx, db); err != nil {
		return nil, err
	}
	clock := platform.SystemClock{}
	a := &App{
		Config:   cfg,
		DB:       db,
		Clock:    clock,
		Auth:     auth.NewService(db, clock),
		Regions:  region.NewService(db),
		Calendar: region.NewCalendar(db),
		Log:      slog.Default(),
		Cipher:   cipher,
		Signer:   signer,
		Ledger:   ledg,
	}
	a.Auth.SetDeviceKey(key)
	docs := cfg.DocumentsDir
	if docs == "" {
		docs = filepath.Join(cfg.DataDir, "documents")
	}
	a.Operators = operator.NewService(db, clock, a.Regions, a.Calendar, cipher, signer, docs)
	a.Operators.PublicURL = cfg.PublicURL
	if _, err := trace.SeedCatalogue(ctx, db); err != nil {
		return nil, err
	}
	a.Trace = trace.NewService(db, clock, a.Operators, a.Regions, a.Calendar, cfg.PublicURL)
	if cfg.PageMemory != 0 {
		a.Trace.SetPageMemory(max(cfg.PageMemory, 0))
	}
	a.Trace.SetVerifyKey(key)
	if _, err := monitoring.SeedLimits(ctx, db); err != nil {
		return nil, err
	}
	a.Supervision = supervision.NewService(db, clock, a.Operators, a.Trace, a.Regions, a.Calendar, signer, docs, cfg.PublicURL)
	a.Monitoring = monitoring.NewService(db, clock, a.Operators, a.Trace, a.Supervision, signer, cfg.PublicURL)
	a.Complaints = complaints.NewService(db, clock, a.Trace, a.Operators, a.Regions, cipher, docs)
	a.Feedback = feedback.NewService(db, clock, a.Regions)
	a.Insight = insight.NewService(db, clock, a.Regions)
	if _, err := assess.SeedSheets(ctx, db); err != nil {
		return nil, err
	}
	a.Assess = assess.NewService(db, clock, a.Regions, a.Calendar, a.Insight)
	a.Incidents = incident.NewService(db, clock, a.Trace, a.Regions, signer, cfg.PublicURL)
	xcfg := cfg.Exchange
	if xcfg.DataDir == "" {
		xcfg.DataDir = cfg.DataDir
	}
	if a.Node, err = exchange.New(db, clock, xcfg); err != nil {
		return nil, err
	}
	a.Port = port.NewService(db, clock, a.Operators, a.Trace, a.Regions)
	a.Trace.SetMismatchTolerance(a.Supervision.MismatchTolerance)
	a.Trace.SetDirectory(directory{a})
	if xcfg.Role == exchange.RoleNational {
		a.Monitoring.SetRecallPrefix("GJ") // national recalls copied to provinces never take a province's number
	}
	a.Trace.SetCreditLookup(func(ctx context.Context, code string) (string, error) {
		o, err := a.Operators.ByCode(ctx, code)
		if err != nil {
			return "", nil // a temporary (smallholder) code has no credit record
		}
		return a.Supervision.PublicLevel(ctx, o.ID)
	})
	// load the product catalogue before the first request: writers read it
	// inside their transactions and must never be the ones to load it
	if _, err := a.Trace.Products(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// Close releases the database.
func (a *App) Close() error {
	if a.Node != nil {
		a.Node.Close()
	}
	if a.Port != nil {
		a.Port.Close() // background imports stop (and say so) before the database closes
	}
	if a.Trace != nil {
		if err := a.Trace.FlushScans(context.Background()); err != nil {
			a.Log.Warn("scan counts lost at close", "err", err)
		}
		if err := a.Trace.FlushPages(context.Background()); err != nil {
			a.Log.Warn("rendered scan pages not stored at close", "err", err)
		}
	}
	return a.DB.Close()
}

// Ready reports whether the database answers and migrations are current.
func (a *App) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.DB.SQL().PingContext(ctx); err != nil {
		return &NotReady{Reason: "database unreachable", Err: err}
	}
	_, pending, err := a.DB.MigrationStatus(ctx)
	if err != nil {
		return &NotReady{Reason: "database unreachable", Err: err}
	}
	if pending {
		return &NotReady{Reason: "migrations pending; run agtrace migrate"}
	}
	return nil
}

// NotReady says why the instance cannot serve. Reason is safe to show to
// anyone (no user, host or database names); Err, the driver's own words,
// goes to the log only.
type NotReady struct {
	Reason string
	Err    error
}

func (e *NotReady) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *NotReady) Unwrap() error { return e.Err }

// directory lets a province node's sellers name buyers registered on other
// province nodes: it asks the national node through the node's exchange
// connection (a standalone or national node knows only its own operators).
type directory struct{ a *App }

func (d directory) RemoteOperator(ctx context.Context, code string) (operator.External, string, bool, error) {
	n := d.a.Node
	if n == nil || n.Config().Role != exchange.RoleProvince {
		return operator.External{}, "", false, nil
	}
	return n.RemoteOperator(ctx, code)
}
