package secure

import (
	"crypto/ecdsa"
	"encoding/pem"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// Signatures use the GB/T 32918 default user ID "1234567812345678", so any
// conforming SM2 verifier (or an HSM) can check them.
func TestSignUsesDefaultUID(t *testing.T) {
	s, err := GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(s.PublicKeyPEM())
	key, err := smx509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pub := key.(*ecdsa.PublicKey)
	msg := []byte("审批通过")
	sig, err := s.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		uid  string
		want bool
	}{
		{"1234567812345678", true},
		{"", true}, // empty = default
		{"agtrace", false},
	}
	for _, tc := range tests {
		if got := sm2.VerifyASN1WithSM2(pub, []byte(tc.uid), msg, sig); got != tc.want {
			t.Errorf("uid %q: %v, want %v", tc.uid, got, tc.want)
		}
	}
}
