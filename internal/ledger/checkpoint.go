package ledger

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"time"

	"agtrace/internal/platform"
	"agtrace/internal/secure"
)

// Checkpoint is a signed statement of the log's size and root.
type Checkpoint struct {
	Size      uint64 `json:"size"`
	RootHash  string `json:"root_hash" doc:"lowercase hex"`
	Timestamp string `json:"timestamp" doc:"UTC, RFC 3339 with microseconds"`
	Algorithm string `json:"algorithm" doc:"sm3 | sha256"`
	Signature string `json:"signature" doc:"base64 of the ASN.1 DER SM2 signature over Text()"`
	KeyID     string `json:"key_id"`
}

// Text is what a checkpoint's signature covers: five lines, each ending in
// a newline — the format name, algorithm, size, root (hex), timestamp.
func (c Checkpoint) Text() []byte {
	return []byte("agtrace-checkpoint-v1\n" + c.Algorithm + "\n" + strconv.FormatUint(c.Size, 10) + "\n" + c.RootHash + "\n" + c.Timestamp + "\n")
}

// VerifyCheckpoint checks c's signature with the public key pubPEM.
func VerifyCheckpoint(c Checkpoint, pubPEM []byte) bool {
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	return err == nil && secure.Verify(pubPEM, c.Text(), sig)
}

// PublicKeyPEM is the key checkpoints are signed with.
func (s *Service) PublicKeyPEM() []byte { return s.signer.PublicKeyPEM() }

// MinCheckpointGap: a new checkpoint is signed on demand at most this
// often, so a write is covered by a checkpoint within about a second.
const MinCheckpointGap = time.Second

// Checkpoint returns the latest checkpoint, first signing a new one when
// the log has grown and the latest is at least MinCheckpointGap old.
func (s *Service) Checkpoint(ctx context.Context) (Checkpoint, error) {
	latest, err := s.latest(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Checkpoint{}, err
	}
	size, err := s.sync(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	fresh := latest.Timestamp != ""
	if fresh {
		at, _ := time.Parse(time.RFC3339Nano, latest.Timestamp)
		fresh = latest.Size == size || time.Since(at) < MinCheckpointGap
	}
	if fresh {
		return latest, nil
	}
	return s.sign(ctx, size)
}

// sign signs and stores a checkpoint of the first size leaves (a replica
// that signed the same size first wins; its checkpoint is returned).
func (s *Service) sign(ctx context.Context, size uint64) (Checkpoint, error) {
	root, err := s.tree.Root(size)
	if err != nil {
		return Checkpoint{}, err
	}
	c := Checkpoint{Size: size, RootHash: hex.EncodeToString(root[:]), Timestamp: timeText(time.Now()), Algorithm: s.hasher.Algorithm(), KeyID: s.keyID}
	sig, err := s.signer.Sign(c.Text())
	if err != nil {
		return Checkpoint{}, err
	}
	c.Signature = base64.StdEncoding.EncodeToString(sig)
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO ledger_checkpoints (size, root_hash, at, algorithm, signature, key_id) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (size) DO NOTHING`, int64(c.Size), c.RootHash, c.Timestamp, c.Algorithm, c.Signature, c.KeyID)
		return err
	})
	if err != nil {
		return Checkpoint{}, fmt.Errorf("ledger: store checkpoint: %w", err)
	}
	return s.checkpointOf(ctx, size)
}

const checkpointCols = `SELECT size, root_hash, at, algorithm, signature, key_id FROM ledger_checkpoints`

func scanCheckpoint(r interface{ Scan(...any) error }) (Checkpoint, error) {
	var c Checkpoint
	var size int64
	err := r.Scan(&size, &c.RootHash, &c.Timestamp, &c.Algorithm, &c.Signature, &c.KeyID)
	c.Size = uint64(size)
	return c, err
}

func (s *Service) latest(ctx context.Context) (Checkpoint, error) {
	return scanCheckpoint(s.db.QueryRow(ctx, checkpointCols+` ORDER BY size DESC LIMIT 1`))
}

func (s *Service) checkpointOf(ctx context.Context, size uint64) (Checkpoint, error) {
	return scanCheckpoint(s.db.QueryRow(ctx, checkpointCols+` WHERE size = $1`, int64(size)))
}

// Checkpoints lists every checkpoint kept, oldest first.
func (s *Service) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	rows, err := s.db.Query(ctx, checkpointCols+` ORDER BY size`)
	return platform.Collect(rows, err, func(r *sql.Rows) (Checkpoint, error) { return scanCheckpoint(r) })
}

func pemBody(p []byte) []byte {
	if b, _ := pem.Decode(p); b != nil {
		return b.Bytes
	}
	return p
}
