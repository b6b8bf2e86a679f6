package secure

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeyEnv names the environment variable that, when set, supplies the SM4
// data key as 32 hex characters or base64 of 16 bytes.
const KeyEnv = "AGTRACE_SECRET_KEY"

// Key file names inside the data directory.
const (
	KeyFileName    = "secret.key" // 16 raw bytes, mode 0600
	SignerFileName = "sm2.key"    // PKCS#8 PEM, mode 0600
)

// ParseKey decodes a 16-byte key written as 32 hex characters or as base64
// (standard or URL alphabet, padded or not). Surrounding whitespace is
// ignored. The error never contains the key material.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("secure: key must be %d bytes written as %d hex characters or as base64 (got %d characters that are neither); generate one with: head -c 16 /dev/urandom | xxd -p", KeySize, 2*KeySize, len(s))
}

// LoadOrCreateKey returns the 16-byte SM4 data key. If AGTRACE_SECRET_KEY is
// set it is used (an empty or malformed value is an error rather than a
// silent fallback, which would encrypt new data under a different key).
// Otherwise <dataDir>/secret.key is read, or created with 16 random bytes
// and mode 0600 when it does not exist. An existing key file readable or
// writable by group or others is refused.
//
// Back the key up separately from the database: data encrypted under a
// lost key cannot be recovered.
func LoadOrCreateKey(dataDir string) ([]byte, error) {
	if v, ok := os.LookupEnv(KeyEnv); ok {
		if strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("secure: %s is set but empty; set it to the key or unset it to use %s in the data directory", KeyEnv, KeyFileName)
		}
		k, err := ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("secure: %s: %w", KeyEnv, err)
		}
		return k, nil
	}
	if dataDir == "" {
		return nil, errors.New("secure: data directory not set")
	}
	path := filepath.Join(dataDir, KeyFileName)
	data, err := readSecretFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k := make([]byte, KeySize)
		if _, err := rand.Read(k); err != nil {
			return nil, fmt.Errorf("secure: generating key: %w", err)
		}
		data, err = createSecretFile(path, k)
		if err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	if len(data) == KeySize {
		return data, nil
	}
	k, err := ParseKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("secure: %s: must hold %d raw bytes, %d hex characters or base64: %w", path, KeySize, 2*KeySize, err)
	}
	return k, nil
}

// readSecretFile reads a key file after checking that it is a regular file
// not accessible to group or others.
func readSecretFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("secure: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("secure: %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secure: refusing to use key file %s: its mode %04o lets group or others access it; fix with: chmod 600 %s (and check who may have copied it)", path, fi.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secure: %w", err)
	}
	return data, nil
}

// createSecretFile writes data to path with mode 0600 without ever exposing
// a partial file and without overwriting a file created concurrently (by
// another replica sharing the data directory); in that case the other
// file's content is returned.
func createSecretFile(path string, data []byte) ([]byte, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secure: creating data directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("secure: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return nil, fmt.Errorf("secure: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("secure: writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("secure: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("secure: writing %s: %w", path, err)
	}
	// os.Link fails if path exists: the first writer wins atomically.
	err = os.Link(tmpName, path)
	if errors.Is(err, fs.ErrExist) {
		return readSecretFile(path)
	}
	if err != nil {
		// Hard links unsupported (some network or FUSE file systems):
		// fall back to exclusive create.
		f, err2 := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err2, fs.ErrExist) {
			return readSecretFile(path)
		}
		if err2 != nil {
			return nil, fmt.Errorf("secure: creating %s: %w", path, errors.Join(err, err2))
		}
		_, werr := f.Write(data)
		serr := f.Sync()
		cerr := f.Close()
		if err := errors.Join(werr, serr, cerr); err != nil {
			os.Remove(path)
			return nil, fmt.Errorf("secure: writing %s: %w", path, err)
		}
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the new directory entry durable; best effort
		d.Close()
	}
	return bytes.Clone(data), nil
}
