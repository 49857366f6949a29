package growth

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestSummarizeComparesTheFirstAndLastTenth(t *testing.T) {
	lat := make([]time.Duration, 100)
	for i := range lat {
		lat[i] = time.Duration(i+1) * time.Millisecond // 1 … 100 ms
	}
	s := Summarize(lat, 1, time.Second)
	if s.First != 6*time.Millisecond || s.Last != 96*time.Millisecond {
		t.Errorf("first %v last %v", s.First, s.Last)
	}
	if r := s.Ratio(); r != 16 {
		t.Errorf("ratio %v", r)
	}
	if len(s.Deciles) != 10 || s.Deciles[4] != 46*time.Millisecond {
		t.Errorf("deciles %v", s.Deciles)
	}
	if s.PerSecond() != 100 {
		t.Errorf("rate %v", s.PerSecond())
	}
}

func TestRunHandsOutEveryIndexOnceAndStopsAtAnError(t *testing.T) {
	var seen [1000]atomic.Int32
	s, err := Run(len(seen), 4, func(i int) error { seen[i].Add(1); return nil })
	if err != nil || s.N != 1000 || s.Clients != 4 {
		t.Fatal(s, err)
	}
	for i := range seen {
		if seen[i].Load() != 1 {
			t.Fatalf("operation %d ran %d times", i, seen[i].Load())
		}
	}
	boom := errors.New("boom")
	_, err = Run(100, 2, func(i int) error {
		if i == 7 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
}
