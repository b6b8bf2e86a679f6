package ui

import (
	"fmt"
	"sync"
)

// messages maps a key to its Chinese and English text. Feature files add
// their own keys with addMessages in an init function.
var (
	msgMu    sync.RWMutex
	messages = map[string][2]string{}
)

func addMessages(m map[string][2]string) {
	msgMu.Lock()
	defer msgMu.Unlock()
	for k, v := range m {
		if _, dup := messages[k]; dup {
			panic("ui: duplicate message key " + k)
		}
		messages[k] = v
	}
}

// translate returns the text for key in lang ("zh" or "en"); a missing key
// shows itself so it is noticed.
func translate(lang, key string, args ...any) string {
	msgMu.RLock()
	m, ok := messages[key]
	msgMu.RUnlock()
	if !ok {
		return key
	}
	s := m[0]
	if lang == "en" {
		s = m[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

func init() {
	addMessages(map[string][2]string{
		"app.name":        {"国家农产品质量安全追溯管理信息平台", "National Agricultural Product Quality Safety Traceability Platform"},
		"app.short":       {"农产品追溯平台", "agtrace"},
		"nav.home":        {"首页", "Home"},
		"nav.account":     {"我的账号", "My account"},
		"nav.logout":      {"退出", "Log out"},
		"nav.login":       {"登录", "Log in"},
		"nav.register":    {"主体注册", "Register"},
		"nav.lang":        {"English", "中文"},
		"nav.admin":       {"系统管理", "Administration"},
		"common.save":     {"保存", "Save"},
		"common.submit":   {"提交", "Submit"},
		"common.search":   {"查询", "Search"},
		"common.create":   {"新建", "Create"},
		"common.enable":   {"启用", "Enable"},
		"common.disable":  {"停用", "Disable"},
		"common.remove":   {"删除", "Remove"},
		"common.back":     {"返回", "Back"},
		"common.none":     {"暂无记录", "Nothing here yet"},
		"common.status":   {"状态", "Status"},
		"common.name":     {"名称", "Name"},
		"common.region":   {"行政区划", "Region"},
		"common.time":     {"时间", "Time"},
		"common.actions":  {"操作", "Actions"},
		"common.saved":    {"已保存", "Saved"},
		"common.error":    {"出错了", "Something went wrong"},
		"common.soon":     {"后续版本开放", "arrives in a later release"},
		"common.more":     {"更多", "More"},
		"common.prev":     {"上一页", "Previous"},
		"common.next":     {"下一页", "Next"},
		"status.active":   {"正常", "active"},
		"status.disabled": {"已停用", "disabled"},

		"login.title":     {"登录", "Log in"},
		"login.username":  {"用户名", "Username"},
		"login.password":  {"密码", "Password"},
		"login.submit":    {"登录", "Log in"},
		"login.failed":    {"用户名或密码错误", "Wrong username or password"},
		"login.locked":    {"登录失败次数过多，请 15 分钟后再试", "Too many failed logins; try again in 15 minutes"},
		"login.disabled":  {"账号已停用", "Account disabled"},
		"login.required":  {"请先登录", "Please log in"},
		"landing.scan":    {"扫码或输入追溯码，查询农产品来源", "Scan or type a trace code to see where your food came from"},
		"landing.code":    {"追溯码 / 主体身份码", "Trace code / operator code"},
		"landing.query":   {"查询", "Look up"},
		"landing.intro":   {"生产经营主体注册、县级审核、追溯码赋码、扫码交易、监管执法与公众查询的一体化平台。", "One platform for operator registration and county review, trace codes and labels, scan-to-trade, supervision and public queries."},
		"landing.login":   {"工作人员与生产经营者登录", "Officials and operators: log in"},
		"landing.reg":     {"生产经营主体注册", "Register as a producer or trader"},
		"landing.badcode": {"追溯码应为 20 位数字，主体身份码应为 18 位数字", "A trace code has 20 digits, an operator code 18"},

		"home.title":   {"工作台", "Workspace"},
		"home.welcome": {"您好，%s", "Hello, %s"},
		"home.region":  {"管辖范围", "Jurisdiction"},
		"home.role":    {"角色", "Role"},

		"account.title":     {"我的账号", "My account"},
		"account.change":    {"修改密码", "Change password"},
		"account.old":       {"原密码", "Current password"},
		"account.new":       {"新密码（至少 10 位，不能全为数字）", "New password (10+ characters, not all digits)"},
		"account.changed":   {"密码已修改，请重新登录", "Password changed; please log in again"},
		"admin.users":       {"用户管理", "Users"},
		"admin.agencies":    {"机构管理", "Agencies"},
		"admin.calendar":    {"工作日历", "Working-day calendar"},
		"admin.audit":       {"审计日志", "Audit log"},
		"admin.newuser":     {"新建用户", "New user"},
		"admin.newagency":   {"新建机构", "New agency"},
		"admin.kind":        {"类型", "Kind"},
		"admin.agency":      {"所属机构", "Agency"},
		"admin.year":        {"年份", "Year"},
		"admin.complete":    {"该年份已有国务院公布的放假安排", "This year's official schedule is loaded"},
		"admin.incomplete":  {"该年份尚无放假安排数据，工作日按周一至周五计算。请录入国务院公布的安排。", "No schedule for this year yet: working days fall back to Monday–Friday. Enter the State Council's schedule."},
		"admin.date":        {"日期", "Date"},
		"admin.daykind":     {"类别", "Kind"},
		"admin.holiday":     {"法定节假日", "Public holiday"},
		"admin.workday":     {"调休上班", "Make-up workday"},
		"admin.dayname":     {"节日名称", "Holiday name"},
		"admin.setday":      {"设置", "Set"},
		"admin.markyear":    {"标记该年份安排已完整录入", "Mark this year's schedule as complete"},
		"admin.action":      {"动作", "Action"},
		"admin.actor":       {"操作人", "Actor"},
		"admin.addr":        {"来源地址", "Address"},
		"admin.resource":    {"对象", "Resource"},
		"admin.detail":      {"详情", "Detail"},
		"admin.filter":      {"筛选", "Filter"},
		"admin.addworkdays": {"工作日推算", "Working-day calculator"},
		"admin.from":        {"起始日期", "From"},
		"admin.days":        {"工作日数", "Working days"},
		"admin.result":      {"结果", "Result"},
		"admin.fallback":    {"（部分年份无数据，按周一至周五推算）", "(some years lack data; Monday–Friday assumed)"},
		"admin.perms":       {"子账号权限", "Staff permissions"},
		"admin.operatorid":  {"所属主体 ID", "Operator ID"},
		"admin.agency.kind.agriculture_department": {"农业农村部门", "Agriculture department"},
		"admin.agency.kind.supervision_station":    {"监管站", "Supervision station"},
		"admin.agency.kind.testing_agency":         {"检测机构", "Testing agency"},
		"admin.agency.kind.enforcement_team":       {"执法大队", "Enforcement team"},
		"admin.agency.kind.market":                 {"市场", "Market"},
		"admin.agency.kind.other":                  {"其他", "Other"},

		"role.admin":       {"系统管理员", "Administrator"},
		"role.reviewer":    {"县级审核员", "County reviewer"},
		"role.supervisor":  {"监管人员", "Supervisor"},
		"role.township":    {"乡镇监管员", "Township officer"},
		"role.inspector":   {"巡查员", "Inspector"},
		"role.tester":      {"检测员", "Tester"},
		"role.enforcer":    {"执法人员", "Enforcement officer"},
		"role.analyst":     {"分析人员", "Analyst"},
		"role.operator":    {"生产经营者", "Operator"},
		"role.staff":       {"主体子账号", "Operator staff"},
		"role.market":      {"市场查验员", "Market clerk"},
		"role.integration": {"接口账号", "Integration client"},

		"task.review":      {"主体注册审核", "Review registrations"},
		"task.operators":   {"主体名录与查询", "Operators"},
		"task.roster":      {"监管名录普查", "Supervision roster"},
		"task.coverage":    {"注册覆盖率", "Registration coverage"},
		"task.agreements":  {"追溯协议", "Traceability agreements"},
		"task.findings":    {"追溯问题线索", "Traceability findings"},
		"task.trace":       {"追溯查询", "Trace a code"},
		"task.batches":     {"批次与库存", "Batches and stock"},
		"task.newbatch":    {"新建批次并打印标签", "New batch and labels"},
		"task.sell":        {"扫码销售", "Sell by scan"},
		"task.incoming":    {"待确认进货", "Incoming to confirm"},
		"task.marketcheck": {"入市凭证查验", "Check market-entry certificates"},
		"task.inspection":  {"基地巡查", "Site inspections"},
		"task.sampling":    {"抽样检测", "Sampling tests"},
		"task.cases":       {"执法办案", "Enforcement cases"},
		"task.dashboard":   {"数据看板", "Dashboards"},
		"task.myoperator":  {"我的主体信息", "My operator record"},
		"task.staff":       {"子账号管理", "Staff accounts"},
		"task.tokens":      {"接口令牌", "API tokens"},
		"task.api":         {"接口文档 (OpenAPI)", "API (OpenAPI)"},
	})
}
