package trace

// Integrity rules (docs/architecture.md, "Integrity rules"): what a merge
// may mix, how much a transformation may yield, which batches may carry a
// compliance certificate, and when refused over-shipments become findings.

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// Transfer statuses: pending → confirmed | rejected | withdrawn (sale to an
// operator); issued → accepted (market entry).
const (
	TransferPending   = "pending"
	TransferConfirmed = "confirmed"
	TransferRejected  = "rejected"
	TransferWithdrawn = "withdrawn"
	TransferIssued    = "issued"
	TransferAccepted  = "accepted"
)

// TransferStatuses lists every transfer status.
var TransferStatuses = []string{TransferPending, TransferConfirmed, TransferRejected, TransferWithdrawn, TransferIssued, TransferAccepted}

// Trace code types (the code's first digit), as stored in trace_codes.type.
const (
	TypeProduction  = int(codes.Production)  // 1 生产批次码
	TypeCirculation = int(codes.Circulation) // 2 流通批次码
	TypeMarketEntry = int(codes.MarketEntry) // 3 入市批次码
)

// ---------------------------------------------------------------- merges

// productFamily is what a merge may mix: lots of one product. Varieties
// (富士 and 嘎啦 apples, 英红九号 and 福鼎大白 tea) are the "variety"
// extension field within one catalogue product, so each product is its own
// family; two catalogue entries are never varieties of each other (green and
// black tea, chicken and duck eggs, carp and grass carp are different foods).
// Mixing different products is a transformation, not a merge.
func productFamily(p Product) string { return p.Code }

// ---------------------------------------------------------------- yields

// yieldRule is a plausible yield of a transformation: output amount / input
// amount, both in basis units (kg by weight, L by volume).
type yieldRule struct {
	In, Out  string // product code or leaf category code
	Basis    string // kg | L
	Min, Max float64
	Note     string
}

// seedYields are the built-in yield rules (yield_rules rows). Every product
// may also be transformed into itself (sorting, grading, trimming, drying,
// repacking): 0.50–1.00 unless listed here.
var seedYields = []yieldRule{
	{"live_pig", "pork_carcass", "kg", 0.65, 0.80, "屠宰率：胴体重 / 宰前活重"},
	{"live_pig", "pork_cuts", "kg", 0.45, 0.80, "屠宰并分割：分割肉重 / 宰前活重"},
	{"pork_carcass", "pork_cuts", "kg", 0.70, 1.00, "胴体分割（去骨、修整）"},
	{"pork_cuts", "pork_cuts", "kg", 0.70, 1.00, "再分割、修整"},
	{"cattle", "beef", "kg", 0.35, 0.65, "屠宰：牛肉重 / 宰前活重"},
	{"tea_fresh_leaf", "green_tea", "kg", 0.20, 0.30, "鲜叶制绿茶：约 3.5–5 千克鲜叶制 1 千克干茶"},
	{"tea_fresh_leaf", "black_tea", "kg", 0.20, 0.30, "鲜叶制红茶：约 3.5–5 千克鲜叶制 1 千克干茶"},
	{"green_tea", "green_tea", "kg", 0.80, 1.00, "精制、拼配前筛分"},
	{"black_tea", "black_tea", "kg", 0.80, 1.00, "精制、拼配前筛分"},
	{"raw_milk", "raw_milk", "L", 0.95, 1.00, "过滤、冷却、标准化（按体积）"},
	{"rice_paddy", "rice_paddy", "kg", 0.80, 1.00, "烘干、清理"},
	{"wheat", "wheat", "kg", 0.80, 1.00, "烘干、清理"},
}

// sameProductYield is the rule of a product transformed into itself.
var sameProductYield = yieldRule{Basis: "kg", Min: 0.50, Max: 1.00, Note: "分级、挑选、修整、重新包装"}

// allSeedYields lists the built-in rules, with the same-product rule for
// every catalogue product not given one.
func allSeedYields() []yieldRule {
	out := append([]yieldRule{}, seedYields...)
	have := map[[2]string]bool{}
	for _, r := range seedYields {
		have[[2]string{r.In, r.Out}] = true
	}
	for _, p := range seedProducts {
		if !have[[2]string{p.code, p.code}] {
			r := sameProductYield
			r.In, r.Out = p.code, p.code
			out = append(out, r)
		}
	}
	return out
}

// seedYieldRules inserts the built-in yield rules that are not yet there.
func seedYieldRules(ctx context.Context, tx *platform.Tx) error {
	for _, r := range allSeedYields() {
		if _, err := tx.Exec(ctx, `INSERT INTO yield_rules (input_key, output_key, basis, min_milli, max_milli, note)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (input_key, output_key) DO NOTHING`,
			r.In, r.Out, r.Basis, int64(math.Round(r.Min*1000)), int64(math.Round(r.Max*1000)), r.Note); err != nil {
			return fmt.Errorf("seed yield rule %s → %s: %w", r.In, r.Out, err)
		}
	}
	return nil
}

// SeedYieldRules inserts the built-in yield rules that are missing (edited
// rows are left alone); called with the catalogue seed at start-up.
func SeedYieldRules(ctx context.Context, db *platform.DB) error {
	var n int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM yield_rules`).Scan(&n); err != nil {
		return err
	}
	if n >= len(allSeedYields()) {
		return nil
	}
	return db.InTx(ctx, func(tx *platform.Tx) error { return seedYieldRules(ctx, tx) })
}

// yieldCache caches the yield rules for a minute.
type yieldCache struct {
	mu     sync.Mutex
	loaded time.Time
	rules  map[[2]string]yieldRule
}

func (s *Service) yieldRules(ctx context.Context) (map[[2]string]yieldRule, error) {
	c := &s.yields
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rules != nil && time.Since(c.loaded) < time.Minute {
		return c.rules, nil
	}
	rows, err := s.db.Query(ctx, `SELECT input_key, output_key, basis, min_milli, max_milli, note FROM yield_rules`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[[2]string]yieldRule{}
	for rows.Next() {
		var r yieldRule
		var lo, hi int64
		if err := rows.Scan(&r.In, &r.Out, &r.Basis, &lo, &hi, &r.Note); err != nil {
			return nil, err
		}
		r.Min, r.Max = float64(lo)/1000, float64(hi)/1000
		m[[2]string{r.In, r.Out}] = r
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	c.rules, c.loaded = m, time.Now()
	return m, nil
}

// ruleFor finds the yield rule from product in to product out: the product
// pair first, then the input's category to the output product, the input
// product to the output's category, and the category pair.
func ruleFor(rules map[[2]string]yieldRule, in, out Product) (yieldRule, bool) {
	for _, k := range [][2]string{{in.Code, out.Code}, {in.CategoryCode, out.Code}, {in.Code, out.CategoryCode}, {in.CategoryCode, out.CategoryCode}} {
		if k[0] == "" || k[1] == "" {
			continue
		}
		if r, ok := rules[k]; ok {
			return r, true
		}
	}
	return yieldRule{}, false
}

// Unit conversion. A quantity converts to kg exactly (kg, t), within a
// range (a head, a bird, an egg, a carcass piece has no fixed weight; a litre
// of milk weighs 1.028–1.034 kg), or not at all (a box: sizes vary).
var unitKg = map[string][2]float64{"kg": {1, 1}, "t": {1000, 1000}}

// productUnitKg is the weight range of one unit of a product, kg.
var productUnitKg = map[string]map[string][2]float64{
	"live_pig":     {"head": {50, 250}},
	"cattle":       {"head": {250, 1000}},
	"sheep":        {"head": {20, 100}},
	"broiler":      {"bird": {1.2, 4}},
	"duck":         {"bird": {1.5, 5}},
	"goose":        {"bird": {2.5, 8}},
	"chicken_egg":  {"piece": {0.04, 0.08}},
	"duck_egg":     {"piece": {0.055, 0.1}},
	"pork_carcass": {"piece": {25, 130}}, // a half or a whole carcass
	"raw_milk":     {"L": {1.028, 1.034}},
}

// amountIn converts milli thousandths of unit of product into basis units
// (kg or L): a range [lo, hi]; ok is false when it cannot be converted.
func amountIn(product, unit string, milli int64, basis string) (lo, hi float64, ok bool) {
	q := float64(milli) / 1000
	density, hasDensity := productUnitKg[product]["L"]
	if basis == "L" {
		if unit == "L" {
			return q, q, true
		}
		if !hasDensity {
			return 0, 0, false
		}
		klo, khi, ok := amountIn(product, unit, milli, "kg")
		if !ok {
			return 0, 0, false
		}
		return klo / density[1], khi / density[0], true
	}
	if r, ok := unitKg[unit]; ok {
		return q * r[0], q * r[1], true
	}
	if r, ok := productUnitKg[product][unit]; ok {
		return q * r[0], q * r[1], true
	}
	return 0, 0, false
}

// yieldIssue is an output outside its plausible yield.
type yieldIssue struct {
	out    int // index of the output named in the error and the finding
	zh, en string
	detail map[string]any
}

// checkYields applies the yield rules to a transformation whose inputs are
// loaded. For the outputs that have a rule from some input (grouped by
// basis), with A the input amount and B_i each output's amount:
//
//	Σ B_i / max_i ≤ A_hi   (the inputs suffice at the best yields)
//	Σ B_i / min_i ≥ A_lo   (the outputs account for the inputs at the worst yields)
//
// which for one output is min ≤ B / A ≤ max. The first check is skipped
// when an input cannot be converted, the second when an output cannot.
// Outputs with no rule from any input ("unrelated") must not weigh more
// than all the inputs together. It returns the issues and the unrelated
// outputs' indexes.
func checkYields(lines []consumeLine, outs []transformOutput, products map[string]Product, rules map[[2]string]yieldRule) ([]yieldIssue, []int) {
	type group struct {
		outs       []int
		inputs     map[int]bool
		minR, maxR []float64
	}
	groups := map[string]*group{}
	var unrelated []int
	for i, o := range outs {
		var basis string
		var lo, hi float64
		related := map[int]bool{}
		for j, l := range lines {
			r, ok := ruleFor(rules, products[l.row.ProductCode], o.p)
			if !ok || (basis != "" && r.Basis != basis) {
				continue
			}
			if basis == "" {
				basis, lo, hi = r.Basis, r.Min, r.Max
			}
			lo, hi = math.Min(lo, r.Min), math.Max(hi, r.Max)
			related[j] = true
		}
		if basis == "" {
			unrelated = append(unrelated, i)
			continue
		}
		g := groups[basis]
		if g == nil {
			g = &group{inputs: map[int]bool{}}
			groups[basis] = g
		}
		g.outs, g.minR, g.maxR = append(g.outs, i), append(g.minR, lo), append(g.maxR, hi)
		for j := range related {
			g.inputs[j] = true
		}
	}
	var issues []yieldIssue
	bases := make([]string, 0, len(groups))
	for b := range groups {
		bases = append(bases, b)
	}
	sort.Strings(bases)
	for _, basis := range bases {
		g := groups[basis]
		var aLo, aHi float64
		allIn := true
		for j := range g.inputs {
			lo, hi, ok := amountIn(lines[j].row.ProductCode, lines[j].row.Unit, lines[j].qty, basis)
			if !ok {
				allIn = false
				continue
			}
			aLo, aHi = aLo+lo, aHi+hi
		}
		var needed, covered, bLo, bHi float64
		allOut := true
		minAll, maxAll := math.Inf(1), 0.0
		for k, i := range g.outs {
			minAll, maxAll = math.Min(minAll, g.minR[k]), math.Max(maxAll, g.maxR[k])
			lo, hi, ok := amountIn(outs[i].p.Code, outs[i].o.Unit, outs[i].qty, basis)
			if !ok {
				allOut = false
				continue
			}
			bLo, bHi = bLo+lo, bHi+hi
			needed += lo / g.maxR[k]
			if g.minR[k] > 0 {
				covered += hi / g.minR[k]
			} else {
				covered = math.Inf(1)
			}
		}
		const eps = 1e-9
		tooMuch := allIn && needed > aHi*(1+eps)
		tooLittle := allOut && covered < aLo*(1-eps)
		if !tooMuch && !tooLittle {
			continue
		}
		unitZH, unitEN := UnitName(basis), basis
		what, whatEN := "过多", "more"
		if tooLittle {
			what, whatEN = "过少", "less"
		}
		expLo, expHi := minAll*aLo, maxAll*aHi
		issues = append(issues, yieldIssue{out: g.outs[0],
			zh: fmt.Sprintf("产出%s：投入折合 %s–%s %s，按出成率 %s–%s 应产出约 %s–%s %s，实际产出 %s %s。如确属实，请填写原因（override_reason），该加工将被标记",
				what, fmtAmt(aLo), fmtAmt(aHi), unitZH, pct(minAll), pct(maxAll), fmtAmt(expLo), fmtAmt(expHi), unitZH, fmtAmt(bLo), unitZH),
			en: fmt.Sprintf("the outputs are %s than the inputs can yield: inputs %s–%s %s at a yield of %s–%s give about %s–%s %s, the outputs are %s %s; give override_reason to record it anyway (the transformation is flagged)",
				whatEN, fmtAmt(aLo), fmtAmt(aHi), unitEN, pct(minAll), pct(maxAll), fmtAmt(expLo), fmtAmt(expHi), unitEN, fmtAmt(bLo), unitEN),
			detail: map[string]any{"rule": "yield_range", "basis": basis, "input_amount": []float64{round3(aLo), round3(aHi)},
				"output_amount": []float64{round3(bLo), round3(bHi)}, "yield_min": minAll, "yield_max": maxAll}})
	}
	if len(unrelated) > 0 {
		var aHi, bLo float64
		allIn := true
		for _, l := range lines {
			_, hi, ok := amountIn(l.row.ProductCode, l.row.Unit, l.qty, "kg")
			if !ok {
				allIn = false
				break
			}
			aHi += hi
		}
		for _, i := range unrelated {
			if lo, _, ok := amountIn(outs[i].p.Code, outs[i].o.Unit, outs[i].qty, "kg"); ok {
				bLo += lo
			}
		}
		if allIn && bLo > aHi*(1+1e-9) {
			issues = append(issues, yieldIssue{out: unrelated[0],
				zh: fmt.Sprintf("产出重量（%s 千克）超过全部投入的重量（至多 %s 千克）。如确属实，请填写原因（override_reason），该加工将被标记",
					fmtAmt(bLo), fmtAmt(aHi)),
				en: fmt.Sprintf("the outputs (%s kg) weigh more than all the inputs (at most %s kg); give override_reason to record it anyway (the transformation is flagged)",
					fmtAmt(bLo), fmtAmt(aHi)),
				detail: map[string]any{"rule": "mass_balance", "basis": "kg", "input_amount": []float64{0, round3(aHi)}, "output_amount": []float64{round3(bLo), round3(bLo)}}})
		}
	}
	return issues, unrelated
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func fmtAmt(x float64) string {
	if x >= 100 {
		return FormatQty(math.Round(x))
	}
	return FormatQty(round3(x))
}

func pct(x float64) string { return fmt.Sprintf("%g%%", math.Round(x*1000)/10) }

// productKeywords are words that name a product in an operator's
// registered business (operators.products is free text: "猪肉", "英德红茶").
var productKeywords = map[string][]string{
	"live_pig":       {"猪"},
	"pork_carcass":   {"猪肉", "白条", "胴体", "屠宰"},
	"pork_cuts":      {"猪肉", "分割", "屠宰"},
	"beef":           {"牛肉", "屠宰"},
	"tea_fresh_leaf": {"茶"},
	"green_tea":      {"茶"},
	"black_tea":      {"茶"},
	"raw_milk":       {"奶", "乳"},
	"rice_paddy":     {"稻", "米"},
	"wheat":          {"麦"},
	"chicken_egg":    {"蛋"},
	"duck_egg":       {"蛋"},
	"broiler":        {"鸡", "禽"},
	"duck":           {"鸭", "禽"},
	"goose":          {"鹅", "禽"},
}

// inBusiness reports whether p is within the operator's registered
// business: an entry of operators.products names the product (its code,
// Chinese or English name, a keyword) or its leaf category (蔬菜, 水果, …).
func inBusiness(op operator.Operator, p Product) bool {
	leaf := p.CategoryName
	if i := strings.LastIndex(leaf, " / "); i >= 0 {
		leaf = leaf[i+3:]
	}
	for _, e := range op.Products {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		le := strings.ToLower(e)
		if le == p.Code || strings.Contains(e, p.Name) || strings.Contains(p.Name, e) ||
			(p.NameEN != "" && strings.Contains(le, strings.ToLower(p.NameEN))) || (leaf != "" && strings.Contains(e, leaf)) {
			return true
		}
		for _, k := range productKeywords[p.Code] {
			if strings.Contains(e, k) {
				return true
			}
		}
	}
	return false
}

// ---------------------------------------------------------------- certificates

// openSafetyIntervals lists the inputs of a code or of any code upstream of
// it (through transfers, splits, merges and transformations) whose safety
// interval / withdrawal period the batch's current production date still
// falls inside: the safety_interval findings that are open (a correction of
// the production date out of the interval closes them).
func openSafetyIntervals(ctx context.Context, q platform.Querier, code string) ([]string, error) {
	rows, err := q.Query(ctx, `WITH RECURSIVE up(code) AS (
			SELECT CAST($1 AS TEXT)
			UNION
			SELECT e.from_code FROM trace_edges e JOIN up ON e.to_code = up.code
		)
		SELECT i.code, i.name, i.used_on, i.interval_days, COALESCE(c.produced_on, t.produced_on)
		FROM up JOIN batch_inputs i ON i.code = up.code JOIN trace_codes t ON t.code = i.code `+latestCorrection+`
		WHERE i.interval_days > 0 ORDER BY i.code, i.used_on`, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c, name, used, produced string
		var days int
		if err := rows.Scan(&c, &name, &used, &days, &produced); err != nil {
			return nil, err
		}
		u, err := time.Parse(time.DateOnly, used)
		if err != nil {
			continue
		}
		safe := u.AddDate(0, 0, days).Format(time.DateOnly)
		if used <= produced && produced < safe {
			out = append(out, fmt.Sprintf("%s：%s（%s 使用，%s 前不得采收/出栏）", c, name, used, safe))
		}
	}
	return out, rows.Err()
}

// ---------------------------------------------------------------- over-shipments

// Over-shipment rule: every refused attempt is recorded (refused_attempts);
// it becomes an over_shipment finding when it is the second or later
// refused attempt on the same code within OverShipmentWindow, or when it
// asks for more than OverShipmentFactor × the available stock. At most one
// finding per code and window: a burst of retries is one finding.
const (
	OverShipmentWindow = 24 * time.Hour
	OverShipmentRepeat = 2
	OverShipmentFactor = 2
)

// recordShortage records a refused attempt in its own transaction (after
// the refused one rolled back) and raises the finding when the rule says so.
func (s *Service) recordShortage(ctx context.Context, sh *shortage) {
	if sh == nil {
		return
	}
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		now := tx.Now()
		today := platform.Today(now)
		var before, raised int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*), COUNT(finding_id) FROM refused_attempts WHERE code = $1 AND at > $2`,
			sh.code, now.Add(-OverShipmentWindow)).Scan(&before, &raised); err != nil {
			return err
		}
		attempts := before + 1
		far := sh.requested > OverShipmentFactor*sh.available
		var fid int64
		if raised == 0 && (attempts >= OverShipmentRepeat || far) {
			var err error
			fid, err = insertFinding(ctx, tx, FindingOverShipment, sh.code, sh.operatorID, sh.region, "", today, map[string]any{
				"operation": sh.op, "requested": fromMilli(sh.requested), "available": fromMilli(sh.available),
				"attempts_24h": attempts, "far_above_stock": far})
			if err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO refused_attempts (code, operator_id, region_code, operation, requested_milli, available_milli,
			finding_id, on_date, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, sh.code, platform.NullInt(sh.operatorID), sh.region, sh.op,
			sh.requested, sh.available, platform.NullInt(fid), today, now)
		return err
	})
	if err != nil {
		// the refusal itself is what the caller reports; a lost record is logged
		slog.ErrorContext(ctx, "trace: record refused over-shipment", "code", sh.code, "err", err)
	}
}
