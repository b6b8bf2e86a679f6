package trace_test

import (
	"crypto/hmac"
	"encoding/base32"
	"fmt"
	"sync"
	"testing"

	"github.com/emmansun/gmsm/sm3"

	"agtrace/internal/trace"
)

// TestTokenMatchesHMAC: the token (from pooled HMAC states) is the first
// eight base32 characters of HMAC-SM3(key, code), computed here afresh for
// each code, also while many goroutines ask at once; the key set by
// SetVerifyKey replaces the random one.
func TestTokenMatchesHMAC(t *testing.T) {
	s := trace.NewService(nil, nil, nil, nil, nil, "")
	want := func(code string) string {
		m := hmac.New(sm3.New, trace.VerifyKey(s))
		m.Write([]byte(code))
		return base32.StdEncoding.EncodeToString(m.Sum(nil))[:trace.TokenLen]
	}
	check := func() {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 200 {
					code := fmt.Sprintf("1%d%018d", g, i)
					if got, w := s.Token(code), want(code); got != w {
						t.Errorf("Token(%s) = %s, want %s", code, got, w)
						return
					}
					if !s.VerifyToken(code, want(code)) {
						t.Errorf("VerifyToken(%s) refused its token", code)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	check()
	before := s.Token("10000000000000000001")
	s.SetVerifyKey([]byte("platform secret"))
	if s.Token("10000000000000000001") == before {
		t.Fatal("the token did not change with the key")
	}
	check()
}
