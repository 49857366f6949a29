package bench_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/links"
)

// BenchmarkColdStart measures each function's cold start: from starting
// its binary to its first request to the Lambda Runtime API for an event,
// which is when Lambda's Init phase ends. The binaries are built as
// `make build` builds them (lambda.norpc, trimmed, stripped) but for this
// machine, and started against fakeAWS with the settings a deployed
// function has. hello, the smallest Go Lambda built the same way, is the
// floor: benchtable prints each function's median as a ratio to it.
// Fixed work: run with -benchtime 1x; RAPPORT_BENCH_STARTS sets the starts
// per binary (default 15).
func BenchmarkColdStart(b *testing.B) {
	root, err := filepath.Abs("../..")
	if err != nil {
		b.Fatal(err)
	}
	names := []string{"hello"}
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	bin := b.TempDir()
	for _, n := range names {
		pkg := "./functions/" + n
		if n == "hello" {
			pkg = "./infra/bench/hello"
		}
		build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(bin, n), pkg)
		build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("build %s: %v\n%s", n, err, out)
		}
	}
	key, err := links.GenerateKey("bench")
	if err != nil {
		b.Fatal(err)
	}
	ring, err := links.NewKeyring(key)
	if err != nil {
		b.Fatal(err)
	}
	fake := newFakeAWS(b, ring.SecretString())
	starts := 15
	if n, err := strconv.Atoi(os.Getenv("RAPPORT_BENCH_STARTS")); err == nil && n > 0 {
		starts = n
	}
	for _, n := range names {
		b.Run(n, func(b *testing.B) {
			var took []time.Duration
			for range starts {
				took = append(took, coldStart(b, filepath.Join(bin, n), fake))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-init-median")
		})
	}
}

// coldStart starts the binary at path once and returns how long it took
// to ask fake for its first event.
func coldStart(b *testing.B, path string, fake *fakeAWS) time.Duration {
	b.Helper()
	ready := fake.expect()
	cmd := exec.Command(path)
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + fake.host(),
		"AWS_LAMBDA_FUNCTION_NAME=" + filepath.Base(path),
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench",
		"AWS_ENDPOINT_URL=" + fake.url, // every client's calls, should any start one, reach the fake
		"TABLE_NAME=rapport", "EVENT_BUS_NAME=rapport",
		"ORG_TIME_ZONE=Europe/Berlin",
		"LINKS_SECRET_ARN=arn:aws:secretsmanager:us-east-1:000000000000:secret:links",
		"MAIL_FROM=Rapport <rapport@example.com>",
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	select {
	case at := <-ready:
		return at.Sub(began)
	case err := <-exited:
		exited <- err
		b.Fatalf("%s exited before asking for an event: %v", filepath.Base(path), err)
	case <-time.After(20 * time.Second):
		b.Fatalf("%s did not ask for an event within 20 s", filepath.Base(path))
	}
	return 0
}
