package scorecard_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/shared/scorecard"
)

// describeChannels renders channels as "key leads/conversions rate revenue"
// lines, "-" for no rate.
func describeChannels(cs []scorecard.Channel) string {
	var lines []string
	for _, c := range cs {
		rate := "-"
		if c.ConversionRate != nil {
			rate = fmt.Sprint(*c.ConversionRate)
		}
		lines = append(lines, fmt.Sprintf("%s %d/%d %s %d", c.Key, c.Leads, c.Conversions, rate, c.Revenue))
	}
	return strings.Join(lines, "; ")
}

// Channels join the three breakdowns by key, rate conversions against the
// leads of the same period, and put the money makers first.
func TestChannels(t *testing.T) {
	type entries = map[string]int64
	for _, tt := range []struct {
		name                        string
		leads, conversions, revenue entries
		wantSources                 string
	}{
		{"nothing counted", nil, nil, nil, ""},
		{"leads only", entries{"website": 3, "referral": 5}, nil, nil,
			"referral 5/0 0 0; website 3/0 0 0"},
		{"revenue first, then leads, then conversions, then the name",
			entries{"website": 6, "referral": 2, "fair": 2, "ads": 2},
			entries{"website": 2, "referral": 1, "fair": 2, "ads": 2},
			entries{"referral": 900_000, "website": 250_000},
			"referral 2/1 50 900000; website 6/2 33.33 250000; ads 2/2 100 0; fair 2/2 100 0"},
		{"a conversion with no lead in the period has no rate",
			entries{"website": 1}, entries{"website": 1, "partner": 1}, entries{"partner": 50_000},
			"partner 0/1 - 50000; website 1/1 100 0"},
		{"a short period's rate may pass 100", entries{"website": 2}, entries{"website": 3}, nil,
			"website 2/3 150 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var r scorecard.Rollup
			add := func(b scorecard.Breakdown, m entries) {
				for k, n := range m {
					if err := r.AddTo(b, k, n); err != nil {
						t.Fatal(err)
					}
				}
			}
			add(scorecard.LeadsBySource, tt.leads)
			add(scorecard.ConversionsBySource, tt.conversions)
			add(scorecard.ConversionRevenueBySource, tt.revenue)
			// The same entries under campaigns read the same.
			add(scorecard.LeadsByCampaign, tt.leads)
			add(scorecard.ConversionsByCampaign, tt.conversions)
			add(scorecard.ConversionRevenueByCampaign, tt.revenue)
			if got := describeChannels(scorecard.ChannelsBySource(&r)); got != tt.wantSources {
				t.Errorf("by source:\n got %s\nwant %s", got, tt.wantSources)
			}
			if got := describeChannels(scorecard.ChannelsByCampaign(&r)); got != tt.wantSources {
				t.Errorf("by campaign:\n got %s\nwant %s", got, tt.wantSources)
			}
		})
	}
	if cs := scorecard.ChannelsBySource(nil); cs == nil || len(cs) != 0 {
		t.Errorf("a nil rollup's sources: %#v, want empty", cs)
	}
	// Sources and campaigns are apart: leads by source are no campaign's.
	var r scorecard.Rollup
	_ = r.AddTo(scorecard.LeadsBySource, "website", 2)
	_ = r.AddTo(scorecard.LeadsByCampaign, scorecard.NoKey, 2)
	if got := describeChannels(scorecard.ChannelsByCampaign(&r)); got != "(none) 2/0 0 0" {
		t.Errorf("campaigns: %s", got)
	}
}
