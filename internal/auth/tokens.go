package auth

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"agtrace/internal/platform"
)

// Token states as listed.
const (
	TokenActive  = "active"
	TokenRevoked = "revoked"
	TokenExpired = "expired"
)

// sessionKindIntegration is the sessions.kind of integration tokens.
const sessionKindIntegration = "integration"

// tokenIDLen is the length of a token id: the first hex digits of the
// token's SHA-256 (never the token itself, from which it cannot be derived
// back).
const tokenIDLen = 16

// Token is an integration token as listed: never the token itself.
type Token struct {
	ID         string     `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty" doc:"to the minute; absent if never used"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	Status     string     `json:"status" doc:"active | revoked | expired"`
	Rate       ClientRate `json:"rate" doc:"requests a minute and burst the token may make (the default when not set)"`
	RateSet    bool       `json:"rate_set" doc:"false: the rate is the default (600 a minute, burst 60)"`
}

func tokenID(hash string) string { return hash[:tokenIDLen] }

var errTokenNotFound = platform.NotFound("令牌不存在", "token not found")

// authorizeTokens lets the administrators (token.manage) and the token's
// own account (token.self) see and revoke the tokens of owner; anyone else
// is told they do not exist.
func authorizeTokens(actor *Actor, owner int64) error {
	if err := Authorize(actor, ActTokenManage, Resource{UserID: owner}); err == nil || actor == nil {
		return err
	}
	if owner == actor.UserID && Authorize(actor, ActTokenSelf, Resource{UserID: owner}) == nil {
		return nil
	}
	return errTokenNotFound
}

// ListTokens lists the integration tokens of an account, newest first,
// with their labels, scopes and dates.
func (s *Service) ListTokens(ctx context.Context, actor *Actor, userID int64) ([]Token, error) {
	if err := authorizeTokens(actor, userID); err != nil {
		return nil, err
	}
	if _, err := s.GetUser(ctx, userID); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+tokenColumns+`
		FROM sessions WHERE user_id = $1 AND kind = $2 ORDER BY created_at DESC, token_hash LIMIT 1000`, userID, sessionKindIntegration)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	now := s.clock.Now()
	out := []Token{}
	for rows.Next() {
		t, _, err := scanToken(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

type rowScanner interface{ Scan(dest ...any) error }

// tokenColumns are what scanToken reads, in its order.
const tokenColumns = `token_hash, user_id, name, scopes, created_at, expires_at, last_seen_at, revoked_at, rate_per_minute, rate_burst`

// scanToken reads a sessions row as a Token, and its hash.
func scanToken(r rowScanner, now time.Time) (Token, string, error) {
	var (
		t        Token
		hash     string
		scopes   string
		lastSeen time.Time
		revoked  sql.NullTime
	)
	if err := r.Scan(&hash, &t.UserID, &t.Name, &scopes, &t.CreatedAt, &t.ExpiresAt, &lastSeen, &revoked, &t.Rate.PerMinute, &t.Rate.Burst); err != nil {
		return Token{}, "", err
	}
	t.RateSet = t.Rate.PerMinute > 0
	t.Rate = t.Rate.OrDefault()
	t.ID, t.Scopes = tokenID(hash), []string{}
	if scopes != "" {
		t.Scopes = strings.Split(scopes, ",")
	}
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	if lastSeen.After(t.CreatedAt) {
		lu := lastSeen.UTC()
		t.LastUsedAt = &lu
	}
	switch {
	case revoked.Valid:
		ra := revoked.Time.UTC()
		t.RevokedAt, t.Status = &ra, TokenRevoked
	case !t.ExpiresAt.After(now):
		t.Status = TokenExpired
	default:
		t.Status = TokenActive
	}
	return t, hash, nil
}

// validTokenID reports whether id has the form of a token id.
func validTokenID(id string) bool {
	if len(id) != tokenIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// RevokeToken revokes one integration token by its id. Revoking a revoked
// token again changes nothing.
func (s *Service) RevokeToken(ctx context.Context, actor *Actor, id string) error {
	if actor == nil {
		return Authorize(nil, ActTokenManage, Resource{})
	}
	id = strings.ToLower(strings.TrimSpace(id))
	if !validTokenID(id) {
		return errTokenNotFound
	}
	return s.db.InTx(ctx, func(tx *platform.Tx) error {
		// the id is a prefix of the hash: an index range on the primary key
		rows, err := tx.Query(ctx, `SELECT `+tokenColumns+`
			FROM sessions WHERE token_hash >= $1 AND token_hash < $2 AND kind = $3 LIMIT 2`, id, id+"g", sessionKindIntegration)
		if err != nil {
			return err
		}
		var found []Token
		var hash string
		for rows.Next() {
			t, h, err := scanToken(rows, tx.Now())
			if err != nil {
				rows.Close()
				return err
			}
			found, hash = append(found, t), h
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(found) != 1 {
			return errTokenNotFound
		}
		t := found[0]
		if err := authorizeTokens(actor, t.UserID); err != nil {
			return err
		}
		if t.RevokedAt != nil {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL`, tx.Now(), hash); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "token.revoke", ResourceType: "user", ResourceID: fmt.Sprint(t.UserID),
			Data: map[string]any{"token_id": t.ID, "name": t.Name}})
	})
}
