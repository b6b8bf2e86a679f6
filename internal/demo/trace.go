package demo

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// chainBuilder records one pilot chain through the trace service as the
// operators themselves would, with back-dated dates so the timeline reads
// naturally (and time still runs forward).
type chainBuilder struct {
	ctx   context.Context
	l     *Loader
	today time.Time
	codes []string
	err   error
}

func (c *chainBuilder) day(ago int) string {
	return c.today.AddDate(0, 0, -ago).Format(time.DateOnly)
}

func (c *chainBuilder) actor(username string) *auth.Actor {
	if c.err != nil {
		return nil
	}
	u, err := c.l.App.Auth.GetUserByName(c.ctx, username)
	if err != nil {
		c.err = fmt.Errorf("demo trace: account %s: %w", username, err)
		return nil
	}
	return actorOf(u)
}

func (c *chainBuilder) fail(what string, err error) {
	if c.err == nil && err != nil {
		c.err = fmt.Errorf("demo trace: %s: %w", what, err)
	}
}

func (c *chainBuilder) batch(who *auth.Actor, in trace.NewBatch) string {
	if c.err != nil {
		return ""
	}
	b, err := c.l.App.Trace.CreateBatch(c.ctx, who, in)
	c.fail("batch "+in.ProductCode, err)
	c.codes = append(c.codes, b.TraceCode)
	return b.TraceCode
}

func (c *chainBuilder) sell(who *auth.Actor, in trace.SaleInput) string {
	if c.err != nil {
		return ""
	}
	t, err := c.l.App.Trace.Sell(c.ctx, who, in)
	c.fail("sale from "+in.FromCode, err)
	c.codes = append(c.codes, t.TraceCode)
	return t.TraceCode
}

func (c *chainBuilder) confirm(who *auth.Actor, code string, received float64, on string) {
	if c.err != nil {
		return
	}
	_, err := c.l.App.Trace.Confirm(c.ctx, who, code, trace.ConfirmInput{ReceivedQuantity: received, ReceivedAt: on})
	c.fail("confirm "+code, err)
}

func (c *chainBuilder) transform(who *auth.Actor, in trace.TransformInput) []string {
	if c.err != nil {
		return nil
	}
	r, err := c.l.App.Trace.Transform(c.ctx, who, in)
	c.fail("transform", err)
	c.codes = append(c.codes, r.Codes...)
	return r.Codes
}

func (c *chainBuilder) merge(who *auth.Actor, in trace.MergeInput) string {
	if c.err != nil {
		return ""
	}
	r, err := c.l.App.Trace.Merge(c.ctx, who, in)
	c.fail("merge", err)
	if len(r.Codes) == 0 {
		return ""
	}
	c.codes = append(c.codes, r.Codes...)
	return r.Codes[0]
}

func (c *chainBuilder) split(who *auth.Actor, code string, parts []float64, on string) []string {
	if c.err != nil {
		return nil
	}
	r, err := c.l.App.Trace.Split(c.ctx, who, code, trace.SplitInput{Parts: parts, SplitAt: on})
	c.fail("split "+code, err)
	c.codes = append(c.codes, r.Codes...)
	return r.Codes
}

func (c *chainBuilder) certificate(who *auth.Actor, code string, in trace.CertificateInput) {
	if c.err != nil {
		return
	}
	_, err := c.l.App.Trace.IssueCertificate(c.ctx, who, code, in)
	c.fail("certificate for "+code, err)
}

func (c *chainBuilder) accept(who *auth.Actor, code string) {
	if c.err != nil {
		return
	}
	_, err := c.l.App.Trace.Accept(c.ctx, who, code)
	c.fail("accept "+code, err)
}

// opCode is the operator code of a demo account's operator.
func (c *chainBuilder) opCode(username string) string {
	a := c.actor(username)
	if a == nil {
		return ""
	}
	o, err := c.l.App.Operators.ByID(c.ctx, a.OperatorID)
	c.fail("operator of "+username, err)
	return o.Code
}

// done reports whether the chain's first operator already has batches (the
// demo is idempotent: a chain is built once).
func (c *chainBuilder) done(username string) bool {
	a := c.actor(username)
	if a == nil {
		return true
	}
	last, err := c.l.App.Trace.LastBatch(c.ctx, a)
	c.fail("last batch of "+username, err)
	return last.ProductCode != ""
}

func earTags(county string, from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("1%s%08d", county, from+i)
	}
	return out
}

// traceStep builds a realistic chain for each pilot product, plus the
// irregularities supervisors should find: a transfer left unconfirmed, a
// quantity mismatch, a harvest inside a safety interval, a refused
// over-shipment and a correction that puts production after shipping.
func traceStep(ctx context.Context, l *Loader) error {
	if l.App.Trace == nil {
		return nil
	}
	today, _ := time.Parse(time.DateOnly, platform.Today(l.App.Clock.Now()))
	if err := demoMarkets(ctx, l); err != nil {
		return err
	}
	chains := []struct {
		name, first string
		build       func(c *chainBuilder)
	}{
		{"生猪 高州: 养殖场 → 屠宰厂（屠宰、分割）→ 高州批发市场、英德农贸市场", "gaozhou-farm", pigChain},
		{"生鲜乳 三台: 奶牛场 + 散户 → 收购站（混合）→ 乳品厂", "santai-dairyfarm", milkChain},
		{"苹果 栖霞: 果园 → 合作社（拆分）→ 零售市场", "qixia-orchard", appleChain},
		{"茶叶 英德: 茶园 → 加工厂（制茶、拼配）→ 批发市场", "yingde-garden", teaChain},
		{"茶叶 蒲江: 茶园 → 加工厂 → 茶叶市场", "pujiang-garden", pujiangTeaChain},
		{"大菱鲆 荣成: 养殖场 → 经销商 → 水产品批发市场", "rongcheng-farm", turbotChain},
	}
	for _, ch := range chains {
		c := &chainBuilder{ctx: ctx, l: l, today: today}
		if c.done(ch.first) {
			if c.err != nil {
				return c.err
			}
			continue
		}
		ch.build(c)
		if c.err != nil {
			return c.err
		}
		slog.Info("demo chain", "chain", ch.name, "codes", strings.Join(c.codes, " "))
	}
	return demoFindings(ctx, l)
}

// demoMarketList are the pilot counties' markets, registered by each
// county's reviewer; the chains sell into them by id.
var demoMarketList = []struct{ name, kind, region, reviewer, address string }{
	{"栖霞市城区农贸市场", "retail", "370686", "qixia-reviewer", "霞光路 8 号"},
	{"荣成市石岛水产品批发市场", "wholesale", "371082", "rongcheng-reviewer", "石岛镇渔港路"},
	{"英德市英红茶叶批发市场", "wholesale", "441881", "yingde-reviewer", "英红镇茶城大道"},
	{"英德市城南农贸市场", "retail", "441881", "yingde-reviewer", "城南路 22 号"},
	{"高州市农产品综合批发市场", "wholesale", "440981", "gaozhou-reviewer", ""},
	{"蒲江县茶叶交易市场", "wholesale", "510131", "pujiang-reviewer", ""},
}

// demoMarkets registers the pilot markets that are not registered yet.
func demoMarkets(ctx context.Context, l *Loader) error {
	for _, m := range demoMarketList {
		have, err := l.App.Trace.Markets(ctx, trace.MarketFilter{Region: m.region, Q: m.name})
		if err != nil {
			return err
		}
		if len(have) > 0 {
			continue
		}
		u, err := l.App.Auth.GetUserByName(ctx, m.reviewer)
		if err != nil {
			return fmt.Errorf("demo markets: account %s: %w", m.reviewer, err)
		}
		if _, err := l.App.Trace.CreateMarket(ctx, actorOf(u), trace.NewMarket{Name: m.name, Kind: m.kind, RegionCode: m.region, Address: m.address}); err != nil {
			return fmt.Errorf("demo markets: %s: %w", m.name, err)
		}
	}
	return nil
}

// market is a registered market of the demo, by name and region.
func (c *chainBuilder) market(name, region string) *trace.Market {
	if c.err != nil {
		return &trace.Market{}
	}
	list, err := c.l.App.Trace.Markets(c.ctx, trace.MarketFilter{Region: region, Q: name})
	if err != nil || len(list) == 0 {
		c.err = fmt.Errorf("demo trace: market %s not registered (%v)", name, err)
		return &trace.Market{}
	}
	return &trace.Market{ID: list[0].ID}
}

// demoFindings shows findings being handled: 栖霞's supervisor has taken up
// the safety-interval finding, 三台's has closed the quantity mismatch with
// a note; the rest stay open for people to try. Only findings still open
// are touched, so loading the demo twice changes nothing.
func demoFindings(ctx context.Context, l *Loader) error {
	steps := []struct {
		user, kind string
		act        trace.FindingAction
	}{
		{"qixia-supervisor", trace.FindingSafetyInterval, trace.FindingAction{Action: trace.FindingStart}},
		{"santai-supervisor", trace.FindingQuantityMismatch, trace.FindingAction{Action: trace.FindingClose,
			Note: "收购站说明：运输途中计量误差，已复核过磅记录，差额在允许范围内"}},
	}
	for _, st := range steps {
		u, err := l.App.Auth.GetUserByName(ctx, st.user)
		if err != nil {
			return fmt.Errorf("demo findings: account %s: %w", st.user, err)
		}
		a := actorOf(u)
		open, err := l.App.Trace.Findings(ctx, a, trace.FindingFilter{Kind: st.kind, Status: trace.FindingOpen})
		if err != nil {
			return fmt.Errorf("demo findings: %w", err)
		}
		for _, f := range open {
			if f.ID == 0 {
				continue
			}
			if _, err := l.App.Trace.HandleFinding(ctx, a, f.ID, st.act); err != nil {
				return fmt.Errorf("demo findings: %s %s %d: %w", st.user, st.act.Action, f.ID, err)
			}
			break
		}
	}
	return nil
}

func pigChain(c *chainBuilder) {
	farm, slaughter, market := c.actor("gaozhou-farm"), c.actor("gaozhou-slaughter"), c.actor("gaozhou-market")
	slaughterCode := c.opCode("gaozhou-slaughter")
	pigs := c.batch(farm, trace.NewBatch{ProductCode: "live_pig", Quantity: 40, Unit: "head", ProducedAt: c.day(6), Origin: "高州市分界镇养殖基地 2 号栏舍",
		Attributes: map[string]any{"farm_record_no": "4409810012", "ear_tags": earTags("440981", 1001, 40), "quarantine_cert": "4409812026000312",
			"vaccinations": "口蹄疫、猪瘟疫苗已免疫"},
		Inputs: []trace.InputUse{{Kind: "feed", Name: "育肥猪配合饲料", RegNo: "粤饲证(2024)01234", Dose: "每头每日 2.8 kg", UsedAt: c.day(60)},
			{Kind: "vet_drug", Name: "阿莫西林可溶性粉", RegNo: "兽药字(2023)190231", Dose: "按说明书", UsedAt: c.day(40), IntervalDays: 14}}})
	c.certificate(farm, pigs, trace.CertificateInput{Basis: "control", Quantity: 40})
	sold := c.sell(farm, trace.SaleInput{FromCode: pigs, Quantity: 40, BuyerOperatorCode: slaughterCode, ShippedAt: c.day(5)})
	c.confirm(slaughter, sold, 40, c.day(5))
	carcass := c.transform(slaughter, trace.TransformInput{ProducedAt: c.day(4), Note: "生猪屠宰",
		Inputs: []trace.InputQty{{Code: sold, Quantity: 40}},
		Outputs: []trace.OutputSpec{{ProductCode: "pork_carcass", Quantity: 3180, Unit: "kg", Attributes: map[string]any{
			"slaughter_batch": "GZ-TZ-" + strings.ReplaceAll(c.day(4), "-", ""), "inspection": "pass", "clenbuterol_test": "negative",
			"product_quarantine_cert": "4409812026100088", "meat_quality_cert": "RP4409810452"}}}})
	if c.err != nil {
		return
	}
	cuts := c.transform(slaughter, trace.TransformInput{ProducedAt: c.day(3), Note: "分割",
		Inputs: []trace.InputQty{{Code: carcass[0], Quantity: 3000}},
		Outputs: []trace.OutputSpec{
			{ProductCode: "pork_cuts", Quantity: 820, Unit: "kg", Attributes: map[string]any{"cut": "前腿肉"}},
			{ProductCode: "pork_cuts", Quantity: 900, Unit: "kg", Attributes: map[string]any{"cut": "后腿肉"}},
			{ProductCode: "pork_cuts", Quantity: 610, Unit: "kg", Attributes: map[string]any{"cut": "五花肉"}}}})
	if c.err != nil {
		return
	}
	entry := c.sell(slaughter, trace.SaleInput{FromCode: cuts[0], Quantity: 820, ShippedAt: c.day(2),
		Market: c.market("高州市农产品综合批发市场", "440981")})
	c.accept(market, entry)
	// the hind legs go to a market in another county (英德), so a recall of
	// the lot crosses counties
	away := c.sell(slaughter, trace.SaleInput{FromCode: cuts[1], Quantity: 900, ShippedAt: c.day(2),
		Market: c.market("英德市城南农贸市场", "441881")})
	c.accept(c.actor("yingde-market"), away)
	// a second lot shipped a week ago and never confirmed: a broken chain
	second := c.batch(farm, trace.NewBatch{ProductCode: "live_pig", Quantity: 25, Unit: "head", ProducedAt: c.day(9), Origin: "高州市分界镇养殖基地 3 号栏舍",
		Attributes: map[string]any{"ear_tags": earTags("440981", 2001, 25), "quarantine_cert": "4409812026000355"}})
	c.sell(farm, trace.SaleInput{FromCode: second, Quantity: 25, BuyerOperatorCode: slaughterCode, ShippedAt: c.day(8)})
}

func milkChain(c *chainBuilder) {
	farm, station, dairy := c.actor("santai-dairyfarm"), c.actor("santai-station"), c.actor("santai-dairy")
	stationCode, dairyCode := c.opCode("santai-station"), c.opCode("santai-dairy")
	attrs := map[string]any{"collection_station": "三台县生鲜乳收购站", "station_licence": "川生鲜乳收字(2024)0722", "sensory_check": "pass",
		"protein_g_100g": 3.2, "fat_g_100g": 3.8}
	morning := c.batch(farm, trace.NewBatch{ProductCode: "raw_milk", Quantity: 1200, Unit: "kg", ProducedAt: c.day(2), Origin: "早班挤奶", Attributes: attrs})
	evening := c.batch(farm, trace.NewBatch{ProductCode: "raw_milk", Quantity: 1100, Unit: "kg", ProducedAt: c.day(2), Origin: "晚班挤奶", Attributes: attrs})
	m := c.sell(farm, trace.SaleInput{FromCode: morning, Quantity: 1200, BuyerOperatorCode: stationCode, ShippedAt: c.day(2)})
	e := c.sell(farm, trace.SaleInput{FromCode: evening, Quantity: 1100, BuyerOperatorCode: stationCode, ShippedAt: c.day(2)})
	c.confirm(station, m, 1200, c.day(2))
	// the station weighed 20 kg less than was shipped: recorded and flagged
	c.confirm(station, e, 1080, c.day(2))
	if c.err != nil {
		return
	}
	// milk from an unregistered smallholder, under a temporary operator code
	sh, err := c.l.App.Trace.RecordSmallholder(c.ctx, station, trace.SmallholderPurchase{
		Smallholder: &operator.TemporaryInput{Name: "张桂芳", RegionCode: "510722", Phone: "13890001234", Products: "生鲜乳"},
		Batch:       trace.NewBatch{ProductCode: "raw_milk", Quantity: 300, Unit: "kg", ProducedAt: c.day(2), Origin: "散户交售"},
		PurchasedAt: c.day(2)})
	c.fail("smallholder milk", err)
	c.codes = append(c.codes, sh.BatchCode, sh.Transfer.TraceCode)
	tanker := c.merge(station, trace.MergeInput{ProductCode: "raw_milk", ProducedAt: c.day(1), Origin: "三台县生鲜乳收购站 1 号奶罐车",
		Inputs:     []trace.InputQty{{Code: m, Quantity: 1200}, {Code: e, Quantity: 1080}, {Code: sh.Transfer.TraceCode, Quantity: 300}},
		Attributes: map[string]any{"transport_permit": "川生鲜乳准运(2025)0312", "vehicle": "川B·5K732", "departure_temp_c": 3.5, "arrival_temp_c": 4.1}})
	d := c.sell(station, trace.SaleInput{FromCode: tanker, Quantity: 2580, BuyerOperatorCode: dairyCode, ShippedAt: c.day(1)})
	c.confirm(dairy, d, 2580, c.day(1))
}

func appleChain(c *chainBuilder) {
	orchard, coop, market := c.actor("qixia-orchard"), c.actor("qixia-coop"), c.actor("qixia-market")
	coopCode, traderCode := c.opCode("qixia-coop"), c.opCode("qixia-trader")
	apples := c.batch(orchard, trace.NewBatch{ProductCode: "apple", Quantity: 5000, Unit: "kg", ProducedAt: c.day(10), Origin: "栖霞市寺口镇 3 号果园",
		Attributes: map[string]any{"plot": "寺口镇 3 号地块", "variety": "红富士", "storage": "cold", "residue_test_ref": "QX-ZJ-2026-118"},
		Inputs: []trace.InputUse{{Kind: "pesticide", Name: "吡虫啉", RegNo: "PD20101234", Dose: "2000 倍液", UsedAt: c.day(40), IntervalDays: 14},
			{Kind: "fertiliser", Name: "有机肥", Dose: "每亩 300 千克", UsedAt: c.day(90)}},
		Operations: []trace.Operation{{Kind: "套袋", At: c.day(120)}, {Kind: "采收", At: c.day(10)}}})
	c.certificate(orchard, apples, trace.CertificateInput{Basis: "self_test", TestRef: "QX-ZJ-2026-118", Quantity: 4000})
	toCoop := c.sell(orchard, trace.SaleInput{FromCode: apples, Quantity: 4000, BuyerOperatorCode: coopCode, ShippedAt: c.day(9)})
	c.confirm(coop, toCoop, 4000, c.day(9))
	parts := c.split(coop, toCoop, []float64{2500, 1500}, c.day(8))
	if c.err != nil {
		return
	}
	entry := c.sell(coop, trace.SaleInput{FromCode: parts[0], Quantity: 2500, ShippedAt: c.day(7),
		Market: c.market("栖霞市城区农贸市场", "370686")})
	c.accept(market, entry)
	// a smallholder brings her own apples to the market: the clerk records
	// her under a temporary operator code, and the market-entry code's chain
	// reaches a smallholder, not a registered producer (figure chain_reach)
	sh, err := c.l.App.Trace.RecordSmallholder(c.ctx, market, trace.SmallholderPurchase{
		Smallholder: &operator.TemporaryInput{Name: "王秀兰", RegionCode: "370686", Phone: "13953507788", Products: "苹果"},
		Batch: trace.NewBatch{ProductCode: "apple", Quantity: 60, Unit: "kg", ProducedAt: c.day(2), Origin: "栖霞市松山街道自家果树",
			Attributes: map[string]any{"variety": "红富士"}},
		Market: c.market("栖霞市城区农贸市场", "370686"), PurchasedAt: c.day(1)})
	c.fail("smallholder apples at the market", err)
	c.codes = append(c.codes, sh.BatchCode, sh.Transfer.TraceCode)
	// shipped to the trader eight days ago and still not confirmed
	c.sell(orchard, trace.SaleInput{FromCode: apples, Quantity: 500, BuyerOperatorCode: traderCode, ShippedAt: c.day(8)})
	// a smallholder orchard harvested inside a pesticide's safety interval
	liu := c.actor("qixia-liu")
	c.batch(liu, trace.NewBatch{ProductCode: "apple", Quantity: 800, Unit: "kg", ProducedAt: c.day(1), Origin: "刘家沟果园",
		Attributes:     map[string]any{"variety": "嘎啦"},
		Inputs:         []trace.InputUse{{Kind: "pesticide", Name: "毒死蜱", RegNo: "PD20080765", Dose: "1500 倍液", UsedAt: c.day(8), IntervalDays: 21}},
		OverrideReason: "客户订单提前提货，已送检"})
}

func teaChain(c *chainBuilder) {
	garden, factory := c.actor("yingde-garden"), c.actor("yingde-factory")
	factoryCode := c.opCode("yingde-factory")
	var lots []string
	for i, q := range []float64{320, 260} {
		leaf := c.batch(garden, trace.NewBatch{ProductCode: "tea_fresh_leaf", Quantity: q, Unit: "kg", ProducedAt: c.day(6 - i), Origin: "英德市积庆里茶园",
			Attributes: map[string]any{"garden": fmt.Sprintf("积庆里 %d 号茶园", i+1), "variety": "英红九号", "picking_batch": fmt.Sprintf("YD-CZ-%02d", i+1)}})
		c.certificate(garden, leaf, trace.CertificateInput{Basis: "control", Quantity: q})
		t := c.sell(garden, trace.SaleInput{FromCode: leaf, Quantity: q, BuyerOperatorCode: factoryCode, ShippedAt: c.day(6 - i)})
		c.confirm(factory, t, q, c.day(6-i))
		made := c.transform(factory, trace.TransformInput{ProducedAt: c.day(5 - i), Note: "萎凋、揉捻、发酵、干燥",
			Inputs:  []trace.InputQty{{Code: t, Quantity: q}},
			Outputs: []trace.OutputSpec{{ProductCode: "black_tea", Quantity: roundKg(q / 4.5), Unit: "kg", Attributes: map[string]any{"processing_batch": fmt.Sprintf("YH-CZ-%02d", i+1)}}}})
		if c.err != nil {
			return
		}
		lots = append(lots, made[0])
	}
	q1, q2 := roundKg(320/4.5), roundKg(260/4.5)
	blend := c.merge(factory, trace.MergeInput{ProductCode: "black_tea", ProducedAt: c.day(3), Origin: "英德市英红茶叶加工厂 拼配车间",
		Inputs:     []trace.InputQty{{Code: lots[0], Quantity: q1}, {Code: lots[1], Quantity: q2}},
		Attributes: map[string]any{"processing_batch": "YH-PP-01", "grade": "特级"}})
	c.sell(factory, trace.SaleInput{FromCode: blend, Quantity: 100, ShippedAt: c.day(1),
		Market: c.market("英德市英红茶叶批发市场", "441881")})
}

func roundKg(q float64) float64 { return float64(int64(q*1000+0.5)) / 1000 }

func pujiangTeaChain(c *chainBuilder) {
	garden, factory, market := c.actor("pujiang-garden"), c.actor("pujiang-factory"), c.actor("pujiang-market")
	factoryCode := c.opCode("pujiang-factory")
	leaf := c.batch(garden, trace.NewBatch{ProductCode: "tea_fresh_leaf", Quantity: 200, Unit: "kg", ProducedAt: c.day(5), Origin: "蒲江县成佳镇茶园",
		Attributes: map[string]any{"garden": "成佳镇 7 号茶园", "variety": "福选九号", "picking_batch": "PJ-CZ-07"}})
	t := c.sell(garden, trace.SaleInput{FromCode: leaf, Quantity: 200, BuyerOperatorCode: factoryCode, ShippedAt: c.day(5)})
	c.confirm(factory, t, 200, c.day(5))
	green := c.transform(factory, trace.TransformInput{ProducedAt: c.day(4), Note: "杀青、揉捻、干燥",
		Inputs:  []trace.InputQty{{Code: t, Quantity: 200}},
		Outputs: []trace.OutputSpec{{ProductCode: "green_tea", Quantity: 48, Unit: "kg", Attributes: map[string]any{"processing_batch": "PJ-LC-07", "grade": "一级"}}}})
	if c.err != nil {
		return
	}
	entry := c.sell(factory, trace.SaleInput{FromCode: green[0], Quantity: 40, ShippedAt: c.day(2),
		Market: c.market("蒲江县茶叶交易市场", "510131")})
	c.accept(market, entry)
	// the garden corrects the picking date of a batch already sold: flagged
	late := c.batch(garden, trace.NewBatch{ProductCode: "tea_fresh_leaf", Quantity: 90, Unit: "kg", ProducedAt: c.day(4), Origin: "蒲江县成佳镇茶园",
		Attributes: map[string]any{"garden": "成佳镇 8 号茶园", "picking_batch": "PJ-CZ-08"}})
	lt := c.sell(garden, trace.SaleInput{FromCode: late, Quantity: 90, BuyerOperatorCode: factoryCode, ShippedAt: c.day(3)})
	c.confirm(factory, lt, 90, c.day(3))
	if c.err == nil {
		_, err := c.l.App.Trace.Correct(c.ctx, garden, late, trace.CorrectionInput{ProducedAt: c.day(1), Reason: "采摘日期录入错误"})
		c.fail("correction", err)
	}
}

func turbotChain(c *chainBuilder) {
	farm, trader, market := c.actor("rongcheng-farm"), c.actor("rongcheng-trader"), c.actor("rongcheng-market")
	traderCode := c.opCode("rongcheng-trader")
	fish := c.batch(farm, trace.NewBatch{ProductCode: "turbot", Quantity: 2000, Unit: "kg", ProducedAt: c.day(4), Origin: "荣成市俚岛镇工厂化养殖基地",
		Attributes: map[string]any{"tank": "3 号车间 12 号池", "fry_source": "荣成市海益苗种场", "fry_licence": "鲁荣成水苗(2024)0087",
			"harvest_size_g": 650, "banned_drug_test": "not_detected", "test_ref": "RC-JC-2026-0415"},
		Inputs: []trace.InputUse{{Kind: "feed", Name: "大菱鲆配合饲料", UsedAt: c.day(30)},
			{Kind: "fishery_drug", Name: "聚维酮碘溶液", RegNo: "兽药字(2022)150118", Dose: "池水 0.5 g/m³", UsedAt: c.day(25), IntervalDays: 10}}})
	c.certificate(farm, fish, trace.CertificateInput{Basis: "commissioned_test", TestRef: "RC-JC-2026-0415", Quantity: 1800})
	t := c.sell(farm, trace.SaleInput{FromCode: fish, Quantity: 1800, BuyerOperatorCode: traderCode, ShippedAt: c.day(3)})
	c.confirm(trader, t, 1800, c.day(3))
	entry := c.sell(trader, trace.SaleInput{FromCode: t, Quantity: 1500, ShippedAt: c.day(2),
		Market: c.market("荣成市石岛水产品批发市场", "371082")})
	c.accept(market, entry)
	if c.err != nil {
		return
	}
	// the trader tries to sell more than is left: refused (and on record)
	_, err := c.l.App.Trace.Sell(c.ctx, trader, trace.SaleInput{FromCode: t, Quantity: 500, ShippedAt: c.day(1),
		Market: c.market("荣成市石岛水产品批发市场", "371082")})
	if platform.KindOf(err) != platform.KindConflict {
		c.fail("over-shipment attempt", fmt.Errorf("expected a refusal, got %v", err))
	}
}
