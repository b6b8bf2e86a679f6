package auth

import (
	"testing"
	"time"
)

func TestThrottleDelays(t *testing.T) {
	cases := []struct {
		rule throttleRule
		n    int
		want time.Duration
	}{
		{pairRule, 1, 0},
		{pairRule, 4, 0},
		{pairRule, 5, 5 * time.Second},
		{pairRule, 6, 10 * time.Second},
		{pairRule, 9, 80 * time.Second},
		{pairRule, 12, 640 * time.Second},
		{pairRule, 13, 15 * time.Minute},
		{pairRule, 1000, 15 * time.Minute},
		{addrRule, 29, 0},
		{addrRule, 30, time.Second},
		{addrRule, 36, time.Minute},
		{addrRule, 10000, time.Minute},
		{accountRule, 19, 0},
		{accountRule, 20, time.Second},
		{accountRule, 500, 5 * time.Minute},
	}
	for _, c := range cases {
		if got := c.rule.delay(c.n); got != c.want {
			t.Errorf("%s delay(%d) = %v, want %v", c.rule.prefix, c.n, got, c.want)
		}
	}
}

func TestDeviceCookie(t *testing.T) {
	s := &Service{}
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	if s.signDevice("admin", now.Add(time.Hour)) != "" {
		t.Fatal("signed without a key")
	}
	s.SetDeviceKey([]byte("0123456789abcdef"))
	c := s.signDevice("Admin", now.Add(time.Hour))
	if !s.validDevice(c, "admin", now) {
		t.Fatalf("own cookie %q refused", c)
	}
	other := &Service{}
	other.SetDeviceKey([]byte("fedcba9876543210"))
	for _, bad := range []struct {
		name, cookie, user string
		at                 time.Time
	}{
		{"other account", c, "reviewer", now},
		{"expired", c, "admin", now.Add(2 * time.Hour)},
		{"other key", other.signDevice("admin", now.Add(time.Hour)), "admin", now},
		{"expiry edited", "9999999999" + c[len("9999999999"):], "admin", now},
		{"empty", "", "admin", now},
		{"garbage", "abc", "admin", now},
		{"bad base64", "1900000000.***", "admin", now},
	} {
		if s.validDevice(bad.cookie, bad.user, bad.at) {
			t.Errorf("%s: cookie accepted", bad.name)
		}
	}
}
