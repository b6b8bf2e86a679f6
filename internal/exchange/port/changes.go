package port

import (
	"context"
	"encoding/json"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// The changes feed: every event (the outbox, whose id is the position)
// since a position, limited to what the caller may see. A client keeps
// `next` and asks again from there; an empty page with next unchanged
// means it is up to date.
//
// What a caller may see is decided by the event's resource, through the
// same policy table and scope helper as every list (changes.read):
// trace codes by their holder and, for a sale, its seller and buyer;
// operators by their region; transformations and findings by their
// operator's (and a finding's counterparty's) region; certificates by
// their issuer. Events of other resources (accounts, calendar, cases …)
// reach only actors whose scope is everything.

const (
	// DefaultChangesLimit and MaxChangesLimit bound a page of the feed.
	DefaultChangesLimit = 100
	MaxChangesLimit     = 1000
	// changesWindow is how many positions one request looks at: a client
	// whose reach is a small part of a busy outbox still gets an answer
	// at once (possibly empty, with next moved on).
	changesWindow = 5000
	// gapGrace: on PostgreSQL an outbox id can become visible after a
	// larger one (transactions commit out of order). The feed stops before
	// a missing id until the id after it is this old; an id still missing
	// then belongs to a rolled-back transaction.
	gapGrace = 2 * time.Minute
)

// Change is one event of the feed.
type Change struct {
	Seq          int64     `json:"seq"`
	At           time.Time `json:"at"`
	Topic        string    `json:"topic" doc:"the event's action, e.g. batch.create, transfer.confirm, operator.approve"`
	ResourceType string    `json:"resource_type"`
	ResourceID   string    `json:"resource_id"`
	RegionCode   string    `json:"region_code,omitempty" doc:"the region of the record the event is about, when it has one"`
	Data         any       `json:"data,omitempty" doc:"the event's detail (as in the audit log)"`
}

// Changes is a page of the feed.
type Changes struct {
	Items []Change `json:"items"`
	Next  int64    `json:"next" doc:"the position to ask from next time (after=next)"`
}

const changesJoins = ` FROM outbox o
	LEFT JOIN trace_codes tc ON o.resource_type = 'trace_code' AND tc.code = o.resource_id
	LEFT JOIN transfers tr ON o.resource_type = 'trace_code' AND tr.code = o.resource_id
	LEFT JOIN operators op ON o.resource_type = 'operator' AND op.id = CASE WHEN o.resource_type = 'operator' THEN CAST(o.resource_id AS BIGINT) END
	LEFT JOIN transformations tf ON o.resource_type = 'transformation' AND tf.id = CASE WHEN o.resource_type = 'transformation' THEN CAST(o.resource_id AS BIGINT) END
	LEFT JOIN operators tfo ON tfo.id = tf.operator_id
	LEFT JOIN findings f ON o.resource_type = 'finding' AND f.id = CASE WHEN o.resource_type = 'finding' THEN CAST(o.resource_id AS BIGINT) END
	LEFT JOIN certificates ce ON o.resource_type = 'certificate' AND ce.number = o.resource_id
	LEFT JOIN operators ceo ON ceo.id = ce.operator_id`

// changesColumns are the columns a change's reach is judged by.
var changesColumns = auth.Columns{
	Region:   []string{"tc.region_code", "tr.seller_region", "tr.buyer_region", "op.region_code", "tfo.region_code", "f.region_code", "f.region2", "ceo.region_code"},
	Operator: []string{"tc.operator_id", "tr.seller_operator_id", "tr.buyer_operator_id", "op.id", "tf.operator_id", "f.operator_id", "ce.operator_id"},
}

const changesRegion = `COALESCE(tc.region_code, op.region_code, tfo.region_code, f.region_code, ceo.region_code, '')`

var errAfter = platform.Invalid(platform.FieldError{Field: "after", Code: "format", ZH: "after 应为不小于 0 的整数", EN: "after must be an integer ≥ 0"})

// Changes returns the events after position after that actor may see, at
// most limit (default 100, at most 1000).
func (s *Service) Changes(ctx context.Context, actor *auth.Actor, after int64, limit int) (Changes, error) {
	sc := auth.ListScope(actor, auth.ActChangesRead)
	if err := sc.Err(actor, auth.ActChangesRead); err != nil {
		return Changes{}, err
	}
	if after < 0 {
		return Changes{}, errAfter
	}
	if limit <= 0 {
		limit = DefaultChangesLimit
	}
	limit = min(limit, MaxChangesLimit)
	w := auth.NewWhere(after, after+changesWindow)
	vis := w.ScopeCond(sc, changesColumns)
	if vis == "" {
		vis = "1 = 1"
	}
	rows, err := s.db.Query(ctx, `SELECT o.id, o.at, CASE WHEN `+vis+` THEN 1 ELSE 0 END`+changesJoins+`
		WHERE o.id > $1 AND o.id <= $2 ORDER BY o.id`, w.Args()...)
	type pos struct {
		id  int64
		at  time.Time
		vis int
	}
	list, err := platform.Collect(rows, err, func(r platform.Scanner) (pos, error) {
		var p pos
		return p, r.Scan(&p.id, &p.at, &p.vis)
	})
	if err != nil {
		return Changes{}, err
	}
	page := Changes{Items: []Change{}, Next: after}
	if len(list) == 0 {
		// nothing in the window: jump to just before the next event, if any
		// (pruned or rolled-back ids must not stall a client)
		var next *int64
		if err := s.db.QueryRow(ctx, `SELECT MIN(id) FROM outbox WHERE id > $1`, after).Scan(&next); err != nil {
			return Changes{}, err
		}
		if next != nil && *next > after+changesWindow {
			page.Next = *next - 1
		}
		return page, nil
	}
	var ids []int64
	expect, now := after+1, s.clock.Now()
	for _, p := range list {
		if p.id != expect && s.db.Dialect() == platform.Postgres && now.Sub(p.at) < gapGrace {
			break // an earlier id may still commit
		}
		expect = p.id + 1
		if p.vis == 1 {
			if len(ids) == limit {
				break
			}
			ids = append(ids, p.id)
		}
		page.Next = p.id
	}
	if len(ids) == 0 {
		return page, nil
	}
	if page.Items, err = s.changeRows(ctx, sc, ids[0], ids[len(ids)-1]); err != nil {
		return Changes{}, err
	}
	return page, nil
}

// changeRows reads the visible events with ids in [first, last], in id order.
func (s *Service) changeRows(ctx context.Context, sc auth.Scope, first, last int64) ([]Change, error) {
	w := auth.NewWhere(first, last)
	w.Add("o.id >= $1 AND o.id <= $2")
	w.Scope(sc, changesColumns)
	rows, err := s.db.Query(ctx, `SELECT o.id, o.at, o.topic, o.resource_type, o.resource_id, o.payload, `+changesRegion+changesJoins+
		w.SQL()+` ORDER BY o.id`, w.Args()...)
	return platform.Collect(rows, err, func(r platform.Scanner) (Change, error) {
		var c Change
		var payload string
		err := r.Scan(&c.Seq, &c.At, &c.Topic, &c.ResourceType, &c.ResourceID, &payload, &c.RegionCode)
		if payload != "" {
			_ = json.Unmarshal([]byte(payload), &c.Data)
		}
		return c, err
	})
}
