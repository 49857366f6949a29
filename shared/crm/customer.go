package crm

import "time"

// Customer is a person or company who bought: a converted lead, and every
// later lead of the same person that converted too.
type Customer struct {
	ID      string
	Name    string
	Email   string
	Phone   string
	Company string
	// Value is the lifetime value: the sum of the customer's deals, one
	// amount per currency.
	Value     []Money
	Deals     int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PersonKey identifies the person, as Lead.PersonKey does, so a lead that
// converts finds its existing customer.
func (c Customer) PersonKey() string { return personKey(c.Email, c.Phone) }

// AddDeal returns the customer with deal added to its value.
func (c Customer) AddDeal(deal Money, at time.Time) Customer {
	value := make([]Money, 0, len(c.Value)+1)
	added := false
	for _, m := range c.Value {
		if m.Currency == deal.Currency {
			m.Minor += deal.Minor
			added = true
		}
		value = append(value, m)
	}
	if !added {
		value = append(value, deal)
	}
	c.Value, c.Deals, c.UpdatedAt = value, c.Deals+1, at
	return c
}

// CustomerDetail is a customer with the whole history of each of its leads
// and its latest purchases.
type CustomerDetail struct {
	Customer Customer
	Leads    []LeadDetail
	// Purchases are the latest LatestPurchases purchases, the most
	// recently bought first.
	Purchases []Purchase
	// Value is the customer's value rank; nil when it is not ranked (no
	// revenue in the twelve months the last daily ranking read).
	Value *ValueRank
}

// LatestPurchases is how many purchases a customer's detail shows.
const LatestPurchases = 10
