// Package histogram counts durations — lead response times, ticket
// first-response and resolution times — in fixed logarithmic buckets, so
// that the histograms of many days, teams or periods add up to the
// histogram of their union, and a median read from the sum is as good as
// one read from the raw durations.
//
// Every histogram uses the same buckets. Bucket 0 holds durations under one
// second (negative durations count as zero). Buckets 1–182 each span a
// factor of 1.1: bucket i holds [b(i-1), b(i)) with b(0) = 1 s and
// b(i) = b(i-1) + b(i-1)/10 in whole nanoseconds, reaching about 395 days.
// Bucket 183 holds everything longer. Reading a quantile returns the point
// of its bucket nearest, in relative terms, to both ends, so for durations
// from 1 s to 395 days the estimate is within MaxRelativeError of the true
// value. The exact smallest and largest durations are kept too, so the
// 0 and 1 quantiles are exact and no estimate leaves the observed range.
package histogram

import (
	"errors"
	"math"
	"sort"
	"time"
)

const (
	// Growth is the ratio between a bucket's upper and lower bound.
	Growth = 1.1

	// MaxRelativeError bounds |estimate − true| / true for a quantile
	// whose true value lies between one second and Longest. A bucket
	// [lo, hi) is answered with 2·lo·hi/(lo+hi), whose error is at most
	// (hi−lo)/(hi+lo) = (Growth−1)/(Growth+1) = 1/21 ≈ 4.762%; this
	// constant rounds that up.
	MaxRelativeError = 0.048

	// Shortest is the lower bound of the first logarithmic bucket.
	// Durations below it are counted but estimated only to the nearest
	// second: nothing in a CRM is timed more finely than that.
	Shortest = time.Second

	// MaxCount caps the number of observations in one histogram at 2^53,
	// so that every count and rank is exact in a float64 and sums of
	// counts never overflow.
	MaxCount = 1 << 53

	logBuckets = 182            // buckets between Shortest and Longest
	numBuckets = logBuckets + 2 // plus under one second and overflow
	overflow   = numBuckets - 1 // index of the overflow bucket
	underflow  = 0              // index of the bucket below Shortest
	boundCount = logBuckets + 1 // b(0) … b(182)
)

// bounds[i] is b(i), the lower bound of bucket i+1. The recurrence is in
// integers so that every machine puts a duration in the same bucket: the
// decoder checks stored data against these bounds.
var bounds = func() [boundCount]time.Duration {
	var b [boundCount]time.Duration
	b[0] = Shortest
	for i := 1; i < boundCount; i++ {
		b[i] = b[i-1] + b[i-1]/10
	}
	return b
}()

// Longest is the upper bound of the last logarithmic bucket, about 395
// days; longer durations are counted in an overflow bucket whose estimate
// is bounded only by the largest duration seen.
var Longest = bounds[boundCount-1]

// ErrTooMany is returned by Merge when the result would hold more than
// MaxCount observations.
var ErrTooMany = errors.New("histogram: more than 2^53 observations")

// Histogram counts durations. The zero value is an empty histogram ready to
// use. Histograms are comparable with ==.
type Histogram struct {
	counts   [numBuckets]uint64
	total    uint64
	min, max time.Duration // valid only when total > 0
}

// bucketOf returns the index of the bucket that holds d (d ≥ 0): the number
// of bounds at or below it.
func bucketOf(d time.Duration) int {
	return sort.Search(boundCount, func(i int) bool { return bounds[i] > d })
}

// span returns bucket i's range [lo, hi); the overflow bucket's hi is the
// largest duration.
func span(i int) (lo, hi time.Duration) {
	switch i {
	case underflow:
		return 0, bounds[0]
	case overflow:
		return bounds[boundCount-1], math.MaxInt64
	}
	return bounds[i-1], bounds[i]
}

// Add counts one duration. A negative duration — a clock that ran
// backwards — counts as zero. Once the histogram holds MaxCount
// observations, which no CRM will reach, Add ignores further ones.
func (h *Histogram) Add(d time.Duration) {
	if h.total >= MaxCount {
		return
	}
	d = max(d, 0)
	if h.total == 0 || d < h.min {
		h.min = d
	}
	if h.total == 0 || d > h.max {
		h.max = d
	}
	h.counts[bucketOf(d)]++
	h.total++
}

// Merge adds o's counts to h, so that h describes both sets of durations.
// A nil o adds nothing. It returns ErrTooMany, leaving h unchanged, if the
// sum would exceed MaxCount.
func (h *Histogram) Merge(o *Histogram) error {
	if o == nil || o.total == 0 {
		return nil
	}
	if h.total+o.total > MaxCount {
		return ErrTooMany
	}
	if h.total == 0 {
		h.min, h.max = o.min, o.max
	} else {
		h.min, h.max = min(h.min, o.min), max(h.max, o.max)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	return nil
}

// Count returns the number of durations counted.
func (h *Histogram) Count() int64 { return int64(h.total) }

// Min returns the smallest duration counted, and false if there is none.
func (h *Histogram) Min() (time.Duration, bool) { return h.min, h.total > 0 }

// Max returns the largest duration counted, and false if there is none.
func (h *Histogram) Max() (time.Duration, bool) { return h.max, h.total > 0 }

// Median returns Quantile(0.5).
func (h *Histogram) Median() (time.Duration, bool) { return h.Quantile(0.5) }

// Quantile estimates the q-quantile (0 ≤ q ≤ 1; q outside is clamped) of
// the durations counted, and returns false if there are none or q is NaN.
//
// The quantile is the nearest-rank one: the ⌈q·n⌉-th smallest duration
// (at least the first), so the median of an even count is the lower of the
// two middle values, never their mean. Quantile(0) and Quantile(1) are
// the exact minimum and maximum; others are within MaxRelativeError of
// the true value when it lies between Shortest and Longest.
func (h *Histogram) Quantile(q float64) (time.Duration, bool) {
	if h.total == 0 || math.IsNaN(q) {
		return 0, false
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(h.total))) // exact: total ≤ 2^53
	switch {
	case rank <= 1:
		return h.min, true
	case rank >= h.total:
		return h.max, true
	}

	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return h.estimate(i), true
		}
	}
	return h.max, true // unreachable while counts add up to total
}

// estimate returns the value that best stands for bucket i. The bucket is
// first narrowed to the observed range, since every duration lies in
// [min, max]; then a logarithmic bucket [lo, hi] is answered with
// 2·lo·hi/(lo+hi), which is off by at most (hi−lo)/(hi+lo) relative to
// any value in it, and the bucket below one second with its midpoint.
func (h *Histogram) estimate(i int) time.Duration {
	lo, hi := span(i)
	lo, hi = max(lo, h.min), min(hi, h.max)
	if lo >= hi {
		return lo
	}
	if i == underflow {
		return lo + (hi-lo)/2
	}
	l, u := float64(lo), float64(hi)
	est := time.Duration(math.Round(2 * l * u / (l + u)))
	return min(max(est, lo), hi) // rounding must not leave the bucket
}
