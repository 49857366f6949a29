package bench_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAWS is as much of the Lambda Runtime API and of Secrets Manager as a
// function touches before its first invocation: the runtime's request for
// its next event, which marks the end of the cold start, and the link
// keyring that three functions read while they start. It never hands out
// an event: the request for one waits until the process is stopped.
type fakeAWS struct {
	url    string
	secret string // the keyring GetSecretValue returns

	mu    sync.Mutex
	ready chan time.Time // receives the instant of the first /next
}

func newFakeAWS(tb testing.TB, secret string) *fakeAWS {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	f := &fakeAWS{url: "http://" + ln.Addr().String(), secret: secret}
	srv := &http.Server{Handler: f}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return f
}

// host is the address the runtime reads from AWS_LAMBDA_RUNTIME_API.
func (f *fakeAWS) host() string { return strings.TrimPrefix(f.url, "http://") }

// expect arms the fake for one process start and returns where the
// instant of its first request for an event arrives.
func (f *fakeAWS) expect() <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ready = make(chan time.Time, 1)
	return f.ready
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/2018-06-01/runtime/invocation/next":
		at := time.Now()
		f.mu.Lock()
		if f.ready != nil {
			f.ready <- at
			f.ready = nil
		}
		f.mu.Unlock()
		<-r.Context().Done()
	case r.Header.Get("X-Amz-Target") == "secretsmanager.GetSecretValue":
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(map[string]any{
			"ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:links", "Name": "links",
			"SecretString": f.secret, "VersionId": "v1",
		})
	default:
		http.Error(w, "the fake knows only the runtime's next event and GetSecretValue", http.StatusNotFound)
	}
}
