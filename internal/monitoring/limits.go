package monitoring

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/secure"
	"agtrace/internal/supervision"
	"agtrace/internal/trace"
)

// Service keeps the residue limits, records sampling tests and runs the
// recalls a failed test starts.
type Service struct {
	db        *platform.DB
	clock     platform.Clock
	ops       *operator.Service
	tr        *trace.Service
	cases     *supervision.Service
	signer    secure.Signer
	publicURL string
	// recallPrefix tells this node's recall numbers apart (national.go)
	recallPrefix string
}

// NewService builds the service; reports are signed with signer and point
// their QR at publicURL; a failed sample opens a draft case in cases.
func NewService(db *platform.DB, clock platform.Clock, ops *operator.Service, tr *trace.Service, cases *supervision.Service, signer secure.Signer, publicURL string) *Service {
	return &Service{db: db, clock: clock, ops: ops, tr: tr, cases: cases, signer: signer, publicURL: publicURL}
}

// Substance kinds.
var SubstanceKinds = []string{"pesticide", "vet_drug", "banned", "contaminant", "quality"}

// Substance is something a sample is tested for.
type Substance struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	NameEN   string   `json:"name_en"`
	CAS      string   `json:"cas,omitempty"`
	Synonyms []string `json:"synonyms"`
	Kind     string   `json:"kind" doc:"pesticide | vet_drug | banned | contaminant | quality"`
}

// Limit is a residue limit (or a quality minimum) of a substance in a food
// or food category, in one edition of a standard.
type Limit struct {
	ID            int64     `json:"id"`
	SubstanceCode string    `json:"substance"`
	SubstanceName string    `json:"substance_name"`
	FoodCode      string    `json:"food" doc:"a catalogue product code or product category code"`
	Value         float64   `json:"value"`
	Unit          string    `json:"unit"`
	Judgement     string    `json:"judgement" doc:"max | not_detected | min"`
	Standard      string    `json:"standard"`
	Edition       string    `json:"edition"`
	ValidFrom     string    `json:"valid_from"`
	ValidTo       string    `json:"valid_to,omitempty"`
	Source        string    `json:"source" doc:"where the value was read and how far it is confirmed"`
	Version       int       `json:"version"`
	UpdatedBy     string    `json:"updated_by,omitempty"`
	UpdatedAt     time.Time `json:"updated_at"`
	// AppliesVia is set by a lookup: the food or category the limit was found on.
	AppliesVia string `json:"applies_via,omitempty"`
}

// SeedLimits loads the curated limits (idempotent: existing rows are left
// as administrators edited them).
func SeedLimits(ctx context.Context, db *platform.DB) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM substances`).Scan(&n); err != nil {
		return 0, err
	}
	if n >= len(seedSubstances) {
		return 0, nil
	}
	added := 0
	err := db.InTx(ctx, func(tx *platform.Tx) error {
		for _, s := range seedSubstances {
			syn, _ := json.Marshal(nonNil(s.Synonyms))
			if _, err := tx.Exec(ctx, `INSERT INTO substances (code, name, name_en, cas, synonyms, kind) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (code) DO NOTHING`, s.Code, s.Name, s.NameEN, s.CAS, string(syn), s.Kind); err != nil {
				return fmt.Errorf("seed substance %s: %w", s.Code, err)
			}
		}
		for _, l := range seedLimits() {
			res, err := tx.Exec(ctx, `INSERT INTO residue_limits (substance_code, food_code, value, unit, judgement, standard, edition, valid_from, valid_to,
				source, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'seed', $11)
				ON CONFLICT (substance_code, food_code, standard, edition) DO NOTHING`, l.Substance, l.Food, l.Value, l.Unit, l.Judgement,
				l.Standard, l.Edition, l.ValidFrom, platform.NullString(l.ValidTo), l.Source, tx.Now())
			if err != nil {
				return fmt.Errorf("seed limit %s/%s: %w", l.Substance, l.Food, err)
			}
			if k, _ := res.RowsAffected(); k > 0 {
				added++
			}
		}
		return nil
	})
	return added, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const limitColumns = `l.id, l.substance_code, s.name, l.food_code, l.value, l.unit, l.judgement, l.standard, l.edition, l.valid_from,
	COALESCE(l.valid_to, ''), l.source, l.version, l.updated_by, l.updated_at`

func scanLimit(r interface{ Scan(...any) error }) (Limit, error) {
	var l Limit
	err := r.Scan(&l.ID, &l.SubstanceCode, &l.SubstanceName, &l.FoodCode, &l.Value, &l.Unit, &l.Judgement, &l.Standard, &l.Edition,
		&l.ValidFrom, &l.ValidTo, &l.Source, &l.Version, &l.UpdatedBy, &l.UpdatedAt)
	return l, err
}

// LimitFilter narrows Limits.
type LimitFilter struct {
	Food      string // a product or category code: with Date, the limits that apply to it through the category tree
	Substance string // a substance code, or text matched against names and synonyms
	Date      string // YYYY-MM-DD: only the editions in force that day
	Limit     int
	Offset    int
}

// Limits lists limits. With a food and a date it answers what applies to
// that food that day: the food's own limit for each substance, else the
// nearest category's, in the edition in force on the date (China has no
// default limit: a substance with none stays absent). Limits are public
// standards: anyone may read them, logged in or not (actor may be nil).
func (s *Service) Limits(ctx context.Context, actor *auth.Actor, f LimitFilter) ([]Limit, error) {
	var v platform.Validator
	if f.Date != "" {
		if _, err := time.Parse(time.DateOnly, f.Date); err != nil {
			v.Add("date", "format", "日期格式应为 YYYY-MM-DD", "must be a date YYYY-MM-DD")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if f.Food != "" && f.Date != "" {
		return s.applicable(ctx, f.Food, f.Substance, f.Date)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	w := auth.NewWhere()
	if f.Food != "" {
		w.Add("l.food_code = " + w.Arg(f.Food))
	}
	if f.Substance != "" {
		q := "%" + strings.ToLower(f.Substance) + "%"
		p := w.Arg(f.Substance)
		w.Add("(l.substance_code = " + p + " OR LOWER(s.name) LIKE " + w.Arg(q) + " OR LOWER(s.name_en) LIKE " + w.Arg(q) + " OR s.synonyms LIKE " + w.Arg(q) + ")")
	}
	if f.Date != "" {
		d := w.Arg(f.Date)
		w.Add("l.valid_from <= " + d + " AND (l.valid_to IS NULL OR l.valid_to >= " + d + ")")
	}
	rows, err := s.db.Query(ctx, `SELECT `+limitColumns+` FROM residue_limits l JOIN substances s ON s.code = l.substance_code`+w.SQL()+
		` ORDER BY l.food_code, l.substance_code, l.valid_from DESC LIMIT `+w.Arg(f.Limit)+` OFFSET `+w.Arg(max(f.Offset, 0)), w.Args()...)
	out, err := platform.Collect(rows, err, scanLimit)
	if out == nil {
		out = []Limit{}
	}
	return out, err
}

// foodChain is a food and the categories above it, nearest first
// (apple → planting/fruit → planting).
func (s *Service) foodChain(ctx context.Context, food string) ([]string, error) {
	chain := []string{food}
	var cat string
	err := s.db.QueryRow(ctx, `SELECT category_code FROM products WHERE code = $1`, food).Scan(&cat)
	if errors.Is(err, sql.ErrNoRows) {
		cat = food // a category itself
	} else if err != nil {
		return nil, err
	} else {
		chain = append(chain, cat)
	}
	for i := 0; i < 10 && cat != ""; i++ {
		var parent sql.NullString
		err := s.db.QueryRow(ctx, `SELECT parent_code FROM product_categories WHERE code = $1`, cat).Scan(&parent)
		if errors.Is(err, sql.ErrNoRows) || !parent.Valid {
			break
		}
		if err != nil {
			return nil, err
		}
		cat = parent.String
		chain = append(chain, cat)
	}
	return chain, nil
}

// applicable resolves, for each substance, the limit on the nearest food
// of the chain in force on date (the latest edition in force wins).
func (s *Service) applicable(ctx context.Context, food, substance, date string) ([]Limit, error) {
	chain, err := s.foodChain(ctx, food)
	if err != nil {
		return nil, err
	}
	w := auth.NewWhere()
	var ph []string
	for _, c := range chain {
		ph = append(ph, w.Arg(c))
	}
	w.Add("l.food_code IN (" + strings.Join(ph, ", ") + ")")
	d := w.Arg(date)
	w.Add("l.valid_from <= " + d + " AND (l.valid_to IS NULL OR l.valid_to >= " + d + ")")
	if substance != "" {
		w.Add("l.substance_code = " + w.Arg(substance))
	}
	rows, err := s.db.Query(ctx, `SELECT `+limitColumns+` FROM residue_limits l JOIN substances s ON s.code = l.substance_code`+w.SQL()+
		` ORDER BY l.substance_code, l.valid_from DESC`, w.Args()...)
	all, err := platform.Collect(rows, err, scanLimit)
	if err != nil {
		return nil, err
	}
	rank := map[string]int{}
	for i, c := range chain {
		rank[c] = i
	}
	best := map[string]Limit{}
	var order []string
	for _, l := range all {
		cur, ok := best[l.SubstanceCode]
		if !ok {
			order = append(order, l.SubstanceCode)
		}
		if !ok || rank[l.FoodCode] < rank[cur.FoodCode] || (rank[l.FoodCode] == rank[cur.FoodCode] && l.ValidFrom > cur.ValidFrom) {
			l.AppliesVia = l.FoodCode
			best[l.SubstanceCode] = l
		}
	}
	out := make([]Limit, 0, len(order))
	for _, k := range order {
		out = append(out, best[k])
	}
	return out, nil
}

// Applicable is the limit of one substance for a food on a date (nil: none
// in force — the item is not judged).
func (s *Service) Applicable(ctx context.Context, food, substance, date string) (*Limit, error) {
	list, err := s.applicable(ctx, food, substance, date)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return &list[0], nil
}

// Substances lists substances whose code, names, CAS or synonyms contain q.
func (s *Service) Substances(ctx context.Context, actor *auth.Actor, q string) ([]Substance, error) {
	like := "%" + strings.ToLower(strings.TrimSpace(q)) + "%"
	rows, err := s.db.Query(ctx, `SELECT code, name, name_en, cas, synonyms, kind FROM substances
		WHERE code LIKE $1 OR LOWER(name) LIKE $1 OR LOWER(name_en) LIKE $1 OR cas LIKE $1 OR synonyms LIKE $1 ORDER BY kind, code LIMIT 200`, like)
	out, err := platform.Collect(rows, err, func(r *sql.Rows) (Substance, error) {
		var x Substance
		var syn string
		err := r.Scan(&x.Code, &x.Name, &x.NameEN, &x.CAS, &syn, &x.Kind)
		_ = json.Unmarshal([]byte(syn), &x.Synonyms)
		x.Synonyms = nonNil(x.Synonyms)
		return x, err
	})
	if out == nil {
		out = []Substance{}
	}
	return out, err
}
