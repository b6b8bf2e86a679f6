package ledger_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/ledger"
	"agtrace/internal/secure"
	"agtrace/internal/trace"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("not hex: %q", s)
	}
	return b
}

// checkpointOf fetches and decodes GET /ledger/checkpoint, checking its
// SM2 signature with the key GET /ledger/key serves.
func checkpointOf(t *testing.T, c *apptest.Client) ledger.Checkpoint {
	t.Helper()
	r := c.Do("GET", "/ledger/checkpoint", nil).Expect(t, 200)
	var cp ledger.Checkpoint
	if err := json.Unmarshal(r.Body, &cp); err != nil {
		t.Fatal(err)
	}
	key := c.Do("GET", "/ledger/key", nil).Expect(t, 200).Body
	sig, _ := base64.StdEncoding.DecodeString(cp.Signature)
	text := fmt.Sprintf("agtrace-checkpoint-v1\n%s\n%d\n%s\n%s\n", cp.Algorithm, cp.Size, cp.RootHash, cp.Timestamp)
	if !secure.Verify(key, []byte(text), sig) {
		t.Fatalf("checkpoint signature does not verify: %s", r.Body)
	}
	return cp
}

// TestLedgerProofsAndTampering: every write is a leaf; the public proofs
// of a batch's leaves and the consistency of two checkpoints verify with
// the RFC 9162 algorithms written in this test; Verify passes on an
// untouched database and names what a direct change to the database broke:
// a batch's quantity, an audit row, a deleted leaf (a gap, and the earlier
// checkpoint no longer consistent).
func TestLedgerProofsAndTampering(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		srv := apptest.Server(t, a)
		anon := apptest.NewClient(t, srv)
		_, user, pw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞账本苹果合作社", Kind: "cooperative", RegionCode: "370686", Products: []string{"apple"}})
		farm := anon.Login(user, pw)
		code := farm.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 500, "unit": "kg",
			"produced_at": time.Now().Format(time.DateOnly), "origin": "寺口镇"}).Expect(t, 201).Str("trace_code")
		if a.Ledger.Algorithm() != ledger.SM3 {
			t.Fatalf("default algorithm %s", a.Ledger.Algorithm())
		}
		first := checkpointOf(t, anon)
		if first.Algorithm != "sm3" || first.Size < 3 {
			t.Fatalf("first checkpoint: %+v", first)
		}

		// every leaf about the batch, proved against the latest checkpoint
		r := anon.Do("GET", "/api/v1/ledger/proof?code="+code, nil).Expect(t, 200)
		var sp struct {
			Checkpoint ledger.Checkpoint `json:"checkpoint"`
			Proofs     []ledger.Proof    `json:"proofs"`
		}
		if err := json.Unmarshal(r.Body, &sp); err != nil || len(sp.Proofs) == 0 {
			t.Fatalf("proofs of %s: %s", code, r.Body)
		}
		for _, p := range sp.Proofs {
			var leaf map[string]any
			if err := json.Unmarshal([]byte(p.Leaf), &leaf); err != nil || leaf["subject"] != "trace_code:"+code {
				t.Fatalf("leaf %s", p.Leaf)
			}
			lh := hashOf(ledger.SM3, append([]byte{0}, p.Leaf...))
			if hex.EncodeToString(lh) != p.LeafHash || p.RootHash != sp.Checkpoint.RootHash || p.Size != sp.Checkpoint.Size {
				t.Fatalf("leaf hash / root of %+v", p)
			}
			path := make([][]byte, len(p.Proof))
			for i, h := range p.Proof {
				path[i] = mustHex(t, h)
			}
			if !verifyInclusion(ledger.SM3, p.LeafIndex, p.Size, lh, path, mustHex(t, p.RootHash)) {
				t.Fatalf("inclusion proof of leaf %d does not verify", p.LeafIndex)
			}
		}
		// one leaf by index, and bad parameters
		anon.Do("GET", fmt.Sprintf("/api/v1/ledger/proof?leaf=0&size=%d", first.Size), nil).Expect(t, 200)
		for _, q := range []string{"leaf=x", "leaf=-1", fmt.Sprintf("leaf=%d&size=%d", first.Size, first.Size), "leaf=0&size=99999999", ""} {
			anon.Do("GET", "/api/v1/ledger/proof?"+q, nil).Expect(t, 422)
		}
		anon.Do("GET", "/api/v1/ledger/proof?code=19999999999999999999", nil).Expect(t, 400) // not a valid code

		// more writes, a later checkpoint, and the consistency between them
		for i := range 5 {
			farm.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 10 + i, "unit": "kg",
				"produced_at": time.Now().Format(time.DateOnly), "origin": "寺口镇"}).Expect(t, 201)
		}
		time.Sleep(ledger.MinCheckpointGap + 100*time.Millisecond)
		second := checkpointOf(t, anon)
		if second.Size <= first.Size {
			t.Fatalf("the log did not grow: %d → %d", first.Size, second.Size)
		}
		cr := anon.Do("GET", fmt.Sprintf("/api/v1/ledger/consistency?from=%d&to=%d", first.Size, second.Size), nil).Expect(t, 200)
		var cons ledger.Consistency
		_ = json.Unmarshal(cr.Body, &cons)
		path := make([][]byte, len(cons.Proof))
		for i, h := range cons.Proof {
			path[i] = mustHex(t, h)
		}
		if cons.FromRoot != first.RootHash || cons.ToRoot != second.RootHash ||
			!verifyConsistency(ledger.SM3, first.Size, second.Size, mustHex(t, first.RootHash), mustHex(t, second.RootHash), path) {
			t.Fatalf("consistency %d → %d does not verify: %s", first.Size, second.Size, cr.Body)
		}
		anon.Do("GET", "/api/v1/ledger/consistency?from=0", nil).Expect(t, 422)

		rep, err := a.Ledger.Verify(ctx, &first)
		if err != nil || !rep.OK() || rep.States == 0 {
			t.Fatalf("untouched database: %+v %v", rep, err)
		}

		// tampering 1: a batch's quantity changed in the database
		if _, err := a.DB.Exec(ctx, `UPDATE trace_codes SET quantity_milli = quantity_milli + 100000 WHERE code = $1`, code); err != nil {
			t.Fatal(err)
		}
		rep, _ = a.Ledger.Verify(ctx, nil)
		if !hasProblem(rep, ledger.ProblemState, "trace_code:"+code) {
			t.Fatalf("a changed quantity is not named: %+v", rep.Problems)
		}
		// tampering 2: an audit row rewritten
		if _, err := a.DB.Exec(ctx, `UPDATE audit_log SET detail = '{"quantity":1}' WHERE id = (SELECT MAX(id) FROM audit_log WHERE resource_id = $1)`, code); err != nil {
			t.Fatal(err)
		}
		rep, _ = a.Ledger.Verify(ctx, nil)
		if !hasProblem(rep, ledger.ProblemAudit, "trace_code:"+code) {
			t.Fatalf("a rewritten audit row is not named: %+v", rep.Problems)
		}
		// tampering 3: a leaf deleted — a gap, and the saved checkpoint is no
		// longer the root of its leaves
		if _, err := a.DB.Exec(ctx, `DELETE FROM ledger_leaves WHERE seq = 1`); err != nil {
			t.Fatal(err)
		}
		rep, _ = a.Ledger.Verify(ctx, &first)
		if !hasProblem(rep, ledger.ProblemGap, "") || !hasProblem(rep, ledger.ProblemCheckpoint, "") {
			t.Fatalf("a deleted leaf is not reported: %+v", rep.Problems)
		}
	})
}

func hasProblem(r ledger.Report, kind, subject string) bool {
	for _, p := range r.Problems {
		if p.Kind == kind && (subject == "" || p.Subject == subject) {
			return true
		}
	}
	return false
}

// TestLedgerSequenceTwoInstances: two app instances on one PostgreSQL
// database write concurrently; the leaves are numbered 0…n−1 without a gap,
// one per audit row, and the log verifies.
func TestLedgerSequenceTwoInstances(t *testing.T) {
	a := apptest.NewApp(t, "postgres")
	ctx := context.Background()
	b, err := app.Open(ctx, app.Config{DataDir: t.TempDir(), DBURL: a.Config.DBURL, PublicURL: "http://trace.test", SeedProvinces: apptest.PilotProvinces})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, user, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "两实例合作社", RegionCode: "370686", Products: []string{"apple"}})
	u, err := a.Auth.GetUserByName(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	actor := apptest.ActorOf(u)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i, inst := range []*app.App{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 12 {
				_, err := inst.Trace.CreateBatch(ctx, actor, trace.NewBatch{ProductCode: "apple", Quantity: float64(10 + i*100 + j), Unit: "kg",
					ProducedAt: time.Now().Format(time.DateOnly), Origin: "并发"})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var leaves, maxSeq, audits, head int64
	if err := a.DB.QueryRow(ctx, `SELECT COUNT(*), MAX(seq) FROM ledger_leaves`).Scan(&leaves, &maxSeq); err != nil {
		t.Fatal(err)
	}
	_ = a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log`).Scan(&audits)
	_ = a.DB.QueryRow(ctx, `SELECT size FROM ledger_head`).Scan(&head)
	if leaves != maxSeq+1 || leaves != audits || head != leaves {
		t.Fatalf("leaves %d, max seq %d, audit rows %d, head %d", leaves, maxSeq, audits, head)
	}
	rep, err := b.Ledger.Verify(ctx, nil)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	if !strings.HasPrefix(rep.Root, "") || rep.Leaves != int(leaves) {
		t.Fatalf("report %+v", rep)
	}
}

// TestLedgerSyncInChunks: a second instance opening a log of more leaves
// than one read takes builds the same tree as the first, chunk by chunk,
// and a sync cut short by its deadline keeps what it read.
func TestLedgerSyncInChunks(t *testing.T) {
	defer ledger.SetSyncChunk(4)()
	a := apptest.NewApp(t, "sqlite")
	ctx := context.Background()
	_, user, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "分块同步合作社", RegionCode: "370686", Products: []string{"apple"}})
	u, _ := a.Auth.GetUserByName(ctx, user)
	for range 6 {
		if _, err := a.Trace.CreateBatch(ctx, apptest.ActorOf(u), trace.NewBatch{ProductCode: "apple", Quantity: 10, Unit: "kg", ProducedAt: time.Now().Format(time.DateOnly)}); err != nil {
			t.Fatal(err)
		}
	}
	size, root, err := a.Ledger.SyncedRoot(ctx)
	if err != nil || size < 3*4 {
		t.Fatalf("first instance: %d leaves (%v); want more than three chunks", size, err)
	}
	b, err := app.Open(ctx, app.Config{DataDir: a.Config.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// a deadline already past: nothing read, nothing lost
	gone, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	cancel()
	if _, _, err := b.Ledger.SyncedRoot(gone); err == nil {
		t.Fatal("a sync past its deadline succeeded")
	}
	size2, root2, err := b.Ledger.SyncedRoot(ctx)
	if err != nil || size2 != size || root2 != root {
		t.Fatalf("second instance: %d leaves, root %s (%v); first: %d, %s", size2, root2, err, size, root)
	}
}
