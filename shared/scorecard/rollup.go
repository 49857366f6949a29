package scorecard

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"time"

	"github.com/rapportcrm/rapport/shared/histogram"
)

// Rollup holds the aggregated inputs of one period — for the whole
// organisation or one team — from which every KPI is computed. Everything
// in it adds up: merging the rollups of a week's seven days gives the
// week's rollup, exactly, so only days need to be stored.
//
// The zero Rollup is empty and ready to use; a nil *Rollup reads as empty.
// Missing names read as zero. Money is in minor units of one currency, so
// that sums are exact.
type Rollup struct {
	// Currency is the ISO 4217 code of every amount; empty until the
	// first amount is added. Rollups in different currencies do not merge.
	Currency string `json:"currency,omitempty"`
	// Counters count events (leads captured, SLA clocks met, …).
	Counters map[Counter]int64 `json:"counters,omitempty"`
	// Sums total amounts of money, in minor units of Currency.
	Sums map[Sum]int64 `json:"sums,omitempty"`
	// Timings hold duration histograms; in JSON each is the histogram's
	// base64 text form.
	Timings map[Timing]*histogram.Histogram `json:"timings,omitempty"`
	// Breakdowns hold counts or amounts per key, such as revenue per
	// customer, where the keys matter when periods are added up.
	Breakdowns map[Breakdown]map[string]int64 `json:"breakdowns,omitempty"`
}

// ErrOverflow is returned when a count or sum would leave int64, or a
// histogram would exceed histogram.MaxCount. Nothing in a real CRM gets
// there; stored data that does is corrupt.
var ErrOverflow = errors.New("scorecard: rollup total overflows")

// Add adds n to counter c.
func (r *Rollup) Add(c Counter, n int64) error {
	v, ok := add(r.Counters[c], n)
	if !ok {
		return fmt.Errorf("counter %s: %w", c, ErrOverflow)
	}
	if r.Counters == nil {
		r.Counters = map[Counter]int64{}
	}
	r.Counters[c] = v
	return nil
}

// AddSum adds amount, in minor units of currency, to sum s. It refuses an
// amount in another currency than the rollup's.
func (r *Rollup) AddSum(s Sum, amount int64, currency string) error {
	if err := r.useCurrency(currency); err != nil {
		return err
	}
	v, ok := add(r.Sums[s], amount)
	if !ok {
		return fmt.Errorf("sum %s: %w", s, ErrOverflow)
	}
	if r.Sums == nil {
		r.Sums = map[Sum]int64{}
	}
	r.Sums[s] = v
	return nil
}

// Observe counts duration d in histogram t.
func (r *Rollup) Observe(t Timing, d time.Duration) {
	if r.Timings == nil {
		r.Timings = map[Timing]*histogram.Histogram{}
	}
	h := r.Timings[t]
	if h == nil {
		h = new(histogram.Histogram)
		r.Timings[t] = h
	}
	h.Add(d)
}

// AddTo adds n to the entry key of breakdown b.
func (r *Rollup) AddTo(b Breakdown, key string, n int64) error {
	v, ok := add(r.Breakdowns[b][key], n)
	if !ok {
		return fmt.Errorf("breakdown %s: %w", b, ErrOverflow)
	}
	if r.Breakdowns == nil {
		r.Breakdowns = map[Breakdown]map[string]int64{}
	}
	if r.Breakdowns[b] == nil {
		r.Breakdowns[b] = map[string]int64{}
	}
	r.Breakdowns[b][key] = v
	return nil
}

// Count returns counter c, 0 if absent.
func (r *Rollup) Count(c Counter) int64 {
	if r == nil {
		return 0
	}
	return r.Counters[c]
}

// Total returns sum s, 0 if absent.
func (r *Rollup) Total(s Sum) int64 {
	if r == nil {
		return 0
	}
	return r.Sums[s]
}

// Histogram returns histogram t, or nil if nothing was observed. The
// caller must not change it.
func (r *Rollup) Histogram(t Timing) *histogram.Histogram {
	if r == nil {
		return nil
	}
	return r.Timings[t]
}

// Entries returns breakdown b, or nil if it is empty. The caller must not
// change it.
func (r *Rollup) Entries(b Breakdown) map[string]int64 {
	if r == nil {
		return nil
	}
	return r.Breakdowns[b]
}

// Merge adds o into r, so that r covers both: days into a week, teams into
// the organisation. A nil o adds nothing. On error — different currencies,
// or a total that overflows — r is left unchanged.
func (r *Rollup) Merge(o *Rollup) error {
	if o == nil {
		return nil
	}
	// Check everything before changing anything, so a refused merge
	// leaves no half-added rollup behind.
	if o.Currency != "" && r.Currency != "" && o.Currency != r.Currency {
		return fmt.Errorf("scorecard: cannot merge a %s rollup into a %s one", o.Currency, r.Currency)
	}
	for c, n := range o.Counters {
		if _, ok := add(r.Counters[c], n); !ok {
			return fmt.Errorf("counter %s: %w", c, ErrOverflow)
		}
	}
	for s, n := range o.Sums {
		if _, ok := add(r.Sums[s], n); !ok {
			return fmt.Errorf("sum %s: %w", s, ErrOverflow)
		}
	}
	for t, h := range o.Timings {
		if h != nil && r.Timings[t] != nil && r.Timings[t].Count() > histogram.MaxCount-h.Count() {
			return fmt.Errorf("histogram %s: %w", t, ErrOverflow)
		}
	}
	for b, entries := range o.Breakdowns {
		for k, n := range entries {
			if _, ok := add(r.Breakdowns[b][k], n); !ok {
				return fmt.Errorf("breakdown %s: %w", b, ErrOverflow)
			}
		}
	}

	// Nothing below can fail.
	if r.Currency == "" {
		r.Currency = o.Currency
	}
	for c, n := range o.Counters {
		_ = r.Add(c, n)
	}
	for s, n := range o.Sums {
		if r.Sums == nil {
			r.Sums = map[Sum]int64{}
		}
		r.Sums[s] += n
	}
	for t, h := range o.Timings {
		if h == nil {
			continue
		}
		if r.Timings == nil {
			r.Timings = map[Timing]*histogram.Histogram{}
		}
		if r.Timings[t] == nil {
			r.Timings[t] = new(histogram.Histogram)
		}
		_ = r.Timings[t].Merge(h)
	}
	for b, entries := range o.Breakdowns {
		for k, n := range entries {
			_ = r.AddTo(b, k, n)
		}
	}
	return nil
}

// Clone returns a deep copy of r, sharing nothing with it.
func (r *Rollup) Clone() *Rollup {
	if r == nil {
		return &Rollup{}
	}
	c := &Rollup{Currency: r.Currency, Counters: maps.Clone(r.Counters), Sums: maps.Clone(r.Sums)}
	if r.Timings != nil {
		c.Timings = make(map[Timing]*histogram.Histogram, len(r.Timings))
		for t, h := range r.Timings {
			if h != nil {
				cp := *h
				c.Timings[t] = &cp
			}
		}
	}
	if r.Breakdowns != nil {
		c.Breakdowns = make(map[Breakdown]map[string]int64, len(r.Breakdowns))
		for b, entries := range r.Breakdowns {
			c.Breakdowns[b] = maps.Clone(entries)
		}
	}
	return c
}

// MergeAll returns a new rollup holding all of rs, such as the days of a
// period; nil entries (days with no activity) are skipped.
func MergeAll(rs ...*Rollup) (*Rollup, error) {
	out := &Rollup{}
	for _, r := range rs {
		if err := out.Merge(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r *Rollup) useCurrency(currency string) error {
	switch {
	case currency == "":
		return errors.New("scorecard: amount without a currency")
	case r.Currency == "":
		r.Currency = currency
	case r.Currency != currency:
		return fmt.Errorf("scorecard: amount in %s added to a %s rollup", currency, r.Currency)
	}
	return nil
}

// add returns a+b and whether it fits in an int64.
func add(a, b int64) (int64, bool) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, false
	}
	return a + b, true
}
