package dynamo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/rapportcrm/rapport/shared/histogram"
)

// A rollup item stores a histogram as numbers DynamoDB can ADD: a count
// per bucket, with the smallest and largest durations beside them. These
// two functions convert between that and a histogram.Histogram through
// its binary form, the one way package histogram exposes its buckets; a
// histogram.Buckets and histogram.FromBuckets would make them one line
// each.

// histogramBuckets returns h's non-empty buckets (index → count) and its
// smallest and largest durations, read from the binary form package
// histogram documents and versions: version 1, the number of non-empty
// buckets, the smallest duration, the range, then gap and count for each.
func histogramBuckets(h *histogram.Histogram) (map[int]int64, time.Duration, time.Duration, error) {
	b, _ := h.MarshalBinary()
	if len(b) == 0 || b[0] != 1 {
		return nil, 0, 0, errors.New("histogram: unknown binary form")
	}
	b = b[1:]
	next := func() uint64 {
		v, n := binary.Uvarint(b)
		b = b[max(n, 0):]
		return v
	}
	k := next()
	out := make(map[int]int64, k)
	if k == 0 {
		return out, 0, 0, nil
	}
	lo := next()
	hi := lo + next()
	i := -1
	for range k {
		i += int(next()) + 1
		out[i] = int64(next())
	}
	return out, time.Duration(lo), time.Duration(hi), nil
}

// histogramFromBuckets builds the histogram with these non-empty buckets
// and extremes through the same binary form; UnmarshalBinary checks that
// they agree (each extreme in its end bucket, counts in range).
func histogramFromBuckets(buckets map[int]int64, lo, hi time.Duration) (*histogram.Histogram, error) {
	b := []byte{1}
	idx := slices.Sorted(maps.Keys(buckets))
	idx = slices.DeleteFunc(idx, func(i int) bool { return buckets[i] == 0 })
	b = binary.AppendUvarint(b, uint64(len(idx)))
	if len(idx) > 0 {
		if lo < 0 || hi < lo {
			return nil, fmt.Errorf("histogram: min %d and max %d", lo, hi)
		}
		b = binary.AppendUvarint(b, uint64(lo))
		b = binary.AppendUvarint(b, uint64(hi-lo))
		prev := -1
		for _, i := range idx {
			if i <= prev || buckets[i] < 0 {
				return nil, fmt.Errorf("histogram: bucket %d holds %d", i, buckets[i])
			}
			b = binary.AppendUvarint(b, uint64(i-prev-1))
			b = binary.AppendUvarint(b, uint64(buckets[i]))
			prev = i
		}
	}
	h := new(histogram.Histogram)
	if err := h.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return h, nil
}
