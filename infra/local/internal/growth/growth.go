// Package growth measures whether an operation gets slower as the data
// behind it grows. It runs a fixed number of operations, records each one's
// latency in the order the operations were handed out, and compares the
// median of the first tenth with the median of the last tenth. A store
// whose cost does not grow with history keeps that ratio near 1.
package growth

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Summary is what a run measured.
type Summary struct {
	// N is the number of operations; Clients how many ran at once.
	N, Clients int
	// First and Last are the median latencies of the first and the last
	// tenth of the operations.
	First, Last time.Duration
	// Deciles are the median latencies of each tenth, in order.
	Deciles []time.Duration
	// Elapsed is the run's wall time.
	Elapsed time.Duration
}

// Ratio is Last over First: 1 when latency does not grow.
func (s Summary) Ratio() float64 {
	if s.First <= 0 {
		return 0
	}
	return float64(s.Last) / float64(s.First)
}

// PerSecond is the run's throughput.
func (s Summary) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.N) / s.Elapsed.Seconds()
}

// String gives the figures on one line, the deciles in milliseconds.
func (s Summary) String() string {
	var d []string
	for _, x := range s.Deciles {
		d = append(d, fmt.Sprintf("%.1f", ms(x)))
	}
	return fmt.Sprintf("n=%d clients=%d first10%%=%.2fms last10%%=%.2fms ratio=%.2f rate=%.0f/s deciles(ms)=[%s]",
		s.N, s.Clients, ms(s.First), ms(s.Last), s.Ratio(), s.PerSecond(), strings.Join(d, " "))
}

// Report adds the figures to a benchmark's output (first-ms, last-ms,
// last/first, ops/s) and logs the whole summary.
func (s Summary) Report(b *testing.B) {
	b.Helper()
	b.ReportMetric(ms(s.First), "first-ms")
	b.ReportMetric(ms(s.Last), "last-ms")
	b.ReportMetric(s.Ratio(), "last/first")
	b.ReportMetric(s.PerSecond(), "ops/s")
	b.ReportMetric(0, "ns/op") // the run is fixed work, not b.N iterations
	b.Log(s.String())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Warmup is how many operations RunWarm makes before it starts measuring:
// enough for a JVM's compiler, connection pools and caches to settle, so
// that the first tenth measures the empty store and not a cold process.
const Warmup = 200

// RunWarm makes Warmup operations unmeasured, then Run's n; op sees
// i = 0 … Warmup+n-1.
func RunWarm(n, clients int, op func(i int) error) (Summary, error) {
	if _, err := Run(Warmup, clients, op); err != nil {
		return Summary{}, fmt.Errorf("warm-up: %w", err)
	}
	return Run(n, clients, func(i int) error { return op(Warmup + i) })
}

// Run runs op for i = 0 … n-1 from clients goroutines at once, handing out
// i in order, and measures each call. It stops at the first error.
func Run(n, clients int, op func(i int) error) (Summary, error) {
	if clients < 1 {
		clients = 1
	}
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Bool
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	began := time.Now()
	for range clients {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t := time.Now()
				err := op(i)
				lat[i] = time.Since(t)
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("operation %d: %w", i, err) })
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return Summary{}, firstErr
	}
	return Summarize(lat, clients, time.Since(began)), nil
}

// Summarize computes a Summary from latencies in the order the operations
// were handed out.
func Summarize(lat []time.Duration, clients int, elapsed time.Duration) Summary {
	s := Summary{N: len(lat), Clients: clients, Elapsed: elapsed}
	if len(lat) < 10 {
		return s
	}
	tenth := len(lat) / 10
	for d := range 10 {
		end := (d + 1) * tenth
		if d == 9 {
			end = len(lat)
		}
		s.Deciles = append(s.Deciles, median(lat[d*tenth:end]))
	}
	s.First = median(lat[:tenth])
	s.Last = median(lat[len(lat)-tenth:])
	return s
}

func median(xs []time.Duration) time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
