package secure

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// Signer signs messages for non-repudiation of key acts (approvals,
// certificates, agreements). Verify checks its signatures.
type Signer interface {
	// Sign returns an ASN.1 DER SM2 signature of msg (SM3 with Z_A over the
	// default user ID "1234567812345678", GB/T 32918.2).
	Sign(msg []byte) ([]byte, error)
	// PublicKeyPEM returns the public key as a PKIX "PUBLIC KEY" PEM block.
	PublicKeyPEM() []byte
}

type sm2Signer struct {
	priv   *sm2.PrivateKey
	pubPEM []byte
}

func newSM2Signer(priv *sm2.PrivateKey) (Signer, error) {
	der, err := smx509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("secure: encoding SM2 public key: %w", err)
	}
	return &sm2Signer{priv: priv, pubPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})}, nil
}

func (s *sm2Signer) Sign(msg []byte) ([]byte, error) {
	sig, err := s.priv.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	if err != nil {
		return nil, fmt.Errorf("secure: SM2 sign: %w", err)
	}
	return sig, nil
}

func (s *sm2Signer) PublicKeyPEM() []byte { return append([]byte(nil), s.pubPEM...) }

// GenerateSigner returns a Signer with a fresh in-memory SM2 key (tests,
// tools); servers use LoadOrCreateSigner.
func GenerateSigner() (Signer, error) {
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("secure: generating SM2 key: %w", err)
	}
	return newSM2Signer(priv)
}

// LoadOrCreateSigner returns the platform's SM2 Signer, keeping the private
// key in <dataDir>/sm2.key (PKCS#8 "PRIVATE KEY" PEM, mode 0600). The file
// is created if missing; an existing file accessible to group or others is
// refused, like the data key.
func LoadOrCreateSigner(dataDir string) (Signer, error) {
	if dataDir == "" {
		return nil, errors.New("secure: data directory not set")
	}
	path := filepath.Join(dataDir, SignerFileName)
	data, err := readSecretFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		priv, err := sm2.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("secure: generating SM2 key: %w", err)
		}
		der, err := smx509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, fmt.Errorf("secure: encoding SM2 key: %w", err)
		}
		// If another process won the race, its key is returned instead.
		data, err = createSecretFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		if err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("secure: %s: expected a PEM \"PRIVATE KEY\" (PKCS#8) block", path)
	}
	key, err := smx509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("secure: %s: %w", path, err)
	}
	priv, ok := key.(*sm2.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("secure: %s: not an SM2 private key (%T)", path, key)
	}
	return newSM2Signer(priv)
}

// Verify reports whether sig is a valid SM2 signature (default user ID) of
// msg under the public key in pubPEM. Malformed input yields false.
func Verify(pubPEM, msg, sig []byte) bool {
	block, _ := pem.Decode(pubPEM)
	if block == nil || block.Type != "PUBLIC KEY" {
		return false
	}
	key, err := smx509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return false
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(pub) {
		return false
	}
	return sm2.VerifyASN1WithSM2(pub, nil, msg, sig)
}
