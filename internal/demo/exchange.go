package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/exchange"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// demoNode is the province node the demo plays: a 成都 district platform
// whose records reach this database the way they reach the national node.
const demoNode = "p51-chengdu"

// exchangeStep feeds three messages of that node through the exchange's
// apply path (exchange.Node.Receive, the national node's own code): a
// Chengdu fruit wholesaler (an operator), its batch of apples bought from
// 栖霞 — which names the 栖霞 orchard's code, so the demo's apple chain
// continues across provinces (a trace of the orchard batch reaches
// Chengdu) — and its sale to a buyer this node does not know yet, which is
// parked with its reason on /admin/exchange (retrying it answers what is
// still missing). Applying a message twice changes nothing, so the step is
// idempotent.
func exchangeStep(ctx context.Context, l *Loader) error {
	node, t := l.App.Node, l.App.Trace
	if node == nil || t == nil {
		return nil
	}
	list, err := t.ListBatches(ctx, auth.System(), trace.BatchFilter{Q: "寺口镇 3 号果园", Region: "370686", Limit: 5})
	if err != nil {
		return err
	}
	var upstream string
	for _, b := range list {
		if b.Type == trace.TypeProduction {
			upstream = b.TraceCode
		}
	}
	if upstream == "" {
		return nil // the apple chain is not there (a partial demo)
	}
	now := l.App.Clock.Now().UTC().Truncate(time.Second)
	msgs, err := demoMessages(upstream, now)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		body, err := json.Marshal(m)
		if err != nil {
			return err
		}
		if _, err := node.Receive(ctx, demoNode, body); err != nil {
			return fmt.Errorf("demo exchange message %d: %w", m.Seq, err)
		}
	}
	return nil
}

// demoMessages are the Chengdu node's messages: the wholesaler, its batch
// (300 kg of 栖霞 apples, provincial alias = the orchard's code) and its
// sale to an unknown buyer.
func demoMessages(upstream string, now time.Time) ([]exchange.Message, error) {
	const county = "510112" // 成都市龙泉驿区
	seller, err := codes.NewOperatorCode(codes.Trader, county, 880001)
	if err != nil {
		return nil, err
	}
	buyer, _ := codes.NewOperatorCode(codes.Trader, county, 880002)
	batch, err := codes.NewTraceCode(codes.Production, county, 880001)
	if err != nil {
		return nil, err
	}
	sold, _ := codes.NewTraceCode(codes.Circulation, county, 880002)
	day := now.In(platform.ChinaTZ).AddDate(0, 0, -2).Format(time.DateOnly)
	approved := now.Add(-72 * time.Hour)
	op := exchange.OperatorRec{Code: seller, Name: "成都龙泉驿鲜果批发有限公司", Kind: "enterprise", Category: "trader",
		LegalRep: "周建国", PhoneMasked: "138****2046", RegionCode: county, CountyCode: county, Address: "龙泉驿区成龙大道二段 1666 号（农产品批发市场 B 区）",
		Products: `["苹果","梨","柑橘"]`, Certifications: "[]", Status: "approved", ApprovedAt: &approved, CreatedAt: approved, UpdatedAt: approved}
	code := exchange.CodeRec{Code: batch, Type: 1, OperatorCode: seller, RegionCode: county, ProductCode: "apple", Unit: "kg", QuantityMilli: 300_000,
		ProducedOn: day, Origin: "山东栖霞（外省调入）", Attributes: "{}", Source: trace.SourceRecord, CreatedAt: now,
		Moves:   []exchange.MoveRec{{DeltaMilli: 300_000, Kind: "produce", OnDate: day, At: now}},
		Aliases: []exchange.AliasRec{{Scheme: "provincial", Value: upstream, CreatedAt: now}}}
	sale := code
	sale.Code, sale.Type, sale.OperatorCode, sale.QuantityMilli, sale.Source, sale.ParentCode = sold, 2, buyer, 100_000, "transfer", batch
	sale.Moves, sale.Aliases = nil, nil
	sale.EdgesIn = []exchange.EdgeRec{{From: batch, Kind: "transfer", QuantityMilli: 100_000}}
	sale.Transfer = &exchange.TransferRec{FromCode: batch, Kind: "operator", SellerCode: seller, SellerRegion: county, BuyerCode: buyer, BuyerRegion: county,
		QuantityMilli: 100_000, Unit: "kg", ShippedOn: day, Status: "pending", CreatedAt: now}
	msg := func(seq int64, topic, typ, id string, r exchange.Records) exchange.Message {
		return exchange.Message{V: exchange.FormatVersion, Node: demoNode, Seq: seq, At: now, Topic: topic, ResourceType: typ, ResourceID: id, Records: &r}
	}
	return []exchange.Message{
		msg(1, "operator.approve", "operator", "1", exchange.Records{Operators: []exchange.OperatorRec{op}}),
		msg(2, "batch.create", "trace_code", batch, exchange.Records{Operators: []exchange.OperatorRec{op}, Codes: []exchange.CodeRec{code}}),
		// the buyer's own record is missing: refused, parked
		msg(3, "transfer.create", "trace_code", sold, exchange.Records{Operators: []exchange.OperatorRec{op}, Codes: []exchange.CodeRec{code, sale}}),
	}, nil
}
