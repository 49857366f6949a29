package dynamodbserver_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/rapportcrm/rapport/infra/local/dynamodbserver"
)

func find(t *testing.T, kind dynamodbserver.Kind) string {
	t.Helper()
	wd, _ := os.Getwd()
	bin, err := dynamodbserver.Find(kind, wd)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

var kinds = []dynamodbserver.Kind{dynamodbserver.Dynoxide, dynamodbserver.DynamoDBLocal}

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
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			db := dynamodbserver.DataPath(kind, t.TempDir())
			s, err := dynamodbserver.Start(context.Background(), dynamodbserver.Options{Kind: kind, Binary: find(t, kind), DBPath: db})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") || !alive(s.PID) || s.Kind != kind {
				t.Fatalf("endpoint %q pid %d kind %q", s.Endpoint, s.PID, s.Kind)
			}
			if pgid, err := syscall.Getpgid(s.PID); err != nil || pgid != s.PID {
				t.Errorf("the server should lead its own process group: pgid %d (%v)", pgid, err)
			}
			if _, err := os.Stat(db); err != nil {
				t.Errorf("no data: %v", err)
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
				t.Error("the server still runs after Stop")
			}
			if err := s.Stop(context.Background()); err != nil {
				t.Errorf("a second Stop: %v", err)
			}
		})
	}
}

func TestParseKind(t *testing.T) {
	for in, want := range map[string]dynamodbserver.Kind{"": dynamodbserver.Dynoxide, "ddblocal": dynamodbserver.DynamoDBLocal, "dynoxide": dynamodbserver.Dynoxide} {
		if got, err := dynamodbserver.ParseKind(in); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := dynamodbserver.ParseKind("dynalite"); err == nil || !strings.Contains(err.Error(), "dynoxide or ddblocal") {
		t.Errorf("ParseKind(dynalite): %v", err)
	}
}

func TestMissingBinaryIsAClearError(t *testing.T) {
	for _, kind := range kinds {
		_, err := dynamodbserver.Find(kind, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "make deps") {
			t.Errorf("Find(%s) in an empty tree: %v", kind, err)
		}
	}
	_, err := dynamodbserver.Start(context.Background(), dynamodbserver.Options{Binary: filepath.Join(t.TempDir(), "nope"), DBPath: filepath.Join(t.TempDir(), "db")})
	if err == nil {
		t.Error("Start with no binary succeeded")
	}
}

// TestNoOrphanWhenTheParentIsKilled runs a helper process that starts a
// server, kills the helper with SIGKILL — no chance to clean up — and
// checks that the server dies with it.
func TestNoOrphanWhenTheParentIsKilled(t *testing.T) {
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) { testNoOrphan(t, kind) })
	}
}

func testNoOrphan(t *testing.T, kind dynamodbserver.Kind) {
	helper := exec.Command(os.Args[0], "-test.run=^TestHelperStartsAServer$")
	helper.Env = append(os.Environ(), "DYNAMODBSERVER_HELPER="+find(t, kind), "DYNAMODBSERVER_HELPER_KIND="+string(kind),
		"DYNAMODBSERVER_HELPER_DB="+dynamodbserver.DataPath(kind, t.TempDir()))
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
		t.Fatal("the helper did not report the server's pid")
	}
	if !alive(pid) {
		t.Fatal("the server is not running under the helper")
	}
	_ = helper.Process.Kill()
	_ = helper.Wait()

	// The server is not our child, so there is nothing to wait on but its
	// state; the kernel signals it as the helper dies.
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatal("the server outlived its killed parent")
		}
		time.Sleep(10 * time.Millisecond) // polling another process's state, not synchronising with this test
	}
}

// TestHelperStartsAServer is the helper process of the test above.
func TestHelperStartsAServer(t *testing.T) {
	bin := os.Getenv("DYNAMODBSERVER_HELPER")
	if bin == "" {
		t.Skip("helper process only")
	}
	s, err := dynamodbserver.Start(context.Background(), dynamodbserver.Options{
		Kind: dynamodbserver.Kind(os.Getenv("DYNAMODBSERVER_HELPER_KIND")), Binary: bin, DBPath: os.Getenv("DYNAMODBSERVER_HELPER_DB"),
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("PID %d\n", s.PID)
	select {} // until killed
}

// TestDynoxideKeptInAFileGetsTheStreamIndexes checks that a file-backed
// dynoxide's database has the indexes and that SQLite plans dynoxide's own
// stream queries (copied from dynoxide 1.2.1) on them, not as scans of
// every stream record: the property that keeps writes flat, checked
// without timing anything.
func TestDynoxideKeptInAFileGetsTheStreamIndexes(t *testing.T) {
	db := dynamodbserver.DataPath(dynamodbserver.Dynoxide, t.TempDir())
	s, err := dynamodbserver.Start(context.Background(), dynamodbserver.Options{Binary: find(t, dynamodbserver.Dynoxide), DBPath: db})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	if s.StreamIndexErr != nil {
		t.Fatal(s.StreamIndexErr)
	}
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for query, index := range map[string]string{
		// numbering each new stream record
		"SELECT COALESCE(MAX(CAST(sequence_number AS INTEGER)), 0) + 1 FROM _stream_records WHERE table_name = ?1": "rapport_stream_records_sequence",
		// GetRecords
		"SELECT event_name, keys_json, new_image, old_image, sequence_number, created_at, user_identity FROM _stream_records WHERE table_name = ?1 AND shard_id = ?2 AND CAST(sequence_number AS INTEGER) > ?3 ORDER BY CAST(sequence_number AS INTEGER) ASC LIMIT ?4": "rapport_stream_records_sequence",
		// DescribeStream
		"SELECT MIN(sequence_number), MAX(sequence_number) FROM _stream_records WHERE table_name = ?1 AND shard_id = ?2": "rapport_stream_records_shard",
	} {
		args := make([]any, strings.Count(query, "?"))
		for i := range args {
			args[i] = "x"
		}
		rows, err := conn.Query("EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if got := strings.Join(plan, "; "); !strings.Contains(got, "INDEX "+index) {
			t.Errorf("%s\nplanned as %q, want a search of %s", query, got, index)
		}
	}
}

// cpusAllowed reads the CPUs a thread may run on, as /proc lists them
// ("0-1", "1").
func cpusAllowed(t *testing.T, statusPath string) string {
	t.Helper()
	b, err := os.ReadFile(statusPath)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("%s has no Cpus_allowed_list", statusPath)
	return ""
}

// TestDynoxideRunsOnOneCPU: dynoxide is started on one CPU (see
// affinity.go), every thread of it, while this process keeps all of its
// own.
func TestDynoxideRunsOnOneCPU(t *testing.T) {
	mine := cpusAllowed(t, "/proc/self/status")
	if !strings.ContainsAny(mine, ",-") {
		t.Skipf("this process may run on one CPU only (%s): nothing to pin", mine)
	}
	s, err := dynamodbserver.Start(context.Background(), dynamodbserver.Options{Binary: find(t, dynamodbserver.Dynoxide)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", s.PID))
	if len(tasks) == 0 {
		t.Fatal("dynoxide has no threads in /proc")
	}
	for _, task := range tasks {
		if got := cpusAllowed(t, task); strings.ContainsAny(got, ",-") {
			t.Errorf("dynoxide's thread %s may run on CPUs %s, want one", task, got)
		}
	}
	ours, _ := filepath.Glob("/proc/self/task/*/status")
	for _, task := range ours {
		if got := cpusAllowed(t, task); got != mine {
			t.Errorf("this process's thread %s may run on CPUs %s after the start, want %s", task, got, mine)
		}
	}
}
