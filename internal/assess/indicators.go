package assess

// The indicators, defined once as data: what each measures, from which
// figure of the dashboards' aggregates (stat_monthly, internal/insight) or —
// where the aggregates do not keep what it needs — from which raw records,
// which way is better, its default target, and the sentence of the seed
// notice (农质发〔2017〕9号 and its annex) it answers. A new indicator is one
// more entry here (and its words in the UI catalogues); sheets pick from
// this list.

// Direction says which way an indicator is better.
type Direction string

const (
	Higher Direction = "higher" // the value should reach the target (a rate, a volume)
	Lower  Direction = "lower"  // the value should stay under the target (a handling time)
)

// Unit is what an indicator's value and target are measured in.
type Unit string

const (
	UnitPercent     Unit = "percent"      // a share, 0–100
	UnitPer100      Unit = "per100"       // records per 100 registered operators in the month
	UnitPerOperator Unit = "per_operator" // records per registered operator in the month
	UnitDays        Unit = "days"         // calendar days (mean)
)

// Empty says how an indicator with nothing to measure (no records behind
// its denominator) is scored.
type Empty int

const (
	// EmptyZero: it scores nothing and still counts in the total's weight
	// (the records it needs should exist: key operators on the roster,
	// registered operators to inspect).
	EmptyZero Empty = iota
	// EmptyNotApplicable: it is left out of the total, its weight with it
	// (no complaint was filed, no deadline fell due, nothing was sampled).
	EmptyNotApplicable
)

// Indicator is one entry of the registry.
type Indicator struct {
	Key       string
	ZH, EN    string
	Unit      Unit
	Direction Direction
	Target    float64 // the default target
	Empty     Empty
	// Figure (an insight figure) with Num and Den keys: a share
	// (100 × Num ÷ Den; Den nil = every key) or, with PerOperator, a count
	// of Num keys per registered operator (approved or suspended, as of
	// the month's end). State figures count all records up to the month's
	// end, the others the month's records.
	Figure      string
	Num, Den    []string
	PerOperator bool
	State       bool
	// Raw names the measure over raw records when the aggregates do not
	// keep what the indicator needs (deadlines, handling times).
	Raw string
	// List is the page listing the records behind the indicator.
	List string
	// Source says in words where the numbers come from (zh, en).
	SourceZH, SourceEN string
	// Seed is the sentence of the seed notice the indicator answers, and
	// where it stands.
	Seed, SeedRef string
}

// The raw measures.
const (
	rawReviews    = "reviews"    // registration and change reviews decided within 5 working days
	rawCases      = "cases"      // case steps taken by their deadline
	rawComplaints = "complaints" // days from filing to the first answer
)

// Indicators is the registry, in display order.
var Indicators = []Indicator{
	{Key: "key_coverage", ZH: "重点主体入网率", EN: "Key operators registered", Unit: UnitPercent, Direction: Higher, Target: 100,
		Figure: "coverage", Num: []string{"registered"}, State: true, List: "/coverage",
		SourceZH: "看板指标“重点主体覆盖”：名录中龙头企业、示范社、“三品一标”主体已注册数 ÷ 名录中此类主体总数（截至月末）",
		SourceEN: "dashboard figure coverage: key operators on the roster that are registered ÷ all key operators on the roster (as of the month's end)",
		Seed:     "在试运行地区范围内，率先实现农业产业化重点龙头企业、农民合作社省级示范社和“三品一标”等规模化主体100%入网注册。", SeedRef: "通知 三（三）"},
	{Key: "chain_integrity", ZH: "追溯链条完整率", EN: "Chain integrity", Unit: UnitPercent, Direction: Higher, Target: 95, Empty: EmptyNotApplicable,
		Figure: "transfers", Num: []string{"confirmed"}, Den: []string{"confirmed", "pending", "rejected"}, List: "/batches",
		SourceZH: "看板指标“流通交易”：当月卖给注册主体的交易中已被买方扫码确认的比例（撤回的不计）",
		SourceEN: "dashboard figure transfers: the month's sales to registered operators confirmed by the buyer (withdrawn sales left out)",
		Seed:     "农产品交易时，农产品生产经营者应当采取扫码的方式，向下传递追溯信息，建立完整的追溯链条。", SeedRef: "附件 第十二条"},
	{Key: "review_timeliness", ZH: "注册审核按期率", EN: "Reviews within 5 working days", Unit: UnitPercent, Direction: Higher, Target: 100, Empty: EmptyNotApplicable,
		Raw: rawReviews, List: "/operators",
		SourceZH: "注册申请与变更申请记录：审核期限（提交后 5 个工作日）在当月到期的，按期作出审核决定的比例；到期未审的计为超期",
		SourceEN: "registration and change requests whose deadline (5 working days after submission) fell in the month: the share decided by it; undecided past the deadline counts as late",
		Seed:     "县级人民政府农业行政主管部门应当自申请之日起5个工作日内，完成申请资料审核。", SeedRef: "附件 第八条"},
	{Key: "inspection_volume", ZH: "巡查检查频次", EN: "Inspections per 100 operators", Unit: UnitPer100, Direction: Higher, Target: 10,
		Figure: "inspections", PerOperator: true, List: "/inspections",
		SourceZH: "看板指标“检查”：当月巡查与执法检查次数 ÷ 已注册主体数 × 100",
		SourceEN: "dashboard figure inspections: the month's site and enforcement inspections per 100 registered operators",
		Seed:     "县级以上人民政府农业行政主管部门应当通过在线监控、定期检查和随机抽查等方式，对追溯实施情况进行管理。", SeedRef: "附件 第十六条"},
	{Key: "sampling_volume", ZH: "抽检频次", EN: "Samples per 100 operators", Unit: UnitPer100, Direction: Higher, Target: 5,
		Figure: "samples", PerOperator: true, List: "/samples",
		SourceZH: "看板指标“抽检”：当月抽样检测批次 ÷ 已注册主体数 × 100",
		SourceEN: "dashboard figure samples: the month's sampling tests per 100 registered operators",
		Seed:     "县级以上地方人民政府农业行政主管部门在基地巡查、执法检查和抽样检测过程中，应当扫描农产品生产经营者电子身份标识，采集监管、执法、监测等业务数据，及时上传信息至国家追溯平台。", SeedRef: "附件 第十五条"},
	{Key: "sampling_pass_rate", ZH: "抽检合格率", EN: "Sampling pass rate", Unit: UnitPercent, Direction: Higher, Target: 98, Empty: EmptyNotApplicable,
		Figure: "samples", Num: []string{"pass", "negative"}, Den: []string{"pass", "fail", "negative", "positive"}, List: "/samples",
		SourceZH: "看板指标“抽检”：当月已判定的样品中合格（快检阴性）的比例；无限量不判定的不计",
		SourceEN: "dashboard figure samples: the month's judged samples that passed (quick tests: negative); samples not judged are left out",
		Seed:     "建立健全农产品质量安全追溯体系，对于提升农产品质量安全智慧监管能力、促进农业产业健康发展、确保农产品消费安全具有重大意义。", SeedRef: "通知 一"},
	{Key: "case_deadlines", ZH: "执法办案按期率", EN: "Case steps by their deadline", Unit: UnitPercent, Direction: Higher, Target: 100, Empty: EmptyNotApplicable,
		Raw: rawCases, List: "/cases",
		SourceZH: "执法案件办理步骤：期限在当月到期的（立案、调查、决定、整改复查、结案），按期完成下一步的比例；到期未办的计为超期",
		SourceEN: "enforcement case steps whose deadline fell in the month (filing, investigation, decision, follow-up, closing): the share whose next step was taken by it; none taken past the deadline counts as late",
		Seed:     "出现以下情形的，由县级以上人民政府农业行政主管部门责令其限期改正，并可依法予以处罚", SeedRef: "附件 第十七条"},
	{Key: "complaint_handling", ZH: "投诉举报处理时长", EN: "Complaint handling time", Unit: UnitDays, Direction: Lower, Target: 5, Empty: EmptyNotApplicable,
		Raw: rawComplaints, List: "/complaints",
		SourceZH: "当月收到的投诉举报：从受理到首次答复或办结的平均天数；尚未答复的按截至计算时的天数计",
		SourceEN: "complaints filed in the month: mean days from filing to the first reply or closing; those not answered yet count up to the computation",
		Seed:     "鼓励单位或个人应用国家追溯平台查询追溯信息,对农产品质量安全追溯进行社会监督。", SeedRef: "附件 第十九条"},
	{Key: "findings_closure", ZH: "问题处置率", EN: "Findings closed", Unit: UnitPercent, Direction: Higher, Target: 90, Empty: EmptyNotApplicable,
		Figure: "findings", Num: []string{"closed"}, List: "/findings",
		SourceZH: "看板指标“发现的问题”：当月发现的问题中已办结的比例",
		SourceEN: "dashboard figure findings: the month's findings that are closed",
		Seed:     "加强追溯信息线上监控和线下监管", SeedRef: "通知 四（二）"},
	{Key: "market_entry", ZH: "入市凭证查验率", EN: "Market entries checked", Unit: UnitPercent, Direction: Higher, Target: 95, Empty: EmptyNotApplicable,
		Figure: "market_entries", Num: []string{"accepted"}, Den: []string{"accepted", "issued", "rejected"}, List: "/batches",
		SourceZH: "看板指标“入市”：当月开具的入市追溯凭证中已被市场查验接收的比例",
		SourceEN: "dashboard figure market_entries: the month's market-entry certificates accepted at the market's check",
		Seed:     "农产品在进入批发市场、零售市场或生产加工企业时，农产品生产经营者应当按照规定提供入市追溯凭证。", SeedRef: "附件 第十四条"},
	{Key: "traced_to_producer", ZH: "入市产品溯源到生产者比例", EN: "Market entries traced to a producer", Unit: UnitPercent, Direction: Higher, Target: 90, Empty: EmptyNotApplicable,
		Figure: "chain_reach", Num: []string{"producer"}, List: "/batches",
		SourceZH: "看板指标“入市码溯源至生产者”：当月开具的入市追溯码中，链条向上可追到已注册生产者生产记录的比例（仅到小农户或链条断裂的不计）",
		SourceEN: "dashboard figure chain_reach: the month's market-entry codes whose chain upstream reaches a registered producer's production record (smallholders only or broken chains do not count)",
		Seed:     "本办法适用于食用农产品从种植养殖环节到进入批发市场、零售市场或生产加工企业前的质量安全追溯。", SeedRef: "附件 第二条"},
	{Key: "recording", ZH: "批次赋码活跃度", EN: "Batches recorded per operator", Unit: UnitPerOperator, Direction: Higher, Target: 2,
		Figure: "batches", Num: []string{"production"}, PerOperator: true, List: "/batches",
		SourceZH: "看板指标“批次与追溯码”：当月生产批次码数 ÷ 已注册主体数",
		SourceEN: "dashboard figure batches: the month's production batch codes per registered operator",
		Seed:     "农产品生产经营者应当按照国家追溯平台信息采集规范要求，如实填报产品名称、来源、数量等基本追溯信息。", SeedRef: "附件 第十二条"},
}

// defaultWeights is the default sheet of every level: the notice's goals
// weigh most (key operators 100 % registered, chains unbroken), then the
// officials' own duties (reviews, inspections, sampling, cases,
// complaints). The weights sum to 100.
var defaultWeights = []struct {
	key    string
	weight float64
}{
	{"key_coverage", 25}, {"chain_integrity", 15}, {"review_timeliness", 10}, {"inspection_volume", 10},
	{"sampling_volume", 10}, {"sampling_pass_rate", 10}, {"case_deadlines", 10}, {"complaint_handling", 10},
}

// Lookup returns the indicator called key.
func Lookup(key string) (Indicator, bool) {
	for _, in := range Indicators {
		if in.Key == key {
			return in, true
		}
	}
	return Indicator{}, false
}

// maxTarget bounds a target by unit (a target above it is a typing error).
func maxTarget(u Unit) float64 {
	switch u {
	case UnitPercent:
		return 100
	case UnitDays:
		return 365
	}
	return 10000
}
