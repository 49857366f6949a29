package crm

import (
	"fmt"
	"testing"
)

// TestRankByValue checks the quintile rule by hand: rank ⌈5·k/n⌉, k the
// paying customers earning at most the customer's revenue.
func TestRankByValue(t *testing.T) {
	for _, tc := range []struct {
		name    string
		revenue map[string]int64
		want    string // id:rank, highest revenue first
	}{
		{"none", map[string]int64{}, ""},
		{"nobody paid", map[string]int64{"a": 0, "b": -500}, ""},
		// n=1: k=1, ⌈5/1⌉ = 5.
		{"one", map[string]int64{"a": 100}, "a:5"},
		// n=2: ⌈5·1/2⌉ = 3, ⌈5·2/2⌉ = 5.
		{"two", map[string]int64{"a": 100, "b": 200}, "b:5 a:3"},
		// n=5: one per rank.
		{"five", map[string]int64{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}, "e:5 d:4 c:3 b:2 a:1"},
		// n=7: ⌈5k/7⌉ for k=1..7 = 1 2 3 3 4 5 5.
		{"seven", map[string]int64{"a": 10, "b": 20, "c": 30, "d": 40, "e": 50, "f": 60, "g": 70},
			"g:5 f:5 e:4 d:3 c:3 b:2 a:1"},
		// Ties share the higher rank: 20 and 20 are k=3 of 4 → ⌈15/4⌉ = 4;
		// 10 is k=1 → ⌈5/4⌉ = 2.
		{"ties", map[string]int64{"a": 10, "b": 20, "c": 20, "d": 30}, "d:5 b:4 c:4 a:2"},
		{"all equal", map[string]int64{"a": 7, "b": 7, "c": 7}, "a:5 b:5 c:5"},
		// Non-paying customers do not count in n: n=2 here.
		{"refunded and zero left out", map[string]int64{"a": 100, "b": 200, "c": 0, "d": -5}, "b:5 a:3"},
		// n=10: two per rank, a tie at the bottom lifting both to 1 still.
		{"ten", map[string]int64{"a": 1, "b": 1, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8, "i": 9, "j": 10},
			"j:5 i:5 h:4 g:4 f:3 e:3 d:2 c:2 a:1 b:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			for i, r := range RankByValue(tc.revenue, "EUR") {
				if i > 0 {
					got += " "
				}
				got += fmt.Sprintf("%s:%d", r.CustomerID, r.Rank)
				if r.Revenue != (Money{Minor: tc.revenue[r.CustomerID], Currency: "EUR"}) {
					t.Errorf("%s revenue %v", r.CustomerID, r.Revenue)
				}
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
