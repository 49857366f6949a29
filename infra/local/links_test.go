package local_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/shared/links"
)

// The first start writes a keyring only its owner can read; every later
// start reads the same one, so a link in the local outbox still opens
// after a restart.
func TestLinkKeyringIsCreatedOnceAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, err := local.LoadOrCreateLinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if first.Current() != "k1" {
		t.Errorf("signing key %q, want k1", first.Current())
	}
	st, err := os.Stat(local.LinksPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("keyring file mode %v, want 0600", st.Mode().Perm())
	}
	stored, err := os.ReadFile(local.LinksPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	// The file has the form of the AWS secret, so the same parser reads both.
	if parsed, err := links.ParseKeyring(string(stored)); err != nil || parsed.SecretString() != first.SecretString() {
		t.Errorf("the file is not the keyring in its stored form: %v", err)
	}
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	tok, err := first.Sign(links.Ticket, "01JNTICKET0000000000000000", now.Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	// A restart: the same keyring, so the link signed before still opens.
	second, err := local.LoadOrCreateLinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if second.SecretString() != first.SecretString() {
		t.Fatal("a second start generated another keyring")
	}
	if c, err := second.Verify(tok, links.Ticket, now); err != nil || c.ID != "01JNTICKET0000000000000000" {
		t.Errorf("link signed before the restart: %v, %v", c, err)
	}
	if again, _ := os.ReadFile(local.LinksPath(dir)); string(again) != string(stored) {
		t.Errorf("the second start rewrote the file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the data directory holds %d files, want only the keyring", len(entries))
	}

	// A damaged file stops the start instead of being replaced, which
	// would break every link already sent.
	if err := os.WriteFile(local.LinksPath(dir), []byte("not a keyring"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := local.LoadOrCreateLinks(dir); err == nil {
		t.Errorf("a damaged keyring file was accepted")
	}
	if got, _ := os.ReadFile(local.LinksPath(dir)); string(got) != "not a keyring" {
		t.Errorf("a damaged keyring file was overwritten")
	}
}

func TestConcurrentFirstStartsAgreeOnOneLinkKeyring(t *testing.T) {
	dir := t.TempDir()
	got := make([]*links.Keyring, 4)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			ring, err := local.LoadOrCreateLinks(dir)
			if err != nil {
				t.Error(err)
			}
			got[i] = ring
		})
	}
	wg.Wait()
	for _, ring := range got {
		if ring == nil || ring.SecretString() != got[0].SecretString() {
			t.Fatal("concurrent first starts ended with different keyrings")
		}
	}
}
