package crm

import (
	"context"
	"slices"
	"strings"
	"time"
)

// ValueRank is a customer's place among the paying customers by their
// trailing-twelve-month revenue: Rank 1 to 5, 5 the highest fifth.
type ValueRank struct {
	CustomerID string
	// Name is the customer's name, kept with the rank for lists.
	Name string
	Rank int
	// Revenue is the customer's revenue in the twelve months ranked, net
	// of refunds, in the organisation's currency.
	Revenue Money
	// RankedAt is when the daily ranking last changed the rank or the
	// revenue; every later run found them the same.
	RankedAt time.Time
}

// ValueRanks is the number of value ranks: quintiles.
const ValueRanks = 5

// RankByValue ranks the paying customers of revenue (customer ID → revenue
// in minor units of currency) into quintiles. Customers with no revenue or
// a negative one (refunds above purchases) are not ranked. With n paying
// customers, a customer whose revenue is at least that of k of them
// (itself included) has rank ⌈5·k/n⌉: the top customer is always 5, equal
// revenues share a rank (the higher one their positions would give), and
// with fewer than five customers some ranks stay empty (two customers rank
// 3 and 5). The result is ordered by revenue, highest first, then by ID.
func RankByValue(revenue map[string]int64, currency string) []ValueRank {
	out := make([]ValueRank, 0, len(revenue))
	for id, minor := range revenue {
		if minor > 0 {
			out = append(out, ValueRank{CustomerID: id, Revenue: Money{Minor: minor, Currency: currency}})
		}
	}
	// Ascending by revenue, so that k is an index.
	slices.SortFunc(out, func(a, b ValueRank) int {
		if a.Revenue.Minor != b.Revenue.Minor {
			if a.Revenue.Minor < b.Revenue.Minor {
				return -1
			}
			return 1
		}
		return -strings.Compare(a.CustomerID, b.CustomerID)
	})
	n := len(out)
	for i := n - 1; i >= 0; {
		// out[j..i] share one revenue; k = i+1 customers earned at most it.
		j := i
		for j > 0 && out[j-1].Revenue.Minor == out[i].Revenue.Minor {
			j--
		}
		rank := (ValueRanks*(i+1) + n - 1) / n
		for ; i >= j; i-- {
			out[i].Rank = rank
		}
	}
	slices.Reverse(out)
	return out
}

// ValueReport says what a ranking run changed.
type ValueReport struct {
	Ranked    int // paying customers ranked
	Written   int // ranks written: new, or with a changed rank or revenue
	Cleared   int // ranks removed from customers who no longer pay
	Unchanged int
}

// ValueFilter selects a page of the customers by value.
type ValueFilter struct {
	Limit  int
	Cursor string
}

// ValuePage is one page of customers by value, highest revenue first;
// NextCursor is empty on the last page.
type ValuePage struct {
	Items      []ValueRank
	NextCursor string
}

// ValueStore keeps the customers' value ranks.
type ValueStore interface {
	// SaveValueRanks makes the stored ranks those of ranks at instant at:
	// it writes those whose rank or revenue changed (RankedAt at) and
	// removes the ranks of customers ranks leaves out. Customers that do
	// not exist are skipped. Running it again with the same ranks writes
	// nothing.
	SaveValueRanks(ctx context.Context, ranks []ValueRank, at time.Time) (ValueReport, error)
}

// CustomersByValue lists the ranked customers, the highest revenue first.
// EINVALID naming limit or cursor.
func (s *LeadService) CustomersByValue(ctx context.Context, f ValueFilter) (ValuePage, error) {
	switch {
	case f.Limit == 0:
		f.Limit = 25
	case f.Limit < 1 || f.Limit > MaxPage:
		return ValuePage{}, &Error{Code: EINVALID, Message: "invalid limit",
			Fields: []FieldError{{"limit", "must be between 1 and 100"}}}
	}
	return s.Store.CustomersByValue(ctx, f)
}

// checkCurrency refuses an amount in another currency than the
// organisation's, when it has one: the rollups, the scorecard and the value
// ranks add amounts up, which only one currency allows.
func (s *LeadService) checkCurrency(m Money, v *Invalid) {
	if s.Currency != "" && m.Currency != "" && m.Currency != s.Currency {
		v.Add("currency", "must be "+s.Currency+", the organisation's currency")
	}
}
