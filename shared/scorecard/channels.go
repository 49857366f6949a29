package scorecard

import (
	"cmp"
	"slices"
)

// Channel is what one lead source or one UTM campaign brought in a period:
// where marketing money works.
type Channel struct {
	// Key is the source or campaign as the lead named it; NoKey for the
	// leads that named none.
	Key string
	// Leads is the leads captured from it in the period.
	Leads int64
	// Conversions is the leads from it converted in the period, whenever
	// they were captured.
	Conversions int64
	// ConversionRate is Conversions ÷ Leads × 100, to two decimals, as the
	// lead conversion rate KPI reckons it (so it may pass 100 in a short
	// period); nil when the period captured no lead from it.
	ConversionRate *float64
	// Revenue is the deal value of its conversions, in minor units of the
	// rollup's currency.
	Revenue int64
}

// The breakdowns a family of channels is read from.
type channelBreakdowns struct{ leads, conversions, revenue Breakdown }

var (
	sourceBreakdowns   = channelBreakdowns{LeadsBySource, ConversionsBySource, ConversionRevenueBySource}
	campaignBreakdowns = channelBreakdowns{LeadsByCampaign, ConversionsByCampaign, ConversionRevenueByCampaign}
)

// ChannelsBySource returns a rollup's lead sources; see channels.
func ChannelsBySource(r *Rollup) []Channel { return channels(r, sourceBreakdowns) }

// ChannelsByCampaign returns a rollup's UTM campaigns; see channels.
func ChannelsByCampaign(r *Rollup) []Channel { return channels(r, campaignBreakdowns) }

// channels returns one channel per key that any of bs counted in r, the
// best first: most revenue, then most leads, then most conversions, then
// by key. Empty (not nil) when r counted none.
func channels(r *Rollup, bs channelBreakdowns) []Channel {
	leads, conversions, revenue := r.Entries(bs.leads), r.Entries(bs.conversions), r.Entries(bs.revenue)
	keys := map[string]bool{}
	for _, m := range []map[string]int64{leads, conversions, revenue} {
		for k := range m {
			keys[k] = true
		}
	}
	out := make([]Channel, 0, len(keys))
	for k := range keys {
		c := Channel{Key: k, Leads: leads[k], Conversions: conversions[k], Revenue: revenue[k]}
		if c.Leads > 0 {
			rate := roundValue(100 * float64(c.Conversions) / float64(c.Leads))
			c.ConversionRate = &rate
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Channel) int {
		return cmp.Or(cmp.Compare(b.Revenue, a.Revenue), cmp.Compare(b.Leads, a.Leads),
			cmp.Compare(b.Conversions, a.Conversions), cmp.Compare(a.Key, b.Key))
	})
	return out
}
