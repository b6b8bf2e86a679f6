package trace

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"agtrace/internal/platform"
)

// Stored public pages. Most views of a code are not its first, but with a
// million codes drawn at random almost every view misses an in-memory
// cache, and building a page (graph walk, template, compression) costs
// about half a millisecond. So each page, once rendered, is kept in
// public_pages and a view of a stored, current page is one primary-key
// read. A page is current while its rev equals the code's entry in
// public_page_revs and its epoch the entry under '*'; pagesTouched, an emit
// hook, bumps those revs in the writer's transaction for every code whose
// page the write changes, so the page after a sale, a confirmation, a
// correction, a certificate, a sample, an inspection, a finding or a hold
// is never the one before. The rev a page is stored with is read before its
// facts: a write that commits while a page is being built leaves it stale
// on arrival, never current.

// StoredPage is a rendered page in two DEFLATE parts around the scan count
// (see httpx.WriteSplicedGzip); the layout's head before the body is shared
// and not stored.
type StoredPage struct {
	Code, Variant string
	Rev, Epoch    int64
	Gen           int64 // the write generation read before Rev and Epoch (not stored; see pagememory.go)
	ETag          string
	Head, Tail    PagePart
}

// PagePart is raw DEFLATE ending in a sync flush, with the CRC-32 and
// length of its text.
type PagePart struct {
	Data []byte
	CRC  uint32
	Len  int64
}

// PageStamp is what a page built from the facts must be stored with.
type PageStamp struct{ Rev, Epoch, Gen int64 }

// Stamp is the rev and epoch the facts were read under.
func (p PublicTrace) Stamp() PageStamp { return p.stamp }

// epochKey is public_page_revs' row for changes that stale every page.
const epochKey = "*"

// bigOperatorCodes: an operator event (a new name, a credit entry) bumps
// the pages of the operator's codes and their descendants one by one up to
// this many codes; beyond it the epoch, which stales every stored page
// (cheaper than a write touching more rows than a rebuild would).
const bigOperatorCodes = 5000

// pageReadSQL reads a stored page, the revs it must match and the code's
// flushed scan counts (as "count first-day": one walk of the code's rows)
// in one statement.
const pageReadSQL = `SELECT p.rev, p.epoch, p.etag, p.head, p.head_crc, p.head_len, p.tail, p.tail_crc, p.tail_len,
	COALESCE((SELECT r.rev FROM public_page_revs r WHERE r.code = p.code), 0),
	COALESCE((SELECT g.rev FROM public_page_revs g WHERE g.code = '` + epochKey + `'), 0),
	(SELECT CAST(COALESCE(SUM(s.count), 0) AS TEXT) || ' ' || COALESCE(MIN(s.day), '') FROM trace_scans s WHERE s.code = p.code)
	FROM public_pages p WHERE p.code = $1 AND p.variant = $2`

// StoredPage is the code's stored page of variant when it is current (ok
// false otherwise), with the code's scans so far (this view included once
// counted).
func (s *Service) StoredPage(ctx context.Context, code, variant string) (StoredPage, ScanStats, bool, error) {
	gen, err := s.generation(ctx) // before the page: a write meanwhile leads the next view to check the revs
	if err != nil {
		return StoredPage{}, ScanStats{}, false, err
	}
	if sp, st, ok, err := s.memoryPage(ctx, code, variant, gen); ok || err != nil {
		return sp, st, ok, err
	}
	if err := s.db.TakeSlot(ctx); err != nil { // the database from here on (platform.WithPublicSlot)
		return StoredPage{}, ScanStats{}, false, err
	}
	sp := StoredPage{Code: code, Variant: variant, Gen: gen}
	var rev, epoch int64
	var st ScanStats
	var hc, tc int64
	var scans string
	err = s.db.QueryRow(ctx, pageReadSQL, code, variant).Scan(&sp.Rev, &sp.Epoch, &sp.ETag, &sp.Head.Data, &hc, &sp.Head.Len,
		&sp.Tail.Data, &tc, &sp.Tail.Len, &rev, &epoch, &scans)
	if errors.Is(err, sql.ErrNoRows) {
		return sp, st, false, nil
	}
	if err != nil {
		return sp, st, false, err
	}
	if sp.Rev != rev || sp.Epoch != epoch {
		return sp, st, false, nil
	}
	s.storeHits.Add(1)
	sp.Head.CRC, sp.Tail.CRC = uint32(hc), uint32(tc)
	count, first, _ := strings.Cut(scans, " ")
	if st.Count, err = strconv.ParseInt(count, 10, 64); err != nil {
		return sp, st, false, fmt.Errorf("page store: scan count %q: %w", scans, err)
	}
	st.FirstAt = first
	if n := s.scans.unflushed(code); n > 0 {
		st.Count += n
		if st.FirstAt == "" {
			st.FirstAt = platform.Today(s.clock.Now())
		}
	}
	s.mem.put(sp, gen, st, s.clock.Now())
	return sp, st, true, nil
}

// PageStoreHits is how many views this process answered from stored pages.
func (s *Service) PageStoreHits() int64 { return s.storeHits.Load() }

// pageKeeper holds rendered pages until they are written (with the scan
// counts, every ScanFlushEvery): a view never waits for a write.
type pageKeeper struct {
	mu      sync.Mutex
	pending map[[2]string]StoredPage
}

// maxPendingPages bounds the pages waiting to be written; beyond it a
// rendered page is not kept (it is rendered again on a later view).
const maxPendingPages = 20_000

// KeepPage queues a rendered page to be stored (see FlushPages) and keeps
// it in memory; st is the scans the view that rendered it showed.
func (s *Service) KeepPage(p StoredPage, st ScanStats) {
	s.mem.put(p, p.Gen, st, s.clock.Now())
	k := &s.keeper
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.pending == nil {
		k.pending = map[[2]string]StoredPage{}
	}
	if len(k.pending) < maxPendingPages {
		k.pending[[2]string{p.Code, p.Variant}] = p
	}
}

// FlushPages writes the queued pages in one transaction. A page that went
// stale meanwhile is written all the same: its rev no longer matches, so it
// is never served, and the next view replaces it.
func (s *Service) FlushPages(ctx context.Context) error {
	k := &s.keeper
	k.mu.Lock()
	batch := k.pending
	k.pending = nil
	k.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	return s.db.InTx(ctx, func(tx *platform.Tx) error {
		for _, p := range batch {
			if _, err := tx.Exec(ctx, `INSERT INTO public_pages (code, variant, rev, epoch, etag, head, head_crc, head_len, tail, tail_crc, tail_len)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
				ON CONFLICT (code, variant) DO UPDATE SET rev = $3, epoch = $4, etag = $5, head = $6, head_crc = $7, head_len = $8,
				tail = $9, tail_crc = $10, tail_len = $11`,
				p.Code, p.Variant, p.Rev, p.Epoch, p.ETag, p.Head.Data, int64(p.Head.CRC), p.Head.Len, p.Tail.Data, int64(p.Tail.CRC), p.Tail.Len); err != nil {
				return err
			}
		}
		return nil
	})
}

// PrunePages deletes the stored pages of other page versions than version
// (the variant's last dot-separated part): pages a new release no longer
// serves. Run once at start; a database of a million pages takes seconds.
func (s *Service) PrunePages(ctx context.Context, version string) (int64, error) {
	res, err := s.db.Exec(ctx, `DELETE FROM public_pages WHERE variant NOT LIKE $1`, "%."+version)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// readStamp is the code's rev and the epoch, read before the facts.
func (s *Service) readStamp(ctx context.Context, code string) (PageStamp, error) {
	var st PageStamp
	err := s.db.QueryRow(ctx, `SELECT COALESCE((SELECT rev FROM public_page_revs WHERE code = $1), 0),
		COALESCE((SELECT rev FROM public_page_revs WHERE code = '`+epochKey+`'), 0)`, code).Scan(&st.Rev, &st.Epoch)
	return st, err
}

// reach is which pages besides the seed codes' own a change shows on.
type reach int

const (
	reachOwn  reach = iota // the code's own page only (a hold banner, a clone warning)
	reachUp                // and the codes it came from, whose pages show their buyers (a sale); publicDownDepth is 1
	reachDown              // and everything downstream, whose pages show the code's facts, certificates and checks
	reachBoth              // both (a correction)
)

// bumpSQL stales the pages of the seed codes (a query bound to $1) and
// those r reaches. Every page's rev is bumped once (DISTINCT). Shaped for
// SQLite 3.54's planner, measured at 100,000 codes: a WITH before an
// INSERT … ON CONFLICT, or a UNION joining trace_edges to the seed, made
// it scan all of trace_edges (13 ms a bump, growing with the codes); an
// IN list over UNION ALL inside the INSERT's subquery searches the indexes
// (0.05 ms upstream, 0.1 ms down). PostgreSQL plans either alike.
func bumpSQL(seed string, r reach) string {
	sets := []string{"SELECT code FROM seed"}
	with := "WITH RECURSIVE seed(code) AS (" + seed + ")"
	if r == reachDown || r == reachBoth {
		with += `, down(code) AS (SELECT code FROM seed UNION SELECT e.to_code FROM trace_edges e JOIN down d ON e.from_code = d.code)`
		sets[0] = "SELECT code FROM down" // down starts with the seed
	}
	if r == reachUp || r == reachBoth {
		sets = append(sets, "SELECT e.from_code FROM trace_edges e WHERE e.to_code IN (SELECT code FROM seed)") // publicDownDepth steps: 1
	}
	return `INSERT INTO public_page_revs (code, rev) SELECT DISTINCT code, 1 FROM (` + with + " " + strings.Join(sets, " UNION ALL ") + `) x WHERE true
	ON CONFLICT (code) DO UPDATE SET rev = public_page_revs.rev + 1`
}

// pageSeed is how an event's resource reaches the codes whose pages it
// changes: a query bound to the resource id ($1), whether that id is a
// number, and which other pages show the change.
type pageSeed struct {
	query   string
	numeric bool
	reach   reach
}

var pageSeeds = map[string]pageSeed{
	"trace_code":  {query: `SELECT CAST($1 AS TEXT)`, reach: reachUp}, // batch.correct: reachBoth (pagesTouched)
	"certificate": {query: `SELECT code FROM certificates WHERE number = $1`, reach: reachDown},
	"sample":      {query: `SELECT batch_code FROM samples WHERE id = $1`, numeric: true, reach: reachDown},
	"inspection":  {query: `SELECT code FROM inspection_batches WHERE inspection_id = $1`, numeric: true, reach: reachDown},
	"finding":     {query: `SELECT code FROM findings WHERE id = $1 AND code IS NOT NULL`, numeric: true, reach: reachOwn},
	"recall":      {query: `SELECT code FROM trace_codes WHERE held_recall = $1`, numeric: true, reach: reachOwn},
}

// correctAction is the one trace-code event whose change shows downstream
// too (a sale or a confirmation changes the chain seen from upstream; the
// facts the pages downstream show stay as they were).
const correctAction = "batch.correct"

// pagesTouched is the emit hook that keeps stored pages honest (see the top
// of this file). Operators' events stale the pages showing the operator;
// transformations name their outputs in the event.
func (s *Service) pagesTouched(ctx context.Context, tx *platform.Tx, e platform.Emitted) error {
	switch e.ResourceType {
	case "operator":
		if !operatorPageActions[e.Action] {
			return nil
		}
		return bumpOperatorPages(ctx, tx, e.ResourceID)
	case "transformation":
		var d struct {
			Outputs []struct {
				Code string `json:"code"`
			} `json:"outputs"`
		}
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			return err
		}
		for _, o := range d.Outputs {
			if _, err := tx.Exec(ctx, bumpSQL(pageSeeds["trace_code"].query, reachUp), o.Code); err != nil {
				return err
			}
		}
		return nil
	}
	seed, ok := pageSeeds[e.ResourceType]
	if !ok {
		return nil
	}
	var id any = e.ResourceID
	if seed.numeric {
		n, err := strconv.ParseInt(e.ResourceID, 10, 64)
		if err != nil {
			return nil // not a record of that table (no page shows it)
		}
		id = n
	}
	r := seed.reach
	if e.Action == correctAction {
		r = reachBoth
	}
	_, err := tx.Exec(ctx, bumpSQL(seed.query, r), id)
	return err
}

// operatorPageActions are the operator events that change what pages show
// of it (its name, kind, region; its credit level).
var operatorPageActions = map[string]bool{"operator.update": true, "operator.change.approve": true, "credit.entry": true}

// bumpOperatorPages stales the pages that show an operator: its codes and
// what came of them, or every page (the epoch) for a big operator.
func bumpOperatorPages(ctx context.Context, tx *platform.Tx, resourceID string) error {
	id, err := strconv.ParseInt(resourceID, 10, 64)
	if err != nil {
		return nil
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM trace_codes WHERE operator_id = $1 LIMIT `+strconv.Itoa(bigOperatorCodes+1)+`) x`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	if n > bigOperatorCodes {
		_, err = tx.Exec(ctx, `INSERT INTO public_page_revs (code, rev) VALUES ('`+epochKey+`', 1)
			ON CONFLICT (code) DO UPDATE SET rev = public_page_revs.rev + 1`)
		return err
	}
	_, err = tx.Exec(ctx, bumpSQL(`SELECT code FROM trace_codes WHERE operator_id = $1`, reachDown), id)
	return err
}

// StalePagesTx stales the stored pages that records written outside the
// services may change — a national node applying another node's codes —
// (their own, everything downstream, and the codes they came from), in the caller's transaction.
func StalePagesTx(ctx context.Context, tx *platform.Tx, codes []string) error {
	for _, c := range codes {
		if _, err := tx.Exec(ctx, bumpSQL(pageSeeds["trace_code"].query, reachBoth), c); err != nil {
			return err
		}
	}
	return nil
}
