// Package ledger is the platform's tamper-evident log: every event tx.Emit
// writes becomes, in the writer's transaction, a leaf of an append-only
// Merkle log (RFC 6962 / RFC 9162 tree shape, SM3 or SHA-256); signed
// checkpoints commit to its size and root; inclusion and consistency proofs
// let anyone check a record against a checkpoint; Verify recomputes it all
// from the database. docs/ledger.md describes the formats.
package ledger

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"agtrace/internal/platform"
	"agtrace/internal/secure"
)

// Leaf is one entry of the log.
type Leaf struct {
	Seq     uint64 `json:"seq"`
	Kind    string `json:"kind"`    // the event's action, e.g. batch.create
	Subject string `json:"subject"` // resource type:id, e.g. trace_code:1440…
	At      string `json:"at"`      // the write's instant, UTC, microseconds
	Digest  string `json:"digest"`  // hash of the full record's canonical JSON, lowercase hex
}

// Bytes is the leaf's canonical JSON, the input of its leaf hash. Leaves
// of plain printable ASCII (all the platform writes: actions, type:id
// subjects, RFC 3339 instants, hex digests) are written directly, the
// keys in Canonical's order; anything else goes through Canonical. The
// direct way is ~50 times cheaper, which matters when a process builds its
// tree from a million leaves at start (TestLeafBytes checks both agree).
func (l Leaf) Bytes() []byte {
	if plainASCII(l.Kind) && plainASCII(l.Subject) && plainASCII(l.At) && plainASCII(l.Digest) {
		b := make([]byte, 0, 48+len(l.Kind)+len(l.Subject)+len(l.At)+len(l.Digest))
		b = append(b, `{"at":"`...)
		b = append(b, l.At...)
		b = append(b, `","digest":"`...)
		b = append(b, l.Digest...)
		b = append(b, `","kind":"`...)
		b = append(b, l.Kind...)
		b = append(b, `","seq":`...)
		b = strconv.AppendUint(b, l.Seq, 10)
		b = append(b, `,"subject":"`...)
		b = append(b, l.Subject...)
		return append(b, `"}`...)
	}
	b, _ := Canonical(l)
	return b
}

// plainASCII: s needs no escaping in JSON (printable ASCII but " and \).
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Record is what a leaf's digest covers: the audit row and, for subjects
// with a state reader, the subject's state after the write.
type Record struct {
	AuditID      int64           `json:"audit_id"`
	At           string          `json:"at"`
	ActorID      int64           `json:"actor_id"`
	Action       string          `json:"action"`
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	Detail       json.RawMessage `json:"detail"`
	State        json.RawMessage `json:"state"`
}

// timeText is how leaves write instants: UTC with microseconds (what both
// engines keep), so the text read back is the text signed.
func timeText(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// Service appends leaves, signs checkpoints and serves proofs.
type Service struct {
	db     *platform.DB
	signer secure.Signer
	keyID  string
	states map[string]StateReader

	mu     sync.Mutex // guards hasher/tree creation and syncing
	hasher Hasher
	tree   *Tree
}

// New returns the ledger of db; Init must run before the first write.
func New(db *platform.DB, signer secure.Signer) *Service {
	s := &Service{db: db, signer: signer, states: stateReaders}
	if signer != nil {
		s.keyID = KeyID(signer.PublicKeyPEM())
	}
	return s
}

// KeyID names a signing key: the first 16 hex digits of the SM3 hash of its
// PEM text's DER body.
func KeyID(pubPEM []byte) string {
	der := pemBody(pubPEM)
	h, _ := NewHasher(SM3)
	d := h.Sum(der)
	return hex.EncodeToString(d[:8])
}

// Init creates the log with algorithm alg (sm3 | sha256) unless it exists
// (an existing log keeps its algorithm), installs the emit hook, and — when
// the log is empty but the audit log is not — appends a leaf for every
// earlier audit row, so the log covers the whole history.
func (s *Service) Init(ctx context.Context, alg string) error {
	if alg == "" {
		alg = SM3
	}
	if _, err := NewHasher(alg); err != nil {
		return err
	}
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO ledger_head (id, size, algorithm, created_at) VALUES (1, 0, $1, $2) ON CONFLICT (id) DO NOTHING`, alg, tx.Now())
		return err
	})
	if err != nil {
		return fmt.Errorf("ledger: init: %w", err)
	}
	var have string
	if err := s.db.QueryRow(ctx, `SELECT algorithm FROM ledger_head WHERE id = 1`).Scan(&have); err != nil {
		return fmt.Errorf("ledger: init: %w", err)
	}
	if s.hasher, err = NewHasher(have); err != nil {
		return err
	}
	s.tree = NewTree(s.hasher)
	s.db.AddEmitHook(s.appendTx)
	return s.backfill(ctx)
}

// Algorithm is the log's hash algorithm.
func (s *Service) Algorithm() string { return s.hasher.Algorithm() }

// appendTx is the emit hook: the next seq, the record and its leaf, in the
// writer's transaction.
func (s *Service) appendTx(ctx context.Context, tx *platform.Tx, e platform.Emitted) error {
	state, err := s.readState(ctx, tx, e.ResourceType, e.ResourceID)
	if err != nil {
		return err
	}
	rec := Record{AuditID: e.AuditID, At: timeText(e.At), ActorID: e.ActorID, Action: e.Action, ResourceType: e.ResourceType,
		ResourceID: e.ResourceID, Detail: rawOrNull(e.Detail), State: state}
	return s.appendRecordTx(ctx, tx, rec)
}

func (s *Service) appendRecordTx(ctx context.Context, tx *platform.Tx, rec Record) error {
	body, err := Canonical(rec)
	if err != nil {
		return err
	}
	var size int64
	if err := tx.QueryRow(ctx, `UPDATE ledger_head SET size = size + 1 WHERE id = 1 RETURNING size`).Scan(&size); err != nil {
		return fmt.Errorf("next seq: %w", err)
	}
	d := s.hasher.Sum(body)
	leaf := Leaf{Seq: uint64(size - 1), Kind: rec.Action, Subject: rec.ResourceType + ":" + rec.ResourceID, At: rec.At, Digest: hex.EncodeToString(d[:])}
	_, err = tx.Exec(ctx, `INSERT INTO ledger_leaves (seq, kind, subject, at, digest, record, audit_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		int64(leaf.Seq), leaf.Kind, leaf.Subject, leaf.At, leaf.Digest, string(body), platform.NullInt(rec.AuditID))
	return err
}

func rawOrNull(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return json.RawMessage(b)
}

// backfill appends the audit rows written before the log existed (once,
// while the log is empty), in audit order, without state.
func (s *Service) backfill(ctx context.Context) error {
	var size int64
	if err := s.db.QueryRow(ctx, `SELECT size FROM ledger_head WHERE id = 1`).Scan(&size); err != nil || size > 0 {
		return err
	}
	return s.db.InTx(ctx, func(tx *platform.Tx) error {
		var n int64
		if err := tx.QueryRow(ctx, `SELECT size FROM ledger_head WHERE id = 1`).Scan(&n); err != nil || n > 0 {
			return err // another replica did it
		}
		rows, err := tx.Query(ctx, `SELECT id, at, COALESCE(actor_id, 0), action, resource_type, resource_id, detail FROM audit_log ORDER BY id`)
		recs, err := platform.Collect(rows, err, func(r *sql.Rows) (Record, error) {
			var rec Record
			var at time.Time
			var detail string
			err := r.Scan(&rec.AuditID, &at, &rec.ActorID, &rec.Action, &rec.ResourceType, &rec.ResourceID, &detail)
			rec.At, rec.Detail, rec.State = timeText(at), rawOrNull([]byte(detail)), json.RawMessage("null")
			return rec, err
		})
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if err := s.appendRecordTx(ctx, tx, rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// sync brings the in-memory tree up to the committed leaves and returns
// its size. Leaves are read syncChunk at a time and each chunk is added as
// it is read, so a caller whose deadline ends the read (a public request
// has two seconds) still leaves the tree further on: a process starting on
// a million leaves catches up in a few calls rather than re-reading from
// the first leaf on every call.
func (s *Service) sync(ctx context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		have := s.tree.Size()
		rows, err := s.db.Query(ctx, `SELECT seq, kind, subject, at, digest FROM ledger_leaves WHERE seq >= $1 ORDER BY seq LIMIT `+strconv.Itoa(syncChunk), int64(have))
		leaves, err := platform.Collect(rows, err, scanLeaf)
		if err != nil {
			return 0, err
		}
		hs := make([]Digest, 0, len(leaves))
		for i, l := range leaves {
			if l.Seq != have+uint64(i) {
				break // a gap: Verify reports it; the tree stops before it
			}
			hs = append(hs, s.hasher.Leaf(l.Bytes()))
		}
		s.tree.AppendLeafHashes(hs...)
		if len(leaves) < syncChunk || len(hs) < len(leaves) {
			return s.tree.Size(), nil
		}
	}
}

// syncChunk is how many leaves sync reads a statement.
var syncChunk = 20_000 // (a variable: tests read in smaller chunks)

func scanLeaf(r *sql.Rows) (Leaf, error) {
	var l Leaf
	var seq int64
	err := r.Scan(&seq, &l.Kind, &l.Subject, &l.At, &l.Digest)
	l.Seq = uint64(seq)
	return l, err
}

// errNotFound is a leaf, size or code the log does not hold.
var errNotFound = platform.NotFound("账本中没有该记录", "no such entry in the ledger")

// ParseIndex reads a leaf index or tree size.
func ParseIndex(v string) (uint64, error) {
	n, err := strconv.ParseUint(v, 10, 63)
	if err != nil {
		return 0, errors.New("not a number")
	}
	return n, nil
}
