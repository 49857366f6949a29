package rollup

import (
	"bytes"
	"maps"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/shared/histogram"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// Difference is one figure on which a stored rollup and its recomputation
// disagree.
type Difference struct {
	// Name says which figure: "counters.<name>", "sums.<name>",
	// "breakdowns.<name>.<key>", or for a timing "timings.<name>.samples",
	// ".min_ns", ".max_ns", or ".distribution" when only the buckets
	// differ (then both values are the sample count).
	Name string
	// Stored and Recomputed are the two values; a missing figure is 0.
	Stored, Recomputed int64
}

// ScopeComparison is one scope's stored and recomputed rollup of a day.
type ScopeComparison struct {
	Scope              Scope
	Stored, Recomputed *scorecard.Rollup
	Differences        []Difference
}

// Equal reports whether the two agree on every figure.
func (c ScopeComparison) Equal() bool { return len(c.Differences) == 0 }

// Comparison is a day's stored rollups against their recomputation from
// the journal, organisation first, then teams by name.
type Comparison struct {
	Day    period.Period
	Scopes []ScopeComparison
	// Events is how many journaled events the recomputation counted.
	Events int
	// Changed, after a repair, says the journal gained events while it
	// ran: the day may again differ, and the repair should be run again.
	Changed bool
}

// Equal reports whether every scope agrees.
func (c Comparison) Equal() bool {
	for _, s := range c.Scopes {
		if !s.Equal() {
			return false
		}
	}
	return true
}

// Diff lists the figures on which stored and recomputed disagree, sorted
// by name; nil when they agree. Either may be nil (empty).
func Diff(stored, recomputed *scorecard.Rollup) []Difference {
	if stored == nil {
		stored = &scorecard.Rollup{}
	}
	if recomputed == nil {
		recomputed = &scorecard.Rollup{}
	}
	var out []Difference
	cmp := func(name string, a, b int64) {
		if a != b {
			out = append(out, Difference{Name: name, Stored: a, Recomputed: b})
		}
	}
	for _, c := range union(stored.Counters, recomputed.Counters) {
		cmp("counters."+string(c), stored.Counters[c], recomputed.Counters[c])
	}
	for _, s := range union(stored.Sums, recomputed.Sums) {
		cmp("sums."+string(s), stored.Sums[s], recomputed.Sums[s])
	}
	for _, b := range union(stored.Breakdowns, recomputed.Breakdowns) {
		for _, k := range union(stored.Breakdowns[b], recomputed.Breakdowns[b]) {
			cmp("breakdowns."+string(b)+"."+k, stored.Breakdowns[b][k], recomputed.Breakdowns[b][k])
		}
	}
	for _, t := range union(stored.Timings, recomputed.Timings) {
		a, b := stored.Histogram(t), recomputed.Histogram(t)
		if a == nil {
			a = &histogram.Histogram{}
		}
		if b == nil {
			b = &histogram.Histogram{}
		}
		name := "timings." + string(t)
		n := len(out)
		cmp(name+".samples", a.Count(), b.Count())
		amin, _ := a.Min()
		bmin, _ := b.Min()
		cmp(name+".min_ns", int64(amin), int64(bmin))
		amax, _ := a.Max()
		bmax, _ := b.Max()
		cmp(name+".max_ns", int64(amax), int64(bmax))
		ab, _ := a.MarshalBinary()
		bb, _ := b.MarshalBinary()
		if len(out) == n && !bytes.Equal(ab, bb) {
			out = append(out, Difference{Name: name + ".distribution", Stored: a.Count(), Recomputed: b.Count()})
		}
	}
	slices.SortFunc(out, func(a, b Difference) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// union returns the keys of a and b, sorted, each once.
func union[K ~string, V any](a, b map[K]V) []K {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
