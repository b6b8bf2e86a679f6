package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/httpx"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

func init() {
	SetTaskHref("task.myoperator", "/my/operator")
	SetTaskHref("task.staff", "/my/staff")
	SetTaskHref("task.review", "/reviews")
	SetTaskHref("task.operators", "/operators")
	SetTaskHref("task.roster", "/roster")
	SetTaskHref("task.coverage", "/coverage")
	SetTaskHref("task.agreements", "/agreements")
	addMessages(map[string][2]string{
		"op.register.title":   {"生产经营主体注册", "Register a producer or trader"},
		"op.register.intro":   {"填写账号和主体信息后保存为草稿，上传证明材料并提交，县级农业农村部门将在 5 个工作日内完成审核。", "Create your account and fill in your details; the draft is saved, you upload proofs and submit, and the county reviews within 5 working days."},
		"op.account":          {"登录账号", "Your account"},
		"op.details":          {"主体信息", "Operator details"},
		"op.username":         {"用户名", "Username"},
		"op.password":         {"密码（至少 10 位，不能全为数字）", "Password (10+ characters, not all digits)"},
		"op.name":             {"主体名称", "Name"},
		"op.kind":             {"主体类型", "Kind"},
		"op.category":         {"主体类别", "Category"},
		"op.credit_code":      {"统一社会信用代码", "Unified social credit code"},
		"op.credit_code.hint": {"个人可不填；91 开头为企业，92 为个体工商户，93 为农民专业合作社", "Not needed for individuals; 91… enterprise, 92… individual business, 93… cooperative"},
		"op.id_number":        {"身份证号码（个人或法定代表人）", "ID number (individual or legal representative)"},
		"op.idno":             {"身份证号码", "ID number"},
		"op.id_number.hint":   {"加密保存，只显示部分号码", "Stored encrypted; shown masked"},
		"op.legal_rep":        {"法定代表人", "Legal representative"},
		"op.contact_name":     {"联系人", "Contact person"},
		"op.phone":            {"联系电话", "Phone"},
		"op.region_code":      {"所在县或乡镇（行政区划代码）", "County or township (region code)"},
		"op.region.hint":      {"例如 370686（栖霞市）或 9 位乡镇代码", "e.g. 370686 (Qixia) or a 9-digit township code"},
		"op.address":          {"地址", "Address"},
		"op.lat":              {"纬度", "Latitude"},
		"op.lng":              {"经度", "Longitude"},
		"op.locate":           {"使用当前位置", "Use my location"},
		"op.products":         {"主要产品（用 、 分隔）", "Products (separated by 、 or commas)"},
		"op.annual_output":    {"年产量", "Annual output"},
		"op.unit":             {"单位", "Unit"},
		"op.leading":          {"农业产业化龙头企业", "Leading enterprise"},
		"op.leading.none":     {"否", "No"},
		"op.leading.national": {"国家重点龙头企业", "National"}, "op.leading.provincial": {"省级龙头企业", "Provincial"}, "op.leading.municipal": {"市级龙头企业", "Municipal"},
		"op.demo":            {"省级及以上示范社", "Demonstration cooperative"},
		"op.certs":           {"三品一标认证", "Certifications (三品一标)"},
		"op.cert.kind":       {"认证类型", "Kind"},
		"op.cert.number":     {"证书编号", "Certificate number"},
		"op.cert.valid":      {"有效期至", "Valid until"},
		"op.cert.none":       {"—", "—"},
		"op.kind.enterprise": {"企业", "Enterprise"}, "op.kind.cooperative": {"农民专业合作社", "Cooperative"}, "op.kind.family_farm": {"家庭农场", "Family farm"},
		"op.kind.slaughterhouse": {"屠宰厂（场）", "Slaughterhouse"}, "op.kind.individual": {"个人", "Individual"},
		"op.cat.producer": {"生产者", "Producer"}, "op.cat.trader": {"经营者", "Trader"}, "op.cat.producer_trader": {"生产经营者", "Producer-trader"},
		"op.cat.input_supplier": {"农资经营者", "Input supplier"}, "op.cat.temporary": {"临时主体", "Temporary"},
		"op.cert.pollution_free": {"无公害农产品", "Pollution-free"}, "op.cert.green": {"绿色食品", "Green food"}, "op.cert.organic": {"有机农产品", "Organic"},
		"op.cert.geo_indication": {"农产品地理标志", "Geographical indication"},
		"op.status.draft":        {"草稿", "Draft"}, "op.status.pending": {"待审核", "Pending review"}, "op.status.approved": {"已通过", "Approved"},
		"op.status.rejected": {"已退回", "Rejected"}, "op.status.suspended": {"已暂停", "Suspended"}, "op.status.cancelled": {"已注销", "Cancelled"},
		"op.status.temporary": {"临时主体", "Temporary"},
		"op.register.submit":  {"注册并保存草稿", "Register and save draft"},
		"op.registered":       {"注册成功，已保存草稿。请上传证明材料后提交审核。", "Registered and saved as a draft. Upload your proof documents, then submit for review."},
		"op.page":             {"主体信息", "Operator"},
		"op.code":             {"主体身份码", "Operator code"},
		"op.code.none":        {"审核通过后发放", "issued on approval"},
		"op.review_due":       {"审核期限", "Review due"},
		"op.overdue":          {"已超期", "Overdue"},
		"op.submitted_at":     {"提交时间", "Submitted"},
		"op.approved_at":      {"通过时间", "Approved"},
		"op.reason":           {"理由", "Reason"},
		"op.docs":             {"证明材料", "Proof documents"},
		"op.doc.kind":         {"材料类型", "Document kind"},
		"op.doc.licence":      {"营业执照", "Business licence"}, "op.doc.id_photo": {"身份证照片", "ID photo"}, "op.doc.certificate": {"认证证书", "Certificate"}, "op.doc.other": {"其他", "Other"},
		"op.doc.file":        {"文件（PDF、JPEG 或 PNG，不超过 10 MB）", "File (PDF, JPEG or PNG, up to 10 MB)"},
		"op.doc.upload":      {"上传", "Upload"},
		"op.doc.uploaded":    {"材料已上传", "Document uploaded"},
		"op.edit":            {"修改信息", "Edit details"},
		"op.submit":          {"提交审核", "Submit for review"},
		"op.submitted":       {"已提交，县级农业农村部门将在 5 个工作日内审核", "Submitted; the county reviews within 5 working days"},
		"op.approve":         {"审核通过", "Approve"},
		"op.approved":        {"已审核通过，主体身份码已发放", "Approved; the operator code is issued"},
		"op.reject":          {"退回", "Reject"},
		"op.rejected":        {"已退回申请", "Registration rejected"},
		"op.rejected.note":   {"申请被退回，请按理由修改后重新提交：", "Your registration was rejected. Fix it and submit again. Reason:"},
		"op.history":         {"审核记录", "Decision history"},
		"op.decision.submit": {"提交审核", "Submitted"}, "op.decision.approve": {"审核通过", "Approved"}, "op.decision.reject": {"退回", "Rejected"},
		"op.decision.change_approve": {"变更通过", "Change approved"}, "op.decision.change_reject": {"变更退回", "Change rejected"},
		"op.decision.suspend": {"暂停", "Suspended"}, "op.decision.cancel": {"注销", "Cancelled"}, "op.decision.reinstate": {"恢复", "Reinstated"},
		"op.signed":  {"已签名", "signed"},
		"op.ecard":   {"下载电子身份卡（PDF）", "Download e-ID card (PDF)"},
		"op.qr":      {"二维码", "QR code"},
		"op.qr.png":  {"下载 PNG", "PNG"},
		"op.qr.svg":  {"下载 SVG", "SVG"},
		"op.suspend": {"暂停", "Suspend"}, "op.cancel": {"注销", "Cancel registration"}, "op.reinstate": {"恢复", "Reinstate"},
		"op.statuschanged":  {"状态已更新", "Status updated"},
		"op.changes":        {"变更申请", "Change requests"},
		"op.change.request": {"申请变更信息", "Request a change"},
		"op.change.intro":   {"变更经县级农业农村部门审核通过后生效，此前仍以已登记的信息为准。统一社会信用代码和主体类别不能变更。", "Changes take effect once the county approves them; until then the approved details stay in force. The credit code and the category cannot change."},
		"op.change.sent":    {"变更申请已提交", "Change request submitted"},
		"op.change.field":   {"项目", "Field"}, "op.change.old": {"原内容", "Current"}, "op.change.new": {"变更为", "Requested"},
		"op.change.approve": {"通过变更", "Approve change"}, "op.change.reject": {"退回变更", "Reject change"},
		"op.change.decided": {"变更申请已处理", "Change request decided"},
		"op.change.pending": {"审核中", "pending"}, "op.change.approved": {"已通过", "approved"}, "op.change.rejected": {"已退回", "rejected"},
		"op.public.title":             {"主体身份核验", "Operator verification"},
		"op.public.ok":                {"该主体已在国家农产品质量安全追溯管理信息平台登记。", "This operator is registered with the national traceability platform."},
		"op.public.notok":             {"该主体当前不处于正常登记状态。", "This operator's registration is not currently in force."},
		"op.invalid":                  {"主体身份码无效", "Invalid operator code"},
		"op.notfound":                 {"没有找到该主体身份码", "No operator has this code"},
		"op.region":                   {"所在地区", "Region"},
		"op.reviews":                  {"注册审核", "Registration review"},
		"op.reviews.intro":            {"本辖区待审核的注册和变更申请，按审核期限排序（法定 5 个工作日）。", "Pending registrations and changes in your jurisdiction, earliest due first (5 working days by law)."},
		"op.review.kind.registration": {"注册", "Registration"}, "op.review.kind.change": {"变更", "Change"},
		"op.daysleft": {"剩余工作日", "Working days left"},
		"op.open":     {"查看", "Open"},
		"op.list":     {"主体名录", "Operators"},
		"op.export":   {"导出 Excel", "Export to Excel"},
		"op.flag":     {"标识", "Flag"},
		"op.flag.key": {"重点主体", "Key operators"}, "op.flag.leading": {"龙头企业", "Leading enterprises"}, "op.flag.demo": {"示范社", "Demonstration cooperatives"}, "op.flag.certified": {"三品一标", "Certified"},
		"op.product":     {"产品", "Product"},
		"op.q":           {"名称 / 编码 / 信用代码", "Name / code / credit code"},
		"op.all":         {"全部", "All"},
		"op.staff":       {"子账号", "Staff accounts"},
		"op.staff.intro": {"子账号代表本主体操作，权限由主账号授予。", "Staff accounts act for your operator with the permissions you grant."},
		"op.staff.new":   {"新建子账号", "New staff account"},
		"op.perm.record": {"记录批次", "Record batches"}, "op.perm.sell": {"销售", "Sell"}, "op.perm.print": {"打印标识", "Print labels"},
		"op.roster":             {"监管名录", "Roster"},
		"op.roster.intro":       {"乡镇普查辖区内的生产经营主体，未注册的督促注册。", "Township census of operators; push unregistered ones to register."},
		"op.roster.add":         {"添加名录条目", "Add an entry"},
		"op.roster.added":       {"已加入名录", "Added to the roster"},
		"op.roster.import":      {"Excel 导入", "Import from Excel"},
		"op.roster.template":    {"下载模板", "Download the template"},
		"op.roster.importvalid": {"仅导入正确的行（有错误的行跳过）", "Import the valid rows only (skip rows with errors)"},
		"op.roster.imported":    {"导入完成", "Import finished"},
		"op.roster.report":      {"逐行检查结果", "Row-by-row report"},
		"op.roster.row":         {"行号", "Row"},
		"op.roster.nothing":     {"文件中有错误，未导入任何数据。请修改后重新上传，或勾选“仅导入正确的行”。", "The file has errors; nothing was imported. Fix it and upload again, or tick \"import the valid rows only\"."},
		"op.roster.registered":  {"已注册", "Registered"}, "op.roster.unregistered": {"未注册", "Not registered"},
		"op.roster.village":           {"村（社区）", "Village"},
		"op.roster.certified":         {"三品一标认证", "Certified (三品一标)"},
		"op.roster.suggest":           {"可能是", "Possible match"},
		"op.roster.confirm":           {"确认是同一主体", "Confirm match"},
		"op.roster.matched":           {"已确认匹配", "Match confirmed"},
		"op.roster.remind":            {"督促注册", "Remind"},
		"op.roster.reminded":          {"已记录督促", "Reminder recorded"},
		"op.roster.reminders":         {"督促次数", "Reminders"},
		"op.roster.match.credit_code": {"按信用代码匹配", "by credit code"}, "op.roster.match.id_number": {"按身份证匹配", "by ID number"}, "op.roster.match.confirmed": {"人工确认", "confirmed"},
		"op.channel.visit": {"上门", "Visit"}, "op.channel.phone": {"电话", "Phone"}, "op.channel.sms": {"短信", "SMS"}, "op.channel.notice": {"通知", "Notice"},
		"op.note":              {"备注", "Note"},
		"op.key":               {"重点", "Key"},
		"op.coverage":          {"注册覆盖率", "Registration coverage"},
		"op.coverage.intro":    {"覆盖率 = 已注册 ÷ 名录数。龙头企业、示范社和三品一标主体（重点主体）的目标为 100%。", "Coverage = registered ÷ rostered. The target for key operators (leading enterprises, demonstration cooperatives, certified producers) is 100 %."},
		"op.coverage.all":      {"全部主体", "All operators"},
		"op.coverage.key":      {"重点主体", "Key operators"},
		"op.coverage.rostered": {"名录数", "Rostered"}, "op.coverage.registered": {"已注册", "Registered"}, "op.coverage.rate": {"覆盖率", "Coverage"},
		"op.coverage.target":         {"目标 100%", "target 100 %"},
		"op.coverage.gap":            {"未达标", "below target"},
		"op.coverage.met":            {"已达标", "target met"},
		"op.coverage.sub":            {"下级地区", "Subdivisions"},
		"op.coverage.up":             {"上一级", "Up one level"},
		"op.agreements":              {"追溯协议", "Agreements"},
		"op.agreement":               {"追溯协议", "Agreement"},
		"op.agreement.issue":         {"签发追溯协议", "Issue an agreement"},
		"op.agreement.issued":        {"协议已签发，等待主体签署", "Agreement issued; waiting for the operator to sign"},
		"op.agreement.sign":          {"我已阅读并同意，签署协议", "I have read and agree: sign"},
		"op.agreement.signed":        {"协议已签署", "Agreement signed"},
		"op.agreement.unsigned":      {"未签署协议的主体", "Operators without a signed agreement"},
		"op.agreement.notissued":     {"尚未签发", "not issued yet"},
		"op.agreement.pdf":           {"下载 PDF", "Download PDF"},
		"op.agreement.number":        {"协议编号", "Number"},
		"op.agreement.version":       {"模板版本", "Template version"},
		"op.agreement.dept":          {"甲方", "County department"},
		"op.agreement.sm3":           {"文本 SM3 摘要", "SM3 digest of the text"},
		"op.agreement.sig":           {"SM2 签名", "SM2 signature"},
		"op.agreement.signedat":      {"签署时间", "Signed at"},
		"op.agreement.status.issued": {"待签署", "Awaiting signature"}, "op.agreement.status.signed": {"已签署", "Signed"},
		"op.my.none": {"您的账号未关联生产经营主体", "Your account is not linked to an operator"},
	})
}

func (s *Server) opOperatorPages() {
	s.mux.HandleFunc("GET /register", s.opRegisterForm)
	s.mux.HandleFunc("POST /register", s.opRegisterSubmit)
	s.mux.HandleFunc("GET /o/{code}", s.opOperatorPublic)
	s.mux.HandleFunc("GET /my/operator", s.requireLogin(s.opMyOperator))
	s.mux.HandleFunc("GET /my/staff", s.requireLogin(s.opMyStaff))
	s.mux.HandleFunc("GET /operators", s.requireLogin(s.opOperatorList))
	s.mux.HandleFunc("GET /operators/{id}", s.requireLogin(s.opOperatorView))
	s.mux.HandleFunc("GET /operators/{id}/edit", s.requireLogin(s.opOperatorEditForm))
	s.mux.HandleFunc("POST /operators/{id}/edit", s.requireLogin(s.opOperatorEditSubmit))
	s.mux.HandleFunc("GET /operators/{id}/change", s.requireLogin(s.opOperatorEditForm))
	s.mux.HandleFunc("POST /operators/{id}/change", s.requireLogin(s.opOperatorEditSubmit))
	s.mux.HandleFunc("POST /operators/{id}/documents", s.requireLogin(s.opOperatorUpload))
	s.mux.HandleFunc("POST /operators/{id}/submit", s.requireLogin(s.opOperatorAction))
	s.mux.HandleFunc("POST /operators/{id}/approve", s.requireLogin(s.opOperatorAction))
	s.mux.HandleFunc("POST /operators/{id}/reject", s.requireLogin(s.opOperatorAction))
	s.mux.HandleFunc("POST /operators/{id}/status", s.requireLogin(s.opOperatorAction))
	s.mux.HandleFunc("POST /operators/{id}/agreements", s.requireLogin(s.opOperatorAction))
	s.mux.HandleFunc("POST /changes/{id}/decide", s.requireLogin(s.opChangeDecide))
	s.mux.HandleFunc("GET /operators/{id}/staff", s.requireLogin(s.opStaffPage))
	s.mux.HandleFunc("POST /operators/{id}/staff", s.requireLogin(s.opStaffCreate))
	s.mux.HandleFunc("POST /operators/{id}/staff/{user}/status", s.requireLogin(s.opStaffStatus))
	s.mux.HandleFunc("GET /reviews", s.requireLogin(s.opReviewQueue))
	s.mux.HandleFunc("GET /roster", s.requireLogin(s.opRosterPage))
	s.mux.HandleFunc("POST /roster", s.requireLogin(s.opRosterAdd))
	s.mux.HandleFunc("POST /roster/import", s.requireLogin(s.opRosterImport))
	s.mux.HandleFunc("POST /roster/{id}/match", s.requireLogin(s.opRosterMatch))
	s.mux.HandleFunc("POST /roster/{id}/remind", s.requireLogin(s.opRosterRemind))
	s.mux.HandleFunc("GET /coverage", s.requireLogin(s.opCoveragePage))
	s.mux.HandleFunc("GET /agreements", s.requireLogin(s.opAgreementsPage))
	s.mux.HandleFunc("GET /agreements/{id}", s.requireLogin(s.opAgreementPage))
	s.mux.HandleFunc("POST /agreements/{id}/sign", s.requireLogin(s.opAgreementSign))
}

// opFormChoices are the option lists the operator forms need.
type opFormChoices struct {
	Kinds, Categories, Leading, CertKinds, DocKinds []string
	Prefix                                          string // field-name prefix of errors ("operator." on registration)
	Action                                          string
	Change                                          bool
	Operator                                        *operator.Operator
}

func opChoices(prefix, action string) opFormChoices {
	return opFormChoices{Kinds: operator.Kinds, Categories: operator.Categories, Leading: operator.LeadingLevels, CertKinds: operator.CertKinds,
		DocKinds: operator.DocumentKinds, Prefix: prefix, Action: action}
}

// opDetailsFromForm reads the operator details of a submitted form.
func opDetailsFromForm(f url.Values) operator.Details {
	d := operator.Details{Name: f.Get("name"), Kind: f.Get("kind"), Category: f.Get("category"), CreditCode: f.Get("credit_code"),
		IDNumber: f.Get("id_number"), LegalRep: f.Get("legal_rep"), ContactName: f.Get("contact_name"), Phone: f.Get("phone"),
		RegionCode: f.Get("region_code"), Address: f.Get("address"), Products: []string{f.Get("products")},
		AnnualOutputUnit: f.Get("annual_output_unit"), LeadingEnterprise: f.Get("leading_enterprise"), DemoCooperative: f.Get("demo_cooperative") != ""}
	if lat, err1 := strconv.ParseFloat(strings.TrimSpace(f.Get("lat")), 64); err1 == nil {
		if lng, err2 := strconv.ParseFloat(strings.TrimSpace(f.Get("lng")), 64); err2 == nil {
			d.Location = &operator.Location{Lat: lat, Lng: lng}
		}
	}
	if v, err := strconv.ParseFloat(strings.TrimSpace(f.Get("annual_output")), 64); err == nil {
		d.AnnualOutput = &v
	}
	kinds, nums, valid := f["cert_kind"], f["cert_number"], f["cert_valid"]
	for i := range kinds {
		if strings.TrimSpace(kinds[i]) == "" {
			continue
		}
		c := operator.Certification{Kind: kinds[i]}
		if i < len(nums) {
			c.Number = strings.TrimSpace(nums[i])
		}
		if i < len(valid) {
			c.ValidUntil = strings.TrimSpace(valid[i])
		}
		d.Certifications = append(d.Certifications, c)
	}
	return d
}

// opFormFromDetails fills a form with current details.
func opFormFromDetails(d operator.Details) url.Values {
	f := url.Values{"name": {d.Name}, "kind": {d.Kind}, "category": {d.Category}, "credit_code": {d.CreditCode}, "id_number": {d.IDNumber},
		"legal_rep": {d.LegalRep}, "contact_name": {d.ContactName}, "phone": {d.Phone}, "region_code": {d.RegionCode}, "address": {d.Address},
		"products": {strings.Join(d.Products, "、")}, "annual_output_unit": {d.AnnualOutputUnit}, "leading_enterprise": {d.LeadingEnterprise}}
	if d.Location != nil {
		f.Set("lat", strconv.FormatFloat(d.Location.Lat, 'f', -1, 64))
		f.Set("lng", strconv.FormatFloat(d.Location.Lng, 'f', -1, 64))
	}
	if d.AnnualOutput != nil {
		f.Set("annual_output", strconv.FormatFloat(*d.AnnualOutput, 'f', -1, 64))
	}
	if d.DemoCooperative {
		f.Set("demo_cooperative", "on")
	}
	for _, c := range d.Certifications {
		f.Add("cert_kind", c.Kind)
		f.Add("cert_number", c.Number)
		f.Add("cert_valid", c.ValidUntil)
	}
	return f
}

func (s *Server) opRegisterForm(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "op.register.title", opChoices("operator.", "/register"))
	s.render(w, r, "op_register", p)
}

func (s *Server) opRegisterSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, platform.BadRequest("表单无效", "invalid form"))
		return
	}
	f := r.PostForm
	in := operator.Registration{Username: f.Get("username"), Password: f.Get("password"), Phone: f.Get("phone"), Operator: opDetailsFromForm(f)}
	o, u, err := s.svc.Operators.Register(r.Context(), in)
	if err != nil {
		p := s.page(r, "op.register.title", opChoices("operator.", "/register"))
		st := formError(p, r, err)
		p.Form.Del("password")
		s.render(w, r, "op_register", p, st)
		return
	}
	sess, err := s.svc.Auth.Login(r.Context(), u.Username, in.Password, platform.OriginFrom(r.Context()).Addr, "browser")
	if err != nil {
		redirect(w, r, "/login?next="+url.QueryEscape(fmt.Sprintf("/operators/%d", o.ID)), "op.registered")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: httpx.SessionCookie, Value: sess.Token, Path: "/", HttpOnly: true,
		Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode, Expires: sess.ExpiresAt})
	redirect(w, r, fmt.Sprintf("/operators/%d", o.ID), "op.registered")
}

func (s *Server) opMyOperator(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	if a.OperatorID == 0 {
		s.fail(w, r, platform.NotFound("您的账号未关联生产经营主体", "your account is not linked to an operator"))
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/operators/%d", a.OperatorID), http.StatusSeeOther)
}

func (s *Server) opMyStaff(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	if a.OperatorID == 0 {
		s.fail(w, r, platform.NotFound("您的账号未关联生产经营主体", "your account is not linked to an operator"))
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/operators/%d/staff", a.OperatorID), http.StatusSeeOther)
}

func opPathInt(r *http.Request, name string) int64 {
	id, _ := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id
}

// opOperatorData is what the operator page shows.
type opOperatorData struct {
	Op          operator.Operator
	RegionName  string
	Documents   []operator.Document
	Decisions   []operator.Decision
	Changes     []operator.Change
	Agreements  []operator.Agreement
	Choices     opFormChoices
	Own         bool // the actor's own operator
	CanEdit     bool
	CanSubmit   bool
	CanReview   bool
	CanSuspend  bool
	CanIssue    bool
	CanStaff    bool
	CanChange   bool
	ShowDocs    bool
	Verified    map[int64]bool
	PendingDiff bool
}

func (s *Server) opOperatorView(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	ctx := r.Context()
	ops := s.svc.Operators
	o, err := ops.Get(ctx, a, opPathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res := auth.Resource{Region: o.RegionCode, OperatorID: o.ID}
	d := opOperatorData{Op: o, RegionName: s.regionName(r, o.RegionCode), Choices: opChoices("", ""), Own: a.OperatorID == o.ID, Verified: map[int64]bool{}}
	mainAccount := auth.Authorize(a, auth.ActOperatorEdit, res) == nil
	d.CanEdit = mainAccount && (o.Status == operator.StatusDraft || o.Status == operator.StatusRejected)
	d.CanSubmit = d.CanEdit
	d.CanChange = mainAccount && (o.Status == operator.StatusApproved || o.Status == operator.StatusSuspended)
	d.CanStaff = auth.Authorize(a, auth.ActStaffManage, res) == nil
	d.CanReview = auth.Authorize(a, auth.ActOperatorReview, res) == nil
	d.CanSuspend = auth.Authorize(a, auth.ActOperatorSuspend, res) == nil
	d.CanIssue = auth.Authorize(a, auth.ActAgreementIssue, res) == nil && o.Status == operator.StatusApproved
	if auth.Authorize(a, auth.ActDocumentRead, res) == nil {
		d.ShowDocs = true
		if d.Documents, err = ops.Documents(ctx, a, o.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if d.Decisions, err = ops.Decisions(ctx, a, o.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, dec := range d.Decisions {
		if dec.Signature != "" {
			d.Verified[dec.ID] = ops.VerifyDecision(dec)
		}
	}
	if d.Changes, err = ops.Changes(ctx, a, o.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, c := range d.Changes {
		d.PendingDiff = d.PendingDiff || c.Status == "pending"
	}
	if auth.Authorize(a, auth.ActAgreementRead, res) == nil {
		f := operator.AgreementFilter{OperatorID: o.ID, Region: o.RegionCode}
		if list, err := ops.Agreements(ctx, a, f); err == nil {
			d.Agreements = list
		}
		if d.CanIssue {
			if t, err := ops.TemplateFor(ctx, o.RegionCode); err == nil {
				for _, ag := range d.Agreements {
					if ag.Status == "issued" || ag.TemplateID == t.ID {
						d.CanIssue = false
					}
				}
			}
		}
	}
	s.render(w, r, "op_view", s.page(r, "op.page", &d))
}

func (s *Server) opOperatorEditForm(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	id := opPathInt(r, "id")
	o, err := s.svc.Operators.Get(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.svc.Operators.Editable(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ch := opChoices("", r.URL.Path)
	ch.Change = strings.HasSuffix(r.URL.Path, "/change")
	ch.Operator = &o
	title := "op.edit"
	if ch.Change {
		title = "op.change.request"
	}
	p := s.page(r, title, ch)
	p.Form = opFormFromDetails(d)
	s.render(w, r, "op_edit", p)
}

func (s *Server) opOperatorEditSubmit(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	a := httpx.Actor(r)
	id := opPathInt(r, "id")
	change := strings.HasSuffix(r.URL.Path, "/change")
	d := opDetailsFromForm(r.PostForm)
	var err error
	msg := "common.saved"
	if change {
		_, err = s.svc.Operators.RequestChange(r.Context(), a, id, d)
		msg = "op.change.sent"
	} else {
		_, err = s.svc.Operators.Update(r.Context(), a, id, d)
	}
	if err != nil {
		if httpx.StatusOf(err) == http.StatusNotFound || httpx.StatusOf(err) == http.StatusForbidden {
			s.fail(w, r, err)
			return
		}
		o, _ := s.svc.Operators.Get(r.Context(), a, id)
		ch := opChoices("", r.URL.Path)
		ch.Change, ch.Operator = change, &o
		title := "op.edit"
		if change {
			title = "op.change.request"
		}
		p := s.page(r, title, ch)
		st := formError(p, r, err)
		s.render(w, r, "op_edit", p, st)
		return
	}
	redirect(w, r, fmt.Sprintf("/operators/%d", id), msg)
}

func (s *Server) opOperatorUpload(w http.ResponseWriter, r *http.Request) {
	id := opPathInt(r, "id")
	if err := r.ParseMultipartForm(2 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.fail(w, r, operator.ErrDocumentTooLarge)
			return
		}
		s.fail(w, r, platform.BadRequest("请选择要上传的文件", "choose a file to upload"))
		return
	}
	defer r.MultipartForm.RemoveAll()
	f, hdr, err := r.FormFile("file")
	if err != nil {
		s.fail(w, r, platform.Invalid(platform.FieldError{Field: "file", Code: "required", ZH: "请选择文件", EN: "a file is required"}))
		return
	}
	defer f.Close()
	if _, err := s.svc.Operators.AddDocument(r.Context(), httpx.Actor(r), id, r.FormValue("kind"), hdr.Filename, f); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/operators/%d", id), "op.doc.uploaded")
}

// opOperatorAction handles the buttons of the operator page.
func (s *Server) opOperatorAction(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	a := httpx.Actor(r)
	id := opPathInt(r, "id")
	ctx := r.Context()
	ops := s.svc.Operators
	var err error
	msg := ""
	to := fmt.Sprintf("/operators/%d", id)
	switch path := r.URL.Path; {
	case strings.HasSuffix(path, "/submit"):
		_, err = ops.Submit(ctx, a, id)
		msg = "op.submitted"
	case strings.HasSuffix(path, "/approve"):
		_, err = ops.Approve(ctx, a, id)
		msg = "op.approved"
	case strings.HasSuffix(path, "/reject"):
		_, err = ops.Reject(ctx, a, id, r.PostForm.Get("reason"))
		msg = "op.rejected"
	case strings.HasSuffix(path, "/status"):
		_, err = ops.SetStatus(ctx, a, id, r.PostForm.Get("action"), r.PostForm.Get("reason"))
		msg = "op.statuschanged"
	case strings.HasSuffix(path, "/agreements"):
		var ag operator.Agreement
		ag, err = ops.IssueAgreement(ctx, a, id, 0)
		msg, to = "op.agreement.issued", fmt.Sprintf("/agreements/%d", ag.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.PostForm.Get("back") == "reviews" {
		to = "/reviews"
	}
	redirect(w, r, to, msg)
}

func (s *Server) opChangeDecide(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	o, err := s.svc.Operators.DecideChange(r.Context(), httpx.Actor(r), opPathInt(r, "id"), r.PostForm.Get("decision") == "approve", r.PostForm.Get("reason"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/operators/%d", o.ID), "op.change.decided")
}

// opPublicData is the public e-ID page.
type opPublicData struct {
	Op      operator.Public
	Code    string
	Invalid bool
}

func (s *Server) opOperatorPublic(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("code")
	if _, err := codes.ParseOperatorCode(raw); err != nil {
		p := s.page(r, "op.invalid", opPublicData{Code: raw, Invalid: true})
		var ce *codes.Error
		if errors.As(err, &ce) {
			p.Error = ce.ZH
			if p.Lang == "en" {
				p.Error = ce.EN
			}
		}
		s.render(w, r, "op_public", p, http.StatusUnprocessableEntity)
		return
	}
	ctx := r.Context()
	o, err := s.svc.Operators.ByCode(ctx, raw)
	if err != nil {
		p := s.page(r, "op.notfound", opPublicData{Code: raw})
		p.Error = p.T("op.notfound")
		s.render(w, r, "op_public", p, httpx.StatusOf(err))
		return
	}
	if a := httpx.Actor(r); a != nil {
		if _, err := s.svc.Operators.Get(ctx, a, o.ID); err == nil {
			http.Redirect(w, r, fmt.Sprintf("/operators/%d", o.ID), http.StatusSeeOther)
			return
		}
	}
	pub, err := s.svc.Operators.PublicByCode(ctx, raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "op_public", s.page(r, "op.public.title", opPublicData{Op: pub, Code: pub.Code}))
}

type opReviewData struct {
	Items []operator.QueueItem
}

func (s *Server) opReviewQueue(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.Operators.Queue(r.Context(), httpx.Actor(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "op_reviews", s.page(r, "op.reviews", opReviewData{Items: list}))
}

type opListData struct {
	Operators []operator.Operator
	Statuses  []string
	Kinds     []string
	Flags     []string
	Export    string
	CanExport bool
}

func (s *Server) opOperatorList(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	q := r.URL.Query()
	f := operator.ListFilter{Region: q.Get("region"), Status: q.Get("status"), Q: q.Get("q"), Kind: q.Get("kind"), Product: q.Get("product"), Flag: q.Get("flag"), Limit: 500}
	list, err := s.svc.Operators.List(r.Context(), a, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "op_list", s.page(r, "op.list", opListData{Operators: list, Statuses: operator.Statuses, Kinds: operator.Kinds,
		Flags: []string{"key", "leading", "demo", "certified"}, Export: "/api/v1/operators/export.xlsx?" + q.Encode(), CanExport: a.Can(auth.ActOperatorExport)}))
}

type opStaffData struct {
	Op    operator.Operator
	Staff []auth.User
	Perms []string
}

func (s *Server) opStaffData(r *http.Request) (*Page, error) {
	a := httpx.Actor(r)
	id := opPathInt(r, "id")
	o, err := s.svc.Operators.Get(r.Context(), a, id)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.Operators.Staff(r.Context(), a, id)
	if err != nil {
		return nil, err
	}
	return s.page(r, "op.staff", opStaffData{Op: o, Staff: list, Perms: auth.StaffPerms}), nil
}

func (s *Server) opStaffPage(w http.ResponseWriter, r *http.Request) {
	p, err := s.opStaffData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "op_staff", p)
}

func (s *Server) opStaffCreate(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	id := opPathInt(r, "id")
	_, err := s.svc.Operators.CreateStaff(r.Context(), httpx.Actor(r), id, operator.StaffInput{Username: f.Get("username"), Password: f.Get("password"),
		Name: f.Get("name"), Permissions: f["permissions"]})
	if err != nil {
		p, perr := s.opStaffData(r)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		st := formError(p, r, err)
		p.Form.Del("password")
		s.render(w, r, "op_staff", p, st)
		return
	}
	redirect(w, r, fmt.Sprintf("/operators/%d/staff", id), "common.saved")
}

func (s *Server) opStaffStatus(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id := opPathInt(r, "id")
	if err := s.svc.Operators.SetStaffStatus(r.Context(), httpx.Actor(r), id, opPathInt(r, "user"), r.PostForm.Get("status")); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/operators/%d/staff", id), "common.saved")
}

type opRosterData struct {
	Entries  []operator.RosterEntry
	Kinds    []string
	Leading  []string
	Channels []string
	Report   *operator.ImportReport
	CanWrite bool
	Failed   bool
}

func (s *Server) opRosterData(r *http.Request) (*Page, *opRosterData, error) {
	a := httpx.Actor(r)
	q := r.URL.Query()
	list, err := s.svc.Operators.Roster(r.Context(), a, operator.RosterFilter{Region: q.Get("region"), Registered: q.Get("registered"), Key: q.Get("key") != "", Q: q.Get("q")})
	if err != nil {
		return nil, nil, err
	}
	d := &opRosterData{Entries: list, Kinds: operator.Kinds, Leading: operator.LeadingLevels, Channels: operator.ReminderChannels, CanWrite: a.Can(auth.ActRosterWrite)}
	return s.page(r, "op.roster", d), d, nil
}

func (s *Server) opRosterPage(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.opRosterData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "op_roster", p)
}

func (s *Server) opRosterAdd(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	in := operator.RosterInput{RegionCode: f.Get("region_code"), Name: f.Get("name"), Kind: f.Get("kind"), CreditCode: f.Get("credit_code"),
		IDNumber: f.Get("id_number"), Village: f.Get("village"), Products: []string{f.Get("products")}, ContactName: f.Get("contact_name"),
		Phone: f.Get("phone"), LeadingEnterprise: f.Get("leading_enterprise"), DemoCooperative: f.Get("demo_cooperative") != "", Certified: f.Get("certified") != ""}
	if _, err := s.svc.Operators.AddRoster(r.Context(), httpx.Actor(r), in); err != nil {
		p, _, perr := s.opRosterData(r)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		st := formError(p, r, err)
		s.render(w, r, "op_roster", p, st)
		return
	}
	redirect(w, r, "/roster", "op.roster.added")
}

func (s *Server) opRosterImport(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(2 << 20); err != nil {
		s.fail(w, r, platform.BadRequest("请选择要上传的文件", "choose a file to upload"))
		return
	}
	defer r.MultipartForm.RemoveAll()
	file, _, err := r.FormFile("file")
	if err != nil {
		s.fail(w, r, platform.Invalid(platform.FieldError{Field: "file", Code: "required", ZH: "请选择文件", EN: "a file is required"}))
		return
	}
	defer file.Close()
	rep, ierr := s.svc.Operators.ImportRoster(r.Context(), httpx.Actor(r), file, r.FormValue("import_valid") != "")
	p, d, err := s.opRosterData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if ierr != nil {
		var pe *platform.Error
		if !errors.As(ierr, &pe) || (pe.Kind != platform.KindInvalid) || len(rep.Rows) == 0 {
			s.fail(w, r, ierr)
			return
		}
		d.Failed = true
		p.Error = p.T("op.roster.nothing")
		status = http.StatusUnprocessableEntity
	} else {
		p.Flash = p.T("op.roster.imported")
	}
	d.Report = &rep
	s.render(w, r, "op_roster", p, status)
}

func (s *Server) opRosterMatch(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	opID, _ := strconv.ParseInt(r.PostForm.Get("operator_id"), 10, 64)
	if _, err := s.svc.Operators.ConfirmMatch(r.Context(), httpx.Actor(r), opPathInt(r, "id"), opID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/roster", "op.roster.matched")
}

func (s *Server) opRosterRemind(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if _, err := s.svc.Operators.Remind(r.Context(), httpx.Actor(r), opPathInt(r, "id"), r.PostForm.Get("channel"), r.PostForm.Get("note")); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/roster?registered=no", "op.roster.reminded")
}

type opCoverageData struct {
	C      operator.Coverage
	Parent string
}

func (s *Server) opCoveragePage(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	c, err := s.svc.Operators.Coverage(r.Context(), a, r.URL.Query().Get("region"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := opCoverageData{C: c}
	if c.Region != a.Region && c.Region != "000000" {
		if reg, err := s.svc.Regions.Get(r.Context(), c.Region); err == nil && reg.ParentCode != "" && auth.Within(reg.ParentCode, a.Region) {
			d.Parent = reg.ParentCode
		}
	}
	s.render(w, r, "op_coverage", s.page(r, "op.coverage", d))
}

type opAgreementsData struct {
	Agreements []operator.Agreement
	Unsigned   []operator.UnsignedItem
	Official   bool
}

func (s *Server) opAgreementsPage(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	list, err := s.svc.Operators.Agreements(r.Context(), a, operator.AgreementFilter{Status: r.URL.Query().Get("status")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := opAgreementsData{Agreements: list, Official: a.OperatorID == 0}
	if d.Official {
		if d.Unsigned, err = s.svc.Operators.Unsigned(r.Context(), a, ""); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, "op_agreements", s.page(r, "op.agreements", d))
}

type opAgreementData struct {
	A        operator.Agreement
	Paras    []string
	CanSign  bool
	Verified bool
}

func (s *Server) opAgreementPage(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	ag, err := s.svc.Operators.GetAgreement(r.Context(), a, opPathInt(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := opAgreementData{A: ag, Paras: strings.Split(ag.Body, "\n"), Verified: s.svc.Operators.VerifyAgreement(ag),
		CanSign: ag.Status == "issued" && auth.Authorize(a, auth.ActAgreementSign, auth.Resource{Region: ag.RegionCode, OperatorID: ag.OperatorID}) == nil}
	s.render(w, r, "op_agreement", s.page(r, "op.agreement", d))
}

func (s *Server) opAgreementSign(w http.ResponseWriter, r *http.Request) {
	id := opPathInt(r, "id")
	if _, err := s.svc.Operators.SignAgreement(r.Context(), httpx.Actor(r), id); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/agreements/%d", id), "op.agreement.signed")
}

func init() {
	funcs["opNth"] = func(v url.Values, key string, i int) string {
		if v == nil || i >= len(v[key]) {
			return ""
		}
		return v[key][i]
	}
	funcs["opSeq"] = func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	funcs["opPct"] = func(rate float64) int { return int(rate*100 + 0.5) }
}
