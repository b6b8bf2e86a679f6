package operator

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/platform"
	"agtrace/internal/region"
)

// A roster entry counts as registered when it is matched to an operator
// whose registration was approved (approved or suspended; not draft,
// pending, rejected or cancelled).
const registeredStatuses = `('approved', 'suspended')`

// RosterInput is one census entry (监管名录) recorded by a township.
type RosterInput struct {
	RegionCode        string   `json:"region_code" doc:"township (or county) code; defaults to the township user's own"`
	Name              string   `json:"name" validate:"required"`
	Kind              string   `json:"kind" doc:"enterprise | cooperative | family_farm | slaughterhouse | individual"`
	CreditCode        string   `json:"credit_code"`
	IDNumber          string   `json:"id_number"`
	Village           string   `json:"village"`
	Products          []string `json:"products"`
	ContactName       string   `json:"contact_name"`
	Phone             string   `json:"phone"`
	LeadingEnterprise string   `json:"leading_enterprise" doc:"national | provincial | municipal | empty"`
	DemoCooperative   bool     `json:"demo_cooperative"`
	Certified         bool     `json:"certified" doc:"三品一标 certified producer"`
}

// RosterEntry is a census entry with its registration state.
type RosterEntry struct {
	ID                int64        `json:"id"`
	RegionCode        string       `json:"region_code"`
	CountyCode        string       `json:"county_code"`
	Name              string       `json:"name"`
	Kind              string       `json:"kind"`
	CreditCode        string       `json:"credit_code,omitempty"`
	IDNumberMasked    string       `json:"id_number_masked,omitempty"`
	Village           string       `json:"village,omitempty"`
	Products          []string     `json:"products"`
	ContactName       string       `json:"contact_name,omitempty"`
	PhoneMasked       string       `json:"phone_masked,omitempty"`
	LeadingEnterprise string       `json:"leading_enterprise,omitempty"`
	DemoCooperative   bool         `json:"demo_cooperative"`
	Certified         bool         `json:"certified"`
	Key               bool         `json:"key" doc:"leading enterprise, demonstration cooperative or certified"`
	OperatorID        int64        `json:"operator_id,omitempty"`
	OperatorName      string       `json:"operator_name,omitempty"`
	OperatorStatus    string       `json:"operator_status,omitempty"`
	MatchMethod       string       `json:"match_method,omitempty" doc:"credit_code | id_number | confirmed"`
	Registered        bool         `json:"registered"`
	Suggestions       []Suggestion `json:"suggestions,omitempty" doc:"operators with the same name in the same township, to be confirmed by a person"`
	Reminders         int          `json:"reminders"`
	LastReminder      *time.Time   `json:"last_reminder,omitempty"`
	CreatedAt         time.Time    `json:"created_at"`
}

// Suggestion is a possible registration for an unmatched roster entry.
type Suggestion struct {
	OperatorID int64  `json:"operator_id"`
	Name       string `json:"name"`
	Code       string `json:"operator_code,omitempty"`
	RegionCode string `json:"region_code"`
	Status     string `json:"status"`
}

var kindAliases = map[string]string{
	"企业": "enterprise", "公司": "enterprise", "合作社": "cooperative", "农民专业合作社": "cooperative", "专业合作社": "cooperative",
	"家庭农场": "family_farm", "屠宰厂": "slaughterhouse", "屠宰场": "slaughterhouse", "屠宰厂（场）": "slaughterhouse", "个人": "individual", "个体": "individual", "农户": "individual",
}

var leadingAliases = map[string]string{"国家级": "national", "国家": "national", "省级": "provincial", "省": "provincial", "市级": "municipal", "市": "municipal", "无": "", "否": ""}

func (in *RosterInput) normalize(actor *auth.Actor) {
	in.RegionCode = strings.TrimSpace(in.RegionCode)
	if in.RegionCode == "" && actor != nil {
		in.RegionCode = actor.Region
	}
	in.Name = strings.TrimSpace(in.Name)
	in.Kind = strings.TrimSpace(in.Kind)
	if k, ok := kindAliases[in.Kind]; ok {
		in.Kind = k
	}
	in.CreditCode = codes.NormalizeUSCC(in.CreditCode)
	in.IDNumber = codes.NormalizeResidentID(in.IDNumber)
	in.Village = strings.TrimSpace(in.Village)
	in.ContactName = strings.TrimSpace(in.ContactName)
	in.Phone = strings.TrimSpace(in.Phone)
	in.LeadingEnterprise = strings.TrimSpace(in.LeadingEnterprise)
	if l, ok := leadingAliases[in.LeadingEnterprise]; ok {
		in.LeadingEnterprise = l
	}
	var prods []string
	for _, p := range in.Products {
		prods = append(prods, splitList(p)...)
	}
	if prods == nil {
		prods = []string{}
	}
	in.Products = prods
	if in.Kind == "" && in.CreditCode != "" {
		in.Kind = codes.USCCSuggestedKind(in.CreditCode)
	}
}

func (s *Service) validateRoster(ctx context.Context, v *platform.Validator, in *RosterInput) {
	if v.Require("region_code", in.RegionCode) {
		r, err := s.regions.Get(ctx, in.RegionCode)
		switch {
		case err != nil:
			v.Add("region_code", "unknown", "行政区划代码不存在", "unknown region code")
		case r.Level != region.LevelName[region.LevelCounty] && r.Level != region.LevelName[region.LevelTownship]:
			v.Add("region_code", "level", "请填写乡镇（街道）或县（市、区）代码", "must be a township or county code")
		}
	}
	if v.Require("name", in.Name) {
		v.MaxLen("name", in.Name, 100)
	}
	if v.Require("kind", in.Kind) {
		v.OneOf("kind", in.Kind, Kinds...)
	}
	if in.CreditCode != "" {
		if err := codes.ValidateUSCC(in.CreditCode); err != nil {
			addCodeErr(v, "credit_code", err)
		}
	}
	if in.IDNumber != "" {
		if err := codes.ValidateResidentID(in.IDNumber, s.clock.Now().In(platform.ChinaTZ)); err != nil {
			addCodeErr(v, "id_number", err)
		}
	}
	if in.Phone != "" {
		n := NormalizePhone(in.Phone)
		v.Check(len(n) >= 7 && len(n) <= 15, "phone", "format", "电话号码格式不正确", "phone number must have 7–15 digits")
	}
	v.MaxLen("village", in.Village, 100)
	v.MaxLen("contact_name", in.ContactName, 50)
	if in.LeadingEnterprise != "" {
		v.OneOf("leading_enterprise", in.LeadingEnterprise, LeadingLevels...)
	}
	for _, p := range in.Products {
		if !v.MaxLen("products", p, 50) {
			break
		}
	}
}

// insertRoster writes one validated entry, matching it automatically by
// credit code or (for individuals) ID number.
func (s *Service) insertRoster(ctx context.Context, tx *platform.Tx, actor *auth.Actor, in RosterInput) (int64, error) {
	idn, err := s.sealIDNumberAs(ctx, in.IDNumber, "roster_entries.id_number")
	if err != nil {
		return 0, err
	}
	ph, err := s.sealPhoneAs(ctx, in.Phone, "roster_entries.phone")
	if err != nil {
		return 0, err
	}
	if in.CreditCode != "" {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM roster_entries WHERE credit_code = $1`, in.CreditCode).Scan(&n); err != nil {
			return 0, err
		}
		if n > 0 {
			return 0, platform.Conflict("该统一社会信用代码已在名录中", "an entry with this credit code is already in the roster").With("field", "credit_code")
		}
	} else if idn.Hash != "" {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM roster_entries WHERE id_number_hash = $1 AND credit_code = ''`, idn.Hash).Scan(&n); err != nil {
			return 0, err
		}
		if n > 0 {
			return 0, platform.Conflict("该身份证号码已在名录中", "an entry with this ID number is already in the roster").With("field", "id_number")
		}
	}
	var opID sql.NullInt64
	method := ""
	if in.CreditCode != "" {
		err = tx.QueryRow(ctx, `SELECT id FROM operators WHERE credit_code = $1`, in.CreditCode).Scan(&opID)
		method = "credit_code"
	} else if idn.Hash != "" {
		err = tx.QueryRow(ctx, `SELECT id FROM operators WHERE id_number_hash = $1 AND kind = 'individual' AND category <> 'temporary' ORDER BY id LIMIT 1`, idn.Hash).Scan(&opID)
		method = "id_number"
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	if !opID.Valid {
		method = ""
	}
	now := tx.Now()
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO roster_entries (region_code, county_code, name, kind, credit_code, id_number_enc, id_number_hash, id_number_masked,
		village, products, contact_name, phone_enc, phone_masked, leading_enterprise, demo_cooperative, certified, operator_id, match_method,
		created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20) RETURNING id`,
		in.RegionCode, region.CountyOf(in.RegionCode), in.Name, in.Kind, in.CreditCode, idn.Enc, idn.Hash, idn.Masked,
		in.Village, jsonText(in.Products), in.ContactName, ph.Enc, ph.Masked, platform.NullString(in.LeadingEnterprise),
		in.DemoCooperative, in.Certified, opID, method, platform.NullInt(actorID(actor)), now).Scan(&id)
	if err != nil {
		return 0, err
	}
	return id, tx.Emit(ctx, platform.Event{Action: "roster.add", ResourceType: "roster_entry", ResourceID: fmt.Sprint(id),
		Data: map[string]any{"region_code": in.RegionCode, "name": in.Name, "matched_operator_id": opID.Int64}})
}

func actorID(a *auth.Actor) int64 {
	if a == nil {
		return 0
	}
	return a.UserID
}

// AddRoster records one census entry (township users, in their jurisdiction).
func (s *Service) AddRoster(ctx context.Context, actor *auth.Actor, in RosterInput) (RosterEntry, error) {
	in.normalize(actor)
	if err := auth.Authorize(actor, auth.ActRosterWrite, auth.Resource{Region: in.RegionCode}); err != nil {
		return RosterEntry{}, err
	}
	var v platform.Validator
	s.validateRoster(ctx, &v, &in)
	if err := v.Err(); err != nil {
		return RosterEntry{}, err
	}
	var id int64
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		var err error
		id, err = s.insertRoster(ctx, tx, actor, in)
		return err
	})
	if err != nil {
		return RosterEntry{}, err
	}
	return s.rosterEntry(ctx, id)
}

const rosterColumns = `e.id, e.region_code, e.county_code, e.name, e.kind, e.credit_code, e.id_number_masked, e.village, e.products,
	e.contact_name, e.phone_masked, COALESCE(e.leading_enterprise, ''), e.demo_cooperative, e.certified, COALESCE(e.operator_id, 0),
	COALESCE(o.name, ''), COALESCE(o.status, ''), e.match_method, e.created_at,
	(SELECT COUNT(*) FROM roster_reminders r WHERE r.entry_id = e.id)`

func scanRoster(row scanner) (RosterEntry, error) {
	var e RosterEntry
	var products string
	if err := row.Scan(&e.ID, &e.RegionCode, &e.CountyCode, &e.Name, &e.Kind, &e.CreditCode, &e.IDNumberMasked, &e.Village, &products,
		&e.ContactName, &e.PhoneMasked, &e.LeadingEnterprise, &e.DemoCooperative, &e.Certified, &e.OperatorID,
		&e.OperatorName, &e.OperatorStatus, &e.MatchMethod, &e.CreatedAt, &e.Reminders); err != nil {
		return RosterEntry{}, err
	}
	_ = json.Unmarshal([]byte(products), &e.Products)
	if e.Products == nil {
		e.Products = []string{}
	}
	e.Key = e.LeadingEnterprise != "" || e.DemoCooperative || e.Certified
	e.Registered = e.OperatorStatus == StatusApproved || e.OperatorStatus == StatusSuspended
	return e, nil
}

func (s *Service) rosterEntry(ctx context.Context, id int64) (RosterEntry, error) {
	e, err := scanRoster(s.db.QueryRow(ctx, `SELECT `+rosterColumns+` FROM roster_entries e LEFT JOIN operators o ON o.id = e.operator_id WHERE e.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return RosterEntry{}, platform.NotFound("名录条目不存在", "roster entry not found")
	}
	return e, err
}

// RosterFilter narrows Roster.
type RosterFilter struct {
	Region     string // subtree; default the actor's region
	Registered string // "" all | "yes" | "no"
	Key        bool   // key operators only
	Q          string // name contains
	Limit      int
}

// Roster lists census entries in the actor's jurisdiction; unmatched
// entries carry name suggestions (same name, same township or county).
func (s *Service) Roster(ctx context.Context, actor *auth.Actor, f RosterFilter) ([]RosterEntry, error) {
	if f.Region == "" && actor != nil {
		f.Region = actor.Region
	}
	if err := auth.Authorize(actor, auth.ActRosterRead, auth.Resource{Region: f.Region}); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 2000 {
		f.Limit = 500
	}
	w := auth.NewWhere()
	w.Scope(auth.ListScope(actor, auth.ActRosterRead), auth.Columns{Region: []string{"e.region_code"}})
	w.Region("e.region_code", f.Region)
	if like := likePattern(f.Q); like != "" {
		w.Add("e.name LIKE " + w.Arg(like))
	}
	switch f.Registered {
	case "yes":
		w.Add(`o.status IN ` + registeredStatuses)
	case "no":
		w.Add(`(o.status IS NULL OR o.status NOT IN ` + registeredStatuses + `)`)
	}
	if f.Key {
		w.Add(`(e.leading_enterprise IS NOT NULL OR e.demo_cooperative OR e.certified)`)
	}
	q := `SELECT ` + rosterColumns + ` FROM roster_entries e LEFT JOIN operators o ON o.id = e.operator_id` + w.SQL() +
		` ORDER BY e.region_code, e.id LIMIT ` + w.Arg(f.Limit)
	rows, err := s.db.Query(ctx, q, w.Args()...)
	if err != nil {
		return nil, err
	}
	out := []RosterEntry{}
	for rows.Next() {
		e, err := scanRoster(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].OperatorID != 0 {
			continue
		}
		sug, err := s.suggest(ctx, out[i])
		if err != nil {
			return nil, err
		}
		out[i].Suggestions = sug
	}
	return out, nil
}

// suggest finds operators with the entry's name registered in its township
// (or at the county level of its county).
func (s *Service) suggest(ctx context.Context, e RosterEntry) ([]Suggestion, error) {
	w := auth.NewWhere(e.Name, e.CountyCode)
	rows, err := s.db.Query(ctx, `SELECT id, name, COALESCE(code, ''), region_code, status FROM operators
		WHERE name = $1 AND category <> 'temporary' AND status <> 'cancelled' AND (`+w.RegionCond(e.RegionCode, "region_code")+` OR region_code = $2)
		AND id NOT IN (SELECT operator_id FROM roster_entries WHERE operator_id IS NOT NULL) ORDER BY id LIMIT 5`, w.Args()...)
	return platform.Collect(rows, err, func(r *sql.Rows) (Suggestion, error) {
		var sg Suggestion
		err := r.Scan(&sg.OperatorID, &sg.Name, &sg.Code, &sg.RegionCode, &sg.Status)
		return sg, err
	})
}

// ConfirmMatch links an entry to an operator after a person checked that
// they are the same (name + township suggestions). The operator must be
// registered in the entry's county.
func (s *Service) ConfirmMatch(ctx context.Context, actor *auth.Actor, entryID, operatorID int64) (RosterEntry, error) {
	e, err := s.rosterEntry(ctx, entryID)
	if err != nil {
		return RosterEntry{}, err
	}
	if err := auth.Authorize(actor, auth.ActRosterRead, auth.Resource{Region: e.RegionCode}); err != nil {
		return RosterEntry{}, err
	}
	if err := auth.Authorize(actor, auth.ActRosterWrite, auth.Resource{Region: e.RegionCode}); err != nil {
		return RosterEntry{}, err
	}
	o, err := s.ByID(ctx, operatorID)
	if err != nil || o.CountyCode != e.CountyCode || o.Category == "temporary" {
		return RosterEntry{}, platform.Invalid(platform.FieldError{Field: "operator_id", Code: "unknown",
			ZH: "本县没有该注册主体", EN: "no such registered operator in this county"})
	}
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE roster_entries SET operator_id = $1, match_method = 'confirmed', matched_by = $2, updated_at = $3 WHERE id = $4`,
			operatorID, platform.NullInt(actor.UserID), tx.Now(), entryID); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "roster.match", ResourceType: "roster_entry", ResourceID: fmt.Sprint(entryID),
			Data: map[string]any{"operator_id": operatorID}})
	})
	if err != nil {
		return RosterEntry{}, err
	}
	return s.rosterEntry(ctx, entryID)
}

// Reminder is one recorded push to register.
type Reminder struct {
	ID      int64     `json:"id"`
	EntryID int64     `json:"entry_id"`
	Channel string    `json:"channel" doc:"visit | phone | sms | notice"`
	Note    string    `json:"note,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// ReminderChannels are the ways a township reminds an operator.
var ReminderChannels = []string{"visit", "phone", "sms", "notice"}

// Remind records that an unregistered rostered operator was urged to register.
func (s *Service) Remind(ctx context.Context, actor *auth.Actor, entryID int64, channel, note string) (Reminder, error) {
	e, err := s.rosterEntry(ctx, entryID)
	if err != nil {
		return Reminder{}, err
	}
	if err := auth.Authorize(actor, auth.ActRosterRead, auth.Resource{Region: e.RegionCode}); err != nil {
		return Reminder{}, err
	}
	if err := auth.Authorize(actor, auth.ActRosterWrite, auth.Resource{Region: e.RegionCode}); err != nil {
		return Reminder{}, err
	}
	if channel == "" {
		channel = "visit"
	}
	var v platform.Validator
	v.OneOf("channel", channel, ReminderChannels...)
	v.MaxLen("note", note, 500)
	if err := v.Err(); err != nil {
		return Reminder{}, err
	}
	if e.Registered {
		return Reminder{}, platform.Conflict("该主体已注册", "this operator is registered already")
	}
	rm := Reminder{EntryID: entryID, Channel: channel, Note: strings.TrimSpace(note), By: actor.Username}
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		rm.At = tx.Now()
		if err := tx.QueryRow(ctx, `INSERT INTO roster_reminders (entry_id, channel, note, by_user, at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			entryID, channel, rm.Note, platform.NullInt(actor.UserID), rm.At).Scan(&rm.ID); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "roster.remind", ResourceType: "roster_entry", ResourceID: fmt.Sprint(entryID),
			Data: map[string]any{"channel": channel}})
	})
	return rm, err
}

// Reminders lists the reminders recorded for an entry, oldest first.
func (s *Service) Reminders(ctx context.Context, actor *auth.Actor, entryID int64) ([]Reminder, error) {
	e, err := s.rosterEntry(ctx, entryID)
	if err != nil {
		return nil, err
	}
	if err := auth.Authorize(actor, auth.ActRosterRead, auth.Resource{Region: e.RegionCode}); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT r.id, r.entry_id, r.channel, r.note, COALESCE(u.username, ''), r.at FROM roster_reminders r
		LEFT JOIN users u ON u.id = r.by_user WHERE r.entry_id = $1 ORDER BY r.id`, entryID)
	return platform.Collect(rows, err, func(row *sql.Rows) (Reminder, error) {
		var r Reminder
		err := row.Scan(&r.ID, &r.EntryID, &r.Channel, &r.Note, &r.By, &r.At)
		return r, err
	})
}

// linkRoster attaches unmatched roster entries with the same credit code or
// ID number to operator id (automatic match; name matches need a person).
func linkRoster(ctx context.Context, tx *platform.Tx, id int64, st stored) error {
	if st.CreditCode != "" {
		if _, err := tx.Exec(ctx, `UPDATE roster_entries SET operator_id = $1, match_method = 'credit_code', updated_at = $2
			WHERE operator_id IS NULL AND credit_code = $3`, id, tx.Now(), st.CreditCode); err != nil {
			return err
		}
	}
	if st.IDNumber.Hash != "" && st.Kind == "individual" {
		if _, err := tx.Exec(ctx, `UPDATE roster_entries SET operator_id = $1, match_method = 'id_number', updated_at = $2
			WHERE operator_id IS NULL AND id_number_hash = $3 AND credit_code = ''`, id, tx.Now(), st.IDNumber.Hash); err != nil {
			return err
		}
	}
	return nil
}
