// Package port is the standard import and export of the exchange (issue 13
// items 5 and 6, docs/exchange.md "Import and export" and "Changes feed"):
// operators, production batches and per-stage records of a region and a
// date range in the NY/T 4712-2025 field set, as JSON or Excel, streamed
// out and imported back through the operator service and the bulk
// importer (trace.Service.Import), and the changes feed over the outbox.
//
// An export is a pure function of the records: two exports of the same
// data are byte-identical (stable order, no timestamps in the body), and
// an export imported into an empty node exports the same bytes again. An
// import is idempotent on the natural keys (operator code, trace code): a
// row identical to what is recorded is counted unchanged and writes
// nothing.
package port

import (
	"context"
	"sync"

	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/region"
	"agtrace/internal/trace"
)

// Kinds of exchanged records (a file holds one kind).
const (
	KindOperators = "operators" // basic records (基础信息): who, where, under which code
	KindBatches   = "batches"   // production batch records with their extension fields
	KindEvents    = "events"    // per-stage business records: sales with their answer, splits, merges, transformations
)

// Kinds lists them in the order a node imports them.
var Kinds = []string{KindOperators, KindBatches, KindEvents}

// File formats.
const (
	FormatJSON = "json"
	FormatXLSX = "xlsx"
)

// Import modes.
const (
	// ModeAllOrNothing writes the whole file in one transaction, or nothing
	// when any row is refused (every row is still checked and reported).
	ModeAllOrNothing = "all_or_nothing"
	// ModeValidRows writes every row that passes and reports the others.
	ModeValidRows = "valid_rows"
)

// Modes lists the import modes.
var Modes = []string{ModeAllOrNothing, ModeValidRows}

// Job statuses.
const (
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed" // the file as a whole: all_or_nothing with refused rows, or an error
)

// JobStatuses lists them.
var JobStatuses = []string{JobRunning, JobDone, JobFailed}

// Stages of the events file.
const (
	StageSale      = "sale"      // 销售: inbound batch → outbound batch (circulation or market-entry code), source → destination
	StageSplit     = "split"     // 拆分: one batch → parts
	StageMerge     = "merge"     // 合并: batches of one product → one batch
	StageTransform = "transform" // 加工: inputs → outputs of other products
)

// Stages lists them.
var Stages = []string{StageSale, StageSplit, StageMerge, StageTransform}

// Limits.
const (
	// MaxFileBytes is the largest file an import takes (the request body limit is 12 MB).
	MaxFileBytes = 10 << 20
	// MaxRows is the most rows a file may hold.
	MaxRows = 100_000
	// DefaultSyncRows: files up to this many rows are imported within the
	// request; larger ones run as a background job the caller polls.
	DefaultSyncRows = 500
	// chunkRows is how many rows one transaction of a valid_rows import holds.
	chunkRows = 200
	// maxStoredErrors is how many row errors a job keeps.
	maxStoredErrors = 1000
	// exportPage is how many records one query of an export reads.
	exportPage = 500
)

// Service exports, imports and serves the changes feed.
type Service struct {
	db      *platform.DB
	clock   platform.Clock
	ops     *operator.Service
	trace   *trace.Service
	regions *region.Service
	// SyncRows: files up to this many rows are imported within the request.
	SyncRows int

	mu      sync.Mutex
	running map[int64]*progress // jobs this process runs, with their live counts
	wg      sync.WaitGroup
	stop    context.Context
	cancel  context.CancelFunc
}

// NewService returns the import/export service.
func NewService(db *platform.DB, clock platform.Clock, ops *operator.Service, tr *trace.Service, regions *region.Service) *Service {
	if clock == nil {
		clock = platform.SystemClock{}
	}
	stop, cancel := context.WithCancel(context.Background())
	return &Service{db: db, clock: clock, ops: ops, trace: tr, regions: regions, SyncRows: DefaultSyncRows,
		running: map[int64]*progress{}, stop: stop, cancel: cancel}
}

// Wait blocks until the background jobs this process started have ended.
func (s *Service) Wait() { s.wg.Wait() }

// Close stops the background jobs (an interrupted all_or_nothing job writes
// nothing; a valid_rows job keeps the chunks it committed, and sending the
// file again completes it) and waits for them.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
}
