package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyFile is the signing key's file name inside the local stack's data
// directory.
const KeyFile = "jwt-signing-key.pem"

// ErrNoKey means the data directory has no signing key yet: the local stack
// has never been started there.
var ErrNoKey = errors.New("no signing key yet")

// KeyPath returns where the signing key lives in dir.
func KeyPath(dir string) string { return filepath.Join(dir, KeyFile) }

// LoadOrCreateKey reads the signing key from dir, or generates a 2048-bit
// RSA key and stores it there (PKCS #8 PEM, mode 0600) on first start.
// Tokens minted before a restart therefore stay valid after it. Two
// processes starting at once end up with the same key: the file is
// written aside and linked into place only if none exists.
func LoadOrCreateKey(dir string) (*rsa.PrivateKey, error) {
	key, err := LoadKey(dir)
	if !errors.Is(err, ErrNoKey) {
		return key, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	key, err = rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".jwt-signing-key-*")
	if err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	if err := os.Link(tmp.Name(), KeyPath(dir)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadKey(dir) // another process won the race
		}
		return nil, fmt.Errorf("store signing key: %w", err)
	}
	return key, nil
}

// LoadKey reads the signing key from dir. It returns an error wrapping
// ErrNoKey when there is none.
func LoadKey(dir string) (*rsa.PrivateKey, error) {
	path := KeyPath(dir)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoKey, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s is not a PEM private key", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s is not an RSA key", path)
	}
	return key, nil
}
