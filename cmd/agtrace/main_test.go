package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/auth"
)

// TestMain lets the test binary act as the agtrace command, so tests see real
// exit codes and output.
func TestMain(m *testing.M) {
	if os.Getenv("AGTRACE_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = []string{"AGTRACE_AS_MAIN=1"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AGTRACE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

func TestBadInvocations(t *testing.T) {
	data := t.TempDir()
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"serve", "--bogus"}, "flag provided but not defined: -bogus"},
		{"malformed db URL", []string{"migrate", "--db", "mysql://root@localhost/x"}, "is not a PostgreSQL URL"},
		{"unknown node role", []string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--node-role", "county"}, `node role "county"`},
		{"province without node id", []string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--node-role", "province"}, "needs --node-id"},
		{"bad node regions", []string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--exchange-node-regions", "p37"}, "is not node=region-prefix"},
		{"unreachable PostgreSQL", []string{"migrate", "--db", "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"}, "cannot reach PostgreSQL"},
		{"data dir is a file", []string{"migrate", "--data", notDir}, "cannot create data directory"},
		{"weak password", []string{"user", "add", "--data", data, "--username", "u1", "--password", "123", "--role", "admin", "--region", "000000"}, "password must be at least 10 characters"},
		{"stray argument", []string{"migrate", "--data", data, "extra"}, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		out, code := run(t, c.args...)
		if code == 0 || !strings.Contains(out, c.want) {
			t.Errorf("%s: exit %d, output %q; want non-zero and %q", c.name, code, out, c.want)
		}
	}
	// nothing half-created by the refused commands in the fresh data dir
	if _, err := os.Stat(filepath.Join(data, "agtrace.db")); err == nil {
		t.Error("a refused command created the database")
	}
}

func TestUserCommands(t *testing.T) {
	data := t.TempDir()
	if out, code := run(t, "migrate", "--data", data); code != 0 || !strings.Contains(out, "migration version") {
		t.Fatalf("migrate: %d %s", code, out)
	}
	out, code := run(t, "user", "add", "--data", data, "--username", "clerk", "--password", "clerk-pass-2026", "--role", "market", "--region", "370686", "--name", "市场查验员")
	if code != 0 || !strings.Contains(out, "created user clerk") {
		t.Fatalf("user add: %d %s", code, out)
	}
	if out, code := run(t, "user", "add", "--data", data, "--username", "clerk", "--password", "clerk-pass-2026", "--role", "market", "--region", "370686"); code == 0 || !strings.Contains(out, "username already taken") {
		t.Fatalf("duplicate user: %d %s", code, out)
	}
	if out, code := run(t, "user", "add", "--data", data, "--username", "x9", "--password", "clerk-pass-2026", "--role", "wizard", "--region", "370686"); code == 0 || !strings.Contains(out, "unknown role") {
		t.Fatalf("bad role: %d %s", code, out)
	}
	if out, code := run(t, "user", "add", "--data", data, "--username", "x8", "--password", "clerk-pass-2026", "--role", "system", "--region", "000000"); code == 0 || !strings.Contains(out, "unknown role") {
		t.Fatalf("the system role is not an account's: %d %s", code, out)
	}
	if out, code := run(t, "user", "passwd", "--data", data, "--username", "clerk", "--password", "new-clerk-pass"); code != 0 || !strings.Contains(out, "password changed") {
		t.Fatalf("passwd: %d %s", code, out)
	}
	// the audit log says the system (run from the CLI) created the account and reset its password
	a, err := app.Open(context.Background(), app.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, action := range []string{"user.create", "user.password"} {
		var name, addr, detail string
		if err := a.DB.QueryRow(context.Background(), `SELECT actor_name, addr, detail FROM audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1`, action).
			Scan(&name, &addr, &detail); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		if name != auth.SystemName || addr != "cli" || (action == "user.password" && !strings.Contains(detail, `"by":"system"`)) {
			t.Errorf("%s audited as %q from %q (%s), want system from cli", action, name, addr, detail)
		}
	}
	if out, code := run(t, "help", "serve"); code != 0 || !strings.Contains(out, "--addr") {
		t.Fatalf("help serve: %d %s", code, out)
	}
}
