package trace

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"agtrace/internal/platform"
)

// The public answer of a code is cached per (code, verified) and is valid
// while the platform's write generation — the ledger's size, which every
// write that changes anything a page shows advances in its own transaction
// (a sale, a confirmation, a correction, a certificate, a hold or release,
// a sample, an inspection) — is unchanged. Each view costs one primary-key
// read of that size; a write anywhere makes the next view of each code
// rebuild. Scan counts are added at read time (they are not writes). The
// generation itself is read at most every GenerationPoll while this process
// commits nothing (generation).

const maxCachedPages = 50_000

// PublicMaxAge and PublicStale are the public answers' cache lifetimes
// (seconds): short, because a recall's banner must reach shoppers within
// seconds, with a longer stale-while-revalidate so a crowd is served while
// one request refreshes.
const (
	PublicMaxAge = 10
	PublicStale  = 60
)

// EntityTag is the answer's fingerprint (scan counts excluded).
func (p PublicTrace) EntityTag() string { return p.ETag }

type pageKey struct {
	code     string
	verified bool
}

type pageEntry struct {
	gen    int64
	p      PublicTrace
	seenAt int64 // this process's views of the code when built
}

type publicCache struct {
	mu sync.Mutex
	m  map[pageKey]*pageEntry
}

func newPublicCache() *publicCache { return &publicCache{m: map[pageKey]*pageEntry{}} }

func (c *publicCache) get(k pageKey, gen int64) (*pageEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	return e, ok && e.gen == gen
}

func (c *publicCache) put(k pageKey, e *pageEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedPages {
		c.m = map[pageKey]*pageEntry{} // a flood of distinct codes: start again rather than grow
	}
	c.m[k] = e
}

// GenerationPoll is how long a process trusts the write generation it
// read while it has committed nothing itself: its own writes are seen at
// once (DB.Commits changes), another replica's within this time.
const GenerationPoll = 100 * time.Millisecond

// genCache is the last write generation read, with this process's commit
// count before the read and when it was read.
type genCache struct {
	read    sync.Mutex // one read at a time: the others wait for it (a crowd would otherwise all read at once)
	mu      sync.Mutex
	gen     int64
	commits uint64
	at      time.Time
	ok      bool
}

// generation is the platform's write generation (-1 when the ledger is not
// set up, which disables the cache).
func (s *Service) generation(ctx context.Context) (int64, error) {
	commits, now := s.db.Commits(), time.Now()
	c := &s.gen
	fresh := func() (int64, bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.gen, c.ok && c.commits == commits && now.Sub(c.at) < GenerationPoll
	}
	if g, ok := fresh(); ok {
		return g, nil
	}
	c.read.Lock()
	defer c.read.Unlock()
	if g, ok := fresh(); ok { // read by another view meanwhile (after this one's commits and start)
		return g, nil
	}
	var g int64
	// no public slot: one read for every waiting view (a slot holder may be
	// among them)
	err := s.db.QueryRow(platform.Unslotted(ctx), `SELECT size FROM ledger_head WHERE id = 1`).Scan(&g)
	if errors.Is(err, sql.ErrNoRows) {
		return -1, nil
	}
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	if !c.ok || commits >= c.commits {
		c.gen, c.commits, c.at, c.ok = g, commits, now, true
	}
	c.mu.Unlock()
	return g, nil
}

// PublicHold is the banner of a held batch.
type PublicHold struct {
	Recall   string `json:"recall" doc:"the recall's number"`
	Status   string `json:"status" doc:"open | confirmed | closed"`
	Reason   string `json:"reason"`
	OpenedOn string `json:"opened_on"`
}

// PublicCheck is a verdict about this batch or one of its inputs.
type PublicCheck struct {
	Kind    string `json:"kind" doc:"sample | inspection"`
	Number  string `json:"number"`
	Date    string `json:"date"`
	Verdict string `json:"verdict" doc:"sample: pass | fail | not_judged | positive | negative; inspection: pass | rectify | violation"`
	OnInput bool   `json:"on_input" doc:"about an input of this batch, not the batch itself"`
}

// LedgerRef points at the ledger's proof of the code's records.
type LedgerRef struct {
	LeafIndex      int64 `json:"leaf_index" doc:"the newest leaf about this code (-1: none yet)"`
	CheckpointSize int64 `json:"checkpoint_size" doc:"the latest signed checkpoint's size (a leaf below it is provable now)"`
}

// extras adds what the page shows beyond the chain: the hold banner, the
// checks, the ledger reference, and the ETag of it all.
func (s *Service) extras(ctx context.Context, p *PublicTrace, ups []any) error {
	// the hold, an open clone-detection finding and the ledger reference in one statement
	var held sql.NullInt64
	var suspect int
	p.Ledger = &LedgerRef{}
	if err := s.db.QueryRow(ctx, `SELECT t.held_recall,
		(SELECT COUNT(*) FROM findings f WHERE f.code = t.code AND f.kind IN ($2, $3) AND f.status <> 'closed'),
		(SELECT COALESCE(MAX(l.seq), -1) FROM ledger_leaves l WHERE l.subject = $4),
		(SELECT COALESCE(MAX(c.size), 0) FROM ledger_checkpoints c)
		FROM trace_codes t WHERE t.code = $1`, p.Code, FindingScanOverUnits, FindingScanFarApart, "trace_code:"+p.Code).
		Scan(&held, &suspect, &p.Ledger.LeafIndex, &p.Ledger.CheckpointSize); err != nil {
		return err
	}
	if suspect > 0 {
		p.Warning = WarningSuspectedCopy
	}
	if held.Valid {
		h := PublicHold{}
		var opened sql.NullTime
		if err := s.db.QueryRow(ctx, `SELECT number, status, reason, opened_at FROM recalls WHERE id = $1`, held.Int64).Scan(&h.Recall, &h.Status, &h.Reason, &opened); err != nil {
			return err
		}
		if opened.Valid {
			h.OpenedOn = opened.Time.Format("2006-01-02")
		}
		if h.Status != "released" {
			p.Hold = &h
		}
	}
	in := inList(len(ups))
	p.Checks = []PublicCheck{}
	rows, err := s.db.Query(ctx, `SELECT 'sample', sample_no, sampled_on, verdict, batch_code FROM samples WHERE batch_code IN `+in+`
		UNION ALL SELECT 'inspection', i.number, i.on_date, i.result, b.code FROM inspections i JOIN inspection_batches b ON b.inspection_id = i.id
		WHERE b.code IN `+in+` ORDER BY 3 DESC, 2 DESC LIMIT 5`, ups...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var c PublicCheck
		var code string
		if err := rows.Scan(&c.Kind, &c.Number, &c.Date, &c.Verdict, &code); err != nil {
			rows.Close()
			return err
		}
		c.OnInput = code != p.Code
		p.Checks = append(p.Checks, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	b, _ := json.Marshal(p)
	sum := sha256.Sum256(b)
	p.ETag = hex.EncodeToString(sum[:12])
	return nil
}
