package trace

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// Stored pages in process memory. A view answered from public_pages is one
// primary-key read, but with a million codes that read misses SQLite's page
// cache and costs a round trip on PostgreSQL, several times a bare
// handler's whole cost. So StoredPage first looks in pageMemory: the pages
// this process last served, up to a byte budget (SetPageMemory).
//
// A page in memory is current while the platform's write generation (the
// ledger's size; see generation) is the one it was last known current
// under: a quiet platform answers from memory without touching the
// database. After any write the next view of each page in memory reads the
// code's two revs (public_page_revs, a small table) and keeps the page if
// they are unchanged, so a busy platform still answers most views without
// reading a page. The generation is read before the page or facts it
// guards, so a write that commits meanwhile always leads to that check.
//
// Scan counts: a page in memory shows the count it was loaded with plus
// this process's views of it since; other replicas' views show once it is
// loaded again, at the latest after memPageMaxAge (a single process, the
// SQLite default, counts every view itself).

// DefaultPageMemory is the byte budget of pages kept in memory (about
// 2–3 KB a page: some 100,000 pages).
const DefaultPageMemory = 256 << 20

// memPageMaxAge is how long a page stays in memory before it is read from
// the store again, which brings in other replicas' scan counts. Not
// shorter: at a million codes drawn at random most pages are viewed less
// than once a minute, and a one-minute age sent a third of the views of a
// warm server to the store (measured: 66,200 of 194,702).
const memPageMaxAge = 10 * time.Minute

// memShards spreads pages over independently locked maps.
const memShards = 32

// memPageOverhead approximates an entry's bytes beyond its parts (map
// slot, struct, key strings).
const memPageOverhead = 256

// memKey names a kept page: its code inline (codeKey) and its variant,
// one shared string per variant (pageMemory.variant), so a lookup reads no
// string of its own per page.
type memKey struct {
	code    codeKey
	variant string
}

type memPage struct {
	page   StoredPage
	gen    atomic.Int64 // the write generation the page was last known current under
	base   ScanStats    // the scans shown when it was loaded
	views  atomic.Int64 // this process's views since (the one that loaded it included)
	loaded time.Time
	size   int64
}

type memShard struct {
	mu    sync.Mutex
	m     map[memKey]*memPage
	bytes int64
}

type pageMemory struct {
	seed     maphash.Seed
	budget   atomic.Int64 // per shard; 0 = off
	shards   [memShards]memShard
	namesMu  sync.Mutex
	variants map[string]string // each variant's one copy
}

func newPageMemory(total int64) *pageMemory {
	m := &pageMemory{seed: maphash.MakeSeed()}
	m.setBudget(total)
	return m
}

func (m *pageMemory) setBudget(total int64) {
	if total < 0 {
		total = 0
	}
	m.budget.Store(total / memShards)
	if total == 0 {
		for i := range m.shards {
			sh := &m.shards[i]
			sh.mu.Lock()
			sh.m, sh.bytes = nil, 0
			sh.mu.Unlock()
		}
	}
}

func (m *pageMemory) shard(code string) *memShard {
	return &m.shards[maphash.String(m.seed, code)%memShards]
}

func (m *pageMemory) get(code, variant string) *memPage {
	ck, ok := keyOf(code)
	if !ok {
		return nil
	}
	sh := m.shard(code)
	sh.mu.Lock()
	e := sh.m[memKey{ck, variant}]
	sh.mu.Unlock()
	return e
}

// variant is v's one shared copy (a handful of variants: the page's
// languages, verified or not, per release).
func (m *pageMemory) variant(v string) string {
	m.namesMu.Lock()
	defer m.namesMu.Unlock()
	if s, ok := m.variants[v]; ok {
		return s
	}
	if m.variants == nil || len(m.variants) >= maxVariants {
		m.variants = map[string]string{}
	}
	m.variants[v] = v
	return v
}

// maxVariants bounds the shared variant names (a new release's pages bring
// new ones; the old ones are then dropped with the map).
const maxVariants = 64

// put keeps p, evicting pages at random while the shard is over budget.
func (m *pageMemory) put(p StoredPage, gen int64, base ScanStats, now time.Time) {
	budget := m.budget.Load()
	ck, ok := keyOf(p.Code)
	if budget == 0 || gen < 0 || !ok {
		return
	}
	e := &memPage{page: p, base: base, loaded: now,
		size: int64(len(p.Head.Data)+len(p.Tail.Data)+len(p.Code)+len(p.Variant)+len(p.ETag)) + memPageOverhead}
	if e.size > budget {
		return
	}
	e.gen.Store(gen)
	e.views.Store(1)
	k := memKey{ck, m.variant(p.Variant)}
	sh := m.shard(p.Code)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m == nil {
		sh.m = map[memKey]*memPage{}
	}
	if old, ok := sh.m[k]; ok {
		sh.bytes -= old.size
	}
	sh.m[k] = e
	sh.bytes += e.size
	for key, v := range sh.m { // map order is random: this evicts at random
		if sh.bytes <= budget {
			break
		}
		if key != k {
			delete(sh.m, key)
			sh.bytes -= v.size
		}
	}
}

func (m *pageMemory) drop(code, variant string, e *memPage) {
	ck, ok := keyOf(code)
	if !ok {
		return
	}
	k := memKey{ck, variant}
	sh := m.shard(code)
	sh.mu.Lock()
	if sh.m[k] == e {
		delete(sh.m, k)
		sh.bytes -= e.size
	}
	sh.mu.Unlock()
}

// usage is the pages and bytes kept.
func (m *pageMemory) usage() (pages int, bytes int64) {
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		pages += len(sh.m)
		bytes += sh.bytes
		sh.mu.Unlock()
	}
	return pages, bytes
}

// SetPageMemory sets the byte budget of stored pages kept in memory (0:
// none; the default is DefaultPageMemory).
func (s *Service) SetPageMemory(bytes int64) { s.mem.setBudget(bytes) }

// PageMemoryUsage is how many pages, and how many bytes of them, are kept
// in memory.
func (s *Service) PageMemoryUsage() (int, int64) { return s.mem.usage() }

// PageMemoryHits is how many views this process answered from pages in
// memory.
func (s *Service) PageMemoryHits() int64 { return s.memHits.Load() }

// memoryPage is the code's page of variant from memory when it is current
// (ok false otherwise), with its scans so far; gen is the generation read
// before this call.
func (s *Service) memoryPage(ctx context.Context, code, variant string, gen int64) (StoredPage, ScanStats, bool, error) {
	e := s.mem.get(code, variant)
	if e == nil {
		return StoredPage{}, ScanStats{}, false, nil
	}
	now := s.clock.Now()
	if gen < 0 || now.Sub(e.loaded) >= memPageMaxAge {
		s.mem.drop(code, variant, e)
		return StoredPage{}, ScanStats{}, false, nil
	}
	if known := e.gen.Load(); gen > known { // written since: are the code's revs unchanged?
		if err := s.db.TakeSlot(ctx); err != nil {
			return StoredPage{}, ScanStats{}, false, err
		}
		st, err := s.readStamp(ctx, code)
		if err != nil {
			return StoredPage{}, ScanStats{}, false, err
		}
		if st.Rev != e.page.Rev || st.Epoch != e.page.Epoch {
			s.mem.drop(code, variant, e)
			return StoredPage{}, ScanStats{}, false, nil
		}
		e.gen.CompareAndSwap(known, gen)
	}
	st := e.base
	st.Count += e.views.Add(1) - 1
	if st.FirstAt == "" && st.Count > 0 {
		st.FirstAt = s.days.Of(now)
	}
	s.memHits.Add(1)
	return e.page, st, true, nil
}
