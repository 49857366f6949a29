package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rapportcrm/rapport/shared/links"
)

// LinksFile is the file, inside the data directory, holding the keyring
// that signs customers' links: in AWS the stack's secret, here the same
// stored form (links.Keyring.SecretString) in a file.
const LinksFile = "links.json"

// LinksPath returns where the link keyring lives in dir.
func LinksPath(dir string) string { return filepath.Join(dir, LinksFile) }

// LoadOrCreateLinks reads the link keyring from dir, or on first start
// generates one of a single key, k1, and stores it there (mode 0600). Links
// in the local outbox therefore keep working after a restart. Two
// processes starting at once end up with the same keyring: the file is
// written aside and linked into place only if none exists. To try a
// rotation locally, edit the file as the README says and restart.
func LoadOrCreateLinks(dir string) (*links.Keyring, error) {
	ring, err := loadLinks(dir)
	if !errors.Is(err, fs.ErrNotExist) {
		return ring, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	key, err := links.GenerateKey("k1")
	if err != nil {
		return nil, err
	}
	if ring, err = links.NewKeyring(key); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, ".links-*")
	if err != nil {
		return nil, fmt.Errorf("write link keyring: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write link keyring: %w", err)
	}
	if _, err := tmp.WriteString(ring.SecretString()); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write link keyring: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write link keyring: %w", err)
	}
	if err := os.Link(tmp.Name(), LinksPath(dir)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return loadLinks(dir) // another process won the race
		}
		return nil, fmt.Errorf("store link keyring: %w", err)
	}
	return ring, nil
}

// loadLinks reads the keyring in dir; its error wraps fs.ErrNotExist when
// there is none. The errors never quote the file, which holds secrets.
func loadLinks(dir string) (*links.Keyring, error) {
	path := LinksPath(dir)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read link keyring: %w", err)
	}
	ring, err := links.ParseKeyring(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", display(path), err)
	}
	return ring, nil
}
