package trace

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"agtrace/internal/codes"
	"agtrace/internal/platform"
)

// Unit is a unit of measure a product can be recorded in.
type Unit struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	NameEN string `json:"name_en"`
	// Count units (head, bird, piece, box) take whole numbers only.
	Count bool `json:"count,omitempty"`
}

// Units lists every unit, by code.
var Units = map[string]Unit{
	"kg":    {"kg", "千克", "kg", false},
	"t":     {"t", "吨", "tonne", false},
	"head":  {"head", "头", "head", true},
	"bird":  {"bird", "只", "bird", true},
	"piece": {"piece", "个", "piece", true},
	"box":   {"box", "箱", "box", true},
	"L":     {"L", "升", "litre", false},
}

// UnitName is the Chinese name of a unit code (the code itself if unknown).
func UnitName(code string) string {
	if u, ok := Units[code]; ok {
		return u.Name
	}
	return code
}

// Option is one allowed value of an enum field.
type Option struct {
	Value  string `json:"value"`
	Name   string `json:"name"`
	NameEN string `json:"name_en"`
}

// Field is one product-specific extension field (domain.md §6).
type Field struct {
	Key      string   `json:"key"`
	Name     string   `json:"name"`
	NameEN   string   `json:"name_en"`
	Type     string   `json:"type" doc:"text | number | integer | date | enum | list"`
	Required bool     `json:"required,omitempty"`
	Options  []Option `json:"options,omitempty"`
	// Alias registers every value of the field as an alias of the batch
	// under this scheme (ear tags, quarantine certificate numbers).
	Alias string `json:"alias,omitempty"`
	// Check names an identifier check applied to each value: ear_tag:<species digit>.
	Check string `json:"check,omitempty"`
	Hint  string `json:"hint,omitempty"`
}

// Product is a catalogue entry.
type Product struct {
	Code         string  `json:"code"`
	CategoryCode string  `json:"category_code"`
	CategoryName string  `json:"category_name"`
	Name         string  `json:"name"`
	NameEN       string  `json:"name_en"`
	Units        []Unit  `json:"units"`
	Schema       []Field `json:"schema"`
	Certificate  bool    `json:"certificate" doc:"a compliance certificate (承诺达标合格证) is required when sold"`
	Pilot        bool    `json:"pilot"`
}

// HasUnit reports whether the product may be recorded in unit.
func (p Product) HasUnit(unit string) bool {
	for _, u := range p.Units {
		if u.Code == unit {
			return true
		}
	}
	return false
}

// UnitCodes lists the product's unit codes.
func (p Product) UnitCodes() []string {
	out := make([]string, len(p.Units))
	for i, u := range p.Units {
		out[i] = u.Code
	}
	return out
}

// Category is a node of the catalogue tree.
type Category struct {
	Code       string `json:"code"`
	ParentCode string `json:"parent_code,omitempty"`
	Name       string `json:"name"`
	NameEN     string `json:"name_en"`
}

type seedProduct struct {
	code, cat, name, en string
	units               []string
	fields              []Field
	cert, pilot         bool
}

var seedCategories = []Category{
	{"planting", "", "种植业", "Crop farming"},
	{"planting/vegetable", "planting", "蔬菜", "Vegetables"},
	{"planting/fruit", "planting", "水果", "Fruit"},
	{"planting/tea", "planting", "茶叶", "Tea"},
	{"planting/grain", "planting", "粮油", "Grain and oilseeds"},
	{"livestock", "", "畜牧业", "Animal husbandry"},
	{"livestock/animal", "livestock", "畜", "Livestock"},
	{"livestock/meat", "livestock", "畜禽肉", "Meat"},
	{"livestock/poultry", "livestock", "禽", "Poultry"},
	{"livestock/egg", "livestock", "禽蛋", "Eggs"},
	{"livestock/milk", "livestock", "生鲜乳", "Raw milk"},
	{"fishery", "", "渔业", "Fishery"},
	{"fishery/marine", "fishery", "海水养殖", "Marine aquaculture"},
	{"fishery/freshwater", "fishery", "淡水养殖", "Freshwater aquaculture"},
}

func text(key, name, en string) Field { return Field{Key: key, Name: name, NameEN: en, Type: "text"} }
func num(key, name, en string) Field  { return Field{Key: key, Name: name, NameEN: en, Type: "number"} }
func enum(key, name, en string, opts ...Option) Field {
	return Field{Key: key, Name: name, NameEN: en, Type: "enum", Options: opts}
}
func required(f Field) Field { f.Required = true; return f }

var (
	fPlot      = text("plot", "基地/地块", "Base / plot")
	fVariety   = text("variety", "品种", "Variety")
	fResidue   = text("residue_test_ref", "农残检测报告号", "Residue test report no.")
	fFarmRec   = text("farm_record_no", "养殖场备案号", "Farm record no.")
	fQuarCert  = Field{Key: "quarantine_cert", Name: "产地检疫证明编号", NameEN: "Origin quarantine certificate no.", Type: "text", Alias: "quarantine_cert"}
	fBannedTst = enum("banned_drug_test", "禁用药物检测（孔雀石绿、硝基呋喃、氯霉素）", "Banned-drug test (malachite green, nitrofurans, chloramphenicol)",
		Option{"not_detected", "未检出", "not detected"}, Option{"detected", "检出", "detected"}, Option{"not_tested", "未检测", "not tested"})
	fTestRef = text("test_ref", "检测报告号", "Test report no.")
	fFry     = text("fry_source", "苗种来源", "Fry source")
	fFryLic  = text("fry_licence", "苗种生产许可证号", "Fry production licence no.")
	fPond    = text("pond", "塘口/网箱/车间", "Pond / cage / workshop")
	fEarTags = func(species int, name string) Field {
		return Field{Key: "ear_tags", Name: name + "耳标号", NameEN: "Ear tags", Type: "list", Alias: "ear_tag",
			Check: "ear_tag:" + strconv.Itoa(species), Hint: "15 位数字，多个用空格或逗号分隔"}
	}
	fQuarProd  = Field{Key: "product_quarantine_cert", Name: "动物产品检疫合格证明编号", NameEN: "Product quarantine certificate no.", Type: "text", Alias: "quarantine_cert"}
	fMeatQual  = text("meat_quality_cert", "肉品品质检验合格证号", "Meat quality certificate no.")
	fSlaughter = required(text("slaughter_batch", "屠宰批次", "Slaughter batch"))
	fVeg       = []Field{fPlot, fVariety, fResidue}
	fFish      = []Field{fPond, fFry, fBannedTst, fTestRef}
	fPoultry   = []Field{fFarmRec, fQuarCert}
)

var seedProducts = []seedProduct{
	// vegetables
	{"chinese_cabbage", "planting/vegetable", "大白菜", "Chinese cabbage", []string{"kg", "t"}, fVeg, true, false},
	{"tomato", "planting/vegetable", "番茄", "Tomato", []string{"kg", "t", "box"}, fVeg, true, false},
	{"cucumber", "planting/vegetable", "黄瓜", "Cucumber", []string{"kg", "t", "box"}, fVeg, true, false},
	{"pepper", "planting/vegetable", "辣椒", "Chili pepper", []string{"kg", "t", "box"}, fVeg, true, false},
	{"potato", "planting/vegetable", "马铃薯", "Potato", []string{"kg", "t"}, fVeg, true, false},
	{"scallion", "planting/vegetable", "大葱", "Welsh onion", []string{"kg", "t"}, fVeg, true, false},
	{"radish", "planting/vegetable", "萝卜", "Radish", []string{"kg", "t"}, fVeg, true, false},
	{"celery", "planting/vegetable", "芹菜", "Celery", []string{"kg", "t"}, fVeg, true, false},
	{"spinach", "planting/vegetable", "菠菜", "Spinach", []string{"kg", "box"}, fVeg, true, false},
	{"chinese_chive", "planting/vegetable", "韭菜", "Chinese chive", []string{"kg", "box"}, fVeg, true, false},
	// fruit
	{"apple", "planting/fruit", "苹果", "Apple", []string{"kg", "t", "box"}, []Field{fPlot, fVariety,
		enum("storage", "贮藏方式", "Storage", Option{"ambient", "常温", "ambient"}, Option{"cold", "冷藏", "cold store"},
			Option{"controlled_atmosphere", "气调", "controlled atmosphere"}), fResidue}, true, true},
	{"pear", "planting/fruit", "梨", "Pear", []string{"kg", "t", "box"}, fVeg, true, false},
	{"citrus", "planting/fruit", "柑橘", "Citrus", []string{"kg", "t", "box"}, fVeg, true, false},
	{"grape", "planting/fruit", "葡萄", "Grape", []string{"kg", "box"}, fVeg, true, false},
	{"peach", "planting/fruit", "桃", "Peach", []string{"kg", "box"}, fVeg, true, false},
	{"cherry", "planting/fruit", "樱桃", "Cherry", []string{"kg", "box"}, fVeg, true, false},
	{"kiwifruit", "planting/fruit", "猕猴桃", "Kiwifruit", []string{"kg", "box"}, fVeg, true, false},
	{"lychee", "planting/fruit", "荔枝", "Lychee", []string{"kg", "box"}, fVeg, true, false},
	// tea
	{"tea_fresh_leaf", "planting/tea", "茶鲜叶", "Fresh tea leaves", []string{"kg"}, []Field{text("garden", "茶园/地块", "Tea garden / plot"),
		fVariety, text("picking_batch", "采摘批次", "Picking batch")}, true, true},
	{"green_tea", "planting/tea", "绿茶", "Green tea", []string{"kg", "box"}, []Field{text("processing_batch", "初制/精制批次", "Processing batch"),
		text("grade", "等级", "Grade"), fResidue}, false, true},
	{"black_tea", "planting/tea", "红茶", "Black tea", []string{"kg", "box"}, []Field{text("processing_batch", "初制/精制批次", "Processing batch"),
		text("grade", "等级", "Grade"), fResidue}, false, false},
	// grain
	{"rice_paddy", "planting/grain", "稻谷", "Paddy rice", []string{"kg", "t"}, []Field{fPlot, fVariety}, false, false},
	{"wheat", "planting/grain", "小麦", "Wheat", []string{"kg", "t"}, []Field{fPlot, fVariety}, false, false},
	{"maize", "planting/grain", "玉米", "Maize", []string{"kg", "t"}, []Field{fPlot, fVariety}, false, false},
	// livestock
	{"live_pig", "livestock/animal", "生猪", "Live pig", []string{"head"}, []Field{fFarmRec, fEarTags(1, "生猪"), fQuarCert,
		text("vaccinations", "免疫记录", "Vaccinations")}, true, true},
	{"cattle", "livestock/animal", "肉牛", "Beef cattle", []string{"head"}, []Field{fFarmRec, fEarTags(2, "牛"), fQuarCert}, true, false},
	{"sheep", "livestock/animal", "肉羊", "Sheep", []string{"head"}, []Field{fFarmRec, fEarTags(3, "羊"), fQuarCert}, true, false},
	// meat
	{"pork_carcass", "livestock/meat", "猪白条（胴体）", "Pork carcass", []string{"kg", "piece"}, []Field{fSlaughter,
		enum("inspection", "宰前宰后检验", "Ante/post-mortem inspection", Option{"pass", "合格", "pass"}, Option{"fail", "不合格", "fail"}),
		enum("clenbuterol_test", "瘦肉精检测", "Clenbuterol test", Option{"negative", "阴性", "negative"}, Option{"positive", "阳性", "positive"}),
		fQuarProd, fMeatQual}, false, true},
	{"pork_cuts", "livestock/meat", "猪肉分割品", "Pork cuts", []string{"kg", "box"}, []Field{text("cut", "部位", "Cut"), fQuarProd, fMeatQual}, false, true},
	{"beef", "livestock/meat", "牛肉", "Beef", []string{"kg", "box"}, []Field{fSlaughter, fQuarProd}, false, false},
	// poultry and eggs
	{"broiler", "livestock/poultry", "肉鸡", "Broiler chicken", []string{"bird", "kg"}, fPoultry, true, false},
	{"duck", "livestock/poultry", "肉鸭", "Duck", []string{"bird", "kg"}, fPoultry, true, false},
	{"goose", "livestock/poultry", "鹅", "Goose", []string{"bird", "kg"}, fPoultry, true, false},
	{"chicken_egg", "livestock/egg", "鸡蛋", "Chicken eggs", []string{"kg", "box", "piece"}, []Field{fFarmRec, text("flock", "鸡舍/批次", "Flock")}, true, false},
	{"duck_egg", "livestock/egg", "鸭蛋", "Duck eggs", []string{"kg", "box", "piece"}, []Field{fFarmRec, text("flock", "鸭舍/批次", "Flock")}, true, false},
	// raw milk
	{"raw_milk", "livestock/milk", "生鲜乳", "Raw milk", []string{"kg", "t", "L"}, []Field{
		text("collection_station", "收购站", "Collection station"), text("station_licence", "生鲜乳收购许可证号", "Collection licence no."),
		text("transport_permit", "生鲜乳准运证号", "Transport permit no."), text("vehicle", "运输车辆", "Vehicle"),
		num("departure_temp_c", "出发温度（℃）", "Departure temperature (°C)"), num("arrival_temp_c", "到达温度（℃）", "Arrival temperature (°C)"),
		num("protein_g_100g", "蛋白质（g/100g）", "Protein (g/100 g)"), num("fat_g_100g", "脂肪（g/100g）", "Fat (g/100 g)"),
		enum("sensory_check", "感官检查", "Sensory check", Option{"pass", "合格", "pass"}, Option{"fail", "不合格", "fail"})}, false, true},
	// fishery
	{"turbot", "fishery/marine", "大菱鲆", "Turbot", []string{"kg", "box"}, []Field{required(text("tank", "养殖池/车间", "Tank / workshop")),
		fFry, fFryLic, num("harvest_size_g", "起捕规格（克/尾）", "Harvest size (g per fish)"), fBannedTst, fTestRef}, true, true},
	{"prawn", "fishery/marine", "对虾", "Prawn", []string{"kg", "box"}, fFish, true, false},
	{"sea_cucumber", "fishery/marine", "海参", "Sea cucumber", []string{"kg", "box"}, fFish, true, false},
	{"scallop", "fishery/marine", "扇贝", "Scallop", []string{"kg", "box"}, fFish, true, false},
	{"grass_carp", "fishery/freshwater", "草鱼", "Grass carp", []string{"kg"}, fFish, true, false},
	{"carp", "fishery/freshwater", "鲤鱼", "Common carp", []string{"kg"}, fFish, true, false},
	{"tilapia", "fishery/freshwater", "罗非鱼", "Tilapia", []string{"kg"}, fFish, true, false},
	{"crayfish", "fishery/freshwater", "小龙虾", "Crayfish", []string{"kg", "box"}, fFish, true, false},
}

// noteField ends every product's schema: a free note.
var noteField = text("note", "备注", "Note")

// SeedCatalogue inserts the built-in categories and products that are not
// yet in the database (existing rows, possibly edited, are left alone), and
// the built-in yield rules (SeedYieldRules).
func SeedCatalogue(ctx context.Context, db *platform.DB) (int, error) {
	if err := SeedYieldRules(ctx, db); err != nil {
		return 0, err
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM products`).Scan(&n); err != nil {
		return 0, err
	}
	if n >= len(seedProducts) {
		return 0, nil
	}
	added := 0
	err := db.InTx(ctx, func(tx *platform.Tx) error {
		for i, c := range seedCategories {
			if _, err := tx.Exec(ctx, `INSERT INTO product_categories (code, parent_code, name, name_en, sort) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (code) DO NOTHING`, c.Code, platform.NullString(c.ParentCode), c.Name, c.NameEN, i); err != nil {
				return fmt.Errorf("seed category %s: %w", c.Code, err)
			}
		}
		for i, p := range seedProducts {
			units, _ := json.Marshal(p.units)
			schema, _ := json.Marshal(append(append([]Field{}, p.fields...), noteField))
			res, err := tx.Exec(ctx, `INSERT INTO products (code, category_code, name, name_en, units, schema, certificate, pilot, sort)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (code) DO NOTHING`,
				p.code, p.cat, p.name, p.en, string(units), string(schema), p.cert, p.pilot, i)
			if err != nil {
				return fmt.Errorf("seed product %s: %w", p.code, err)
			}
			if k, _ := res.RowsAffected(); k > 0 {
				added++
			}
		}
		if added == 0 {
			return nil
		}
		return tx.Emit(ctx, platform.Event{Action: "catalogue.seed", ResourceType: "product", Data: map[string]any{"added": added}})
	})
	return added, err
}

// catalogue is one loaded copy of the product catalogue; it never changes
// once loaded (a reload makes a new copy).
type catalogue struct {
	loaded   time.Time
	products map[string]Product
	order    []string
	cats     []Category
}

// catalogueTTL is how long a loaded copy is current (products change rarely).
const catalogueTTL = time.Minute

// catalogueCache holds the current copy. Write transactions read products
// while they hold row locks, so once a copy is loaded a read never waits
// for the database: an expired copy is still served while one goroutine
// loads the next. (A reload on the caller's path needed a pool connection
// while the caller's transaction held its own: under load every connection
// was such a transaction and the service stopped.)
type catalogueCache struct {
	cur        atomic.Pointer[catalogue]
	load       sync.Mutex // one load at a time
	refreshing atomic.Bool
}

func (s *Service) catalogue(ctx context.Context) (*catalogue, error) {
	c := s.cat.cur.Load()
	if c == nil {
		return s.loadCatalogue(ctx)
	}
	if time.Since(c.loaded) >= catalogueTTL && s.cat.refreshing.CompareAndSwap(false, true) {
		go func() {
			defer s.cat.refreshing.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := s.loadCatalogue(ctx); err != nil {
				slog.Warn("trace: reloading the product catalogue", "err", err)
			}
		}()
	}
	return c, nil
}

// loadCatalogue reads the catalogue from the database and makes it current.
func (s *Service) loadCatalogue(ctx context.Context) (*catalogue, error) {
	s.cat.load.Lock()
	defer s.cat.load.Unlock()
	if c := s.cat.cur.Load(); c != nil && time.Since(c.loaded) < catalogueTTL {
		return c, nil // loaded while this call waited
	}
	cats := map[string]Category{}
	var catList []Category
	rows, err := s.db.Query(ctx, `SELECT code, COALESCE(parent_code, ''), name, name_en FROM product_categories ORDER BY sort, code`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k Category
		if err := rows.Scan(&k.Code, &k.ParentCode, &k.Name, &k.NameEN); err != nil {
			rows.Close()
			return nil, err
		}
		cats[k.Code] = k
		catList = append(catList, k)
	}
	rows.Close()
	rows, err = s.db.Query(ctx, `SELECT code, category_code, name, name_en, units, schema, certificate, pilot FROM products ORDER BY sort, code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	products := map[string]Product{}
	var order []string
	for rows.Next() {
		var p Product
		var units, schema string
		if err := rows.Scan(&p.Code, &p.CategoryCode, &p.Name, &p.NameEN, &units, &schema, &p.Certificate, &p.Pilot); err != nil {
			return nil, err
		}
		var us []string
		_ = json.Unmarshal([]byte(units), &us)
		for _, u := range us {
			if x, ok := Units[u]; ok {
				p.Units = append(p.Units, x)
			} else {
				p.Units = append(p.Units, Unit{Code: u, Name: u, NameEN: u})
			}
		}
		_ = json.Unmarshal([]byte(schema), &p.Schema)
		if p.Schema == nil {
			p.Schema = []Field{}
		}
		if k, ok := cats[p.CategoryCode]; ok {
			p.CategoryName = k.Name
			if par, ok := cats[k.ParentCode]; ok {
				p.CategoryName = par.Name + " / " + k.Name
			}
		}
		products[p.Code] = p
		order = append(order, p.Code)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	c := &catalogue{products: products, order: order, cats: catList, loaded: time.Now()}
	s.cat.cur.Store(c)
	return c, nil
}

// Products lists the catalogue (public).
func (s *Service) Products(ctx context.Context) ([]Product, error) {
	c, err := s.catalogue(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Product, 0, len(c.order))
	for _, k := range c.order {
		out = append(out, c.products[k])
	}
	return out, nil
}

// Categories lists the category tree, parents before children.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	c, err := s.catalogue(ctx)
	if err != nil {
		return nil, err
	}
	return c.cats, nil
}

// Product returns one catalogue entry (404 if unknown).
func (s *Service) Product(ctx context.Context, code string) (Product, error) {
	c, err := s.catalogue(ctx)
	if err != nil {
		return Product{}, err
	}
	p, ok := c.products[code]
	if !ok {
		return Product{}, platform.NotFound("产品不存在", "unknown product")
	}
	return p, nil
}

// productField validates a product code and a unit for it.
func (s *Service) productAndUnit(ctx context.Context, v *platform.Validator, prefix, productCode, unit string) (Product, bool) {
	if !v.Require(prefix+"product_code", productCode) {
		return Product{}, false
	}
	p, err := s.Product(ctx, productCode)
	if err != nil {
		v.Add(prefix+"product_code", "unknown", "产品目录中没有“"+productCode+"”", "unknown product "+strconv.Quote(productCode))
		return Product{}, false
	}
	if unit == "" {
		return p, true
	}
	if !p.HasUnit(unit) {
		v.Add(prefix+"unit", "unit", "“"+p.Name+"”的计量单位只能是 "+strings.Join(p.UnitCodes(), " | "),
			"unit for "+p.NameEN+" must be one of "+strings.Join(p.UnitCodes(), " | "))
		return p, false
	}
	return p, true
}

// validateAttributes checks extension fields against the product schema and
// returns them normalized (lists as []string, numbers as float64, dates
// checked against today). Unknown keys are refused.
func validateAttributes(v *platform.Validator, prefix string, p Product, in map[string]any, today string) map[string]any {
	out := map[string]any{}
	known := map[string]Field{}
	for _, f := range p.Schema {
		known[f.Key] = f
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := known[k]; !ok {
			v.Add(prefix+k, "unknown", "“"+p.Name+"”没有此扩展字段", "is not a field of "+p.NameEN)
		}
	}
	for _, f := range p.Schema {
		name := prefix + f.Key
		raw, present := in[f.Key]
		if present && isBlank(raw) {
			present = false
		}
		if !present {
			if f.Required {
				v.Add(name, "required", "必填", "is required")
			}
			continue
		}
		var val any
		ok := true
		switch f.Type {
		case "text":
			val, ok = attrText(v, name, raw)
		case "number", "integer":
			val, ok = attrNumber(v, name, raw, f.Type == "integer")
		case "date":
			s, _ := raw.(string)
			s = strings.TrimSpace(s)
			val, ok = s, checkDate(v, name, s, today, "", "", "")
		case "enum":
			val, ok = attrEnum(v, name, raw, f)
		case "list":
			val, ok = attrList(v, name, raw, f)
		default:
			val = raw
		}
		if ok {
			out[f.Key] = val
		}
	}
	return out
}

// attrText checks a text field (at most 500 characters).
func attrText(v *platform.Validator, name string, raw any) (any, bool) {
	s, ok := raw.(string)
	if !ok {
		v.Add(name, "type", "应为文字", "must be text")
		return nil, false
	}
	s = strings.TrimSpace(s)
	return s, v.MaxLen(name, s, 500)
}

// attrNumber reads a number or integer field: a JSON number, or text that
// is a plain decimal (a minus sign allowed).
func attrNumber(v *platform.Validator, name string, raw any, integer bool) (any, bool) {
	var x float64
	switch t := raw.(type) {
	case float64:
		x = t
	case json.Number:
		x, _ = t.Float64()
	case int:
		x = float64(t)
	case int64:
		x = float64(t)
	case string:
		t = strings.TrimSpace(t)
		neg := strings.HasPrefix(t, "-")
		var ok bool
		if x, ok = ParseDecimal(strings.TrimPrefix(t, "-")); !ok {
			v.Add(name, "type", "应为数字", "must be a number")
			return nil, false
		}
		if neg {
			x = -x
		}
	default:
		v.Add(name, "type", "应为数字", "must be a number")
		return nil, false
	}
	if integer && x != float64(int64(x)) {
		v.Add(name, "type", "应为整数", "must be an integer")
		return nil, false
	}
	return x, true
}

// attrEnum checks an enum field against its options.
func attrEnum(v *platform.Validator, name string, raw any, f Field) (any, bool) {
	s, _ := raw.(string)
	var vals []string
	for _, o := range f.Options {
		if o.Value == s {
			return s, true
		}
		vals = append(vals, o.Value)
	}
	v.Add(name, "not_allowed", "取值无效，可选："+strings.Join(vals, " | "), "must be one of "+strings.Join(vals, " | "))
	return nil, false
}

// attrList reads a list field (text split on spaces and commas, or a JSON
// list of strings): at most 5000 items, no duplicates, ear tags checked
// and normalised when the field says so; each bad item is named.
func attrList(v *platform.Validator, name string, raw any, f Field) (any, bool) {
	var items []string
	switch t := raw.(type) {
	case string:
		items = splitList(t)
	case []any:
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				v.Add(name, "type", "应为文字列表", "must be a list of strings")
				return nil, false
			}
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
	case []string:
		items = t
	default:
		v.Add(name, "type", "应为文字列表", "must be a list of strings")
		return nil, false
	}
	if len(items) > 5000 {
		v.Add(name, "too_many", "最多 5000 项", "at most 5000 items")
		return nil, false
	}
	seen := map[string]bool{}
	var norm []string
	bad := false
	for i, it := range items {
		item := fmt.Sprintf("%s[%d]", name, i)
		if sp, ok := strings.CutPrefix(f.Check, "ear_tag:"); ok {
			tag, err := codes.ParseEarTag(it)
			if err != nil {
				fe := codeFieldError(name, err)
				v.Add(item, fe.Code, it+"："+fe.ZH, it+": "+fe.EN)
				bad = true
				continue
			}
			if strconv.Itoa(int(tag.Species)) != sp {
				v.Add(item, "species", it+"：耳标畜种与产品不符", it+": ear tag species does not match the product")
				bad = true
				continue
			}
			it = tag.Code
		}
		if seen[it] {
			v.Add(item, "duplicate", it+"：重复", it+": listed twice")
			bad = true
			continue
		}
		seen[it] = true
		norm = append(norm, it)
	}
	return norm, !bad && len(norm) > 0
}

func isBlank(x any) bool {
	switch t := x.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(t) == ""
	case []any:
		return len(t) == 0
	case []string:
		return len(t) == 0
	}
	return false
}

// splitList splits a typed list on commas, 、, semicolons and white space.
func splitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	})
	var out []string
	for _, x := range f {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// aliasesFromAttributes lists (scheme, value) pairs the schema registers as aliases.
func aliasesFromAttributes(p Product, attrs map[string]any) [][2]string {
	var out [][2]string
	for _, f := range p.Schema {
		if f.Alias == "" {
			continue
		}
		switch t := attrs[f.Key].(type) {
		case string:
			if t != "" {
				out = append(out, [2]string{f.Alias, normalizeAliasValue(f.Alias, t)})
			}
		case []string:
			for _, x := range t {
				out = append(out, [2]string{f.Alias, normalizeAliasValue(f.Alias, x)})
			}
		}
	}
	return out
}
