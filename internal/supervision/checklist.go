package supervision

import (
	"context"
	"slices"
	"strings"

	"agtrace/internal/operator"
)

// CheckItem is one line of an inspection checklist.
type CheckItem struct {
	Key string `json:"key"`
	ZH  string `json:"zh"`
	EN  string `json:"en"`
}

// The checklist items (annex art. 12–14 and 17, what an inspector looks at).
var (
	itemRecords     = CheckItem{"records", "生产经营记录完整、真实", "records complete and truthful"}
	itemLabels      = CheckItem{"labels", "规范使用追溯标签和承诺达标合格证", "labels and certificates used as required"}
	itemInputs      = CheckItem{"inputs", "投入品规范存放并如实记录", "inputs stored and recorded"}
	itemBanned      = CheckItem{"banned", "未使用禁限用投入品", "no banned inputs"}
	itemIntervals   = CheckItem{"intervals", "遵守安全间隔期、休药期", "safety intervals and withdrawal periods respected"}
	itemStock       = CheckItem{"stock", "库存与平台记录相符", "stock matches the records"}
	itemAgreement   = CheckItem{"agreement", "已签订追溯管理协议", "traceability agreement signed"}
	itemLedger      = CheckItem{"ledger", "购销台账与扫码交易一致", "purchase and sales ledger matches scanned trades"}
	itemEarTags     = CheckItem{"ear_tags", "畜禽标识（耳标）佩戴规范", "animal identification (ear tags) worn"}
	itemQuarantine  = CheckItem{"quarantine", "检疫证明、肉品品质检验合格证齐全", "quarantine and meat-quality certificates present"}
	itemBetaAgonist = CheckItem{"beta_agonist", "按批开展“瘦肉精”检测并记录", "β-agonist (clenbuterol) tests done and recorded per batch"}
	itemPond        = CheckItem{"pond", "养殖用药记录与塘口对应", "fishery-drug records match the ponds"}
)

// checklistItems lists every item by key (to validate and to name them).
var checklistItems = []CheckItem{itemRecords, itemLabels, itemInputs, itemBanned, itemIntervals, itemStock, itemAgreement,
	itemLedger, itemEarTags, itemQuarantine, itemBetaAgonist, itemPond}

// ItemName is an item's words in the language ("" for an unknown key).
func ItemName(key, lang string) string {
	for _, it := range checklistItems {
		if it.Key == key {
			if lang == "en" {
				return it.EN
			}
			return it.ZH
		}
	}
	return ""
}

// Checklist is what an inspector checks at this operator: the common items,
// then those of its kind (a slaughterhouse's quarantine and β-agonist tests),
// its trade (a trader keeps a ledger, it applies no inputs) and the sectors
// of its registered products (ear tags for livestock, ponds for fishery).
func (s *Service) Checklist(ctx context.Context, o operator.Operator) []CheckItem {
	sectors := s.sectors(ctx, o.Products)
	trader := o.Category == operator.CategoryTrader
	out := []CheckItem{itemRecords, itemLabels}
	if !trader {
		out = append(out, itemInputs, itemBanned, itemIntervals)
	}
	out = append(out, itemStock)
	if trader || o.Category == operator.CategoryProducerTrader {
		out = append(out, itemLedger)
	}
	if o.Kind == operator.KindSlaughterhouse {
		out = append(out, itemQuarantine, itemBetaAgonist)
	} else if sectors["livestock"] && !trader {
		out = append(out, itemEarTags)
	}
	if sectors["fishery"] && !trader {
		out = append(out, itemPond)
	}
	return append(out, itemAgreement)
}

// sectors are the top-level catalogue categories (planting, livestock,
// fishery) of an operator's registered products, matched by code or name.
func (s *Service) sectors(ctx context.Context, products []string) map[string]bool {
	out := map[string]bool{}
	all, err := s.tr.Products(ctx)
	if err != nil {
		return out
	}
	for _, want := range products {
		for _, p := range all {
			if p.Code == want || p.Name == want || strings.Contains(want, p.Name) {
				top, _, _ := strings.Cut(p.CategoryCode, "/")
				out[top] = true
			}
		}
	}
	return out
}

func itemKeys(items []CheckItem) []string {
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	return keys
}

func hasItem(items []CheckItem, key string) bool { return slices.Contains(itemKeys(items), key) }
