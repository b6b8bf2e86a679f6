package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"agtrace/internal/platform"
)

// Integration clients (issue 13, item 6; docs/security.md, "Integration
// clients"): an external system (a provincial platform, a slaughterhouse
// ERP, a market system) holds an integration account and its tokens. Each
// token has a rate limit the administrator sets, may push records as an
// approved operator of its region (OnBehalf, action integration.push), and
// every request it makes is logged (CallLog).

// ClientRate is a token's rate limit: PerMinute requests a minute sustained,
// Burst at once.
type ClientRate struct {
	PerMinute int `json:"per_minute"`
	Burst     int `json:"burst"`
}

// DefaultClientRate applies to tokens whose rate was not set.
var DefaultClientRate = ClientRate{PerMinute: 600, Burst: 60}

// Bounds of a rate an administrator sets.
const (
	MaxClientPerMinute = 60000
	MaxClientBurst     = 10000
)

// OrDefault is r, or DefaultClientRate when r is not set; a burst not set
// is a tenth of the minute (at least 1).
func (r ClientRate) OrDefault() ClientRate {
	if r.PerMinute <= 0 {
		return DefaultClientRate
	}
	if r.Burst <= 0 {
		r.Burst = max(1, r.PerMinute/10)
	}
	return r
}

func checkRate(v *platform.Validator, r ClientRate) {
	v.Check(r.PerMinute >= 0 && r.PerMinute <= MaxClientPerMinute, "rate_per_minute", "range",
		fmt.Sprintf("每分钟请求数应为 1–%d（0 为默认值）", MaxClientPerMinute), fmt.Sprintf("must be between 1 and %d (0: the default)", MaxClientPerMinute))
	v.Check(r.Burst >= 0 && r.Burst <= MaxClientBurst, "rate_burst", "range",
		fmt.Sprintf("突发请求数应为 1–%d（0 为每分钟的十分之一）", MaxClientBurst), fmt.Sprintf("must be between 1 and %d (0: a tenth of the minute)", MaxClientBurst))
	v.Check(r.Burst == 0 || r.PerMinute > 0, "rate_per_minute", "required", "设置突发数时须同时设置每分钟请求数", "set requests a minute with the burst")
}

// TokenRequest is what an administrator gives to issue a client's token.
type TokenRequest struct {
	Name      string
	Scopes    []string
	ValidDays int
	Rate      ClientRate // zero: DefaultClientRate
}

// OnBehalf is the actor a pushed or imported record is written as: the
// record's operator (role operator with every staff permission) in its
// region, identified as the integration account or importer by (its account
// is the one the audit names). Build it only after by's own right to act
// for that operator's region was checked (integration.push, exchange.import).
func OnBehalf(by *Actor, operatorID int64, region string) *Actor {
	return &Actor{UserID: by.UserID, Username: by.Username, Name: by.Name, Role: RoleOperator,
		Region: region, OperatorID: operatorID, Permissions: StaffPerms}
}

// SetTokenRate sets one integration token's rate limit (administrators);
// a zero rate goes back to the default. Replicas apply it at the token's
// next request.
func (s *Service) SetTokenRate(ctx context.Context, actor *Actor, id string, rate ClientRate) (Token, error) {
	if err := Authorize(actor, ActTokenManage, Resource{}); err != nil {
		return Token{}, err
	}
	var v platform.Validator
	checkRate(&v, rate)
	if err := v.Err(); err != nil {
		return Token{}, err
	}
	id = strings.ToLower(strings.TrimSpace(id))
	if !validTokenID(id) {
		return Token{}, errTokenNotFound
	}
	var out Token
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+tokenColumns+`
			FROM sessions WHERE token_hash >= $1 AND token_hash < $2 AND kind = $3 LIMIT 2`, id, id+"g", sessionKindIntegration)
		var found []Token
		var hash string
		found, err = platform.Collect(rows, err, func(r platform.Scanner) (Token, error) {
			t, h, err := scanToken(r, tx.Now())
			hash = h
			return t, err
		})
		if err != nil {
			return err
		}
		if len(found) != 1 {
			return errTokenNotFound
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET rate_per_minute = $1, rate_burst = $2 WHERE token_hash = $3`,
			rate.PerMinute, rate.Burst, hash); err != nil {
			return err
		}
		out = found[0]
		out.Rate, out.RateSet = rate.OrDefault(), rate.PerMinute > 0
		return tx.Emit(ctx, platform.Event{Action: "token.rate", ResourceType: "user", ResourceID: fmt.Sprint(out.UserID),
			Data: map[string]any{"token_id": out.ID, "name": out.Name, "rate_per_minute": out.Rate.PerMinute, "rate_burst": out.Rate.Burst, "default": !out.RateSet}})
	})
	return out, err
}

// Call is one request of an integration token, as logged.
type Call struct {
	ID       int64     `json:"id"`
	UserID   int64     `json:"user_id"`
	TokenID  string    `json:"token_id"`
	At       time.Time `json:"at"`
	Method   string    `json:"method"`
	Route    string    `json:"route" doc:"the route pattern, e.g. /api/v1/batches/{code}"`
	Status   int       `json:"status"`
	Rows     int       `json:"rows" doc:"items a list answered; -1 when the answer is not a list"`
	Operator string    `json:"operator_code,omitempty" doc:"the operator a push acted for (Agtrace-Operator)"`
	Ms       int       `json:"ms"`
}

// RouteCount is how often a client called one route on one day (China time).
type RouteCount struct {
	Day    string `json:"day"`
	Method string `json:"method"`
	Route  string `json:"route"`
	Calls  int    `json:"calls"`
	Errors int    `json:"errors" doc:"answers with status 400 or above"`
}

// Call log bounds: calls kept in memory before the oldest unwritten are
// dropped (a database outage must not grow memory without end), calls
// kept in the database.
const (
	callBufferMax = 100_000
	CallKeep      = 90 * 24 * time.Hour
	callFlushRows = 500
)

// callBuffer holds the calls not yet written.
type callBuffer struct {
	mu      sync.Mutex
	pending []Call
	dropped int
	pruned  time.Time
	flushMu sync.Mutex // one flush at a time
}

// LogCall records one request of an integration token. It never blocks on
// the database: calls are written by FlushCalls (every second when
// serving, and before the log is read).
func (s *Service) LogCall(c Call) {
	b := s.calls
	b.mu.Lock()
	if len(b.pending) >= callBufferMax {
		b.pending, b.dropped = b.pending[1:], b.dropped+1
	}
	b.pending = append(b.pending, c)
	b.mu.Unlock()
}

// FlushCalls writes the buffered calls, in transactions of at most 500
// rows, and once an hour deletes calls older than CallKeep. Calls a failed
// write did not store are kept for the next flush.
func (s *Service) FlushCalls(ctx context.Context) error {
	b := s.calls
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	for {
		b.mu.Lock()
		n := min(len(b.pending), callFlushRows)
		batch := append([]Call(nil), b.pending[:n]...)
		dropped := b.dropped
		b.mu.Unlock()
		if n == 0 {
			break
		}
		err := s.db.InTx(ctx, func(tx *platform.Tx) error {
			for _, c := range batch {
				if _, err := tx.Exec(ctx, `INSERT INTO integration_calls (user_id, token_id, at, day, method, route, status, rows_out, operator_code, ms)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
					c.UserID, c.TokenID, c.At, platform.Today(c.At), c.Method, c.Route, c.Status, c.Rows, c.Operator, c.Ms); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		b.mu.Lock()
		// the buffer only grows at its end, except when it overflowed:
		// what overflowed since we copied was dropped from the front
		skip := min(n-min(n, b.dropped-dropped), len(b.pending))
		b.pending = b.pending[skip:]
		b.mu.Unlock()
	}
	now := s.clock.Now()
	if now.Sub(b.pruned) > time.Hour {
		if _, err := s.db.Exec(ctx, `DELETE FROM integration_calls WHERE at < $1`, now.Add(-CallKeep)); err != nil {
			return err
		}
		b.pruned = now
	}
	return nil
}

// authorizeClient lets administrators read any integration account's log,
// and an integration account its own.
func (s *Service) authorizeClient(ctx context.Context, actor *Actor, userID int64) error {
	if err := authorizeTokens(actor, userID); err != nil {
		return err
	}
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	if u.Role != RoleIntegration {
		return platform.NotFound("不是接口账号", "not an integration account")
	}
	return nil
}

// Calls lists an integration account's latest calls, newest first (at most
// limit, 1–1000; default 100), after writing those still buffered here.
func (s *Service) Calls(ctx context.Context, actor *Actor, userID int64, limit int) ([]Call, error) {
	if err := s.authorizeClient(ctx, actor, userID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	if err := s.FlushCalls(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, user_id, token_id, at, method, route, status, rows_out, operator_code, ms
		FROM integration_calls WHERE user_id = $1 ORDER BY id DESC LIMIT $2`, userID, limit)
	return platform.Collect(rows, err, func(r platform.Scanner) (Call, error) {
		var c Call
		err := r.Scan(&c.ID, &c.UserID, &c.TokenID, &c.At, &c.Method, &c.Route, &c.Status, &c.Rows, &c.Operator, &c.Ms)
		return c, err
	})
}

// CallCounts counts an integration account's calls per day (China time) and
// route over the last days days (1–90; default 14), newest day first.
func (s *Service) CallCounts(ctx context.Context, actor *Actor, userID int64, days int) ([]RouteCount, error) {
	if err := s.authorizeClient(ctx, actor, userID); err != nil {
		return nil, err
	}
	if days <= 0 || days > 90 {
		days = 14
	}
	if err := s.FlushCalls(ctx); err != nil {
		return nil, err
	}
	from := platform.Today(s.clock.Now().Add(-time.Duration(days-1) * 24 * time.Hour))
	rows, err := s.db.Query(ctx, `SELECT day, method, route, COUNT(*), SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END)
		FROM integration_calls WHERE user_id = $1 AND day >= $2
		GROUP BY day, method, route ORDER BY day DESC, COUNT(*) DESC, route, method`, userID, from)
	return platform.Collect(rows, err, func(r platform.Scanner) (RouteCount, error) {
		var c RouteCount
		err := r.Scan(&c.Day, &c.Method, &c.Route, &c.Calls, &c.Errors)
		return c, err
	})
}

// IntegrationScopes lists the actions a token of an integration account may
// be limited to, sorted.
func IntegrationScopes() []Action {
	out := make([]Action, 0, len(policy[RoleIntegration]))
	for act := range policy[RoleIntegration] {
		out = append(out, act)
	}
	slices.Sort(out)
	return out
}
