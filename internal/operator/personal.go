package operator

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"sync"

	"agtrace/internal/codes"
	"agtrace/internal/secure"
)

// The matching key is a random 32-byte secret kept in platform_secrets,
// sealed with the data key (SM4-GCM). Personal numbers are matched through
// SM3(key ‖ purpose ‖ normalized number): without the data key nobody can
// confirm a guessed ID number against the hashes in the database.
const matchKeyName = "operator.match_key"

var matchKeyMu sync.Mutex

func (s *Service) matchKey(ctx context.Context) ([]byte, error) {
	matchKeyMu.Lock()
	defer matchKeyMu.Unlock()
	read := func() ([]byte, error) {
		var enc string
		err := s.db.QueryRow(ctx, `SELECT value_enc FROM platform_secrets WHERE name = $1`, matchKeyName).Scan(&enc)
		if err != nil {
			return nil, err
		}
		plain, err := secure.DecryptString(s.cipher, enc, "platform_secrets."+matchKeyName)
		if err != nil {
			return nil, err
		}
		return hex.DecodeString(plain)
	}
	k, err := read()
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	enc, err := secure.EncryptString(s.cipher, hex.EncodeToString(raw), "platform_secrets."+matchKeyName)
	if err != nil {
		return nil, err
	}
	// Another replica may win the race; the row that is stored is the key.
	if _, err := s.db.Exec(ctx, `INSERT INTO platform_secrets (name, value_enc) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, matchKeyName, enc); err != nil {
		return nil, err
	}
	return read()
}

// keyedHash is the matching hash of a normalized personal number.
func (s *Service) keyedHash(ctx context.Context, purpose, normalized string) (string, error) {
	if normalized == "" {
		return "", nil
	}
	k, err := s.matchKey(ctx)
	if err != nil {
		return "", err
	}
	buf := make([]byte, 0, len(k)+len(purpose)+len(normalized)+2)
	buf = append(buf, k...)
	buf = append(buf, purpose...)
	buf = append(buf, 0)
	buf = append(buf, normalized...)
	return secure.SM3Hex(buf), nil
}

// sealed is a personal number in its three stored forms.
type sealed struct {
	Enc    string `json:"enc,omitempty"`
	Hash   string `json:"hash,omitempty"`
	Masked string `json:"masked,omitempty"`
}

// NormalizeIDNumber is the canonical form of a resident ID number (upper-case X, no spaces).
func NormalizeIDNumber(s string) string { return strings.ToUpper(codes.NormalizeCode(s)) }

// NormalizePhone keeps the digits (and a leading +).
func NormalizePhone(s string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		if (r >= '0' && r <= '9') || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (s *Service) sealIDNumber(ctx context.Context, raw string) (sealed, error) {
	return s.sealIDNumberAs(ctx, raw, adIDNumber)
}

// sealIDNumberAs seals an ID number bound to the column named by ad.
func (s *Service) sealIDNumberAs(ctx context.Context, raw, ad string) (sealed, error) {
	n := NormalizeIDNumber(raw)
	if n == "" {
		return sealed{}, nil
	}
	enc, err := secure.EncryptString(s.cipher, n, ad)
	if err != nil {
		return sealed{}, err
	}
	h, err := s.keyedHash(ctx, "id_number", n)
	if err != nil {
		return sealed{}, err
	}
	return sealed{Enc: enc, Hash: h, Masked: secure.MaskIDNumber(n)}, nil
}

func (s *Service) sealPhone(ctx context.Context, raw string) (sealed, error) {
	return s.sealPhoneAs(ctx, raw, adPhone)
}

// sealPhoneAs seals a phone number bound to the column named by ad.
func (s *Service) sealPhoneAs(ctx context.Context, raw, ad string) (sealed, error) {
	n := NormalizePhone(raw)
	if n == "" {
		return sealed{}, nil
	}
	enc, err := secure.EncryptString(s.cipher, n, ad)
	if err != nil {
		return sealed{}, err
	}
	h, err := s.keyedHash(ctx, "phone", n)
	if err != nil {
		return sealed{}, err
	}
	return sealed{Enc: enc, Hash: h, Masked: secure.MaskPhone(n)}, nil
}

// IDNumberHash is the keyed matching hash of an ID number (for other services that match people).
func (s *Service) IDNumberHash(ctx context.Context, raw string) (string, error) {
	return s.keyedHash(ctx, "id_number", NormalizeIDNumber(raw))
}
