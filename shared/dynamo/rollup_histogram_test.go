package dynamo

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/histogram"
)

// A histogram taken apart into buckets and extremes, as the rollup items
// store it, and put together again is the same histogram; bucket counts
// of two histograms added attribute by attribute are their merge.
func TestHistogramBucketsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		var a, b histogram.Histogram
		for range n % 17 {
			a.Add(time.Duration(rng.Int64N(int64(400 * 24 * time.Hour))))
		}
		for range n % 5 {
			b.Add(time.Duration(rng.Int64N(int64(time.Hour))) - time.Minute) // some negative: counted as 0
		}
		ba, loA, hiA, err := histogramBuckets(&a)
		if err != nil {
			t.Fatal(err)
		}
		got, err := histogramFromBuckets(ba, loA, hiA)
		if err != nil || *got != a {
			t.Fatalf("round trip of %d durations: %v", a.Count(), err)
		}
		bb, loB, hiB, _ := histogramBuckets(&b)
		if a.Count() == 0 || b.Count() == 0 {
			continue
		}
		for i, c := range bb {
			ba[i] += c
		}
		sum, err := histogramFromBuckets(ba, min(loA, loB), max(hiA, hiB))
		want := a
		_ = want.Merge(&b)
		if err != nil || *sum != want {
			t.Fatalf("added buckets differ from the merge: %v", err)
		}
	}
}

// Stored buckets that disagree with their extremes are refused, never
// read as a histogram that quietly differs.
func TestHistogramFromBucketsRefusesNonsense(t *testing.T) {
	var h histogram.Histogram
	h.Add(time.Hour)
	buckets, lo, hi, _ := histogramBuckets(&h)
	for name, c := range map[string]struct {
		buckets map[int]int64
		lo, hi  time.Duration
	}{
		"min outside its bucket": {buckets, time.Second, hi},
		"max below min":          {buckets, lo, lo - 1},
		"negative count":         {map[int]int64{3: -1}, lo, hi},
		"bucket beyond the last": {map[int]int64{500: 1}, lo, hi},
		"extremes but no counts": {map[int]int64{}, lo, hi},
	} {
		if got, err := histogramFromBuckets(c.buckets, c.lo, c.hi); err == nil && got.Count() != 0 {
			t.Errorf("%s: read as %d durations", name, got.Count())
		}
	}
	if empty, err := histogramFromBuckets(nil, 0, 0); err != nil || empty.Count() != 0 {
		t.Errorf("no buckets: %v %v", empty, err)
	}
}
