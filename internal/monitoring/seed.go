package monitoring

import "fmt"

// The curated residue limits shipped with the platform: the common tests
// of the five pilot products. Every value carries where it was read and
// how far it is confirmed (docs/research/residue-limits.md has the quoted
// evidence). None was read in an official standard PDF yet: before the
// platform judges real samples, an administrator checks each against the
// official text (GB 2763 on aqsc.agri.cn, GB 31650 and the announcements on
// moa.gov.cn) and corrects it on /admin/limits, which keeps the history.

// Standards and the dates their editions are in force.
const (
	gb2763      = "GB 2763"
	from2026    = "2026-03-01" // GB 2763-2026 (公告2026年第2号), replacing GB 2763-2021 and GB 2763.1-2022
	from2016    = "2017-06-18" // GB 2763-2016
	until2016   = "2021-09-02" // GB 2763-2021 in force from 2021-09-03
	srcPD2026   = "GB 2763-2026 %s, read in a third-party machine copy (github.com/Carol3306/Pesticidata, commit b4d9dc4) — check against the official text"
	from2021    = "2021-09-03" // GB 2763-2021 (with GB 2763.1-2022)
	until2021   = "2026-02-28" // GB 2763-2026 in force from 2026-03-01
	srcFoodvip  = "GB 2763-2021 + GB 2763.1-2022 as merged at http://2763.foodvip.net/pesticides/limit/68.html (row %q) — third-party database; the page's substance is inferred as glyphosate from its method standards (GB/T 23750, SN/T 1923) and its remaining rows, which match GB 2763-2026 表72"
	src2016List = "GB 2763-2016 tea list as republished at https://158119.com/news/1475974.html — superseded; secondary source"
	src250      = "农业农村部公告第250号 (2019-12-27) 食品动物中禁止使用的药品及其他化合物清单, as cited in official sampling reports (http://www.51pingpong.com/magarc/show.php?itemid=4395) — the list text itself not yet read"
	src235      = "农业部公告第235号 (superseded by 公告第250号): \"在动物性食品中不得检出\", http://www.wigglesandwaggles.com/news/company/484.html — secondary source"
)

// SeedSubstance is a substance shipped with the platform.
type SeedSubstance struct {
	Code, Name, NameEN, CAS, Kind string
	Synonyms                      []string
}

// SeedLimit is a limit shipped with the platform.
type SeedLimit struct {
	Substance, Food    string
	Value              float64
	Unit, Judgement    string
	Standard, Edition  string
	ValidFrom, ValidTo string
	Source             string
}

var seedSubstances = []SeedSubstance{
	{"chlorpyrifos", "毒死蜱", "chlorpyrifos", "2921-88-2", "pesticide", nil},
	{"imidacloprid", "吡虫啉", "imidacloprid", "138261-41-3", "pesticide", nil},
	{"acetamiprid", "啶虫脒", "acetamiprid", "", "pesticide", nil}, // two CAS numbers in the sources (135410-20-7, 160430-64-8)
	{"thiamethoxam", "噻虫嗪", "thiamethoxam", "153719-23-4", "pesticide", nil},
	{"clothianidin", "噻虫胺", "clothianidin", "210880-92-5", "pesticide", nil},
	{"carbofuran", "克百威", "carbofuran", "1563-66-2", "pesticide", []string{"呋喃丹"}},
	{"parathion_methyl", "甲基对硫磷", "parathion-methyl", "", "pesticide", nil},
	{"methomyl", "灭多威", "methomyl", "", "pesticide", nil},
	{"carbosulfan", "丁硫克百威", "carbosulfan", "", "pesticide", nil},
	{"imidaclothiz", "氯噻啉", "imidaclothiz", "", "pesticide", nil},
	{"flonicamid", "氟啶虫酰胺", "flonicamid", "", "pesticide", nil},
	{"fenpyroximate", "唑螨酯", "fenpyroximate", "", "pesticide", nil},
	{"clenbuterol", "克仑特罗", "clenbuterol", "", "banned", []string{"瘦肉精", "盐酸克仑特罗"}},
	{"ractopamine", "莱克多巴胺", "ractopamine", "97825-25-7", "banned", []string{"瘦肉精"}},
	{"salbutamol", "沙丁胺醇", "salbutamol", "", "banned", []string{"瘦肉精"}},
	{"chloramphenicol", "氯霉素", "chloramphenicol", "", "banned", nil},
	{"malachite_green", "孔雀石绿", "malachite green", "", "banned", nil},
	{"nitrofuran_aoz", "呋喃唑酮代谢物（AOZ）", "furazolidone metabolite (AOZ)", "", "banned", []string{"硝基呋喃代谢物"}},
	{"enro_cipro", "恩诺沙星+环丙沙星（以两者之和计）", "enrofloxacin + ciprofloxacin (sum)", "", "vet_drug", []string{"恩诺沙星", "环丙沙星"}},
	{"melamine", "三聚氰胺", "melamine", "", "contaminant", nil},
	{"aflatoxin_m1", "黄曲霉毒素M1", "aflatoxin M1", "", "contaminant", nil},
	{"protein", "蛋白质", "protein", "", "quality", nil},
	{"glyphosate", "草甘膦", "glyphosate", "1071-83-6", "pesticide", nil},
}

// tea is the made tea a GB 2763 tea limit applies to (fresh leaves are not 茶叶).
var tea = []string{"green_tea", "black_tea"}

func seedLimits() []SeedLimit {
	var out []SeedLimit
	pd := func(table string) string { return fmt.Sprintf(srcPD2026, table) }
	add := func(sub, food string, v float64, unit, judge, std, ed, from, to, src string) {
		out = append(out, SeedLimit{sub, food, v, unit, judge, std, ed, from, to, src})
	}
	// apple (pome fruit rows of GB 2763-2026 that name apple, or 仁果类水果)
	add("chlorpyrifos", "apple", 1, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表125"))
	add("imidacloprid", "apple", 0.5, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表48"))
	add("acetamiprid", "apple", 0.8, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表116"))
	add("thiamethoxam", "apple", 0.3, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表372"))
	add("clothianidin", "apple", 0.4, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表370 (仁果类水果, 梨除外)"))
	add("carbofuran", "apple", 0.02, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表263 (仁果类水果)"))
	add("carbofuran", "pear", 0.02, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表263 (仁果类水果)"))
	add("parathion_methyl", "apple", 0.01, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表235 (仁果类水果)"))
	add("methomyl", "apple", 0.2, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表341 (仁果类水果)"))
	// glyphosate: maize is a limit GB 2763-2026 changed (1 → 5 mg/kg; fresh
	// maize 1 → 3), the pair that shows judging by the edition in force on
	// the sampling date; 2026 also widened the maize residue definition to
	// glyphosate + N-acetyl-glyphosate, expressed as glyphosate
	add("glyphosate", "maize", 1, "mg/kg", JudgeMax, gb2763, "2021", from2021, until2021, fmt.Sprintf(srcFoodvip, "谷物:旱粮类:玉米 | 1"))
	add("glyphosate", "maize", 5, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("4.72, 表72 (玉米; 草甘膦与N-乙酰基草甘膦之和，以草甘膦表示)"))
	add("glyphosate", "apple", 0.5, "mg/kg", JudgeMax, gb2763, "2021", from2021, until2021, fmt.Sprintf(srcFoodvip, "水果:仁果类水果:苹果 | 0.5"))
	add("glyphosate", "apple", 0.5, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("4.72, 表72"))
	// tea (made tea)
	for _, t := range tea {
		add("chlorpyrifos", t, 2, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表125"))
		add("imidacloprid", t, 0.5, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表48"))
		add("acetamiprid", t, 10, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表116"))
		add("thiamethoxam", t, 10, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表372"))
		add("clothianidin", t, 10, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表370"))
		add("carbofuran", t, 0.02, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表263"))
		add("carbosulfan", t, 0.01, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表111"))
		add("methomyl", t, 0.2, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("表341"))
		add("imidaclothiz", t, 3, "mg/kg", JudgeMax, gb2763, "2026", from2026, "", pd("4.313"))
		add("flonicamid", t, 15, "mg/kg", JudgeMax, gb2763, "2026", from2026, "",
			"GB 2763-2026 (new limit), reported at https://www.163.com/dy/article/KNB4368R0514EAHV.html — secondary source")
		add("fenpyroximate", t, 8, "mg/kg", JudgeMax, gb2763, "2026", from2026, "",
			"GB 2763-2026 (new limit), reported at https://www.163.com/dy/article/KNB4368R0514EAHV.html — secondary source")
		// the superseded 2016 edition, for samples taken while it was in force
		add("carbofuran", t, 0.05, "mg/kg", JudgeMax, gb2763, "2016", from2016, until2016, src2016List)
		add("imidacloprid", t, 0.5, "mg/kg", JudgeMax, gb2763, "2016", from2016, until2016, src2016List)
		add("acetamiprid", t, 10, "mg/kg", JudgeMax, gb2763, "2016", from2016, until2016, src2016List)
	}
	// banned in food animals (no detection allowed): all animal-origin foods
	for _, food := range []string{"livestock", "fishery"} {
		for _, sub := range []string{"clenbuterol", "ractopamine", "salbutamol", "chloramphenicol", "malachite_green", "nitrofuran_aoz"} {
			src := src250
			if sub == "malachite_green" || sub == "clenbuterol" || sub == "salbutamol" {
				src = src250 + "; earlier " + src235
			}
			add(sub, food, 0, "μg/kg", JudgeNotDetected, "农业农村部公告第250号", "2019", "2019-12-27", "", src)
		}
	}
	add("enro_cipro", "fishery", 100, "μg/kg", JudgeMax, "GB 31650", "2019", "2020-04-01", "",
		"≤100 μg/kg (sum) in official sampling reports citing 农业部公告第235号/GB 31650 (http://www.goufenxiang.cn/news/aq/201711/4188.html) — the GB 31650-2019 fish row and GB 31650.1-2022 4.16 not yet read")
	add("melamine", "raw_milk", 2.5, "mg/kg", JudgeMax, "卫生部等五部门公告2011年第10号", "2011", "2011-04-20", "",
		"\"其他食品中三聚氰胺的限量值为2.5mg/kg\", http://www.zbchuanghe.com/2011/04/wap_179051.html — secondary source")
	add("aflatoxin_m1", "raw_milk", 0.5, "μg/kg", JudgeMax, "GB 2761", "2017", "2017-09-17", "",
		"500 ng/L stated as China's limit in https://www.chinajan.com/fileup/1006-267X/HTML/20181249.htm; the GB 2761-2017 row and its in-force date not yet read (only partly checked)")
	add("protein", "raw_milk", 2.8, "g/100g", JudgeMin, "GB 19301", "2010", "2010-12-01", "",
		"\"蛋白质含量从原来的2.95%下调至2.8%\", http://m.ganenjy.cn/news/shipinyanjiu/130536.html — the GB 19301-2010 table and its in-force date not yet read")
	return out
}
