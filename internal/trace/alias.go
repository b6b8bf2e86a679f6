package trace

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/platform"
)

// AliasSchemes are the identifier schemes that may point at a code.
var AliasSchemes = []string{"ear_tag", "quarantine_cert", "gs1", "provincial"}

// normalizeAliasValue returns the canonical stored form of an alias value.
func normalizeAliasValue(scheme, value string) string {
	value = strings.TrimSpace(value)
	switch scheme {
	case "ear_tag":
		if t, err := codes.ParseEarTag(value); err == nil {
			return t.Code
		}
		return codes.NormalizeCode(value)
	case "quarantine_cert":
		return strings.ToUpper(codes.NormalizeCode(value))
	case "gs1":
		if g, lot, ok := parseGS1(value); ok {
			return g + "/" + lot
		}
	}
	return value
}

// parseGS1 accepts "GTIN/lot", "(01)GTIN(10)lot" and Digital Link URLs
// ".../01/GTIN/10/lot"; the GTIN is padded to 14 digits.
func parseGS1(s string) (gtin, lot string, ok bool) {
	s = strings.TrimSpace(s)
	switch {
	case strings.Contains(s, "/01/"):
		p := s
		if u, err := url.Parse(s); err == nil && u.Path != "" {
			p = u.EscapedPath()
		}
		i := strings.Index(p, "/01/")
		parts := strings.Split(p[i+1:], "/")
		if len(parts) >= 4 && parts[0] == "01" && parts[2] == "10" {
			gtin = parts[1]
			lot, _ = url.PathUnescape(parts[3])
		}
	case strings.HasPrefix(s, "(01)"):
		rest := strings.TrimPrefix(s, "(01)")
		g, l, found := strings.Cut(rest, "(10)")
		if found {
			gtin, lot = g, l
		}
	default:
		gtin, lot, _ = strings.Cut(s, "/")
	}
	gtin = codes.NormalizeCode(gtin)
	lot = strings.TrimSpace(lot)
	if !codes.ValidGTIN(gtin) || lot == "" || len(lot) > 20 {
		return "", "", false
	}
	return strings.Repeat("0", 14-len(gtin)) + gtin, lot, true
}

func validateAlias(v *platform.Validator, scheme, value string) string {
	if !v.OneOf("scheme", scheme, AliasSchemes...) {
		return ""
	}
	if !v.Require("value", value) {
		return ""
	}
	switch scheme {
	case "ear_tag":
		t, err := codes.ParseEarTag(value)
		if err != nil {
			fe := codeFieldError("value", err)
			v.Add("value", fe.Code, fe.ZH, fe.EN)
			return ""
		}
		return t.Code
	case "quarantine_cert":
		n := normalizeAliasValue(scheme, value)
		if len(n) < 4 || len(n) > 40 {
			v.Add("value", "format", "检疫证明编号应为 4–40 位字母或数字", "quarantine certificate number must have 4–40 letters or digits")
			return ""
		}
		return n
	case "gs1":
		g, lot, ok := parseGS1(value)
		if !ok {
			v.Add("value", "format", "应为 GTIN/批号（GTIN 校验位须正确），或 GS1 数字链接 …/01/GTIN/10/批号",
				"must be GTIN/lot (valid GTIN check digit) or a GS1 Digital Link …/01/GTIN/10/lot")
			return ""
		}
		return g + "/" + lot
	default:
		n := strings.TrimSpace(value)
		v.MaxLen("value", n, 60)
		return n
	}
}

func insertAlias(ctx context.Context, tx *platform.Tx, scheme, value, code string, userID int64, field string) error {
	if err := aliasNamesOther(ctx, tx, value, code, field); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO trace_aliases (scheme, value, code, created_by, created_at) VALUES ($1, $2, $3, $4, $5)`,
		scheme, value, code, platform.NullInt(userID), tx.Now())
	if platform.IsUniqueViolation(err) {
		return platform.Conflict("“"+value+"”已登记在另一个批次上", value+" is already attached to another batch").
			With("field", field).With("value", value)
	}
	return err
}

// aliasNamesOther refuses (422 naming field) an alias value that is itself a
// trace code or an operator code of another operator than the one holding
// code: an identifier must not make one operator's batch answer for another's.
func aliasNamesOther(ctx context.Context, tx *platform.Tx, value, code, field string) error {
	n := codes.NormalizeCode(value)
	var q, what, whatEN string
	switch {
	case codes.ValidTraceCode(n):
		q, what, whatEN = `SELECT operator_id FROM trace_codes WHERE code = $1`, "追溯码", "trace code"
	case codes.ValidOperatorCode(n):
		q, what, whatEN = `SELECT id FROM operators WHERE code = $1`, "主体编码", "operator code"
	default:
		return nil
	}
	var other, holder int64
	err := tx.QueryRow(ctx, q, n).Scan(&other)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, `SELECT operator_id FROM trace_codes WHERE code = $1`, code).Scan(&holder); err != nil {
		return err
	}
	if other == holder {
		return nil
	}
	return invalid(field, "other_operator", "“"+value+"”是另一经营主体的"+what+"，不能作为本批次的标识号",
		value+" is another operator's "+whatEN+"; it cannot be an identifier of this batch")
}

// insertAliasIfNew adds an alias unless this code already has it.
func insertAliasIfNew(ctx context.Context, tx *platform.Tx, scheme, value, code string, userID int64) error {
	var owner string
	err := tx.QueryRow(ctx, `SELECT code FROM trace_aliases WHERE scheme = $1 AND value = $2`, scheme, value).Scan(&owner)
	if err == nil {
		if owner == code {
			return nil
		}
		return platform.Conflict("“"+value+"”已登记在另一个批次上", value+" is already attached to another batch").With("field", "attributes")
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return insertAlias(ctx, tx, scheme, value, code, userID, "attributes")
}

// AddAlias attaches an identifier to a code the actor's operator holds.
// Attaching the same identifier to the same code again changes nothing.
func (s *Service) AddAlias(ctx context.Context, actor *auth.Actor, code, scheme, value string) (Alias, error) {
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{}); err != nil {
		return Alias{}, err
	}
	if _, err := s.actorOperator(ctx, actor); err != nil {
		return Alias{}, err
	}
	var v platform.Validator
	norm := validateAlias(&v, strings.TrimSpace(scheme), value)
	if err := v.Err(); err != nil {
		return Alias{}, err
	}
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		r, err := loadCode(ctx, tx, code, false)
		if err != nil {
			return err
		}
		if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{OperatorID: r.OperatorID, Region: r.RegionCode}); err != nil {
			return err
		}
		var owner string
		err = tx.QueryRow(ctx, `SELECT code FROM trace_aliases WHERE scheme = $1 AND value = $2`, scheme, norm).Scan(&owner)
		if err == nil {
			if owner == code {
				return nil
			}
			return platform.Conflict("“"+norm+"”已登记在另一个批次上", norm+" is already attached to another batch").With("field", "value")
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := insertAlias(ctx, tx, scheme, norm, code, actor.UserID, "value"); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "alias.add", ResourceType: "trace_code", ResourceID: code,
			Data: map[string]any{"biz_step": "commissioning", "scheme": scheme, "value": norm}})
	})
	if err != nil {
		return Alias{}, err
	}
	return Alias{Scheme: scheme, Value: norm, Code: code}, nil
}

func (s *Service) aliases(ctx context.Context, code string) ([]Alias, error) {
	rows, err := s.db.Query(ctx, `SELECT scheme, value FROM trace_aliases WHERE code = $1 ORDER BY scheme, value LIMIT 1000`, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Alias{}
	for rows.Next() {
		var a Alias
		if err := rows.Scan(&a.Scheme, &a.Value); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Resolve turns what someone typed or scanned — a trace code of any type, a
// /q/ URL, an alias value (optionally "scheme:value"), a GS1 Digital Link —
// into a trace code. A 20-digit number with a wrong check digit that is not
// a registered alias is refused as a typo (400) before anything else.
func (s *Service) Resolve(ctx context.Context, input string) (string, error) {
	in := strings.TrimSpace(input)
	if in == "" {
		return "", invalid("code", "required", "请输入追溯码或标识号", "give a trace code or an identifier")
	}
	if len(in) > 300 {
		return "", invalid("code", "too_long", "输入过长", "input too long")
	}
	if i := strings.Index(in, "/q/"); i >= 0 {
		in = strings.Trim(in[i+3:], "/")
		if j := strings.IndexAny(in, "?#"); j >= 0 {
			in = in[:j]
		}
	}
	if strings.Contains(in, "/01/") || strings.HasPrefix(in, "(01)") {
		if g, lot, ok := parseGS1(in); ok {
			return s.lookupAlias(ctx, "gs1", g+"/"+lot)
		}
		return "", invalid("code", "format", "GS1 数字链接无效（GTIN 校验位或批号有误）", "invalid GS1 Digital Link (GTIN check digit or lot)")
	}
	for _, sc := range AliasSchemes {
		if v, ok := strings.CutPrefix(in, sc+":"); ok {
			return s.lookupAlias(ctx, sc, normalizeAliasValue(sc, v))
		}
	}
	n := codes.NormalizeCode(in)
	if len(n) == codes.TraceCodeLen && allDigits(n) {
		tc, err := codes.ParseTraceCode(n)
		if err == nil {
			return tc.Code, nil
		}
		if code, aerr := s.lookupAlias(ctx, "", n); aerr == nil {
			return code, nil
		}
		return ParsePathCode(n)
	}
	if len(n) == 15 && allDigits(n) {
		if code, err := s.lookupAlias(ctx, "ear_tag", n); err == nil {
			return code, nil
		}
	}
	if code, err := s.lookupAlias(ctx, "", in); err == nil {
		return code, nil
	}
	return s.lookupAlias(ctx, "", strings.ToUpper(n))
}

// lookupAlias finds the code an alias points at; scheme "" searches every
// scheme (refusing an ambiguous value).
func (s *Service) lookupAlias(ctx context.Context, scheme, value string) (string, error) {
	if scheme != "" {
		var code string
		err := s.db.QueryRow(ctx, `SELECT code FROM trace_aliases WHERE scheme = $1 AND value = $2`, scheme, value).Scan(&code)
		if errors.Is(err, sql.ErrNoRows) {
			return "", errCodeNotFound
		}
		return code, err
	}
	rows, err := s.db.Query(ctx, `SELECT DISTINCT code FROM trace_aliases WHERE value = $1 LIMIT 3`, value)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return "", err
		}
		found = append(found, c)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	switch len(found) {
	case 0:
		return "", errCodeNotFound
	case 1:
		return found[0], nil
	}
	return "", platform.Conflict("该标识号对应多个批次，请写明类型，如 ear_tag:号码", "this identifier matches several batches; prefix it with its scheme, e.g. ear_tag:<value>").
		With("field", "code")
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
