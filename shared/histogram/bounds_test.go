package histogram

import (
	"testing"
	"time"
)

// TestBounds checks the bucket layout every stored histogram depends on.
func TestBounds(t *testing.T) {
	if bounds[0] != time.Second {
		t.Fatalf("b(0) = %v, want 1s", bounds[0])
	}
	worst := 0.0
	for i := 1; i < boundCount; i++ {
		lo, hi := bounds[i-1], bounds[i]
		if ratio := float64(hi) / float64(lo); hi <= lo || ratio > Growth {
			t.Fatalf("bucket %d is [%v, %v), ratio %v", i, lo, hi, ratio)
		}
		worst = max(worst, float64(hi-lo)/float64(hi+lo))
	}
	if worst > MaxRelativeError {
		t.Errorf("widest bucket allows a relative error of %.5f, above MaxRelativeError %.3f", worst, MaxRelativeError)
	}
	t.Logf("buckets: %d; logarithmic range %v – %v (%.0f days); per-bucket error bound %.4f%%",
		numBuckets, Shortest, Longest, Longest.Hours()/24, 100*worst)
	if Longest < 366*24*time.Hour {
		t.Errorf("Longest = %v, want at least a year", Longest)
	}

	// Every bound starts its own bucket, and the nanosecond before it
	// belongs to the bucket below.
	for i, b := range bounds {
		if got := bucketOf(b); got != i+1 {
			t.Errorf("bucketOf(b(%d)) = %d, want %d", i, got, i+1)
		}
		if got := bucketOf(b - 1); got != i {
			t.Errorf("bucketOf(b(%d)-1ns) = %d, want %d", i, got, i)
		}
	}
}

// TestMergeTooMany checks the MaxCount cap, which no test could reach by
// adding durations one at a time.
func TestMergeTooMany(t *testing.T) {
	var full, one Histogram
	full.Add(time.Minute)
	full.counts[bucketOf(time.Minute)] = MaxCount
	full.total = MaxCount
	one.Add(time.Hour)

	before := full
	if err := full.Merge(&one); err != ErrTooMany {
		t.Fatalf("Merge beyond MaxCount = %v, want ErrTooMany", err)
	}
	if full != before {
		t.Error("a failed Merge changed the histogram")
	}
	full.Add(time.Hour)
	if full != before {
		t.Error("Add beyond MaxCount changed the histogram")
	}
	b, _ := full.MarshalBinary()
	if len(b) > MaxEncodedSize {
		t.Errorf("encoded %d bytes, above MaxEncodedSize %d", len(b), MaxEncodedSize)
	}
	var back Histogram
	if err := back.UnmarshalBinary(b); err != nil || back != full {
		t.Errorf("round trip at MaxCount: %v", err)
	}
}

// TestMaxEncodedSize fills every bucket with the largest count.
func TestMaxEncodedSize(t *testing.T) {
	var h Histogram
	h.min, h.max = 0, 1<<63-1
	for i := range h.counts {
		h.counts[i] = MaxCount / numBuckets
		h.total += MaxCount / numBuckets
	}
	b, _ := h.MarshalBinary()
	t.Logf("largest encoding: %d bytes (MaxEncodedSize %d)", len(b), MaxEncodedSize)
	if len(b) > MaxEncodedSize {
		t.Errorf("encoded %d bytes, above MaxEncodedSize %d", len(b), MaxEncodedSize)
	}
	var back Histogram
	if err := back.UnmarshalBinary(b); err != nil || back != h {
		t.Errorf("round trip of a full histogram: %v", err)
	}
}
