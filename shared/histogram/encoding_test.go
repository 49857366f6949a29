package histogram_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/histogram"
)

func sample() *histogram.Histogram {
	var h histogram.Histogram
	for _, d := range []time.Duration{0, 30 * time.Second, 31 * time.Second, 2 * time.Hour} {
		h.Add(d)
	}
	return &h
}

// TestEncodingGolden pins the stored form: changing it would strand every
// rollup already written.
func TestEncodingGolden(t *testing.T) {
	tests := []struct {
		name string
		h    *histogram.Histogram
		hex  string
	}{
		{"empty", &histogram.Histogram{}, "0100"},
		// version 1, 4 buckets, min 0, max−min 7.2e12 ns (2h), then
		// bucket 0 ×1, bucket 36 (gap 35) ×1, bucket 37 (gap 0) ×1,
		// bucket 94 (gap 56) ×1.
		{"sample", sample(), "0104008080c58bc6d1010001230100013801"},
	}
	for _, tt := range tests {
		b, err := tt.h.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b); got != tt.hex {
			t.Errorf("%s: MarshalBinary = %s, want %s", tt.name, got, tt.hex)
		}
		var back histogram.Histogram
		if err := back.UnmarshalBinary(b); err != nil || back != *tt.h {
			t.Errorf("%s: round trip: %v", tt.name, err)
		}
	}
}

func TestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dist := range distributions {
		for _, n := range []int{0, 1, 5, 500, 50000} {
			var h histogram.Histogram
			for range n {
				h.Add(dist.draw(rng))
			}
			b, _ := h.MarshalBinary()
			if len(b) > histogram.MaxEncodedSize {
				t.Errorf("%s n=%d: %d bytes", dist.name, n, len(b))
			}
			var back histogram.Histogram
			if err := back.UnmarshalBinary(b); err != nil || back != h {
				t.Fatalf("%s n=%d: binary round trip: %v", dist.name, n, err)
			}
			txt, _ := h.MarshalText()
			back = histogram.Histogram{}
			if err := back.UnmarshalText(txt); err != nil || back != h {
				t.Fatalf("%s n=%d: text round trip: %v", dist.name, n, err)
			}
			if n == 500 {
				t.Logf("%s: 500 durations in %d bytes", dist.name, len(b))
			}
		}
	}
}

// TestJSON checks that a histogram travels inside JSON as a string.
func TestJSON(t *testing.T) {
	in := map[string]*histogram.Histogram{"lead_response_time": sample()}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"lead_response_time":"AQQAgIDFi8bRAQABIwEAATgB"}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
	var out map[string]*histogram.Histogram
	if err := json.Unmarshal(b, &out); err != nil || *out["lead_response_time"] != *sample() {
		t.Errorf("JSON round trip: %v", err)
	}
}

// TestDecodeErrors checks that each kind of damage is refused with a reason
// and leaves the histogram as it was.
func TestDecodeErrors(t *testing.T) {
	tests := []struct{ name, hex, reason string }{
		{"nothing", "", "no data"},
		{"version 2", "0200", "unknown version 2"},
		{"no bucket count", "01", "bucket count: truncated"},
		{"too many buckets", "01b901", "185 non-empty buckets"},
		{"missing min", "0101", "smallest duration: truncated"},
		{"missing range", "010100", "duration range: truncated"},
		{"huge min", "0101ffffffffffffffffff02", "varint overflows"},
		{"min beyond Duration", "0101808080808080808080 01 00", "beyond the largest"},
		{"range beyond Duration", "010101ffffffffffffffff7f", "beyond the largest"},
		{"missing bucket", "01010000", "bucket gap: truncated"},
		{"bucket out of range", "01010000b801", "beyond the last bucket"},
		{"missing count", "0101000000", "bucket count: truncated"},
		{"zero count", "010100000000", "count 0"},
		{"count beyond MaxCount", "01010000008180808080808010", "more than 2^53"},
		{"min in wrong bucket", "0101000001 01", "smallest duration 0s is not in the first"},
		{"max in wrong bucket", "0102000000010001", "largest duration 0s is not in the last"},
		{"one value, two durations", "010100010001", "one observation"},
		{"padded varint", "018100", "not in its shortest form"},
		{"trailing byte", "010000", "1 bytes after the end"},
		{"bucket after last", "0102000000 01 b701 01", "beyond the last bucket"},
	}
	for _, tt := range tests {
		data, err := hex.DecodeString(strings.ReplaceAll(tt.hex, " ", ""))
		if err != nil {
			t.Fatalf("%s: bad test hex: %v", tt.name, err)
		}
		h := *sample()
		err = h.UnmarshalBinary(data)
		var de *histogram.DecodeError
		if !errors.As(err, &de) {
			t.Errorf("%s: UnmarshalBinary = %v, want a *DecodeError", tt.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("%s: error %q does not say %q", tt.name, err, tt.reason)
		}
		if h != *sample() {
			t.Errorf("%s: a failed decode changed the histogram", tt.name)
		}
	}

	var h histogram.Histogram
	for _, s := range []string{"AQQAgIDFi8bRAQABIwEAATgB=", "AQMAgICQ+8TRAQABIwI1AQE", strings.Repeat("A", 4000)} {
		if err := h.UnmarshalText([]byte(s)); err == nil {
			t.Errorf("UnmarshalText(%.30q) accepted", s)
		}
	}
}

// FuzzUnmarshalBinary feeds arbitrary bytes to the decoder of stored
// histograms. It must never panic; whatever it accepts must encode back to
// the very same bytes and answer quantiles inside its own range.
func FuzzUnmarshalBinary(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 0})
	f.Add([]byte{1, 0x81, 0})
	f.Add([]byte{2, 0})
	for _, n := range []int{1, 3, 40} {
		var h histogram.Histogram
		for i := range n {
			h.Add(time.Duration(i*i) * 7 * time.Minute)
		}
		b, _ := h.MarshalBinary()
		f.Add(b)
		f.Add(b[:len(b)-1])
	}
	b, _ := sample().MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var h histogram.Histogram
		if err := h.UnmarshalBinary(data); err != nil {
			var de *histogram.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			return
		}
		again, _ := h.MarshalBinary()
		if !bytes.Equal(again, data) {
			t.Fatalf("accepted %x but encodes as %x", data, again)
		}
		if h.Count() == 0 {
			return
		}
		lo, _ := h.Min()
		hi, _ := h.Max()
		for _, q := range []float64{0, 0.25, 0.5, 0.9, 1} {
			if v, ok := h.Quantile(q); !ok || v < lo || v > hi {
				t.Fatalf("Quantile(%v) = %v, %v outside [%v, %v]", q, v, ok, lo, hi)
			}
		}
		var sum histogram.Histogram
		if err := sum.Merge(&h); err != nil || sum != h {
			t.Fatalf("merging into empty: %v", err)
		}
	})
}
