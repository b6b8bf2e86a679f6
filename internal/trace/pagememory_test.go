package trace

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// TestPageMemoryBudget: pages are kept up to the byte budget, a page
// replaced is counted once, pages beyond the budget evict others (never
// the one just kept), a page larger than a shard's budget is not kept, and
// a budget of 0 empties memory and keeps nothing.
func TestPageMemoryBudget(t *testing.T) {
	page := func(code string, n int) StoredPage {
		return StoredPage{Code: code, Variant: "zh.v.x", ETag: "e", Head: PagePart{Data: make([]byte, n)}}
	}
	now := time.Now()
	const total = memShards * 10_000 // 10,000 bytes a shard
	m := newPageMemory(total)
	for i := range 2000 {
		m.put(page(fmt.Sprintf("code-%d", i), 1000), 1, ScanStats{}, now)
		if m.get(fmt.Sprintf("code-%d", i), "zh.v.x") == nil {
			t.Fatalf("page %d not kept right after put", i)
		}
	}
	pages, bytes := m.usage()
	if bytes > total || pages == 0 {
		t.Fatalf("%d pages, %d bytes: want some, within %d", pages, bytes, total)
	}
	per := int64(1000 + len("code-0000") + len("zh.v.x") + 1 + memPageOverhead)
	if min := total/per - 3*memShards; int64(pages) < min { // every shard nearly full
		t.Fatalf("%d pages kept, want at least %d", pages, min)
	}

	// replacing a page does not count it twice
	m2 := newPageMemory(total)
	for range 5 {
		m2.put(page("same", 100), 1, ScanStats{}, now)
	}
	if pages, bytes := m2.usage(); pages != 1 || bytes != int64(100+len("same")+len("zh.v.x")+1+memPageOverhead) {
		t.Fatalf("one page put five times: %d pages, %d bytes", pages, bytes)
	}
	// too large for a shard, or a generation of -1 (no ledger): not kept
	m2.put(page("huge", 20_000), 1, ScanStats{}, now)
	m2.put(page("nogen", 10), -1, ScanStats{}, now)
	if m2.get("huge", "zh.v.x") != nil || m2.get("nogen", "zh.v.x") != nil {
		t.Fatal("a page over the shard budget or without a generation was kept")
	}
	// a string too long to be a trace code is not kept (nor found)
	long := strings.Repeat("1", codeKeyMax+1)
	m2.put(page(long, 10), 1, ScanStats{}, now)
	if m2.get(long, "zh.v.x") != nil {
		t.Fatal("an over-long code was kept")
	}
	// pages share one copy of their variant's name
	v1, v2 := strings.Clone("zh.v.y"), strings.Clone("zh.v.y")
	m2.put(StoredPage{Code: "a", Variant: v1}, 1, ScanStats{}, now)
	m2.put(StoredPage{Code: "b", Variant: v2}, 1, ScanStats{}, now)
	var names []string
	for i := range m2.shards {
		for k := range m2.shards[i].m {
			if k.variant == "zh.v.y" {
				names = append(names, k.variant)
			}
		}
	}
	if len(names) != 2 || unsafe.StringData(names[0]) != unsafe.StringData(names[1]) {
		t.Fatalf("variant names kept: %d, shared: %v", len(names), len(names) == 2 && unsafe.StringData(names[0]) == unsafe.StringData(names[1]))
	}
	// drop removes only the entry it was given
	e := m2.get("same", "zh.v.x")
	m2.put(page("same", 100), 2, ScanStats{}, now)
	m2.drop("same", "zh.v.x", e)
	if m2.get("same", "zh.v.x") == nil {
		t.Fatal("drop of a replaced entry removed its replacement")
	}
	// budget 0: nothing kept
	m2.setBudget(0)
	m2.put(page("after", 10), 1, ScanStats{}, now)
	if pages, bytes := m2.usage(); pages != 0 || bytes != 0 {
		t.Fatalf("budget 0: %d pages, %d bytes kept", pages, bytes)
	}
}
