package ui

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"agtrace/internal/trace"
)

// Stored values shown as words: a record's details (a finding's, an audit
// entry's) are key → value maps whose values are often codes — "kg",
// "wholesale", "self_test", true. Pages never show those raw: each key
// names where its values are translated, and the details come in a fixed,
// meaningful order (what, how much, when, then the rest).

// valuePrefixes are the catalogue prefixes a detail key's values are
// translated under, tried in order (a "kind" may be a finding's or a
// document's).
var valuePrefixes = map[string][]string{
	"basis":         {"tr.basis."},
	"market_kind":   {"tr.market."},
	"status":        {"tr.status.", "op.status.", "status.", "sv.case.status.", "sv.draw.status."},
	"kind":          {"tr.finding.", "tr.input.", "op.doc.", "op.kind.", "tr.market.", "sv.kind."},
	"result":        {"sv.result."},
	"verdict":       {"mn.verdict."},
	"level":         {"sv.credit."},
	"rule":          {"sv.rule.", "wr.rule."},
	"violation":     {"sv.violation."},
	"record":        {"sv.record."},
	"scope":         {"tr.scope."},
	"scheme":        {"tr.scheme."},
	"biz_step":      {"words.bizstep."},
	"disposition":   {"words.disposition."},
	"source":        {"words.source.", "sv.source."},
	"role":          {"role."},
	"channel":       {"op.channel."},
	"category":      {"op.cat."},
	"decision":      {"op.decision.", "sv.decision."},
	"action":        {"op.decision."},
	"permissions":   {"op.perm."},
	"leading_level": {"op.leading."},
	"state":         {"in.state."},
	"task_kind":     {"in.task.kind."},
	"task_status":   {"in.task.status."},
	"source_kind":   {"in.source."},
	"topic":         {"words.action."}, // an exchanged event's action
	"outcome":       {"xc.outcome."},
}

// detailOrder puts the keys a reader looks for first; the others follow
// alphabetically.
var detailOrder = []string{"code", "from_code", "to_code", "product_code", "quantity", "unit", "received_quantity", "shipped_at",
	"received_at", "produced_at", "due", "workdays", "status", "kind", "reason"}

// detailPair is one line of a record's details.
type detailPair struct{ Key, Label, Value string }

// Words renders a stored value of key as a person reads it: translated
// codes, units by name, yes/no, lists joined, quantities without float noise.
func (p *Page) Words(key string, v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case bool:
		if t {
			return p.T("common.yes")
		}
		return p.T("common.no")
	case float64:
		return trace.FormatQty(t)
	case json.Number:
		return t.String()
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = p.Words(key, x)
		}
		return strings.Join(parts, "、")
	case []string:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = p.Words(key, x)
		}
		return strings.Join(parts, "、")
	case string:
		return p.wordOf(key, t)
	case map[string]any:
		var parts []string
		for _, d := range p.Details(t) {
			parts = append(parts, d.Label+"："+d.Value)
		}
		return strings.Join(parts, "；")
	}
	return fmt.Sprint(v)
}

// wordOf translates a string value of key when its key names a vocabulary.
func (p *Page) wordOf(key, v string) string {
	if key == "unit" || strings.HasSuffix(key, "_unit") {
		if u, ok := trace.Units[v]; ok {
			if p.Lang == "en" {
				return u.NameEN
			}
			return u.Name
		}
	}
	for _, prefix := range valuePrefixes[key] {
		if s := p.T(prefix + v); s != prefix+v {
			return s
		}
	}
	return v
}

// Details orders and renders a record's details (nested objects become
// "destination · market" lines).
func (p *Page) Details(m map[string]any) []detailPair {
	var out []detailPair
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for _, k := range orderedKeys(m) {
			if sub, ok := m[k].(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			out = append(out, detailPair{Key: prefix + k, Label: p.FieldName(prefix + k), Value: p.Words(k, m[k])})
		}
	}
	walk("", m)
	return out
}

// DetailsJSON is Details for a JSON object (an audit entry's detail); text
// that is not an object is shown as one line.
func (p *Page) DetailsJSON(raw string) []detailPair {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return []detailPair{{Label: p.T("admin.detail"), Value: raw}}
	}
	return p.Details(m)
}

// orderedKeys are m's keys in detailOrder, then alphabetically.
func orderedKeys(m map[string]any) []string {
	rank := func(k string) int {
		for i, x := range detailOrder {
			if x == k {
				return i
			}
		}
		return len(detailOrder)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank(keys[i]), rank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	return keys
}

// AuditAction is an audit entry's action in words ("batch.create" → 登记生产批次).
func (p *Page) AuditAction(action string) string {
	if s := p.T("words.action." + action); s != "words.action."+action {
		return s
	}
	return action
}

// AuditResource is an audit entry's resource in words (操作对象 + its id).
func (p *Page) AuditResource(typ, id string) string {
	name := p.T("words.resource." + typ)
	if name == "words.resource."+typ {
		name = typ
	}
	if _, err := strconv.ParseInt(id, 10, 64); err == nil && typ != "trace_code" {
		return name + " #" + id
	}
	return strings.TrimSpace(name + " " + id)
}

// Option is the name of an enum option of a product field (a batch's
// storage "cold" → 冷藏), the value itself when the field has no such option.
func (p *Page) Option(f trace.Field, v any) string {
	s, ok := v.(string)
	if !ok {
		return p.Words(f.Key, v)
	}
	for _, o := range f.Options {
		if o.Value == s {
			if p.Lang == "en" {
				return o.NameEN
			}
			return o.Name
		}
	}
	return s
}
