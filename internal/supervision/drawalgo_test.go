package supervision

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"testing"
)

// sampleCodes returns n operator codes of county 370686 (as 18-character strings).
func sampleCodes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("370686%012d", 1000+i*7)
	}
	return out
}

// TestDrawRunDeterministic: the same seed and inputs give the same selections,
// for several shapes of draw (small and large populations, the whole
// population, more inspectors than a task needs).
func TestDrawRunDeterministic(t *testing.T) {
	cases := []struct {
		name    string
		pop     int
		size    int
		pool    []string
		perTask int
	}{
		{"one of two", 2, 1, []string{"a", "b"}, 2},
		{"five of fifty", 50, 5, []string{"insp1", "insp2", "insp3"}, 2},
		{"everyone", 12, 12, []string{"insp1", "insp2", "insp3", "insp4"}, 3},
		{"big", 500, 40, []string{"p", "q", "r", "s", "t", "u"}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := drawRun{Seed: "seed-" + c.name, Population: sampleCodes(c.pop), Size: c.size, Pool: c.pool, PerTask: c.perTask}
			first, err := d.run()
			if err != nil {
				t.Fatal(err)
			}
			if len(first) != c.size {
				t.Fatalf("%d selections, want %d", len(first), c.size)
			}
			seen := map[string]bool{}
			for _, s := range first {
				if seen[s.OperatorCode] {
					t.Fatalf("operator %s drawn twice", s.OperatorCode)
				}
				seen[s.OperatorCode] = true
				if len(s.Inspectors) != c.perTask || len(slices.Compact(slices.Sorted(slices.Values(s.Inspectors)))) != c.perTask {
					t.Fatalf("task %s: inspectors %v, want %d distinct", s.OperatorCode, s.Inspectors, c.perTask)
				}
			}
			for range 3 {
				again, err := d.run()
				if err != nil || !reflect.DeepEqual(first, again) {
					t.Fatalf("a re-run differs (%v):\n%v\n%v", err, first, again)
				}
			}
		})
	}
}

// TestDrawRunOtherSeedDiffers: over a population of 50, every pair of ten
// seeds gives a different ordered selection of 5.
func TestDrawRunOtherSeedDiffers(t *testing.T) {
	seen := map[string]string{}
	for i := range 10 {
		seed := "seed-" + strconv.Itoa(i)
		sel, err := drawRun{Seed: seed, Population: sampleCodes(50), Size: 5, Pool: []string{"a", "b"}, PerTask: 2}.run()
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprint(operatorsOf(sel))
		if other, dup := seen[key]; dup {
			t.Fatalf("seeds %s and %s drew the same operators in the same order: %s", other, seed, key)
		}
		seen[key] = seed
	}
}

// TestDrawRunInputOrderIrrelevant: the population and the pool are sorted
// (and de-duplicated) inside, so the order they arrive in does not matter.
func TestDrawRunInputOrderIrrelevant(t *testing.T) {
	pop := sampleCodes(30)
	pool := []string{"insp-a", "insp-b", "insp-c", "insp-d"}
	want, err := drawRun{Seed: "order", Population: pop, Size: 8, Pool: pool, PerTask: 2}.run()
	if err != nil {
		t.Fatal(err)
	}
	for i, perm := range [][]int{reversed(30), shuffled("perm-1", "test", 30), shuffled("perm-2", "test", 30)} {
		p := make([]string, len(pop))
		for j, k := range perm {
			p[j] = pop[k]
		}
		p = append(p, p[3], p[17]) // duplicates count once
		q := slices.Clone(pool)
		slices.Reverse(q)
		if i == 2 {
			q = []string{"insp-c", "insp-a", "insp-d", "insp-b", "insp-a"}
		}
		got, err := drawRun{Seed: "order", Population: p, Size: 8, Pool: q, PerTask: 2}.run()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("permutation %d (%v): got\n%v\nwant\n%v", i, err, got, want)
		}
	}
	if populationDigest(pop) != populationDigest(reversedCopy(pop)) {
		t.Fatal("the population digest depends on the order of the codes")
	}
	if populationDigest(pop) == populationDigest(pop[1:]) {
		t.Fatal("the population digest does not change with the population")
	}
}

func reversed(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = n - 1 - i
	}
	return out
}

func reversedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Reverse(c)
	return c
}

// TestUniform: values stay in [0, bound); bound 0 and 1 give 0; 10,000
// draws with bound 7 are spread evenly (chi-square with 6 degrees of
// freedom below 22.46, the 0.1 % critical value — the draws are seeded, so
// this is deterministic, not flaky); shuffled is a permutation.
func TestUniform(t *testing.T) {
	if uniform("s", "l", 1, 0) != 0 || uniform("s", "l", 1, 1) != 0 {
		t.Fatal("bounds 0 and 1 must give 0")
	}
	const n, bound = 10000, 7
	var hist [bound]int
	for i := range uint64(n) {
		x := uniform("chi-square", "test", i, bound)
		if x >= bound {
			t.Fatalf("uniform(…, %d) = %d", bound, x)
		}
		hist[x]++
	}
	chi := 0.0
	expect := float64(n) / bound
	for _, c := range hist {
		chi += (float64(c) - expect) * (float64(c) - expect) / expect
	}
	if chi > 22.46 {
		t.Fatalf("chi-square %.2f over 6 degrees of freedom: %v", chi, hist)
	}
	t.Logf("bound 7 over %d draws: %v (chi-square %.2f)", n, hist, chi)
	for _, bound := range []uint64{2, 3, 1000, 1 << 40, 1<<63 + 5} {
		for i := range uint64(50) {
			if x := uniform("range", "big", i, bound); x >= bound {
				t.Fatalf("uniform(…, %d) = %d", bound, x)
			}
		}
	}
	for _, n := range []int{0, 1, 2, 10, 100} {
		p := shuffled("perm", "x", n)
		if !slices.Equal(slices.Sorted(slices.Values(p)), slices.Sorted(slices.Values(reversed(n)))) {
			t.Fatalf("shuffled(%d) is not a permutation: %v", n, p)
		}
	}
}

// TestDrawRunRecusals: an inspector Eligible refuses is never assigned to
// that operator; an operator left with fewer eligible inspectors than
// per_task makes the draw fail with errTaskUnstaffed naming it.
func TestDrawRunRecusals(t *testing.T) {
	pop := sampleCodes(10)
	pool := []string{"insp1", "insp2", "insp3"}
	recused := map[[2]string]bool{{"insp1", pop[0]}: true, {"insp1", pop[1]}: true, {"insp2", pop[2]}: true, {"insp3", pop[3]}: true}
	eligible := func(u, code string) bool { return !recused[[2]string{u, code}] }
	for _, seed := range []string{"r1", "r2", "r3", "r4", "r5"} {
		sel, err := drawRun{Seed: seed, Population: pop, Size: 10, Pool: pool, PerTask: 2, Eligible: eligible}.run()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sel {
			for _, u := range s.Inspectors {
				if recused[[2]string{u, s.OperatorCode}] {
					t.Fatalf("seed %s: %s assigned to %s despite the recusal", seed, u, s.OperatorCode)
				}
			}
		}
	}
	// pop[0] can only get insp3 when insp1 and insp2 are both recused
	recused[[2]string{"insp2", pop[0]}] = true
	_, err := drawRun{Seed: "r1", Population: pop, Size: 10, Pool: pool, PerTask: 2, Eligible: eligible}.run()
	var un errTaskUnstaffed
	if !errors.As(err, &un) || un.code != pop[0] {
		t.Fatalf("unstaffed task: %v", err)
	}
	// … but a draw that does not pick pop[0] is fine (and one that does fails)
	for i := range 50 {
		seed := "skip-" + strconv.Itoa(i)
		sel, err := drawRun{Seed: seed, Population: pop, Size: 2, Pool: pool, PerTask: 2, Eligible: eligible}.run()
		switch {
		case errors.As(err, &un) && un.code == pop[0]:
			continue
		case err != nil || slices.Contains(operatorsOf(sel), pop[0]):
			t.Fatalf("seed %s: %v %v", seed, err, sel)
		}
		return
	}
	t.Fatal("no seed of 50 leaves the unstaffed operator out of a draw of 2 in 10")
}

// TestDrawRunLoadBalancing: 6 operators, 4 inspectors, 2 per task: every
// inspector gets exactly 3 tasks, whatever the seed.
func TestDrawRunLoadBalancing(t *testing.T) {
	for i := range 20 {
		sel, err := drawRun{Seed: "load-" + strconv.Itoa(i), Population: sampleCodes(6), Size: 6, Pool: []string{"w", "x", "y", "z"}, PerTask: 2}.run()
		if err != nil {
			t.Fatal(err)
		}
		load := map[string]int{}
		for _, s := range sel {
			for _, u := range s.Inspectors {
				load[u]++
			}
		}
		if !reflect.DeepEqual(load, map[string]int{"w": 3, "x": 3, "y": 3, "z": 3}) {
			t.Fatalf("seed load-%d: loads %v", i, load)
		}
	}
}

// TestDrawRunSizeAbovePopulation: a draw larger than its population fails.
func TestDrawRunSizeAbovePopulation(t *testing.T) {
	if _, err := (drawRun{Seed: "x", Population: append(sampleCodes(3), sampleCodes(3)...), Size: 4, Pool: []string{"a", "b"}, PerTask: 2}).run(); err == nil {
		t.Fatal("a draw of 4 from 3 distinct operators succeeded")
	}
}

// TestDrawRunKnownAnswer: the pinned vector, and an independent
// implementation of the procedure the DrawAlgorithm doc comment describes
// (written from the comment, not from the code) gives the same operators,
// in the same order, with the same inspectors.
func TestDrawRunKnownAnswer(t *testing.T) {
	// Pinned once from drawRun (and checked against a separate Python
	// rendering of the comment): a change to the algorithm would make
	// published draws irreproducible, so it must fail here.
	const seed = "agtrace-kat-2026"
	pop := []string{"370686000000001001", "370686000000001002", "370686000000001003", "370686000000001004", "370686000000001005",
		"370686000000001006", "370686000000001007", "370686000000001008"}
	pool := []string{"zhang", "li", "wang"}
	want := []Selection{
		{OperatorCode: "370686000000001003", Inspectors: []string{"zhang", "wang"}},
		{OperatorCode: "370686000000001008", Inspectors: []string{"li", "zhang"}},
		{OperatorCode: "370686000000001002", Inspectors: []string{"li", "wang"}},
		{OperatorCode: "370686000000001006", Inspectors: []string{"wang", "li"}},
	}
	got, err := drawRun{Seed: seed, Population: pop, Size: 4, Pool: pool, PerTask: 2}.run()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("drawRun no longer gives the pinned answer:\ngot  %v\nwant %v", got, want)
	}
	ref := referenceDraw(seed, pop, 4, pool, 2, nil)
	if !reflect.DeepEqual(ref, want) {
		t.Fatalf("the documented algorithm gives\n%v\nthe code gives\n%v", ref, want)
	}
	// and over many random shapes, with recusals
	for i := range 40 {
		seed := "cross-" + strconv.Itoa(i)
		pop := sampleCodes(5 + i)
		pool := []string{"a1", "b2", "c3", "d4", "e5"}[:2+i%4]
		recused := map[[2]string]bool{{pool[0], pop[i%len(pop)]}: true}
		size := 1 + i%len(pop)
		perTask := 2
		code, err := drawRun{Seed: seed, Population: pop, Size: size, Pool: pool, PerTask: perTask,
			Eligible: func(u, c string) bool { return !recused[[2]string{u, c}] }}.run()
		ref := referenceDraw(seed, pop, size, pool, perTask, recused)
		if err != nil {
			if ref != nil {
				t.Fatalf("%s: the code fails (%v), the reference draws %v", seed, err, ref)
			}
			continue
		}
		if !reflect.DeepEqual(code, ref) {
			t.Fatalf("%s: code %v, reference %v", seed, code, ref)
		}
	}
}

// referenceDraw is the DrawAlgorithm comment turned into code, without
// looking at drawRun: nil when a task cannot be staffed.
func referenceDraw(seed string, population []string, size int, pool []string, perTask int, recused map[[2]string]bool) []Selection {
	u := func(label string, i, bound uint64) uint64 { // U(label, i, bound)
		hi, lo := bits.Mul64(bound, must(bits.Div64(1, 0, bound))) // bound·⌊2⁶⁴/bound⌋ as 128 bits (bound ≥ 2)
		for k := 0; ; k++ {
			h := sha256.Sum256([]byte(seed + ":" + label + ":" + strconv.FormatUint(i, 10) + ":" + strconv.Itoa(k)))
			if x := binary.BigEndian.Uint64(h[:8]); hi == 1 || x < lo {
				return x % bound
			}
		}
	}
	fisherYates := func(label string, list []string) []string {
		l := slices.Clone(list)
		for i := len(l) - 1; i >= 1; i-- {
			j := u(label, uint64(i), uint64(i+1))
			l[i], l[j] = l[j], l[i]
		}
		return l
	}
	ops := fisherYates("operators", slices.Sorted(slices.Values(population)))[:size]
	inspectors := slices.Sorted(slices.Values(pool))
	load := map[string]int{}
	var out []Selection
	for _, code := range ops {
		var cands []string
		for _, name := range fisherYates("inspectors:"+code, inspectors) {
			if !recused[[2]string{name, code}] {
				cands = append(cands, name)
			}
		}
		sort.SliceStable(cands, func(a, b int) bool { return load[cands[a]] < load[cands[b]] })
		if len(cands) < perTask {
			return nil
		}
		for _, name := range cands[:perTask] {
			load[name]++
		}
		out = append(out, Selection{OperatorCode: code, Inspectors: cands[:perTask]})
	}
	return out
}

func must(q, _ uint64) uint64 { return q }

func operatorsOf(sel []Selection) []string {
	out := make([]string, len(sel))
	for i, s := range sel {
		out[i] = s.OperatorCode
	}
	return out
}

// ReplayDraw re-runs a recorded draw from what it publishes — its seed and
// spec (population codes, inspectors, per_task, recusals and the
// jurisdiction exclusions) — with the pure algorithm. Exported for the
// HTTP tests of package supervision_test (this file is compiled only into
// the test binary).
func ReplayDraw(seed string, spec DrawSpec) ([]Selection, error) {
	out := map[[2]string]bool{}
	for _, r := range append(slices.Clone(spec.Recusals), spec.Ineligible...) {
		out[[2]string{r.Inspector, r.OperatorCode}] = true
	}
	return drawRun{Seed: seed, Population: spec.PopulationCodes, Size: spec.Size, Pool: spec.Inspectors, PerTask: spec.PerTask,
		Eligible: func(u, code string) bool { return !out[[2]string{u, code}] }}.run()
}

func TestPercentOf(t *testing.T) {
	for _, c := range []struct {
		pct  float64
		n    int
		want int
	}{{7, 100, 7}, {10, 33, 4}, {0.01, 10000, 1}, {100, 5, 5}, {12.5, 8, 1}, {12.51, 8, 2}, {33.33, 3, 1}} {
		if got := percentOf(c.pct, c.n); got != c.want {
			t.Errorf("percentOf(%v, %d) = %d, want %d", c.pct, c.n, got, c.want)
		}
	}
}
