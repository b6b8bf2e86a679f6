// Package secure wraps the 国密 algorithms the platform uses (SM4 for data at
// rest, SM3 for integrity, SM2 for signatures; GB/T 39786-2021) behind
// small interfaces, so a hardware security module can replace the software
// keys later, and provides masking for personal data shown on screens.
package secure

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/sm4"
)

// Cipher encrypts and authenticates data. associated is authenticated but
// not encrypted; use it to bind a ciphertext to its place (for example
// "operator.id_number"), so a value copied to another column or row fails
// to open.
type Cipher interface {
	Seal(plaintext, associated []byte) ([]byte, error)
	Open(ciphertext, associated []byte) ([]byte, error)
}

// KeySize is the SM4 key size in bytes.
const KeySize = 16

// NonceSize is the size of the random GCM nonce prepended to ciphertexts.
const NonceSize = 12

// ErrDecrypt is returned by Open when the ciphertext is malformed, was
// tampered with, or was sealed with a different key or associated data.
var ErrDecrypt = errors.New("secure: decryption failed: wrong key, wrong associated data or tampered ciphertext")

type sm4GCM struct{ aead cipher.AEAD }

// NewSM4GCM returns a Cipher using SM4 in GCM mode with a 16-byte key. Seal
// output is nonce (12 random bytes) ‖ ciphertext ‖ 16-byte tag.
func NewSM4GCM(key []byte) (Cipher, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secure: SM4 key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secure: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secure: %w", err)
	}
	return &sm4GCM{aead: aead}, nil
}

func (c *sm4GCM) Seal(plaintext, associated []byte) ([]byte, error) {
	out := make([]byte, NonceSize, NonceSize+len(plaintext)+c.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("secure: reading random nonce: %w", err)
	}
	return c.aead.Seal(out, out, plaintext, associated), nil
}

func (c *sm4GCM) Open(ciphertext, associated []byte) ([]byte, error) {
	if len(ciphertext) < NonceSize+c.aead.Overhead() {
		return nil, ErrDecrypt
	}
	pt, err := c.aead.Open(nil, ciphertext[:NonceSize], ciphertext[NonceSize:], associated)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// EncryptString seals plaintext and returns standard base64 text for a TEXT
// column. The empty string maps to the empty string (an absent value stays
// absent and needs no decryption).
func EncryptString(c Cipher, plaintext, associated string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	ct, err := c.Seal([]byte(plaintext), []byte(associated))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

// DecryptString reverses EncryptString; the empty string decrypts to the
// empty string. Text that is not base64 yields ErrDecrypt.
func DecryptString(c Cipher, ciphertext, associated string) (string, error) {
	if ciphertext == "" {
		return "", nil
	}
	ct, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return "", ErrDecrypt
	}
	pt, err := c.Open(ct, []byte(associated))
	if err != nil {
		return "", err
	}
	return string(pt), nil
}
