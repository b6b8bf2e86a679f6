package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/auth"
)

// TestVerifyCommand: agtrace verify exits 0 on an untouched database and
// with a checkpoint saved from it; after a row is changed behind the
// platform's back it exits 1 and names the record; a saved checkpoint
// larger than the log (leaves removed) is reported.
func TestVerifyCommand(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	a, err := app.Open(ctx, app.Config{DataDir: data, SeedProvinces: []string{"37"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "verify-admin", Password: "verify-pass-2026", Role: "admin", RegionCode: "000000"}); err != nil {
		t.Fatal(err)
	}
	cp, err := a.Ledger.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	cpFile := filepath.Join(t.TempDir(), "cp.json")
	b, _ := json.Marshal(cp)
	if err := os.WriteFile(cpFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := run(t, "verify", "--data", data, "--checkpoint", cpFile); code != 0 || !strings.Contains(out, "OK:") {
		t.Fatalf("untouched: exit %d\n%s", code, out)
	}

	a, err = app.Open(ctx, app.Config{DataDir: data, SeedProvinces: []string{"37"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB.Exec(ctx, `UPDATE audit_log SET action = 'user.delete' WHERE action = 'user.create'`); err != nil {
		t.Fatal(err)
	}
	a.Close()
	out, code := run(t, "verify", "--data", data)
	if code != 1 || !strings.Contains(out, "audit_altered") || !strings.Contains(out, "user:") {
		t.Fatalf("tampered: exit %d\n%s", code, out)
	}
	cp.Size += 5
	b, _ = json.Marshal(cp)
	_ = os.WriteFile(cpFile, b, 0o600)
	if out, code := run(t, "verify", "--data", data, "--checkpoint", cpFile, "--json"); code != 1 || !strings.Contains(out, `"checkpoint_ahead"`) {
		t.Fatalf("a checkpoint beyond the log: exit %d\n%s", code, out)
	}
	if out, code := run(t, "verify", "--data", data, "--checkpoint", filepath.Join(data, "secret.key")); code == 0 || !strings.Contains(out, "is not a checkpoint") {
		t.Fatalf("not a checkpoint: exit %d\n%s", code, out)
	}
}
