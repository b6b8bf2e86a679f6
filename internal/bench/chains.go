package bench

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"agtrace/internal/trace"
)

// unitKind is a chain pattern of one pilot product.
type unitKind int

const (
	unitPork   unitKind = iota // pig farms (2–5) → slaughterhouse (carcasses → cuts) → [trader] → wholesale market
	unitMilk                   // dairy farms (3–10) → collection station (pooling) → dairy plant (lots) → processor
	unitTea                    // tea gardens (3–6) → factory (processing, blending, packing) → [trader] → retail market
	unitApple                  // orchards (3–6) → cooperative (pooling, grading) → [trader] → market
	unitTurbot                 // turbot farm → traders (2–3, repacking) → wholesale market
	numUnitKinds
)

var unitNames = [numUnitKinds]string{"pork", "milk", "tea", "apple", "turbot"}

func (k unitKind) String() string { return unitNames[k] }

// unitWeights is the share of each pattern among chains (per 100).
var unitWeights = [numUnitKinds]int{25, 20, 20, 20, 15}

// unit is one chain, its shape drawn before anything is written.
type unit struct {
	kind   unitKind
	id     int64 // unique in the database: identifiers (ear tags…) derive from it
	county int
	rng    *rand.Rand
	day    time.Time
	n      int    // pork/milk farms, tea gardens, apple orchards, turbot traders
	m      int    // pork carcass lots, milk dairy lots, tea and apple parts
	sub    []int  // pork: cuts per carcass lot; turbot: parts per trader
	via    []bool // per leaf: sold through a trader before market entry
}

func drawUnit(rng *rand.Rand, id int64) *unit {
	u := &unit{id: id, rng: rng}
	w := rng.IntN(100)
	for k, x := range unitWeights {
		if w < x {
			u.kind = unitKind(k)
			break
		}
		w -= x
	}
	u.county = rng.IntN(len(Counties))
	vias := func(n int) []bool {
		v := make([]bool, n)
		for i := range v {
			v[i] = rng.IntN(2) == 0
		}
		return v
	}
	switch u.kind {
	case unitPork:
		u.n, u.m = 2+rng.IntN(4), 2+rng.IntN(2)
		cuts := 0
		for range u.m {
			c := 3 + rng.IntN(4)
			u.sub = append(u.sub, c)
			cuts += c
		}
		u.via = vias(cuts)
	case unitMilk:
		u.n, u.m = 3+rng.IntN(8), 2+rng.IntN(4)
	case unitTea:
		u.n, u.m = 3+rng.IntN(4), 3+rng.IntN(6)
		u.via = vias(u.m)
	case unitApple:
		u.n, u.m = 3+rng.IntN(4), 3+rng.IntN(6)
		u.via = vias(u.m)
	case unitTurbot:
		u.n = 2 + rng.IntN(2)
		for range u.n {
			u.sub = append(u.sub, 2+rng.IntN(3))
		}
	}
	return u
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

// leaves counts market entries plus trader codes: each leaf is 1 or 2 codes.
func leaves(via []bool) int {
	n := len(via)
	for _, v := range via {
		if v {
			n++
		}
	}
	return n
}

func anyVia(via []bool) int {
	for _, v := range via {
		if v {
			return 1
		}
	}
	return 0
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// codes is how many trace codes the chain writes.
func (u *unit) codes() int {
	switch u.kind {
	case unitPork:
		return 2*u.n + u.m + sum(u.sub) + leaves(u.via)
	case unitMilk:
		return 2*u.n + 2 + 2*u.m
	case unitTea:
		return 3*u.n + 1 + u.m + leaves(u.via)
	case unitApple:
		return 2*u.n + 1 + u.m + leaves(u.via)
	default:
		return 1 + u.n + 2*sum(u.sub)
	}
}

// depth is the longest path of the chain, in edges.
func (u *unit) depth() int {
	switch u.kind {
	case unitPork:
		return 4 + anyVia(u.via)
	case unitMilk:
		return 5
	case unitTea:
		return 5 + anyVia(u.via)
	case unitApple:
		return 4 + anyVia(u.via)
	default:
		return 3
	}
}

// samples are the exact traces of the chain's first origin (down) and its
// first leaf (up).
func (u *unit) samples(origin, leaf string) []Sample {
	var up, down int
	switch u.kind {
	case unitPork:
		up, down = 3+b2i(u.via[0])+2*u.n, 2+u.m+sum(u.sub)+leaves(u.via)
	case unitMilk:
		up, down = 4+2*u.n, 4+2*u.m
	case unitTea:
		up, down = 3+b2i(u.via[0])+3*u.n, 4+u.m+leaves(u.via)
	case unitApple:
		up, down = 3+b2i(u.via[0])+2*u.n, 3+u.m+leaves(u.via)
	default:
		up, down = 4, 1+u.n+2*sum(u.sub)
	}
	upDepth := u.depth()
	if u.via != nil && !u.via[0] {
		upDepth = u.depth() - anyVia(u.via)
	}
	return []Sample{{Kind: u.kind.String(), Code: origin, Direction: "down", Nodes: down, Depth: u.depth()},
		{Kind: u.kind.String(), Code: leaf, Direction: "up", Nodes: up, Depth: upDepth}}
}

var sampleMu sync.Mutex

func (g *Generator) addSamples(s []Sample) {
	sampleMu.Lock()
	defer sampleMu.Unlock()
	for _, x := range g.Stats.Samples {
		if x.Kind == s[0].Kind {
			return
		}
	}
	g.Stats.Samples = append(g.Stats.Samples, s...)
}

func (g *Generator) unitTask(u *unit) *task {
	return &task{rng: u.rng, day: u.day, codes: u.codes(), run: func(t *task) error {
		switch u.kind {
		case unitPork:
			return g.pork(t, u)
		case unitMilk:
			return g.milk(t, u)
		case unitTea:
			return g.tea(t, u)
		case unitApple:
			return g.apple(t, u)
		default:
			return g.turbot(t, u)
		}
	}}
}

// minus returns the date days before day (for inputs used before harvest).
func minus(day string, days int) string {
	d, _ := time.Parse(time.DateOnly, day)
	return d.AddDate(0, 0, -days).Format(time.DateOnly)
}

const kg = 1000 // thousandths per unit

// earTags are 15-digit pig ear tags unique to (unit, farm, head).
func earTags(county string, unitID int64, farm, heads int) []string {
	tags := make([]string, heads)
	for h := range tags {
		tags[h] = fmt.Sprintf("1%s%08d", county, (unitID*128+int64(farm*21+h))%100_000_000) // ≤ 5 farms × ≤ 20 heads
	}
	return tags
}

var cutNames = []string{"前腿肉", "后腿肉", "五花肉", "里脊", "排骨", "肩胛肉"}

func (g *Generator) pork(t *task, u *unit) error {
	rng, county := t.rng, Counties[u.county]
	slaughter := g.pick(rng, u.county, roleSlaughter)
	var inputs []trace.InputQty
	var origin string
	heads := 0
	for f := range u.n {
		farm := g.pick(rng, u.county, rolePigFarm)
		h := 8 + rng.IntN(13)
		day := t.next()
		code, err := g.create(t, farm, trace.NewBatch{ProductCode: "live_pig", Quantity: float64(h), Unit: "head", ProducedAt: day,
			Origin: fmt.Sprintf("%s %d号猪舍", farm.Op.Name, 1+rng.IntN(6)),
			Attributes: map[string]any{"farm_record_no": fmt.Sprintf("%s%06d", county, farm.Op.ID), "ear_tags": earTags(county, u.id, f, h),
				"quarantine_cert": fmt.Sprintf("A%s%09d%d", county, u.id, f)},
			Inputs: []trace.InputUse{{Kind: "vet_drug", Name: "伊维菌素注射液", RegNo: "兽药字(2021)150012345", Dose: "0.2ml/kg", UsedAt: minus(day, 60), IntervalDays: 28},
				{Kind: "feed", Name: "育肥猪配合饲料", UsedAt: minus(day, 30)}},
			Operations: []trace.Operation{{Kind: "vaccination", Description: "猪瘟疫苗", At: minus(day, 90)}, {Kind: "quarantine", Description: "产地检疫", At: day}}})
		if err != nil {
			return err
		}
		if f == 0 {
			origin = code
		}
		circ, err := g.sellTo(t, farm, code, int64(h)*kg, slaughter)
		if err != nil {
			return err
		}
		inputs = append(inputs, trace.InputQty{Code: circ, Quantity: float64(h)})
		heads += h
	}
	carcassKg := int64(heads) * 75 / int64(u.m)
	var outs []trace.OutputSpec
	for j := range u.m {
		outs = append(outs, trace.OutputSpec{ProductCode: "pork_carcass", Quantity: float64(carcassKg), Unit: "kg", Attributes: map[string]any{
			"slaughter_batch": fmt.Sprintf("TZ%d-%d", u.id, j+1), "inspection": "pass", "clenbuterol_test": "negative",
			"product_quarantine_cert": fmt.Sprintf("B%s%09d%d", county, u.id, j)}})
	}
	carcasses, err := g.transform(t, slaughter, trace.TransformInput{Inputs: inputs, Outputs: outs, ProducedAt: t.next(), Note: "屠宰"})
	if err != nil {
		return err
	}
	leaf, li := "", 0
	for j, carcass := range carcasses {
		cutKg := carcassKg * 9 / 10 / int64(u.sub[j])
		var cuts []trace.OutputSpec
		for k := range u.sub[j] {
			cuts = append(cuts, trace.OutputSpec{ProductCode: "pork_cuts", Quantity: float64(cutKg), Unit: "kg",
				Attributes: map[string]any{"cut": cutNames[k%len(cutNames)]}})
		}
		codes, err := g.transform(t, slaughter, trace.TransformInput{Inputs: []trace.InputQty{{Code: carcass, Quantity: float64(carcassKg)}},
			Outputs: cuts, ProducedAt: t.next(), Note: "分割"})
		if err != nil {
			return err
		}
		for _, cut := range codes {
			l, err := g.leaf(t, slaughter, cut, cutKg*kg, u.via[li], "wholesale")
			if err != nil {
				return err
			}
			if li == 0 {
				leaf = l
			}
			li++
		}
	}
	g.addSamples(u.samples(origin, leaf))
	return nil
}

// leaf sells qty of code into a market, through a trader when via.
func (g *Generator) leaf(t *task, holder *Party, code string, milli int64, via bool, market string) (string, error) {
	if via {
		trader := g.pickTrader(t.rng, countyIndex(holder.Op.CountyCode))
		c, err := g.sellTo(t, holder, code, milli, trader)
		if err != nil {
			return "", err
		}
		return g.enterMarket(t, trader, c, milli, market)
	}
	return g.enterMarket(t, holder, code, milli, market)
}

func (g *Generator) milk(t *task, u *unit) error {
	rng, county := t.rng, Counties[u.county]
	station := g.pick(rng, u.county, roleMilkStation)
	dairy := g.pick(rng, u.county, roleDairy)
	var inputs []trace.InputQty
	var origin string
	var total int64
	for f := range u.n {
		farm := g.pick(rng, u.county, roleMilkFarm)
		q := int64(800+rng.IntN(2200)) * kg
		day := t.next()
		code, err := g.create(t, farm, trace.NewBatch{ProductCode: "raw_milk", Quantity: qty(q), Unit: "kg", ProducedAt: day,
			Origin: farm.Op.Name + " 挤奶厅", Attributes: map[string]any{"collection_station": station.Op.Name,
				"station_licence": "生鲜乳收购许可证 " + county + fmt.Sprint(station.Op.ID), "transport_permit": "准运证 " + fmt.Sprint(u.id),
				"vehicle": "鲁F·" + fmt.Sprintf("%05d", u.id%100000), "departure_temp_c": 4.0, "arrival_temp_c": 5.5,
				"protein_g_100g": 3.1, "fat_g_100g": 3.8, "sensory_check": "pass"},
			Inputs: []trace.InputUse{{Kind: "feed", Name: "全株青贮玉米", UsedAt: minus(day, 1)}}})
		if err != nil {
			return err
		}
		if f == 0 {
			origin = code
		}
		circ, err := g.sell(t, farm, code, q, station, t.next())
		if err != nil {
			return err
		}
		recv := q
		if rng.IntN(50) == 0 { // a small loss in transport: recorded and flagged
			recv -= 3 * kg
		}
		if err := g.confirm(t, station, circ, recv, t.next()); err != nil {
			return err
		}
		inputs = append(inputs, trace.InputQty{Code: circ, Quantity: qty(recv)})
		total += recv
	}
	pool, err := g.merge(t, station, trace.MergeInput{Inputs: inputs, ProductCode: "raw_milk", ProducedAt: t.next(), Origin: station.Op.Name + " 储奶罐",
		Attributes: map[string]any{"collection_station": station.Op.Name}})
	if err != nil {
		return err
	}
	dc, err := g.sellTo(t, station, pool, total, dairy)
	if err != nil {
		return err
	}
	lot := total / int64(u.m)
	parts := make([]int64, u.m)
	for i := range parts {
		parts[i] = lot
	}
	lots, err := g.split(t, dairy, dc, parts, t.next())
	if err != nil {
		return err
	}
	var leaf string
	for i, l := range lots {
		c, err := g.enterMarket(t, dairy, l, lot, "processor")
		if err != nil {
			return err
		}
		if i == 0 {
			leaf = c
		}
	}
	g.addSamples(u.samples(origin, leaf))
	return nil
}

func (g *Generator) tea(t *task, u *unit) error {
	rng := t.rng
	factory := g.pick(rng, u.county, roleTeaFactory)
	var greens []trace.InputQty
	var origin string
	var blend int64
	for f := range u.n {
		garden := g.pick(rng, u.county, roleTeaGarden)
		q := int64(100+rng.IntN(300)) * kg
		day := t.next()
		code, err := g.create(t, garden, trace.NewBatch{ProductCode: "tea_fresh_leaf", Quantity: qty(q), Unit: "kg", ProducedAt: day,
			Origin: garden.Op.Name + " 茶园", Attributes: map[string]any{"garden": fmt.Sprintf("%d号茶园", 1+rng.IntN(9)), "variety": "福鼎大白茶",
				"picking_batch": fmt.Sprintf("CZ%d-%d", u.id, f+1)},
			Inputs:     []trace.InputUse{{Kind: "fertiliser", Name: "有机肥", Dose: "150kg/亩", UsedAt: minus(day, 45)}},
			Operations: []trace.Operation{{Kind: "picking", Description: "一芽一叶", At: day}}})
		if err != nil {
			return err
		}
		if f == 0 {
			origin = code
		}
		circ, err := g.sellTo(t, garden, code, q, factory)
		if err != nil {
			return err
		}
		made := q / 4 / kg * kg // 4 kg of fresh leaves make 1 kg of tea
		out, err := g.transform(t, factory, trace.TransformInput{Inputs: []trace.InputQty{{Code: circ, Quantity: qty(q)}},
			Outputs: []trace.OutputSpec{{ProductCode: "green_tea", Quantity: qty(made), Unit: "kg",
				Attributes: map[string]any{"processing_batch": fmt.Sprintf("CZ%d-%d", u.id, f+1), "grade": "一级"}}},
			ProducedAt: t.next(), Note: "初制"})
		if err != nil {
			return err
		}
		greens = append(greens, trace.InputQty{Code: out[0], Quantity: qty(made)})
		blend += made
	}
	bl, err := g.merge(t, factory, trace.MergeInput{Inputs: greens, ProductCode: "green_tea", ProducedAt: t.next(),
		Attributes: map[string]any{"processing_batch": fmt.Sprintf("PP%d", u.id), "grade": "特级拼配"}})
	if err != nil {
		return err
	}
	part := blend / int64(u.m)
	parts := make([]int64, u.m)
	for i := range parts {
		parts[i] = part
	}
	boxes, err := g.split(t, factory, bl, parts, t.next())
	if err != nil {
		return err
	}
	var leaf string
	for i, b := range boxes {
		c, err := g.leaf(t, factory, b, part, u.via[i], "retail")
		if err != nil {
			return err
		}
		if i == 0 {
			leaf = c
		}
	}
	g.addSamples(u.samples(origin, leaf))
	return nil
}

func (g *Generator) apple(t *task, u *unit) error {
	rng := t.rng
	coop := g.pick(rng, u.county, roleCoop)
	var inputs []trace.InputQty
	var origin string
	var total int64
	for f := range u.n {
		orchard := g.pick(rng, u.county, roleOrchard)
		q := int64(2000+rng.IntN(6000)) * kg
		day := t.next()
		code, err := g.create(t, orchard, trace.NewBatch{ProductCode: "apple", Quantity: qty(q), Unit: "kg", ProducedAt: day,
			Origin:     orchard.Op.Name + fmt.Sprintf(" %d号地块", 1+rng.IntN(12)),
			Attributes: map[string]any{"plot": fmt.Sprintf("%d号地块", 1+rng.IntN(12)), "variety": "红富士", "storage": "cold"},
			Inputs: []trace.InputUse{{Kind: "pesticide", Name: "吡虫啉", RegNo: "PD20070100", Dose: "2000倍液", UsedAt: minus(day, 40), IntervalDays: 14},
				{Kind: "fertiliser", Name: "硫酸钾复合肥", Dose: "50kg/亩", UsedAt: minus(day, 120)}},
			Operations: []trace.Operation{{Kind: "spraying", Description: "防治蚜虫", At: minus(day, 40)}, {Kind: "bagging", Description: "套袋", At: minus(day, 100)},
				{Kind: "harvesting", At: day}}})
		if err != nil {
			return err
		}
		if f == 0 {
			origin = code
		}
		circ, err := g.sellTo(t, orchard, code, q, coop)
		if err != nil {
			return err
		}
		inputs = append(inputs, trace.InputQty{Code: circ, Quantity: qty(q)})
		total += q
	}
	lot, err := g.merge(t, coop, trace.MergeInput{Inputs: inputs, ProductCode: "apple", ProducedAt: t.next(),
		Attributes: map[string]any{"variety": "红富士", "storage": "controlled_atmosphere"}})
	if err != nil {
		return err
	}
	part := total / int64(u.m) / kg * kg
	parts := make([]int64, u.m)
	for i := range parts {
		parts[i] = part
	}
	grades, err := g.split(t, coop, lot, parts, t.next())
	if err != nil {
		return err
	}
	var leaf string
	for i, p := range grades {
		kind := "retail"
		if u.via[i] {
			kind = "wholesale"
		}
		c, err := g.leaf(t, coop, p, part, u.via[i], kind)
		if err != nil {
			return err
		}
		if i == 0 {
			leaf = c
		}
	}
	g.addSamples(u.samples(origin, leaf))
	return nil
}

func (g *Generator) turbot(t *task, u *unit) error {
	rng, county := t.rng, Counties[u.county]
	farm := g.pick(rng, u.county, roleTurbotFarm)
	q := int64(300+rng.IntN(900)) * kg
	day := t.next()
	code, err := g.create(t, farm, trace.NewBatch{ProductCode: "turbot", Quantity: qty(q), Unit: "kg", ProducedAt: day,
		Origin: farm.Op.Name + " 工厂化养殖车间",
		Attributes: map[string]any{"tank": fmt.Sprintf("%d号车间%d号池", 1+rng.IntN(4), 1+rng.IntN(30)), "fry_source": "烟台育苗场",
			"fry_licence": "水苗(2023)" + county, "harvest_size_g": float64(600 + rng.IntN(400)), "banned_drug_test": "not_detected",
			"test_ref": fmt.Sprintf("JC%d", u.id)},
		Inputs: []trace.InputUse{{Kind: "feed", Name: "大菱鲆配合饲料", UsedAt: minus(day, 2)}}})
	if err != nil {
		return err
	}
	portion := q / int64(u.n) / kg * kg
	var leaf string
	for i := range u.n {
		trader := g.pickTrader(rng, u.county)
		circ, err := g.sellTo(t, farm, code, portion, trader)
		if err != nil {
			return err
		}
		part := portion / int64(u.sub[i])
		parts := make([]int64, u.sub[i])
		for k := range parts {
			parts[k] = part
		}
		boxes, err := g.split(t, trader, circ, parts, t.next())
		if err != nil {
			return err
		}
		for k, b := range boxes {
			c, err := g.enterMarket(t, trader, b, part, "wholesale")
			if err != nil {
				return err
			}
			if i == 0 && k == 0 {
				leaf = c
			}
		}
	}
	g.addSamples(u.samples(code, leaf))
	return nil
}

// ---- the recall subtree ----

// RecallOrigin marks the recall subtree's root batch.
const RecallOrigin = "冷库A区 冻品批次（召回演练）"

// recallPlan: the root is split into a parts, each sold to a distributor
// (a circulation code), split into b parts, each sold to a trader, split
// into c parts, each sold into a retail market.
type recallPlan struct{ a, b, c int }

func (r recallPlan) descendants() int { return 2 * (r.a + r.a*r.b + r.a*r.b*r.c) }

// planRecall picks the fan-outs whose subtree is closest to size.
func planRecall(size int) recallPlan {
	best := recallPlan{2, 2, 2}
	for a := 30; a >= 2; a-- {
		for b := 30; b >= 2; b-- {
			for c := 30; c >= 2; c-- {
				p := recallPlan{a, b, c}
				if d, bd := p.descendants()-size, best.descendants()-size; abs(d) < abs(bd) || (abs(d) == abs(bd) && p.a > best.a) {
					best = p
				}
			}
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// recallRoot records the root batch, splits it and sells the parts to
// distributors; it returns one task per branch.
func (g *Generator) recallRoot(t *task, p recallPlan) ([]*task, error) {
	const leafKg = 10
	slaughter := g.pick(t.rng, 0, roleSlaughter)
	total := int64(p.a*p.b*p.c*leafKg) * kg
	root, err := g.create(t, slaughter, trace.NewBatch{ProductCode: "pork_cuts", Quantity: qty(total), Unit: "kg", ProducedAt: t.next(),
		Origin: RecallOrigin, Attributes: map[string]any{"cut": "冻品分割肉"}})
	if err != nil {
		return nil, err
	}
	g.Stats.RecallRoot = root
	branchQty := total / int64(p.a)
	parts := make([]int64, p.a)
	for i := range parts {
		parts[i] = branchQty
	}
	firsts, err := g.split(t, slaughter, root, parts, t.next())
	if err != nil {
		return nil, err
	}
	g.Stats.Samples = append(g.Stats.Samples, Sample{Kind: "recall", Code: root, Direction: "down", Nodes: p.descendants() + 1, Depth: 6})
	var tasks []*task
	for i, part := range firsts {
		dist := g.pick(t.rng, t.rng.IntN(len(Counties)), roleDistributor)
		circ, err := g.sell(t, slaughter, part, branchQty, dist, t.next())
		if err != nil {
			return nil, err
		}
		brng := rand.New(rand.NewPCG(g.opt.Seed, 1<<40+uint64(i)))
		tasks = append(tasks, &task{rng: brng, day: t.day, end: t.day.AddDate(0, 0, 45), codes: 2*p.b + 2*p.b*p.c, run: func(t *task) error {
			return g.recallBranch(t, p, dist, circ, branchQty)
		}})
	}
	return tasks, nil
}

func (g *Generator) recallBranch(t *task, p recallPlan, dist *Party, circ string, q int64) error {
	if err := g.confirm(t, dist, circ, q, t.next()); err != nil {
		return err
	}
	bq := q / int64(p.b)
	parts := make([]int64, p.b)
	for i := range parts {
		parts[i] = bq
	}
	seconds, err := g.split(t, dist, circ, parts, t.next())
	if err != nil {
		return err
	}
	for _, s := range seconds {
		trader := g.pickTrader(t.rng, countyIndex(dist.Op.CountyCode))
		c2, err := g.sellTo(t, dist, s, bq, trader)
		if err != nil {
			return err
		}
		cq := bq / int64(p.c)
		parts := make([]int64, p.c)
		for i := range parts {
			parts[i] = cq
		}
		thirds, err := g.split(t, trader, c2, parts, t.next())
		if err != nil {
			return err
		}
		for _, x := range thirds {
			if _, err := g.enterMarket(t, trader, x, cq, "retail"); err != nil {
				return err
			}
		}
	}
	return nil
}
