package trace

import (
	"context"
	"strings"

	"agtrace/internal/auth"
)

// The batch form's product choice: an apple farm's first batch must not
// default to 大白菜 (the catalogue's first product). Products come most
// likely first — those the operator recorded lately, then those its
// registered business names — and the form remembers only what is stable
// from one batch to the next (the plot, the variety, the pond), never a
// batch's evidence (test report, certificate and quarantine numbers, ear
// tags, dates).

// ProductChoices are the catalogue's products in the order a batch form offers them.
type ProductChoices struct {
	Recent   []Product // recorded by the operator lately, newest first
	Business []Product // named by its registered business (product or category name)
	Other    []Product // the rest of the catalogue
}

// Default is the product a new batch starts with: the latest recorded, else
// the first of the business, else none (the farmer chooses).
func (c ProductChoices) Default() (Product, bool) {
	for _, g := range [][]Product{c.Recent, c.Business} {
		if len(g) > 0 {
			return g[0], true
		}
	}
	return Product{}, false
}

// recentProducts is how many recently recorded products lead the choice.
const recentProducts = 5

// ProductChoices orders the catalogue for the actor's operator.
func (s *Service) ProductChoices(ctx context.Context, actor *auth.Actor) (ProductChoices, error) {
	if err := auth.Authorize(actor, auth.ActBatchWrite, auth.Resource{}); err != nil {
		return ProductChoices{}, err
	}
	all, err := s.Products(ctx)
	if err != nil {
		return ProductChoices{}, err
	}
	op, err := s.ops.ByID(ctx, actor.OperatorID)
	if err != nil {
		return ProductChoices{}, err
	}
	rows, err := s.db.Query(ctx, `SELECT product_code FROM trace_codes WHERE operator_id = $1 AND type = 1
		GROUP BY product_code ORDER BY MAX(created_at) DESC LIMIT $2`, actor.OperatorID, recentProducts)
	if err != nil {
		return ProductChoices{}, err
	}
	defer rows.Close()
	var recent []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return ProductChoices{}, err
		}
		recent = append(recent, c)
	}
	if err := rows.Err(); err != nil {
		return ProductChoices{}, err
	}
	return groupProducts(all, recent, op.Products), nil
}

// groupProducts splits the catalogue: recent codes in their order, then
// products whose name or category name the business text mentions (or
// which mention it: "苹果" matches 苹果, "茶叶" the tea category), then the
// rest in catalogue order.
func groupProducts(all []Product, recent, business []string) ProductChoices {
	var c ProductChoices
	taken := map[string]bool{}
	byCode := map[string]Product{}
	for _, p := range all {
		byCode[p.Code] = p
	}
	for _, code := range recent {
		if p, ok := byCode[code]; ok && !taken[code] {
			c.Recent = append(c.Recent, p)
			taken[code] = true
		}
	}
	text := strings.Join(business, " ")
	for _, p := range all {
		if taken[p.Code] {
			continue
		}
		if mentions(text, p.Name) || mentions(text, p.CategoryName) || mentions(text, p.NameEN) {
			c.Business = append(c.Business, p)
		} else {
			c.Other = append(c.Other, p)
		}
	}
	return c
}

// mentions reports whether the business text names a product or category
// name (case-insensitive; names of one character are too ambiguous).
func mentions(text, name string) bool {
	name = strings.TrimSpace(name)
	if len([]rune(name)) < 2 || text == "" {
		return false
	}
	return strings.Contains(strings.ToLower(text), strings.ToLower(name))
}

// rememberedFields are the product fields a new batch takes over from the
// operator's last one: where and what it grows, not one batch's evidence.
var rememberedFields = map[string]bool{
	"plot": true, "variety": true, "storage": true, "garden": true, "grade": true, "farm_record_no": true, "flock": true,
	"tank": true, "pond": true, "fry_source": true, "fry_licence": true, "collection_station": true, "station_licence": true,
	"transport_permit": true, "vehicle": true, "cut": true,
}

// Remembered reports whether a new batch form may prefill field key from the last batch.
func Remembered(key string) bool { return rememberedFields[key] }
