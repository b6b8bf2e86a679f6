package ledger

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"

	"agtrace/internal/platform"
)

// Proof is an inclusion proof of one leaf in the tree of Size leaves.
type Proof struct {
	LeafIndex uint64   `json:"leaf_index"`
	Leaf      string   `json:"leaf" doc:"the leaf's canonical JSON (hash it as H(0x00 ‖ leaf))"`
	LeafHash  string   `json:"leaf_hash"`
	Size      uint64   `json:"size"`
	RootHash  string   `json:"root_hash"`
	Proof     []string `json:"proof" doc:"the audit path, RFC 6962 §2.1.1, lowercase hex"`
}

// Consistency proves the tree of To leaves extends the tree of From leaves.
type Consistency struct {
	From     uint64   `json:"from"`
	To       uint64   `json:"to"`
	FromRoot string   `json:"from_root"`
	ToRoot   string   `json:"to_root"`
	Proof    []string `json:"proof" doc:"RFC 6962 §2.1.2, lowercase hex"`
}

func hexes(ds []Digest) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = hex.EncodeToString(d[:])
	}
	return out
}

func invalid(field, zh, en string) error {
	return platform.Invalid(platform.FieldError{Field: field, Code: "range", ZH: zh, EN: en})
}

// Proof proves leaf is in the tree of size leaves (size 0: the latest
// checkpoint's).
func (s *Service) Proof(ctx context.Context, leaf, size uint64) (Proof, error) {
	if size == 0 {
		c, err := s.Checkpoint(ctx)
		if err != nil {
			return Proof{}, err
		}
		size = c.Size
	}
	have, err := s.sync(ctx)
	if err != nil {
		return Proof{}, err
	}
	if size > have {
		return Proof{}, invalid("size", "账本尚无这么多条记录", "the log is not that large")
	}
	if leaf >= size {
		return Proof{}, invalid("leaf", "记录序号应小于树的大小", "leaf must be below size")
	}
	return s.proof(ctx, leaf, size)
}

func (s *Service) proof(ctx context.Context, leaf, size uint64) (Proof, error) {
	rows, err := s.db.Query(ctx, `SELECT seq, kind, subject, at, digest FROM ledger_leaves WHERE seq = $1`, int64(leaf))
	ls, err := platform.Collect(rows, err, scanLeaf)
	if err != nil {
		return Proof{}, err
	}
	if len(ls) == 0 {
		return Proof{}, errNotFound
	}
	path, err := s.tree.InclusionProof(leaf, size)
	if err != nil {
		return Proof{}, err
	}
	root, _ := s.tree.Root(size)
	lh, _ := s.tree.LeafHash(leaf)
	return Proof{LeafIndex: leaf, Leaf: string(ls[0].Bytes()), LeafHash: hex.EncodeToString(lh[:]), Size: size,
		RootHash: hex.EncodeToString(root[:]), Proof: hexes(path)}, nil
}

// MaxSubjectProofs bounds the proofs returned for one subject.
const MaxSubjectProofs = 200

// SubjectProofs proves every leaf about subject (e.g. trace_code:<code>)
// against the latest checkpoint, oldest first.
func (s *Service) SubjectProofs(ctx context.Context, subject string) ([]Proof, Checkpoint, error) {
	c, err := s.Checkpoint(ctx)
	if err != nil {
		return nil, Checkpoint{}, err
	}
	rows, err := s.db.Query(ctx, `SELECT seq FROM ledger_leaves WHERE subject = $1 AND seq < $2 ORDER BY seq LIMIT $3`, subject, int64(c.Size), MaxSubjectProofs)
	seqs, err := platform.Collect(rows, err, platform.Scalar[int64])
	if err != nil {
		return nil, Checkpoint{}, err
	}
	out := make([]Proof, 0, len(seqs))
	for _, q := range seqs {
		p, err := s.proof(ctx, uint64(q), c.Size)
		if err != nil {
			return nil, Checkpoint{}, err
		}
		out = append(out, p)
	}
	return out, c, nil
}

// LatestLeaf is the newest leaf about subject (ok false when none).
func (s *Service) LatestLeaf(ctx context.Context, subject string) (uint64, bool, error) {
	var seq int64
	err := s.db.QueryRow(ctx, `SELECT seq FROM ledger_leaves WHERE subject = $1 ORDER BY seq DESC LIMIT 1`, subject).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return uint64(seq), err == nil, err
}

// Consistency proves the tree of to leaves (0: the latest checkpoint's)
// extends the tree of from leaves.
func (s *Service) Consistency(ctx context.Context, from, to uint64) (Consistency, error) {
	if to == 0 {
		c, err := s.Checkpoint(ctx)
		if err != nil {
			return Consistency{}, err
		}
		to = c.Size
	}
	have, err := s.sync(ctx)
	if err != nil {
		return Consistency{}, err
	}
	if to > have {
		return Consistency{}, invalid("to", "账本尚无这么多条记录", "the log is not that large")
	}
	if from == 0 || from > to {
		return Consistency{}, invalid("from", "from 应在 1 到 to 之间", "from must be between 1 and to")
	}
	p, err := s.tree.ConsistencyProof(from, to)
	if err != nil {
		return Consistency{}, err
	}
	fr, _ := s.tree.Root(from)
	tr, _ := s.tree.Root(to)
	return Consistency{From: from, To: to, FromRoot: hex.EncodeToString(fr[:]), ToRoot: hex.EncodeToString(tr[:]), Proof: hexes(p)}, nil
}
