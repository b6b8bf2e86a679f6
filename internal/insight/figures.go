package insight

// The figures, defined once as data. Each says how its raw table is grouped
// into stat_daily rows — county, product, day, key, sub-key, count — and
// which audit rows touch which of its days. A new figure is one more entry
// of Figures (and its words in Labels); nothing else changes.
//
// Tokens in the SQL texts:
//
//	{day}   the figure's day, YYYY-MM-DD in China time, of Figure.DayCol
//	{when}  DayCol within [$1, $2] (civil dates) or [$1, $2) (instants)
//	{today} today's civil date in China, quoted
//	{rid}   the audit row's resource id as a number: CAST(a.resource_id AS BIGINT)

// Figure is one dashboard figure.
type Figure struct {
	Name    string
	ZH, EN  string
	List    string // the list page behind the figure
	DayCol  string // the column that gives a record's day (never changes after insert)
	Instant bool   // DayCol is a TIMESTAMP (its China date is the day); else a YYYY-MM-DD text
	// Select yields (county, product, day, key, sub, value) over the
	// records of {when}, grouped by its first five columns.
	Select string
	// Touch: for an audit row of Resource, the join that reaches the
	// figure's records from audit_log a (its days are recomputed).
	Touch []Touch
	// Volatile figures depend on today (overdue reviews): recomputed in
	// full at every run, which is cheap because they read few rows.
	Volatile bool
	// Since (figures fed by tables that emit no events: public scans)
	// selects the days of rows changed at or after $1.
	Since string
	// State figures describe the records as they stand (registrations,
	// coverage, review backlog): without a date range they count all time.
	State bool
	// Keys lists the keys in display order (the answer shows these first).
	Keys []string
	// Share names the key whose share of the total is the figure's
	// headline rate (coverage: registered key operators).
	Share string
}

// Touch maps audit rows of one resource type to a figure's records.
type Touch struct {
	Resource string // audit_log.resource_type
	Join     string // "<table> <alias> ON <condition on a.resource_id>"
}

// Records a national node applied from a province (docs/exchange.md) are
// reached from the apply's audit row (resource exchanged) through the
// exchange_records rows its transaction wrote, which carry its instant.
const exchanged = "exchange_batch"

func exchangedOf(kind string) string {
	return "exchange_records x ON x.written_at = a.at AND x.kind = '" + kind + "'"
}

// Figures are the dashboard's figures, in display order.
var Figures = []Figure{
	{Name: "registrations", ZH: "主体注册", EN: "Registrations", List: "/operators", DayCol: "o.created_at", Instant: true, State: true,
		Select: `SELECT SUBSTR(o.county_code, 1, 6), '', {day}, o.status, o.category, COUNT(*) FROM operators o
			WHERE o.category <> 'temporary' AND o.status <> 'external' AND {when} GROUP BY 1, 2, 3, 4, 5`,
		Touch: []Touch{{"operator", "operators o ON o.id = {rid}"}, {exchanged, exchangedOf("operator") + " JOIN operators o ON o.code = x.record_key"}},
		Keys:  []string{"approved", "pending", "draft", "rejected", "suspended", "cancelled"}},
	{Name: "coverage", ZH: "重点主体覆盖", EN: "Key operators covered", List: "/coverage", DayCol: "e.created_at", Instant: true, State: true,
		Select: `SELECT SUBSTR(e.county_code, 1, 6), '', {day},
			CASE WHEN o.status IN ('approved', 'suspended') THEN 'registered' ELSE 'unregistered' END, '', COUNT(*)
			FROM roster_entries e LEFT JOIN operators o ON o.id = e.operator_id
			WHERE (e.leading_enterprise IS NOT NULL OR e.demo_cooperative OR e.certified) AND {when} GROUP BY 1, 2, 3, 4, 5`,
		Touch: []Touch{{"roster_entry", "roster_entries e ON e.id = {rid}"}, {"operator", "roster_entries e ON e.operator_id = {rid}"}},
		Keys:  []string{"registered", "unregistered"}, Share: "registered"},
	{Name: "reviews", ZH: "注册审核", EN: "Reviews", List: "/reviews", DayCol: "o.submitted_at", Instant: true, State: true, Volatile: true,
		Select: `SELECT SUBSTR(o.county_code, 1, 6), '', {day},
			CASE WHEN o.review_due < {today} THEN 'overdue' ELSE 'waiting' END, '', COUNT(*) FROM operators o
			WHERE o.status = 'pending' AND o.submitted_at IS NOT NULL AND {when} GROUP BY 1, 2, 3, 4, 5`,
		Keys: []string{"waiting", "overdue"}},
	{Name: "batches", ZH: "批次与追溯码", EN: "Batches and trace codes", List: "/batches", DayCol: "c.created_at", Instant: true,
		Select: `SELECT SUBSTR(c.region_code, 1, 6), c.product_code, {day},
			CASE c.type WHEN 1 THEN 'production' WHEN 2 THEN 'circulation' ELSE 'market_entry' END, c.source, COUNT(*)
			FROM trace_codes c WHERE c.source <> 'external' AND {when} GROUP BY 1, 2, 3, 4, 5`,
		Touch: []Touch{{"trace_code", "trace_codes c ON c.code = a.resource_id"}, {"transformation", "trace_codes c ON c.transformation_id = {rid}"}, {exchanged, exchangedOf("trace_code") + " JOIN trace_codes c ON c.code = x.record_key"}},
		Keys:  []string{"production", "circulation", "market_entry"}},
	{Name: "transfers", ZH: "流通交易", EN: "Transfers", List: "/batches", DayCol: "t.created_at", Instant: true,
		Select: `SELECT SUBSTR(t.seller_region, 1, 6), c.product_code, {day}, t.status, '', COUNT(*)
			FROM transfers t JOIN trace_codes c ON c.code = t.code WHERE t.kind = 'operator' AND {when} GROUP BY 1, 2, 3, 4, 5`,
		Touch: []Touch{{"trace_code", "transfers t ON t.code = a.resource_id"}, {"trace_code", "transfers t ON t.from_code = a.resource_id"}, {exchanged, exchangedOf("trace_code") + " JOIN transfers t ON t.code = x.record_key"}},
		Keys:  []string{"confirmed", "pending", "rejected", "withdrawn"}},
	{Name: "market_entries", ZH: "入市", EN: "Market entries", List: "/batches", DayCol: "t.created_at", Instant: true,
		Select: `SELECT SUBSTR(t.buyer_region, 1, 6), c.product_code, {day}, t.status, t.market_kind, COUNT(*)
			FROM transfers t JOIN trace_codes c ON c.code = t.code WHERE t.kind = 'market' AND {when} GROUP BY 1, 2, 3, 4, 5`,
		Touch: []Touch{{"trace_code", "transfers t ON t.code = a.resource_id"}, {"trace_code", "transfers t ON t.from_code = a.resource_id"}, {exchanged, exchangedOf("trace_code") + " JOIN transfers t ON t.code = x.record_key"}},
		Keys:  []string{"accepted", "issued", "rejected", "withdrawn"}},
	// chain_reach classifies each market-entry code by what its chain
	// upstream (trace_edges, through sales, splits, merges and
	// transformations) reaches: a production record of a registered
	// producer, only smallholders' records (temporary operators), or no
	// production record at all (a broken chain). The edges of a code are
	// written with it and never change, so the code's day is final — except
	// on a national node, where a cross-province link resolved later adds an
	// edge upstream (docs/insight.md: rebuild after linking).
	{Name: "chain_reach", ZH: "入市码溯源至生产者", EN: "Market-entry codes traced to a producer", List: "/batches", DayCol: "c.created_at", Instant: true,
		Select: `WITH RECURSIVE up(root, code) AS (
				SELECT c.code, c.code FROM trace_codes c WHERE c.type = 3 AND {when}
				UNION
				SELECT up.root, e.from_code FROM trace_edges e JOIN up ON e.to_code = up.code
			), reach(root, best) AS (
				SELECT up.root, MAX(CASE WHEN p.type <> 1 THEN 0 WHEN o.category = 'temporary' THEN 1 ELSE 2 END)
				FROM up JOIN trace_codes p ON p.code = up.code JOIN operators o ON o.id = p.operator_id GROUP BY up.root
			)
			SELECT SUBSTR(c.region_code, 1, 6), c.product_code, {day},
				CASE r.best WHEN 2 THEN 'producer' WHEN 1 THEN 'smallholder' ELSE 'broken' END, '', COUNT(*)
			FROM reach r JOIN trace_codes c ON c.code = r.root GROUP BY 1, 2, 3, 4, 5`,
		Touch: []Touch{{"trace_code", "trace_codes c ON c.code = a.resource_id AND c.type = 3"}, {exchanged, exchangedOf("trace_code") + " JOIN trace_codes c ON c.code = x.record_key AND c.type = 3"}},
		Keys:  []string{"producer", "smallholder", "broken"}, Share: "producer"},
	{Name: "certificates", ZH: "承诺达标合格证", EN: "Compliance certificates", List: "/batches", DayCol: "f.issued_on",
		Select: `SELECT SUBSTR(o.county_code, 1, 6), c.product_code, {day}, f.basis, f.scope, COUNT(*)
			FROM certificates f JOIN operators o ON o.id = f.operator_id JOIN trace_codes c ON c.code = f.code
			WHERE {when} GROUP BY 1, 2, 3, 4, 5`,
		Touch: []Touch{{"certificate", "certificates f ON f.number = a.resource_id"}, {exchanged, exchangedOf("trace_code") + " JOIN certificates f ON f.code = x.record_key"}},
		Keys:  []string{"control", "self_test", "commissioned_test"}},
	{Name: "findings", ZH: "发现的问题", EN: "Findings", List: "/findings", DayCol: "f.on_date",
		Select: `SELECT SUBSTR(f.region_code, 1, 6), COALESCE(c.product_code, ''), {day}, f.status, f.kind, COUNT(*)
			FROM findings f LEFT JOIN trace_codes c ON c.code = f.code WHERE {when} GROUP BY 1, 2, 3, 4, 5`,
		Touch: []Touch{{"finding", "findings f ON f.id = {rid}"}},
		Keys:  []string{"open", "in_progress", "closed"}},
	{Name: "inspections", ZH: "检查", EN: "Inspections", List: "/inspections", DayCol: "i.on_date",
		Select: `SELECT SUBSTR(i.region_code, 1, 6), '', {day}, i.result, i.kind, COUNT(*) FROM inspections i
			WHERE {when} GROUP BY 1, 2, 3, 4, 5`,
		Touch: []Touch{{"inspection", "inspections i ON i.id = {rid}"}, {exchanged, exchangedOf("inspection") + " JOIN inspections i ON i.number = x.record_key"}},
		Keys:  []string{"pass", "rectify", "violation"}},
	{Name: "samples", ZH: "抽检", EN: "Sampling", List: "/samples", DayCol: "s.sampled_on",
		Select: `SELECT SUBSTR(s.region_code, 1, 6), s.product_code, {day}, s.verdict, s.kind, COUNT(*) FROM samples s
			WHERE {when} GROUP BY 1, 2, 3, 4, 5`,
		Touch: []Touch{{"sample", "samples s ON s.id = {rid}"}, {exchanged, exchangedOf("sample") + " JOIN samples s ON s.sample_no = x.record_key"}},
		Keys:  []string{"pass", "fail", "not_judged", "negative", "positive"}},
	// sample_items counts the substances tested (one row per item, keyed
	// by its verdict, sub-keyed by the substance): by=kind gives the pass
	// rate by substance.
	{Name: "sample_items", ZH: "抽检项目（按物质）", EN: "Substances tested", List: "/samples", DayCol: "s.sampled_on",
		Select: `SELECT SUBSTR(s.region_code, 1, 6), s.product_code, {day}, i.verdict, i.substance, COUNT(*)
			FROM sample_items i JOIN samples s ON s.id = i.sample_id WHERE {when} GROUP BY 1, 2, 3, 4, 5`,
		Touch: []Touch{{"sample", "samples s ON s.id = {rid}"}, {exchanged, exchangedOf("sample") + " JOIN samples s ON s.sample_no = x.record_key"}},
		Keys:  []string{"pass", "fail", "not_judged"}},
	{Name: "recalls", ZH: "召回", EN: "Recalls", List: "/samples", DayCol: "r.opened_at", Instant: true,
		Select: `SELECT SUBSTR(r.region_code, 1, 6), c.product_code, {day}, r.status, '', COUNT(*)
			FROM recalls r JOIN trace_codes c ON c.code = r.root_code WHERE {when} GROUP BY 1, 2, 3, 4, 5`,
		Touch: []Touch{{"recall", "recalls r ON r.id = {rid}"}},
		Keys:  []string{"open", "confirmed", "released", "closed"}},
	{Name: "cases", ZH: "执法案件", EN: "Enforcement cases", List: "/cases", DayCol: "k.filed_on",
		Select: `SELECT SUBSTR(k.region_code, 1, 6), '', {day}, k.status, k.violation, COUNT(*) FROM cases k
			WHERE {when} GROUP BY 1, 2, 3, 4, 5`,
		Touch: []Touch{{"case", "cases k ON k.id = {rid}"}},
		Keys:  []string{"draft", "filed", "investigated", "decided", "follow_up", "closed"}},
	{Name: "complaints", ZH: "投诉举报", EN: "Complaints", List: "/complaints", DayCol: "p.created_at", Instant: true,
		Select: `SELECT SUBSTR(p.region_code, 1, 6), COALESCE(c.product_code, ''), {day}, p.status, p.category, COUNT(*)
			FROM complaints p LEFT JOIN trace_codes c ON c.code = p.code WHERE {when} GROUP BY 1, 2, 3, 4, 5`,
		Touch: []Touch{{"complaint", "complaints p ON p.id = {rid}"}},
		Keys:  []string{"received", "assigned", "replied", "closed"}},
	{Name: "scans", ZH: "公众扫码", EN: "Public scans", List: "/batches", DayCol: "s.day",
		// trace_scan_areas: the scan log's fold keeps the views by county, product and client
		Select: `SELECT s.region_code, s.product_code, {day}, s.client, '', SUM(s.count)
			FROM trace_scan_areas s WHERE {when} GROUP BY 1, 2, 3, 4, 5`,
		Since: `SELECT DISTINCT s.day FROM trace_scan_areas s WHERE s.folded_at >= $1`,
		Keys:  []string{"wechat", "alipay", "mobile", "desktop", "tool", "other"}},
}

// Labels are the words of the keys (zh, en); a key without one shows as itself.
var Labels = map[string][2]string{
	"approved": {"已通过", "approved"}, "pending": {"待处理", "pending"}, "draft": {"草稿", "draft"},
	"rejected": {"已退回", "rejected"}, "suspended": {"已暂停", "suspended"}, "cancelled": {"已注销", "cancelled"},
	"registered": {"已注册", "registered"}, "unregistered": {"未注册", "not registered"},
	"waiting": {"审核期内", "within deadline"}, "overdue": {"已超期", "overdue"},
	"production": {"生产批次码", "production codes"}, "circulation": {"流通批次码", "circulation codes"},
	"market_entry": {"入市批次码", "market-entry codes"},
	"confirmed":    {"已确认", "confirmed"}, "withdrawn": {"已撤回", "withdrawn"},
	"accepted": {"已入市", "accepted"}, "issued": {"待查验", "awaiting check"},
	"control": {"自控", "own control"}, "self_test": {"自检", "self-tested"}, "commissioned_test": {"委托检测", "commissioned test"},
	"open": {"未处理", "open"}, "in_progress": {"处理中", "in progress"}, "closed": {"已办结", "closed"},
	"pass": {"合格", "pass"}, "rectify": {"责令整改", "rectify"}, "violation": {"违法", "violation"},
	"fail": {"不合格", "fail"}, "not_judged": {"未判定", "not judged"}, "negative": {"阴性", "negative"}, "positive": {"阳性", "positive"},
	"released": {"已解除", "released"},
	"producer": {"可溯至登记生产者", "reaches a registered producer"}, "smallholder": {"仅溯至小农户", "reaches smallholders only"},
	"broken": {"链条断裂", "broken chain"},
	"filed":  {"已立案", "filed"}, "investigated": {"已调查", "investigated"}, "decided": {"已决定", "decided"}, "follow_up": {"跟踪整改", "follow-up"},
	"received": {"已受理", "received"}, "assigned": {"已分派", "assigned"}, "replied": {"已答复", "replied"},
	"wechat": {"微信", "WeChat"}, "alipay": {"支付宝", "Alipay"}, "mobile": {"手机浏览器", "mobile browser"},
	"desktop": {"电脑", "desktop"}, "tool": {"工具", "tool"}, "other": {"其他", "other"},
}

// Lookup returns the figure called name.
func Lookup(name string) (Figure, bool) {
	for _, f := range Figures {
		if f.Name == name {
			return f, true
		}
	}
	return Figure{}, false
}

// Names lists the figures' names in display order.
func Names() []string {
	out := make([]string, len(Figures))
	for i, f := range Figures {
		out[i] = f.Name
	}
	return out
}
