package port

import (
	"math"
	"reflect"
	"strings"

	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/secure"
	"agtrace/internal/trace"
)

// Canonical forms: what the services would store for a row (trimmed text,
// codes without spaces, products split, personal numbers masked, blank
// extension fields dropped), so that a row read from a file compares equal
// to the export row of the record it created. Informative columns (names)
// are left out of the comparison.

func trimAll(ss ...*string) {
	for _, s := range ss {
		*s = strings.TrimSpace(*s)
	}
}

func canonOperator(r OperatorRow) OperatorRow {
	trimAll(&r.Name, &r.Kind, &r.Category, &r.LegalRep, &r.ContactName, &r.RegionCode, &r.Address, &r.LeadingEnterprise, &r.Status,
		&r.IDNumberMasked, &r.PhoneMasked)
	r.OperatorCode = codes.NormalizeCode(r.OperatorCode)
	r.CreditCode = codes.NormalizeUSCC(r.CreditCode)
	if r.Kind == "" && r.CreditCode != "" {
		r.Kind = codes.USCCSuggestedKind(r.CreditCode)
	}
	if id := operator.NormalizeIDNumber(r.IDNumber); id != "" {
		r.IDNumberMasked = secure.MaskIDNumber(id)
	}
	if ph := operator.NormalizePhone(r.Phone); ph != "" {
		r.PhoneMasked = secure.MaskPhone(ph)
	}
	r.IDNumber, r.Phone = "", ""
	var prods []string
	for _, p := range r.Products {
		prods = append(prods, splitList(p)...)
	}
	if prods == nil {
		prods = []string{}
	}
	r.Products = prods
	if r.Certifications == nil {
		r.Certifications = []operator.Certification{}
	}
	return r
}

// splitList splits "苹果、梨, 桃" into its items (as registration does).
func splitList(s string) []string {
	var out []string
	for _, x := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' || r == '\n'
	}) {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func canonBatch(r BatchRow) BatchRow {
	trimAll(&r.ProductCode, &r.Unit, &r.ProducedAt, &r.Origin, &r.OverrideReason)
	r.TraceCode, r.OperatorCode = codes.NormalizeCode(r.TraceCode), codes.NormalizeCode(r.OperatorCode)
	r.OperatorName, r.ProductName = "", ""
	r.Attributes = canonAttrs(r.Attributes)
	if r.Inputs == nil {
		r.Inputs = []trace.InputUse{}
	}
	for i := range r.Inputs {
		x := &r.Inputs[i]
		trimAll(&x.Kind, &x.Name, &x.RegNo, &x.Dose, &x.UsedAt)
	}
	if r.Operations == nil {
		r.Operations = []trace.Operation{}
	}
	for i := range r.Operations {
		o := &r.Operations[i]
		trimAll(&o.Kind, &o.Description, &o.At)
	}
	return r
}

// canonAttrs drops blank extension fields and trims text (what the
// catalogue's validation stores).
func canonAttrs(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			continue
		case string:
			if x = strings.TrimSpace(x); x == "" {
				continue
			}
			v = x
		case []any:
			if len(x) == 0 {
				continue
			}
		}
		out[k] = v
	}
	return out
}

func canonLots(ls []Lot, keepDetails bool) []Lot {
	out := make([]Lot, len(ls))
	for i, l := range ls {
		l.TraceCode = codes.NormalizeCode(l.TraceCode)
		trimAll(&l.ProductCode, &l.Unit, &l.Origin)
		if keepDetails {
			l.Attributes = canonAttrs(l.Attributes)
			if len(l.Attributes) == 0 {
				l.Attributes = nil
			}
		} else {
			l.ProductCode, l.Unit, l.Origin, l.Attributes = "", "", "", nil
		}
		out[i] = l
	}
	return out
}

// canonEvent keeps what the stage's service takes: a sale's and a split's
// outbound lots are its codes and quantities (product, unit, origin and
// extension fields follow the inbound batch); inbound units are
// informative everywhere.
func canonEvent(r EventRow) EventRow {
	trimAll(&r.Stage, &r.Date, &r.MarketName, &r.MarketKind, &r.MarketRegion, &r.Status, &r.ReceivedAt, &r.Reason, &r.Note, &r.OverrideReason)
	r.OperatorCode, r.DestinationOperatorCode = codes.NormalizeCode(r.OperatorCode), codes.NormalizeCode(r.DestinationOperatorCode)
	r.Inbound = canonLots(r.Inbound, false)
	details := r.Stage == StageMerge || r.Stage == StageTransform
	r.Outbound = canonLots(r.Outbound, details)
	if len(r.Inbound) == 1 && r.Inbound[0].Quantity == 0 && len(r.Outbound) > 0 {
		switch r.Stage { // what a sale or a split takes in is what it hands out
		case StageSale:
			r.Inbound[0].Quantity = r.Outbound[0].Quantity
		case StageSplit:
			var milli int64
			for _, o := range r.Outbound {
				milli += int64(math.Round(o.Quantity * 1000))
			}
			r.Inbound[0].Quantity = float64(milli) / 1000
		}
	}
	if r.Stage == StageMerge && len(r.Outbound) == 1 {
		r.Outbound[0].Quantity, r.Outbound[0].Unit = 0, "" // the sum of the inputs, in their unit
	}
	if r.Stage != StageTransform {
		r.OverrideReason = ""
	}
	return r
}

// fillBlanks gives every field the row left empty (absent, "" or null)
// the value recorded, recursively through objects and lists of the same
// length: an omitted optional field is not a difference (the service
// defaulted it: a unit, an origin, a receipt date).
func fillBlanks(row, rec any) any {
	switch r := row.(type) {
	case map[string]any:
		e, ok := rec.(map[string]any)
		if !ok {
			return row
		}
		out := map[string]any{}
		for k, v := range r {
			out[k] = v
		}
		for k, ev := range e {
			v, present := out[k]
			if !present || v == nil || v == "" {
				out[k] = ev
				continue
			}
			out[k] = fillBlanks(v, ev)
		}
		return out
	case []any:
		e, ok := rec.([]any)
		if !ok || len(e) != len(r) {
			return row
		}
		out := make([]any, len(r))
		for i := range r {
			out[i] = fillBlanks(r[i], e[i])
		}
		return out
	}
	return row
}

// differs compares a canonical row with the canonical record and returns
// the first column (file order) whose value differs, or "".
func differs(kind string, row, rec any) string {
	mr, me := asMap(row), asMap(rec)
	filled, _ := fillBlanks(map[string]any(mr), map[string]any(me)).(map[string]any)
	for _, c := range columns[kind] {
		if !deepEqualJSON(filled[c.Key], me[c.Key]) {
			return c.Key
		}
	}
	return ""
}

// deepEqualJSON compares decoded JSON values, taking null, "", [] and {}
// as the same empty value.
func deepEqualJSON(a, b any) bool {
	if isEmptyJSON(a) || isEmptyJSON(b) {
		return isEmptyJSON(a) && isEmptyJSON(b)
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range x {
			if !deepEqualJSON(v, y[k]) {
				return false
			}
		}
		for k, v := range y {
			if _, ok := x[k]; !ok && !isEmptyJSON(v) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqualJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func isEmptyJSON(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}
