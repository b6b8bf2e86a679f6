package supervision

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// DrawAlgorithm names the draw procedure; it is recorded with every draw
// and published, so that anyone holding the seed and the population can
// re-run it (docs/supervision.md has a 30-line reference implementation).
//
//  1. The population is the list of operator codes, sorted ascending.
//  2. U(label, i, bound): for k = 0, 1, …: h = SHA-256(seed ":" label ":" i ":" k);
//     x = the first 8 bytes of h as a big-endian uint64; accept x when
//     x < bound·⌊2⁶⁴/bound⌋ and return x mod bound (rejection removes the
//     modulo bias).
//  3. Operators: Fisher–Yates over the sorted population with label
//     "operators": for i = n−1 … 1, j = U("operators", i, i+1), swap i, j.
//     The first `size` operators are drawn, in that order.
//  4. Inspectors, for each drawn operator in order: the pool sorted by
//     username, shuffled the same way with label "inspectors:<operator code>";
//     drop those recused from the operator or whose jurisdiction does not
//     reach it; stable-sort the rest by how many tasks they already have;
//     take the first per_task.
const DrawAlgorithm = "agtrace-draw-v1"

// uniform returns an unbiased number in [0, bound) derived from the seed.
func uniform(seed, label string, i, bound uint64) uint64 {
	if bound <= 1 {
		return 0
	}
	q, _ := bits.Div64(1, 0, bound) // ⌊2⁶⁴/bound⌋
	limit := q * bound              // 0 when bound divides 2⁶⁴: every x is accepted
	for k := uint64(0); ; k++ {
		h := sha256.Sum256([]byte(seed + ":" + label + ":" + strconv.FormatUint(i, 10) + ":" + strconv.FormatUint(k, 10)))
		x := binary.BigEndian.Uint64(h[:8])
		if limit == 0 || x < limit {
			return x % bound
		}
	}
}

// shuffled returns the permutation of 0…n−1 the seed gives for label.
func shuffled(seed, label string, n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i >= 1; i-- {
		j := int(uniform(seed, label, uint64(i), uint64(i+1)))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// Selection is one drawn operator and the inspectors assigned to it.
type Selection struct {
	OperatorCode string   `json:"operator_code"`
	OperatorName string   `json:"operator_name,omitempty"`
	Inspectors   []string `json:"inspectors"`
}

// drawRun is the pure draw: its inputs and nothing else.
type drawRun struct {
	Seed       string
	Population []string // operator codes (any order: sorted here)
	Size       int
	Pool       []string // inspector usernames
	PerTask    int
	// Eligible says whether an inspector may be assigned to an operator
	// (jurisdiction and recusals); nil = everyone.
	Eligible func(inspector, operatorCode string) bool
}

// errTaskUnstaffed: recusals or jurisdiction leave an operator with fewer
// eligible inspectors than per_task.
type errTaskUnstaffed struct{ code string }

func (e errTaskUnstaffed) Error() string { return "too few eligible inspectors for " + e.code }

// run performs the draw.
func (d drawRun) run() ([]Selection, error) {
	pop := slices.Clone(d.Population)
	slices.Sort(pop)
	pop = slices.Compact(pop)
	if d.Size > len(pop) {
		return nil, fmt.Errorf("size %d exceeds the population %d", d.Size, len(pop))
	}
	order := shuffled(d.Seed, "operators", len(pop))
	pool := slices.Clone(d.Pool)
	slices.Sort(pool)
	pool = slices.Compact(pool)
	load := map[string]int{}
	out := make([]Selection, 0, d.Size)
	for _, idx := range order[:d.Size] {
		code := pop[idx]
		var cands []string
		for _, k := range shuffled(d.Seed, "inspectors:"+code, len(pool)) {
			if d.Eligible == nil || d.Eligible(pool[k], code) {
				cands = append(cands, pool[k])
			}
		}
		if len(cands) < d.PerTask {
			return nil, errTaskUnstaffed{code}
		}
		slices.SortStableFunc(cands, func(a, b string) int { return load[a] - load[b] })
		chosen := slices.Clone(cands[:d.PerTask])
		for _, u := range chosen {
			load[u]++
		}
		out = append(out, Selection{OperatorCode: code, Inspectors: chosen})
	}
	return out, nil
}

// populationDigest is the SHA-256 of the sorted population, one code per
// line: published so that the population itself can be checked.
func populationDigest(pop []string) string {
	p := slices.Clone(pop)
	slices.Sort(p)
	h := sha256.Sum256([]byte(strings.Join(p, "\n")))
	return hex.EncodeToString(h[:])
}
