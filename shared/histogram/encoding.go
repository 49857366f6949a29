package histogram

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// The binary form, version 1, is sparse: only non-empty buckets are written,
// each as the gap since the previous non-empty bucket and its count, all as
// unsigned varints (encoding/binary), so small numbers take one byte.
//
//	byte     version (1)
//	uvarint  k, the number of non-empty buckets (0–184)
//	if k > 0:
//	  uvarint  smallest duration, in nanoseconds
//	  uvarint  largest − smallest, in nanoseconds
//	  k ×  uvarint gap (bucket index − previous index − 1; the first is the index itself)
//	       uvarint count (≥ 1)
//
// An empty histogram takes 2 bytes; a day's response times, spread over a
// few dozen buckets, well under 100; and the largest possible histogram
// (every bucket non-empty, counts near MaxCount) 1 + 2 + 9 + 9 + 184×(1+8) =
// 1,677 bytes — small beside DynamoDB's 400 KB item limit, so a rollup item
// can hold all of its histograms.
const (
	version = 1

	// MaxEncodedSize is the largest output of MarshalBinary.
	MaxEncodedSize = 1 + 2 + 9 + 9 + numBuckets*(1+8)
)

// DecodeError says what is wrong with stored bytes that do not decode to a
// histogram.
type DecodeError struct {
	// Offset is the position in the input where the problem was found.
	Offset int
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("histogram: byte %d: %s", e.Offset, e.Reason)
}

// MarshalBinary returns the compact binary form described above. It never
// fails.
func (h *Histogram) MarshalBinary() ([]byte, error) {
	k := 0
	for _, c := range h.counts {
		if c > 0 {
			k++
		}
	}
	b := make([]byte, 0, 4+2*binary.MaxVarintLen64+k*4)
	b = append(b, version)
	b = binary.AppendUvarint(b, uint64(k))
	if k == 0 {
		return b, nil
	}
	b = binary.AppendUvarint(b, uint64(h.min))
	b = binary.AppendUvarint(b, uint64(h.max-h.min))
	prev := -1
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		b = binary.AppendUvarint(b, uint64(i-prev-1))
		b = binary.AppendUvarint(b, c)
		prev = i
	}
	return b, nil
}

// UnmarshalBinary replaces h with the histogram encoded in data. It accepts
// only what MarshalBinary produces — one encoding per histogram — and
// returns a *DecodeError, leaving h unchanged, for anything else: truncated
// or trailing bytes, an unknown version, buckets out of range or out of
// order, empty buckets, a count beyond MaxCount, or a smallest or largest
// duration that lies outside the first or last non-empty bucket.
func (h *Histogram) UnmarshalBinary(data []byte) error {
	d := decoder{data: data}
	var out Histogram

	if len(data) == 0 {
		return d.fail("no data")
	}
	if v := data[0]; v != version {
		return d.fail(fmt.Sprintf("unknown version %d (want %d)", v, version))
	}
	d.pos = 1

	k, err := d.uvarint("bucket count")
	if err != nil {
		return err
	}
	if k > numBuckets {
		return d.fail(fmt.Sprintf("%d non-empty buckets, but there are only %d", k, numBuckets))
	}
	if k > 0 {
		lo, err := d.uvarint("smallest duration")
		if err != nil {
			return err
		}
		width, err := d.uvarint("duration range")
		if err != nil {
			return err
		}
		if lo > math.MaxInt64 || width > math.MaxInt64-lo {
			return d.fail("duration beyond the largest time.Duration")
		}
		out.min, out.max = time.Duration(lo), time.Duration(lo+width)

		prev, first := -1, -1
		for range k {
			gap, err := d.uvarint("bucket gap")
			if err != nil {
				return err
			}
			if gap >= uint64(numBuckets-prev-1) {
				return d.fail(fmt.Sprintf("bucket %d+%d is beyond the last bucket (%d)", prev+1, gap, numBuckets-1))
			}
			i := prev + 1 + int(gap)
			c, err := d.uvarint("bucket count")
			if err != nil {
				return err
			}
			if c == 0 {
				return d.fail(fmt.Sprintf("bucket %d is written with count 0", i))
			}
			if c > MaxCount-out.total {
				return d.fail("more than 2^53 observations")
			}
			out.counts[i] = c
			out.total += c
			if first < 0 {
				first = i
			}
			prev = i
		}
		if bucketOf(out.min) != first {
			return d.fail(fmt.Sprintf("smallest duration %v is not in the first non-empty bucket %d", out.min, first))
		}
		if bucketOf(out.max) != prev {
			return d.fail(fmt.Sprintf("largest duration %v is not in the last non-empty bucket %d", out.max, prev))
		}
		if out.total == 1 && out.min != out.max {
			return d.fail("one observation with different smallest and largest durations")
		}
	}
	if d.pos != len(data) {
		return d.fail(fmt.Sprintf("%d bytes after the end", len(data)-d.pos))
	}
	*h = out
	return nil
}

// decoder reads canonical unsigned varints and reports where it failed.
type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) fail(reason string) error {
	return &DecodeError{Offset: d.pos, Reason: reason}
}

func (d *decoder) uvarint(what string) (uint64, error) {
	v, n := binary.Uvarint(d.data[d.pos:])
	switch {
	case n == 0:
		return 0, d.fail(what + ": truncated")
	case n < 0:
		return 0, d.fail(what + ": varint overflows 64 bits")
	case n != varintLen(v):
		// A padded varint decodes to the same number; refusing it keeps
		// one encoding per histogram.
		return 0, d.fail(what + ": varint is not in its shortest form")
	}
	d.pos += n
	return v, nil
}

func varintLen(v uint64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutUvarint(buf[:], v)
}

// text is the encoding of the text form: URL-safe, unpadded and strict, so
// that each histogram still has exactly one form.
var text = base64.RawURLEncoding.Strict()

// MarshalText returns the binary form in unpadded URL-safe base64, so a
// histogram can travel inside JSON. It never fails.
func (h *Histogram) MarshalText() ([]byte, error) {
	b, _ := h.MarshalBinary()
	out := make([]byte, text.EncodedLen(len(b)))
	text.Encode(out, b)
	return out, nil
}

// UnmarshalText reads the form MarshalText writes. Errors are
// *DecodeError; h is unchanged on error.
func (h *Histogram) UnmarshalText(data []byte) error {
	if len(data) > text.EncodedLen(MaxEncodedSize) {
		return &DecodeError{Reason: fmt.Sprintf("%d characters is longer than any histogram", len(data))}
	}
	b := make([]byte, text.DecodedLen(len(data)))
	n, err := text.Decode(b, data)
	if err != nil {
		return &DecodeError{Reason: "not unpadded URL-safe base64: " + err.Error()}
	}
	return h.UnmarshalBinary(b[:n])
}
