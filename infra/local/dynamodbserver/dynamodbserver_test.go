package dynamodbserver_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/infra/local/dynamodbserver"
)

func binary(t *testing.T) string {
	t.Helper()
	wd, _ := os.Getwd()
	bin, err := dynamodbserver.FindBinary(wd)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// alive reports whether pid is a live process: not gone, not a zombie.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

func TestStartsHealthyAndStops(t *testing.T) {
	db := filepath.Join(t.TempDir(), "dynamodb.db")
	s, err := dynamodbserver.Start(context.Background(), dynamodbserver.Options{Binary: binary(t), DBPath: db})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") || !alive(s.PID) {
		t.Fatalf("endpoint %q pid %d", s.Endpoint, s.PID)
	}
	if pgid, err := syscall.Getpgid(s.PID); err != nil || pgid != s.PID {
		t.Errorf("dynoxide should lead its own process group: pgid %d (%v)", pgid, err)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("no data file: %v", err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done is open after Stop")
	}
	if alive(s.PID) {
		t.Error("dynoxide still runs after Stop")
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Errorf("a second Stop: %v", err)
	}
}

func TestMissingBinaryIsAClearError(t *testing.T) {
	_, err := dynamodbserver.FindBinary(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "make deps") {
		t.Errorf("FindBinary in an empty tree: %v", err)
	}
	_, err = dynamodbserver.Start(context.Background(), dynamodbserver.Options{Binary: filepath.Join(t.TempDir(), "nope"), DBPath: filepath.Join(t.TempDir(), "db")})
	if err == nil {
		t.Error("Start with no binary succeeded")
	}
}

// TestNoOrphanWhenTheParentIsKilled runs a helper process that starts
// dynoxide, kills the helper with SIGKILL — no chance to clean up — and
// checks that dynoxide dies with it.
func TestNoOrphanWhenTheParentIsKilled(t *testing.T) {
	helper := exec.Command(os.Args[0], "-test.run=^TestHelperStartsDynoxide$")
	helper.Env = append(os.Environ(), "DYNAMODBSERVER_HELPER="+binary(t), "DYNAMODBSERVER_HELPER_DB="+filepath.Join(t.TempDir(), "db"))
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "PID "); ok {
			pid, _ = strconv.Atoi(p)
			break
		}
	}
	if pid == 0 {
		_ = helper.Process.Kill()
		t.Fatal("the helper did not report dynoxide's pid")
	}
	if !alive(pid) {
		t.Fatal("dynoxide is not running under the helper")
	}
	_ = helper.Process.Kill()
	_ = helper.Wait()

	// dynoxide is not our child, so there is nothing to wait on but its
	// state; the kernel signals it as the helper dies.
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatal("dynoxide outlived its killed parent")
		}
		time.Sleep(10 * time.Millisecond) // polling another process's state, not synchronising with this test
	}
}

// TestHelperStartsDynoxide is the helper process of the test above.
func TestHelperStartsDynoxide(t *testing.T) {
	bin := os.Getenv("DYNAMODBSERVER_HELPER")
	if bin == "" {
		t.Skip("helper process only")
	}
	s, err := dynamodbserver.Start(context.Background(), dynamodbserver.Options{Binary: bin, DBPath: os.Getenv("DYNAMODBSERVER_HELPER_DB")})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("PID %d\n", s.PID)
	select {} // until killed
}
