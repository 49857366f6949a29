package scorecard

import "slices"

// measure is the signature of KPI.Measure.
type measure = func(*Rollup) (Measurement, bool)

// percentOf measures num ÷ den as a percentage, with den as the samples. No
// events in the denominator is no data: a conversion rate with no leads is
// unknown, not 0%.
func percentOf(num, den Counter) measure {
	return func(r *Rollup) (Measurement, bool) {
		return percent(r.Count(num), r.Count(den))
	}
}

func percent(num, den int64) (Measurement, bool) {
	if den <= 0 {
		return Measurement{}, false
	}
	return Measurement{Value: 100 * float64(num) / float64(den), Samples: den}, true
}

// medianSeconds measures the median of histogram t in seconds.
func medianSeconds(t Timing) measure {
	return func(r *Rollup) (Measurement, bool) {
		h := r.Histogram(t)
		if h == nil {
			return Measurement{}, false
		}
		m, ok := h.Median()
		if !ok {
			return Measurement{}, false
		}
		return Measurement{Value: m.Seconds(), Samples: h.Count()}, true
	}
}

// revenue is all money taken in the period: deals won from leads and
// purchases by customers. No sale at all is no data.
func revenue(r *Rollup) (Measurement, bool) {
	sales := r.Count(LeadsConverted) + r.Count(Purchases)
	if sales <= 0 {
		return Measurement{}, false
	}
	// Added as floats so that even corrupt totals cannot wrap around;
	// below 2^53 minor units (90 trillion) the result is still exact.
	total := float64(r.Total(ConversionRevenue)) + float64(r.Total(PurchaseRevenue))
	return Measurement{Value: total, Samples: sales}, true
}

// averageDealValue is the revenue of converted leads per converted lead.
func averageDealValue(r *Rollup) (Measurement, bool) {
	deals := r.Count(LeadsConverted)
	if deals <= 0 {
		return Measurement{}, false
	}
	return Measurement{Value: float64(r.Total(ConversionRevenue)) / float64(deals), Samples: deals}, true
}

// topCustomerShare is the share of revenue that came from the top fifth of
// paying customers (at least one customer), ranked by their revenue in the
// period. Customers whose refunds cancelled their purchases are left out.
func topCustomerShare(r *Rollup) (Measurement, bool) {
	byCustomer := r.Entries(RevenueByCustomer)
	amounts := make([]int64, 0, len(byCustomer))
	var total int64
	for _, v := range byCustomer {
		if v > 0 {
			amounts = append(amounts, v)
			total += v
		}
	}
	if len(amounts) == 0 || total <= 0 {
		return Measurement{}, false
	}
	slices.Sort(amounts)
	top := (len(amounts) + 4) / 5 // ⌈n/5⌉
	var topSum int64
	for _, v := range amounts[len(amounts)-top:] {
		topSum += v
	}
	return Measurement{Value: 100 * float64(topSum) / float64(total), Samples: int64(len(amounts))}, true
}

// bestSourceShare is the share of the period's leads that came from the
// single biggest source.
func bestSourceShare(r *Rollup) (Measurement, bool) {
	var best, total int64
	for _, n := range r.Entries(LeadsBySource) {
		if n > 0 {
			best = max(best, n)
			total += n
		}
	}
	return percent(best, total)
}

// repeatCustomerRate is the share of the period's buying customers who had
// bought before.
func repeatCustomerRate(r *Rollup) (Measurement, bool) {
	var buyers, repeat int64
	repeats := r.Entries(RepeatSalesByCustomer)
	for customer, n := range r.Entries(SalesByCustomer) {
		if n > 0 {
			buyers++
			if repeats[customer] > 0 {
				repeat++
			}
		}
	}
	return percent(repeat, buyers)
}

// slaCompliance is the share of SLA clocks that stopped in time.
func slaCompliance(r *Rollup) (Measurement, bool) {
	met := r.Count(SLAMet)
	return percent(met, met+r.Count(SLABreached))
}

// nps is % promoters (9–10) − % detractors (0–6) of the 0–10 answers.
func nps(r *Rollup) (Measurement, bool) {
	var promoters, detractors, all int64
	for score, c := range npsAnswers {
		n := r.Count(c)
		all += n
		switch {
		case score >= 9:
			promoters += n
		case score <= 6:
			detractors += n
		}
	}
	if all <= 0 {
		return Measurement{}, false
	}
	return Measurement{Value: 100 * float64(promoters-detractors) / float64(all), Samples: all}, true
}

// csat is the % of 1–5 answers that are 4 or 5.
func csat(r *Rollup) (Measurement, bool) {
	var satisfied, all int64
	for i, c := range csatAnswers {
		n := r.Count(c)
		all += n
		if score := i + 1; score >= 4 {
			satisfied += n
		}
	}
	return percent(satisfied, all)
}

// ces is the mean 1–7 answer.
func ces(r *Rollup) (Measurement, bool) {
	var sum, all int64
	for i, c := range cesAnswers {
		n := r.Count(c)
		all += n
		sum += int64(i+1) * n
	}
	if all <= 0 {
		return Measurement{}, false
	}
	return Measurement{Value: float64(sum) / float64(all), Samples: all}, true
}
