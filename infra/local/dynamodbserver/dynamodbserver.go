// Package dynamodbserver runs dynoxide, the local DynamoDB-compatible
// server pinned in package.json, as a child process of the local stack:
// on a free port, with its data in a file, stopped with the stack and never
// left behind as an orphan.
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

// BinaryPath is where npm installs the pinned dynoxide, relative to the
// repository's root.
const BinaryPath = "node_modules/@dynoxide/linux-x64/dynoxide"

// FindBinary looks for dynoxide under dir and each of its parents.
func FindBinary(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, BinaryPath)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("dynoxide not found at %s in %s or above it: run `make deps` (npm ci) first", BinaryPath, dir)
		}
	}
}

// Options configure a Server.
type Options struct {
	Binary string    // the dynoxide executable
	DBPath string    // the SQLite file holding the data; created if missing
	Output io.Writer // receives the server's own output; nil discards it
}

// Server is a running dynoxide.
type Server struct {
	// Endpoint is the server's URL, for AWS_ENDPOINT_URL_DYNAMODB.
	Endpoint string
	// PID is the child's process id.
	PID int

	binary string
	port   int
	proc   *os.Process
	done   chan struct{} // closed when the child has exited
	err    error         // its exit status, once done
}

// Start runs dynoxide on a free port of 127.0.0.1 and returns once it
// answers its health check. The child gets SIGKILL if this process dies
// (Linux's parent-death signal), and it runs in its own process group so
// that Ctrl-C in a terminal reaches the stack, which then stops it in
// order, and not the server directly.
func Start(ctx context.Context, o Options) (*Server, error) {
	var lastErr error
	for range 3 { // the free port can be taken before dynoxide binds it
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

func start(ctx context.Context, o Options, port int) (*Server, error) {
	cmd := exec.Command(o.Binary, "serve", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--db-path", o.DBPath)
	cmd.Stdout, cmd.Stderr = o.Output, o.Output
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	s := &Server{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		binary:   o.Binary,
		port:     port,
		done:     make(chan struct{}),
	}
	// The parent-death signal fires when the thread that started the child
	// ends, not the process; Go may end idle threads. So start the child
	// from a thread locked for as long as the child lives.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		s.proc, s.PID = cmd.Process, cmd.Process.Pid
		started <- nil
		s.err = cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start dynoxide: %w", err)
	}
	if err := s.waitHealthy(ctx); err != nil {
		_ = s.Stop(context.Background())
		return nil, err
	}
	return s, nil
}

// waitHealthy polls dynoxide's own health check until it passes, the child
// exits or 30 s pass. Polling a child for readiness, not synchronising.
func (s *Server) waitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		check := exec.CommandContext(ctx, s.binary, "healthcheck", "--host", "127.0.0.1", "--port", strconv.Itoa(s.port), "--timeout", "1")
		if check.Run() == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("dynoxide exited before it was ready: %v", s.err)
		case <-ctx.Done():
			return fmt.Errorf("dynoxide not healthy on port %d: %w", s.port, ctx.Err())
		case <-time.After(delay):
		}
	}
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
		return errors.New("dynoxide did not stop in time and was killed")
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
