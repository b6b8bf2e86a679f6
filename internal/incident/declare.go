package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/region"
	"agtrace/internal/trace"
)

// DeclareInput is an incident as an official declares it.
type DeclareInput struct {
	Source      Source   `json:"source,omitempty" doc:"what it is declared from (default: by hand)"`
	Title       string   `json:"title,omitempty" doc:"one line, ≤ 100 characters (required when declared by hand; a source gives a default)"`
	Description string   `json:"description,omitempty" doc:"what happened and what is known (≤ 4000 characters)"`
	Region      string   `json:"region,omitempty" doc:"the jurisdiction it belongs to, in yours (default: the source's county, else your jurisdiction)"`
	ProductCode string   `json:"product_code,omitempty" doc:"a catalogue product (default: the first source batch's)"`
	BatchCodes  []string `json:"batch_codes,omitempty" doc:"source batch codes (any code type or alias, ≤ 50) besides the source's own; the walk downstream starts from them"`
}

// declarePlan is a checked declaration, ready to write.
type declarePlan struct {
	in      DeclareInput
	roots   []string
	region  string
	product string
}

var (
	regionCode       = regexp.MustCompile(`^[0-9]{6}([0-9]{3})?$`)
	control          = regexp.MustCompile(`[\x00-\x1f\x7f]`)
	errRegionOutside = platform.NotFound("该地区不在您的管辖范围内", "the region is outside your jurisdiction")
)

// Declare records an incident: its affected batches are walked downstream
// from the source batches in the same transaction, the event goes to the
// audit log and the outbox with it. A second incident from the same recall,
// warning or complaint is 409.
func (s *Service) Declare(ctx context.Context, actor *auth.Actor, in DeclareInput) (Incident, error) {
	p, err := s.prepareDeclare(ctx, actor, in)
	if err != nil {
		return Incident{}, err
	}
	var id int64
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		var err error
		id, err = s.declareTx(ctx, tx, actor, p)
		return err
	})
	if platform.IsUniqueViolation(err) {
		return Incident{}, platform.Conflict("已根据该来源启动过应急事件", "an incident was already declared from this source")
	}
	if err != nil {
		return Incident{}, err
	}
	return s.Get(ctx, actor, id)
}

// prepareDeclare checks a declaration field by field and resolves its
// source, region, product and source batches; nothing is written.
func (s *Service) prepareDeclare(ctx context.Context, actor *auth.Actor, in DeclareInput) (declarePlan, error) {
	if err := auth.Authorize(actor, auth.ActIncidentManage, auth.Resource{}); err != nil {
		return declarePlan{}, err
	}
	in.Title, in.Region, in.ProductCode = strings.TrimSpace(in.Title), strings.TrimSpace(in.Region), strings.TrimSpace(in.ProductCode)
	in.Description = strings.TrimSpace(strings.ReplaceAll(in.Description, "\r\n", "\n"))
	if in.Source.Kind == "" {
		in.Source.Kind = SourceManual
	}
	p := declarePlan{}
	var v platform.Validator
	src := sourceFacts{}
	if v.OneOf("source.kind", string(in.Source.Kind), names(SourceKinds)...) {
		var err error
		if src, err = s.source(ctx, actor, in.Source, &v); err != nil {
			return declarePlan{}, err
		}
	}
	if in.Title == "" {
		in.Title = src.title
	}
	if v.Require("title", in.Title) && v.MaxLen("title", in.Title, maxTitle) {
		v.Check(!control.MatchString(in.Title), "title", "format", "标题只能有一行", "the title must be one line")
	}
	if in.Description == "" {
		in.Description = src.description
	}
	v.MaxLen("description", in.Description, maxDescription)
	p.roots = s.rootCodes(ctx, actor, in.BatchCodes, src.roots, &v)
	if in.ProductCode != "" {
		if _, err := s.trace.Product(ctx, in.ProductCode); err != nil {
			v.Add("product_code", "unknown", "产品目录中没有该产品", "no such product in the catalogue")
		}
	}
	region, err := s.declareRegion(ctx, actor, in.Region, src.region, &v)
	if err != nil {
		return declarePlan{}, err
	}
	if err := v.Err(); err != nil {
		return declarePlan{}, err
	}
	p.in, p.region, p.product = in, region, in.ProductCode
	return p, nil
}

// declareRegion is the region an incident belongs to: the one given, else
// the source's county, else the actor's jurisdiction. One outside the
// actor's jurisdiction is 404, as everywhere.
func (s *Service) declareRegion(ctx context.Context, actor *auth.Actor, given, fromSource string, v *platform.Validator) (string, error) {
	r := given
	if r == "" {
		r = fromSource
	}
	if r == "" {
		r = actor.Region
	}
	if given != "" && !v.Check(regionCode.MatchString(given), "region", "format", "地区代码应为 6 位或 9 位数字", "region must be a 6- or 9-digit code") {
		return "", nil
	}
	if r == "" || r == "000000" {
		v.Add("region", "required", "请选择事件所属地区", "choose the region the incident belongs to")
		return "", nil
	}
	if _, err := s.regions.Get(ctx, r); err != nil {
		if platform.IsNotFound(err) {
			v.Add("region", "unknown", "行政区划代码不存在", "unknown region code")
			return "", nil
		}
		return "", err
	}
	if auth.Authorize(actor, auth.ActIncidentManage, auth.Resource{Region: r}) != nil {
		return "", errRegionOutside
	}
	return r, nil
}

// rootCodes resolves the typed batch codes (each must be a batch the actor
// may read) and adds the source's own; at least one is needed.
func (s *Service) rootCodes(ctx context.Context, actor *auth.Actor, typed, fromSource []string, v *platform.Validator) []string {
	seen := map[string]bool{}
	var out []string
	add := func(c string) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, c := range fromSource {
		add(c)
	}
	if len(typed) > maxRoots {
		v.Add("batch_codes", "too_many", fmt.Sprintf("最多 %d 个批次追溯码", maxRoots), fmt.Sprintf("at most %d batch codes", maxRoots))
		return nil
	}
	for i, raw := range typed {
		field := "batch_codes[" + strconv.Itoa(i) + "]"
		if strings.TrimSpace(raw) == "" {
			continue
		}
		code, err := s.trace.Resolve(ctx, raw)
		if err != nil {
			v.Add(field, "format", "追溯码无效："+messageOf(err, true), "invalid trace code: "+messageOf(err, false))
			continue
		}
		if _, err := s.trace.GetBatch(ctx, actor, code); err != nil {
			v.Add(field, "unknown", "未找到该批次，或不在您的管辖范围内", "no such batch in your jurisdiction")
			continue
		}
		add(code)
	}
	if len(out) == 0 && len(v.Fields()) == 0 {
		v.Add("batch_codes", "required", "请至少填写一个批次追溯码（或选择带有批次的来源）", "give at least one batch code (or a source with a batch)")
	}
	return out
}

// messageOf is an error's message in one language (its first field's, if any).
func messageOf(err error, zh bool) string {
	var e *platform.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	if len(e.Fields) > 0 {
		if zh {
			return e.Fields[0].ZH
		}
		return e.Fields[0].EN
	}
	if zh {
		return e.ZH
	}
	return e.EN
}

// sourceFacts is what a source gives a declaration.
type sourceFacts struct {
	roots              []string
	region             string // the source's county
	title, description string
	ref                string // the source in words (a recall number, a ticket)
}

// source checks the declared source against its table (a recall or a
// complaint in the actor's jurisdiction; a warning when the platform has
// warnings) and returns what it gives. A problem is a field error on v.
func (s *Service) source(ctx context.Context, actor *auth.Actor, src Source, v *platform.Validator) (sourceFacts, error) {
	if src.Kind == SourceManual {
		v.Check(src.ID == 0, "source.id", "not_allowed", "手工启动的事件没有来源编号", "an incident declared by hand has no source id")
		return sourceFacts{}, nil
	}
	if !v.Check(src.ID > 0, "source.id", "required", "请填写来源编号", "give the source's id") {
		return sourceFacts{}, nil
	}
	var f sourceFacts
	var found bool
	var err error
	switch src.Kind {
	case SourceRecall:
		f, found, err = s.recallSource(ctx, actor, src.ID)
	case SourceComplaint:
		f, found, err = s.complaintSource(ctx, actor, src.ID)
	case SourceWarning:
		f, found, err = s.warningSource(ctx, src.ID)
	}
	if err != nil {
		return sourceFacts{}, err
	}
	v.Check(found, "source.id", "unknown", "未找到该来源，或不在您的管辖范围内", "no such source in your jurisdiction")
	return f, nil
}

// recallSource is a recall that holds batches in the actor's jurisdiction
// (or was opened there): its sampled batch is the source batch.
func (s *Service) recallSource(ctx context.Context, actor *auth.Actor, id int64) (sourceFacts, bool, error) {
	var number, root, reg, reason string
	err := s.db.QueryRow(ctx, `SELECT number, root_code, region_code, reason FROM recalls WHERE id = $1`, id).Scan(&number, &root, &reg, &reason)
	if errors.Is(err, sql.ErrNoRows) {
		return sourceFacts{}, false, nil
	}
	if err != nil {
		return sourceFacts{}, false, err
	}
	rows, err := s.db.Query(ctx, `SELECT DISTINCT region_code FROM recall_batches WHERE recall_id = $1`, id)
	regions, err := platform.Collect(rows, err, platform.Scalar[string])
	if err != nil {
		return sourceFacts{}, false, err
	}
	county := ""
	for _, r := range append([]string{reg}, regions...) {
		if auth.Authorize(actor, auth.ActIncidentManage, auth.Resource{Region: r}) == nil {
			county = region.CountyOf(r)
			break
		}
	}
	if county == "" {
		return sourceFacts{}, false, nil
	}
	return sourceFacts{roots: []string{root}, region: county, ref: number, title: "召回 " + number + " 应急处置", description: reason}, true, nil
}

// complaintSource is a complaint routed to the actor's jurisdiction: the
// code it concerns, if any, is a source batch.
func (s *Service) complaintSource(ctx context.Context, actor *auth.Actor, id int64) (sourceFacts, bool, error) {
	var ticket, code, reg, desc string
	err := s.db.QueryRow(ctx, `SELECT ticket, code, region_code, description FROM complaints WHERE id = $1`, id).Scan(&ticket, &code, &reg, &desc)
	if errors.Is(err, sql.ErrNoRows) {
		return sourceFacts{}, false, nil
	}
	if err != nil {
		return sourceFacts{}, false, err
	}
	if auth.Authorize(actor, auth.ActIncidentManage, auth.Resource{Region: reg}) != nil {
		return sourceFacts{}, false, nil
	}
	f := sourceFacts{region: region.CountyOf(reg), ref: ticket, title: "举报 " + ticket + " 应急处置", description: desc}
	if code != "" {
		f.roots = []string{code}
	}
	return f, true, nil
}

// warningSource is an early warning, when the platform keeps them (table
// warnings, issue 14 item 3): only its id is checked and stored.
func (s *Service) warningSource(ctx context.Context, id int64) (sourceFacts, bool, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'warnings'`
	if s.db.Dialect() == platform.Postgres {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'warnings'`
	}
	var n int
	if err := s.db.QueryRow(ctx, q).Scan(&n); err != nil || n == 0 {
		return sourceFacts{}, false, err
	}
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM warnings WHERE id = $1`, id).Scan(&n); err != nil || n == 0 {
		return sourceFacts{}, false, err
	}
	ref := "#" + strconv.FormatInt(id, 10)
	return sourceFacts{ref: ref, title: "预警 " + ref + " 应急处置"}, true, nil
}

// declareTx writes the incident and its affected batches.
func (s *Service) declareTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, p declarePlan) (int64, error) {
	batches, err := walk(ctx, tx, p.roots)
	if err != nil {
		return 0, err
	}
	if len(batches) == 0 {
		return 0, platform.Invalid(platform.FieldError{Field: "batch_codes", Code: "unknown", ZH: "未找到来源批次", EN: "the source batches were not found"})
	}
	if len(batches) > MaxBatches {
		return 0, platform.Invalid(platform.FieldError{Field: "batch_codes", Code: "too_many",
			ZH: fmt.Sprintf("受影响批次超过 %d 个，请分别启动", MaxBatches), EN: fmt.Sprintf("more than %d affected batches: declare several incidents", MaxBatches)})
	}
	product := p.product
	if product == "" {
		product = batches[0].ProductCode
	}
	year := platform.Today(tx.Now())[:4]
	n, err := tx.NextSerial(ctx, "incident:"+year)
	if err != nil {
		return 0, err
	}
	number := fmt.Sprintf("YJ-%s-%05d", year, n)
	var id int64
	var sourceID sql.NullInt64
	if p.in.Source.Kind != SourceManual {
		sourceID = sql.NullInt64{Int64: p.in.Source.ID, Valid: true}
	}
	if err := tx.QueryRow(ctx, `INSERT INTO incidents (number, title, description, source_kind, source_id, region_code, product_code, status,
		declared_by, declared_name, declared_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		number, p.in.Title, p.in.Description, string(p.in.Source.Kind), sourceID, p.region, product, string(StatusOpen),
		platform.NullInt(actor.UserID), actor.Name, tx.Now()).Scan(&id); err != nil {
		return 0, err
	}
	if _, err := insertBatches(ctx, tx, id, batches); err != nil {
		return 0, err
	}
	data := map[string]any{"number": number, "title": p.in.Title, "source_kind": string(p.in.Source.Kind), "batches": len(batches), "regions": counties(batches)}
	if sourceID.Valid {
		data["source_id"] = sourceID.Int64
	}
	return id, tx.Emit(ctx, platform.Event{Action: "incident.declare", ResourceType: "incident", ResourceID: strconv.FormatInt(id, 10), Data: data})
}

// walk lists the roots and every batch made or sold from them (the trace
// graph's downstream walk, trace.DownstreamTx), each once at its smallest
// depth, by depth then code.
func walk(ctx context.Context, q platform.Querier, roots []string) ([]trace.ScopeBatch, error) {
	byCode := map[string]trace.ScopeBatch{}
	for _, r := range roots {
		list, err := trace.DownstreamTx(ctx, q, r)
		if err != nil {
			return nil, err
		}
		for _, b := range list {
			if old, ok := byCode[b.Code]; !ok || b.Depth < old.Depth {
				byCode[b.Code] = b
			}
		}
	}
	out := make([]trace.ScopeBatch, 0, len(byCode))
	for _, b := range byCode {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Depth != out[j].Depth {
			return out[i].Depth < out[j].Depth
		}
		return out[i].Code < out[j].Code
	})
	return out, nil
}

// insertBatches records the batches not yet in the incident (unresolved)
// and returns those it added.
func insertBatches(ctx context.Context, tx *platform.Tx, id int64, batches []trace.ScopeBatch) ([]string, error) {
	var added []string
	for _, b := range batches {
		res, err := tx.Exec(ctx, `INSERT INTO incident_batches (incident_id, code, depth, operator_id, region_code, quantity_milli, stock_milli, state)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (incident_id, code) DO NOTHING`,
			id, b.Code, b.Depth, b.OperatorID, b.RegionCode, b.QuantityMilli, b.StockMilli, string(StateUnresolved))
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			added = append(added, b.Code)
		}
	}
	return added, nil
}

// counties are the counties holding the batches, sorted.
func counties(batches []trace.ScopeBatch) []string {
	seen := map[string]bool{}
	var out []string
	for _, b := range batches {
		c := region.CountyOf(b.RegionCode)
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}
