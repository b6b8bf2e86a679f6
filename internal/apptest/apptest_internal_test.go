package apptest

import (
	"errors"
	"strings"
	"testing"
)

func TestResolvePostgres(t *testing.T) {
	down := func(string) error { return errors.New("connection refused") }
	up := func(string) error { return nil }
	cases := []struct {
		name       string
		env        string
		probe      func(string) error
		wantURL    string
		wantReason string // substring; "" = no reason
		wantProbe  bool
	}{
		{"unset, server answers", "", up, DefaultPostgresURL, "", true},
		{"unset, no server", "", down, "", "no server answers on " + DefaultPostgresURL + " (connection refused)", true},
		{"blank counts as unset", "  ", up, DefaultPostgresURL, "", true},
		{"off", "off", up, "", "disabled by AGTRACE_TEST_POSTGRES=off", false},
		{"OFF any case", "OFF", up, "", "disabled", false},
		{"explicit URL is used without probing", "postgres://u@db:5433/x", down, "postgres://u@db:5433/x", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			probed := false
			url, reason := resolvePostgres(c.env, func(u string) error {
				probed = true
				if u != DefaultPostgresURL {
					t.Errorf("probed %q, want the default URL", u)
				}
				return c.probe(u)
			})
			if url != c.wantURL {
				t.Errorf("url = %q, want %q", url, c.wantURL)
			}
			if (c.wantReason == "") != (reason == "") || !strings.Contains(reason, c.wantReason) {
				t.Errorf("reason = %q, want %q", reason, c.wantReason)
			}
			if probed != c.wantProbe {
				t.Errorf("probed = %v, want %v", probed, c.wantProbe)
			}
		})
	}
}

// TestProbeClosedPort: probing a closed port fails fast instead of hanging.
func TestProbeClosedPort(t *testing.T) {
	if err := probePostgres("postgres://nobody@127.0.0.1:1/none?sslmode=disable"); err == nil {
		t.Fatal("probe of a closed port succeeded")
	}
}
