package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
)

// Problem kinds Verify reports.
const (
	ProblemGap            = "gap"                     // leaves missing from the sequence (deleted rows)
	ProblemHead           = "head_mismatch"           // the head's size is not the number of leaves
	ProblemRecord         = "record_altered"          // a leaf's stored record no longer hashes to its digest
	ProblemAudit          = "audit_altered"           // the audit row differs from the record its leaf fixed
	ProblemAuditMissing   = "audit_missing"           // the audit row a leaf names is gone
	ProblemState          = "state_altered"           // a subject's row differs from its latest leaf's state
	ProblemCheckpoint     = "checkpoint_inconsistent" // a checkpoint's root is not the root of that many leaves now
	ProblemSignature      = "checkpoint_signature"    // a checkpoint's signature does not verify
	ProblemCheckpointSize = "checkpoint_ahead"        // a checkpoint is larger than the log (leaves removed)
)

// Problem is one finding of Verify.
type Problem struct {
	Kind    string `json:"kind"`
	Seq     int64  `json:"seq"` // the leaf (or checkpoint size); -1 when none
	Subject string `json:"subject,omitempty"`
	Detail  string `json:"detail"`
}

func (p Problem) String() string {
	s := p.Kind
	if p.Seq >= 0 {
		s += fmt.Sprintf(" at %d", p.Seq)
	}
	if p.Subject != "" {
		s += " (" + p.Subject + ")"
	}
	return s + ": " + p.Detail
}

// Report is what Verify found.
type Report struct {
	Algorithm   string    `json:"algorithm"`
	Size        uint64    `json:"size"`
	Leaves      int       `json:"leaves"`
	States      int       `json:"states_checked"`
	Checkpoints int       `json:"checkpoints_checked"`
	Root        string    `json:"root_hash"`
	Problems    []Problem `json:"problems"`
}

// OK reports whether nothing was found.
func (r Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) add(kind string, seq int64, subject, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Kind: kind, Seq: seq, Subject: subject, Detail: fmt.Sprintf(format, args...)})
}

type verifyRow struct {
	leaf     Leaf
	record   string
	auditID  sql.NullInt64
	audit    bool
	actorID  int64
	action   string
	resType  string
	resID    string
	detail   string
	recorded Record
}

// Verify recomputes the log from the database: every leaf's record hashes
// to its digest and matches its audit row; the sequence has no gap; each
// subject with a state reader still matches its latest leaf; every stored
// checkpoint (and external, when given) is signed by the platform key and
// is the root of that many leaves now. It reads everything; run it from the
// command line (agtrace verify), not per request.
func (s *Service) Verify(ctx context.Context, external *Checkpoint) (Report, error) {
	rep := Report{Algorithm: s.hasher.Algorithm()}
	var headSize int64
	if err := s.db.QueryRow(ctx, `SELECT size FROM ledger_head WHERE id = 1`).Scan(&headSize); err != nil {
		return rep, err
	}
	rows, err := s.db.Query(ctx, `SELECT l.seq, l.kind, l.subject, l.at, l.digest, l.record, l.audit_id, a.id IS NOT NULL,
		COALESCE(a.actor_id, 0), COALESCE(a.action, ''), COALESCE(a.resource_type, ''), COALESCE(a.resource_id, ''), COALESCE(a.detail, '')
		FROM ledger_leaves l LEFT JOIN audit_log a ON a.id = l.audit_id ORDER BY l.seq`)
	if err != nil {
		return rep, err
	}
	tree := NewTree(s.hasher)
	latest := map[string]verifyRow{}
	var next int64
	for rows.Next() {
		var v verifyRow
		var seq int64
		if err := rows.Scan(&seq, &v.leaf.Kind, &v.leaf.Subject, &v.leaf.At, &v.leaf.Digest, &v.record, &v.auditID, &v.audit,
			&v.actorID, &v.action, &v.resType, &v.resID, &v.detail); err != nil {
			rows.Close()
			return rep, err
		}
		v.leaf.Seq = uint64(seq)
		if seq != next {
			rep.add(ProblemGap, next, "", "leaves %d…%d are missing", next, seq-1)
		}
		next = seq + 1
		rep.Leaves++
		tree.AppendLeafHashes(s.hasher.Leaf(v.leaf.Bytes()))
		s.checkRecord(&rep, &v)
		if _, ok := s.states[v.recorded.ResourceType]; ok && v.recorded.ResourceID != "" {
			latest[v.leaf.Subject] = v
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, err
	}
	if headSize != next {
		rep.add(ProblemHead, -1, "", "the head says %d leaves; the log ends at %d", headSize, next)
	}
	if err := s.checkStates(ctx, &rep, latest); err != nil {
		return rep, err
	}
	rep.Size = tree.Size()
	root, _ := tree.Root(rep.Size)
	rep.Root = hex.EncodeToString(root[:])
	cps, err := s.Checkpoints(ctx)
	if err != nil {
		return rep, err
	}
	if external != nil {
		cps = append(cps, *external)
	}
	for _, c := range cps {
		s.checkCheckpoint(&rep, tree, c)
	}
	return rep, nil
}

// checkRecord: the stored record hashes to the leaf's digest and agrees with
// its audit row (its time is covered by the digest, not compared, because
// engines may store instants in another zone).
func (s *Service) checkRecord(rep *Report, v *verifyRow) {
	seq := int64(v.leaf.Seq)
	d := s.hasher.Sum([]byte(v.record))
	if hex.EncodeToString(d[:]) != v.leaf.Digest {
		rep.add(ProblemRecord, seq, v.leaf.Subject, "the stored record does not hash to the leaf's digest")
	}
	if err := json.Unmarshal([]byte(v.record), &v.recorded); err != nil {
		rep.add(ProblemRecord, seq, v.leaf.Subject, "the stored record is not JSON: %v", err)
		return
	}
	if v.recorded.ResourceType+":"+v.recorded.ResourceID != v.leaf.Subject || v.recorded.Action != v.leaf.Kind || v.recorded.At != v.leaf.At {
		rep.add(ProblemRecord, seq, v.leaf.Subject, "the leaf's kind, subject or time differ from its record")
	}
	if !v.auditID.Valid {
		return
	}
	if !v.audit {
		rep.add(ProblemAuditMissing, seq, v.leaf.Subject, "audit row %d is gone", v.auditID.Int64)
		return
	}
	got := Record{AuditID: v.auditID.Int64, At: v.recorded.At, ActorID: v.actorID, Action: v.action, ResourceType: v.resType, ResourceID: v.resID,
		Detail: rawOrNull([]byte(v.detail)), State: v.recorded.State}
	a, err1 := Canonical(got)
	b, err2 := Canonical(v.recorded)
	if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
		rep.add(ProblemAudit, seq, v.leaf.Subject, "audit row %d (%s) differs from the record the leaf fixed", v.auditID.Int64, v.action)
	}
}

// checkStates compares each subject's row now with its latest leaf's state.
func (s *Service) checkStates(ctx context.Context, rep *Report, latest map[string]verifyRow) error {
	subjects := make([]string, 0, len(latest))
	for k := range latest {
		subjects = append(subjects, k)
	}
	sort.Strings(subjects)
	for _, sub := range subjects {
		v := latest[sub]
		now, err := s.readState(ctx, s.db, v.recorded.ResourceType, v.recorded.ResourceID)
		if err != nil {
			return err
		}
		rep.States++
		a, _ := Canonical(now)
		b, _ := Canonical(v.recorded.State)
		if !bytes.Equal(a, b) {
			rep.add(ProblemState, int64(v.leaf.Seq), sub, "the row now differs from the state fixed by leaf %d (%s): now %s, fixed %s",
				v.leaf.Seq, v.leaf.Kind, a, b)
		}
	}
	return nil
}

func (s *Service) checkCheckpoint(rep *Report, tree *Tree, c Checkpoint) {
	rep.Checkpoints++
	seq := int64(c.Size)
	if !VerifyCheckpoint(c, s.PublicKeyPEM()) {
		rep.add(ProblemSignature, seq, "", "checkpoint of %d leaves at %s is not signed by this platform's key", c.Size, c.Timestamp)
	}
	if c.Algorithm != s.hasher.Algorithm() {
		rep.add(ProblemCheckpoint, seq, "", "checkpoint uses %s; the log uses %s", c.Algorithm, s.hasher.Algorithm())
		return
	}
	if c.Size > tree.Size() {
		rep.add(ProblemCheckpointSize, seq, "", "checkpoint of %d leaves, but the log holds %d", c.Size, tree.Size())
		return
	}
	root, _ := tree.Root(c.Size)
	if hex.EncodeToString(root[:]) != c.RootHash {
		rep.add(ProblemCheckpoint, seq, "", "checkpoint of %d leaves at %s has root %s; those leaves now give %x", c.Size, c.Timestamp, c.RootHash, root)
	}
}
