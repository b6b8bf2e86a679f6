package secure

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/emmansun/gmsm/sm4"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSM3KnownAnswers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"},                      // GB/T 32905 A.1
		{strings.Repeat("abcd", 16), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"}, // GB/T 32905 A.2
		{"", "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"},
	}
	var h Hasher = SM3Hasher{}
	for _, tc := range tests {
		if got := SM3Hex([]byte(tc.in)); got != tc.want {
			t.Errorf("SM3Hex(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if got := hex.EncodeToString(h.Sum([]byte(tc.in))); got != tc.want {
			t.Errorf("SM3Hasher.Sum(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestSM4KnownAnswer(t *testing.T) {
	key := mustHex(t, "0123456789abcdeffedcba9876543210")
	block, err := sm4.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 16)
	block.Encrypt(out, key) // GB/T 32907 A.1: plaintext = key
	if got := hex.EncodeToString(out); got != "681edf34d206965e86b3e94f536e4246" {
		t.Errorf("SM4 single block = %s", got)
	}
	back := make([]byte, 16)
	block.Decrypt(back, out)
	if !bytes.Equal(back, key) {
		t.Errorf("SM4 decrypt = %x", back)
	}
	// GB/T 32907 A.2: 1,000,000 encryptions.
	if !testing.Short() {
		buf := bytes.Clone(key)
		for range 1000000 {
			block.Encrypt(buf, buf)
		}
		if got := hex.EncodeToString(buf); got != "595298c7c6fd271f0402f804c33d3f66" {
			t.Errorf("SM4 x1e6 = %s", got)
		}
	}
}

func newTestCipher(t *testing.T, keyHex string) Cipher {
	t.Helper()
	c, err := NewSM4GCM(mustHex(t, keyHex))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const testKey = "0123456789abcdeffedcba9876543210"

func TestNewSM4GCMKeySize(t *testing.T) {
	for _, n := range []int{0, 15, 17, 24, 32} {
		if _, err := NewSM4GCM(make([]byte, n)); err == nil {
			t.Errorf("NewSM4GCM accepted a %d-byte key", n)
		}
	}
}

func TestGCMRoundTrip(t *testing.T) {
	c := newTestCipher(t, testKey)
	tests := []struct{ plain, ad string }{
		{"11010519491231002X", "operator.id_number"},
		{"13812345678", "operator.phone"},
		{"", "empty plaintext"},
		{"张三丰 · 山东省济南市历下区", ""},
		{strings.Repeat("x", 10000), "long"},
	}
	for _, tc := range tests {
		ct, err := c.Seal([]byte(tc.plain), []byte(tc.ad))
		if err != nil {
			t.Fatal(err)
		}
		if len(ct) != NonceSize+len(tc.plain)+16 {
			t.Errorf("ciphertext length %d for %d bytes", len(ct), len(tc.plain))
		}
		if len(tc.plain) > 4 && bytes.Contains(ct, []byte(tc.plain)) {
			t.Error("plaintext visible in ciphertext")
		}
		pt, err := c.Open(ct, []byte(tc.ad))
		if err != nil || string(pt) != tc.plain {
			t.Errorf("Open = %q, %v; want %q", pt, err, tc.plain)
		}
		ct2, _ := c.Seal([]byte(tc.plain), []byte(tc.ad))
		if bytes.Equal(ct[:NonceSize], ct2[:NonceSize]) || bytes.Equal(ct, ct2) {
			t.Error("two seals share a nonce")
		}
	}
}

func TestGCMTamperAndMisuse(t *testing.T) {
	c := newTestCipher(t, testKey)
	other := newTestCipher(t, "fedcba98765432100123456789abcdef")
	ad := []byte("operator.id_number")
	ct, err := c.Seal([]byte("11010519491231002X"), ad)
	if err != nil {
		t.Fatal(err)
	}
	// Flipping any bit of any byte (nonce, body or tag) must fail.
	for i := range ct {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(ct)
			bad[i] ^= bit
			if pt, err := c.Open(bad, ad); !errors.Is(err, ErrDecrypt) || pt != nil {
				t.Fatalf("tampered byte %d accepted: %q, %v", i, pt, err)
			}
		}
	}
	cases := []struct {
		name string
		c    Cipher
		ct   []byte
		ad   []byte
	}{
		{"wrong associated data", c, ct, []byte("operator.phone")},
		{"missing associated data", c, ct, nil},
		{"wrong key", other, ct, ad},
		{"truncated", c, ct[:len(ct)-1], ad},
		{"too short", c, ct[:NonceSize+15], ad},
		{"empty", c, nil, ad},
		{"extended", c, append(bytes.Clone(ct), 0), ad},
	}
	for _, tc := range cases {
		if pt, err := tc.c.Open(tc.ct, tc.ad); !errors.Is(err, ErrDecrypt) || pt != nil {
			t.Errorf("%s: Open = %q, %v; want ErrDecrypt", tc.name, pt, err)
		}
	}
}

func TestEncryptString(t *testing.T) {
	c := newTestCipher(t, testKey)
	for _, plain := range []string{"11010519491231002X", "张三丰", "a"} {
		enc, err := EncryptString(c, plain, "t.c")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := base64.StdEncoding.DecodeString(enc); err != nil {
			t.Errorf("EncryptString output %q is not base64", enc)
		}
		got, err := DecryptString(c, enc, "t.c")
		if err != nil || got != plain {
			t.Errorf("DecryptString = %q, %v; want %q", got, err, plain)
		}
		if _, err := DecryptString(c, enc, "t.other"); !errors.Is(err, ErrDecrypt) {
			t.Errorf("wrong associated data: %v", err)
		}
	}
	if enc, err := EncryptString(c, "", "t.c"); enc != "" || err != nil {
		t.Errorf("EncryptString(\"\") = %q, %v", enc, err)
	}
	if dec, err := DecryptString(c, "", "t.c"); dec != "" || err != nil {
		t.Errorf("DecryptString(\"\") = %q, %v", dec, err)
	}
	for _, bad := range []string{"not base64!", "AAAA", "11010519491231002X"} {
		if _, err := DecryptString(c, bad, "t.c"); !errors.Is(err, ErrDecrypt) {
			t.Errorf("DecryptString(%q) err = %v", bad, err)
		}
	}
}

// unsetKeyEnv makes sure AGTRACE_SECRET_KEY is unset for the test and
// restored afterwards.
func unsetKeyEnv(t *testing.T) {
	t.Setenv(KeyEnv, "")
	os.Unsetenv(KeyEnv)
}

func TestParseKey(t *testing.T) {
	want := mustHex(t, testKey)
	good := []string{
		testKey,
		strings.ToUpper(testKey),
		" " + testKey + "\n",
		base64.StdEncoding.EncodeToString(want),
		base64.RawStdEncoding.EncodeToString(want),
		base64.URLEncoding.EncodeToString(want),
	}
	for _, s := range good {
		k, err := ParseKey(s)
		if err != nil || !bytes.Equal(k, want) {
			t.Errorf("ParseKey(%q) = %x, %v", s, k, err)
		}
	}
	bad := []string{"", "0123", testKey[:30], testKey + "00", "zz23456789abcdeffedcba98765432zz", base64.StdEncoding.EncodeToString(make([]byte, 32))}
	for _, s := range bad {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		} else if len(s) >= 8 && strings.Contains(err.Error(), s) {
			t.Errorf("error leaks key material: %v", err)
		}
	}
}

func TestLoadOrCreateKeyEnv(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		env     string
		want    string // hex; "" = error
		errText string
	}{
		{testKey, testKey, ""},
		{base64.StdEncoding.EncodeToString(mustHex(t, testKey)), testKey, ""},
		{"0123456789abcdef", "", KeyEnv},
		{"   ", "", "empty"},
	}
	for _, tc := range tests {
		t.Setenv(KeyEnv, tc.env)
		k, err := LoadOrCreateKey(dir)
		if tc.want == "" {
			if err == nil || !strings.Contains(err.Error(), tc.errText) {
				t.Errorf("env %q: err = %v, want mention of %q", tc.env, err, tc.errText)
			}
			continue
		}
		if err != nil || hex.EncodeToString(k) != tc.want {
			t.Errorf("env %q: %x, %v", tc.env, k, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFileName)); err == nil {
		t.Error("a key file was created although the key came from the environment")
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	unsetKeyEnv(t)
	dir := filepath.Join(t.TempDir(), "data", "nested")
	k1, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != KeySize || bytes.Equal(k1, make([]byte, KeySize)) {
		t.Fatalf("bad key %x", k1)
	}
	path := filepath.Join(dir, KeyFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	if raw, _ := os.ReadFile(path); !bytes.Equal(raw, k1) {
		t.Errorf("file holds %x, want raw key %x", raw, k1)
	}
	k2, err := LoadOrCreateKey(dir)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Errorf("second load = %x, %v; want %x", k2, err, k1)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only %s", len(entries), KeyFileName)
	}

	if runtime.GOOS != "windows" {
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadOrCreateKey(dir)
		if err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("world-readable key file: err = %v", err)
		}
		os.Chmod(path, 0o600)
	}

	// A hand-written hex key file is accepted; garbage is not.
	if err := os.WriteFile(path, []byte(testKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := LoadOrCreateKey(dir); err != nil || hex.EncodeToString(k) != testKey {
		t.Errorf("hex key file: %x, %v", k, err)
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(dir); err == nil {
		t.Error("malformed key file accepted")
	}
	if _, err := LoadOrCreateKey(""); err == nil {
		t.Error("empty data dir accepted")
	}
}

// Replicas starting at once on a shared data directory agree on one key.
func TestLoadOrCreateKeyConcurrent(t *testing.T) {
	unsetKeyEnv(t)
	dir := t.TempDir()
	const n = 16
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = LoadOrCreateKey(dir) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || !bytes.Equal(keys[i], keys[0]) {
			t.Errorf("goroutine %d: %x, %v; want %x", i, keys[i], errs[i], keys[0])
		}
	}
}

func TestSignVerify(t *testing.T) {
	dir := t.TempDir()
	s, err := LoadOrCreateSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, SignerFileName)
	if fi, err := os.Stat(path); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("sm2.key: %v %v", fi, err)
	}
	if raw, _ := os.ReadFile(path); !bytes.HasPrefix(raw, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Errorf("sm2.key is not a PKCS#8 PEM: %.40q", raw)
	}
	pub := s.PublicKeyPEM()
	if !bytes.HasPrefix(pub, []byte("-----BEGIN PUBLIC KEY-----")) {
		t.Errorf("PublicKeyPEM = %.40q", pub)
	}

	again, err := LoadOrCreateSigner(dir)
	if err != nil || !bytes.Equal(again.PublicKeyPEM(), pub) {
		t.Fatalf("reloaded signer has a different key: %v", err)
	}
	other, err := GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}

	msg := []byte(`{"approval":"batch 13701020000000000019","by":"0370102000000000017"}`)
	sig, err := s.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	sig2, _ := again.Sign(msg)
	otherSig, _ := other.Sign(msg)
	flipped := bytes.Clone(sig)
	flipped[len(flipped)-1] ^= 1
	changed := bytes.Clone(msg)
	changed[10] ^= 1

	tests := []struct {
		name     string
		pub, msg []byte
		sig      []byte
		want     bool
	}{
		{"valid", pub, msg, sig, true},
		{"valid, reloaded key", pub, msg, sig2, true},
		{"changed message", pub, changed, sig, false},
		{"truncated message", pub, msg[:len(msg)-1], sig, false},
		{"flipped signature", pub, msg, flipped, false},
		{"other key's signature", pub, msg, otherSig, false},
		{"wrong public key", other.PublicKeyPEM(), msg, sig, false},
		{"empty signature", pub, msg, nil, false},
		{"garbage PEM", []byte("not a key"), msg, sig, false},
		{"private key PEM", mustRead(t, path), msg, sig, false},
		{"nil PEM", nil, msg, sig, false},
	}
	for _, tc := range tests {
		if got := Verify(tc.pub, tc.msg, tc.sig); got != tc.want {
			t.Errorf("%s: Verify = %v, want %v", tc.name, got, tc.want)
		}
	}

	// Mutating the returned PEM must not affect the signer.
	pub[30] ^= 1
	if !Verify(s.PublicKeyPEM(), msg, sig) {
		t.Error("PublicKeyPEM returned internal storage")
	}

	if runtime.GOOS != "windows" {
		os.Chmod(path, 0o640)
		if _, err := LoadOrCreateSigner(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("group-readable sm2.key: err = %v", err)
		}
		os.Chmod(path, 0o600)
	}
	if err := os.WriteFile(path, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateSigner(dir); err == nil {
		t.Error("corrupt sm2.key accepted")
	}
	if _, err := LoadOrCreateSigner(""); err == nil {
		t.Error("empty data dir accepted")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMask(t *testing.T) {
	tests := []struct {
		name string
		f    func(string) string
		in   string
		want string
	}{
		{"id", MaskIDNumber, "11010519491231002X", "1101**********002X"},
		{"id spaces", MaskIDNumber, " 11010519491231002X ", "1101**********002X"},
		{"id 15", MaskIDNumber, "110105491231002", "1101*******1002"},
		{"id 9", MaskIDNumber, "123456789", "1234*6789"},
		{"id 8", MaskIDNumber, "12345678", "********"},
		{"id short", MaskIDNumber, "123", "***"},
		{"id empty", MaskIDNumber, "", ""},
		{"phone", MaskPhone, "13812345678", "138****5678"},
		{"phone grouped", MaskPhone, "138 1234-5678", "138****5678"},
		{"phone landline", MaskPhone, "053188886666", "053*****6666"},
		{"phone 8", MaskPhone, "88886666", "888*6666"},
		{"phone 7", MaskPhone, "8888666", "*******"},
		{"phone empty", MaskPhone, "", ""},
		{"name 3", MaskName, "张三丰", "张**"},
		{"name 2", MaskName, "张三", "张*"},
		{"name 4", MaskName, "欧阳修远", "欧***"},
		{"name 1", MaskName, "张", "*"},
		{"name latin", MaskName, "Ann", "A**"},
		{"name empty", MaskName, "", ""},
		{"name blank", MaskName, "   ", ""},
	}
	for _, tc := range tests {
		if got := tc.f(tc.in); got != tc.want {
			t.Errorf("%s: mask(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}
