package survey

import "math"

// maxScores is the length of the longest scale, NPS's 0–10.
const maxScores = 11

// Tally counts the answers of a set of responses — a day's, a week's, a
// team's — per question and per score, and the responses themselves. It is
// a fixed-size value: adding two tallies adds their counts, so a quarter's
// tally is the sum of its days' at the same cost as one day's, and a
// result computed from it is exact however the days are grouped.
//
// The zero Tally is empty and ready to use.
type Tally struct {
	// counts[i][s-lo] counts the answers s to Questions[i].
	counts    [3][maxScores]int64
	responses int64
}

// index returns q's place in Tally.counts, or -1.
func index(q Question) int {
	for i, x := range Questions {
		if x == q {
			return i
		}
	}
	return -1
}

// Add counts one response: one for Responses, and one answer for each score
// it gives.
func (t *Tally) Add(a Answer) {
	t.responses++
	for _, r := range a.Ratings {
		t.AddScore(r.Question, r.Score, 1)
	}
}

// AddScore adds n answers of score to question q, as a store rebuilds a
// tally from its counters. It reports false, and adds nothing, when the
// score is off q's scale.
func (t *Tally) AddScore(q Question, score int, n int64) bool {
	if !q.Allows(score) {
		return false
	}
	lo, _ := q.Scale()
	t.counts[index(q)][score-lo] += n
	return true
}

// AddResponses adds n responses, as a store rebuilds a tally from its
// counters.
func (t *Tally) AddResponses(n int64) { t.responses += n }

// Merge adds o's counts to t's.
func (t *Tally) Merge(o Tally) {
	t.responses += o.responses
	for i := range t.counts {
		for s := range t.counts[i] {
			t.counts[i][s] += o.counts[i][s]
		}
	}
}

// Sum returns the tally of all the given tallies.
func Sum(ts ...Tally) Tally {
	var out Tally
	for _, t := range ts {
		out.Merge(t)
	}
	return out
}

// Count returns the number of answers score to q.
func (t Tally) Count(q Question, score int) int64 {
	if !q.Allows(score) {
		return 0
	}
	lo, _ := q.Scale()
	return t.counts[index(q)][score-lo]
}

// Counts returns the number of answers to q for each score on its scale,
// lowest first, as the results page lists them.
func (t Tally) Counts(q Question) []int64 {
	var out []int64
	for _, s := range q.Scores() {
		out = append(out, t.Count(q, s))
	}
	return out
}

// Answers returns the number of answers to q.
func (t Tally) Answers(q Question) int64 {
	var n int64
	for _, c := range t.Counts(q) {
		n += c
	}
	return n
}

// Responses returns the number of responses: answered invitations, however
// many questions each answered.
func (t Tally) Responses() int64 { return t.responses }

// ResponseRate returns responses ÷ invitations × 100, and false when no
// invitation was sent. Responses and invitations are each counted in the
// period they happened, so an invitation sent on a Friday and answered on
// Monday makes a short period's rate wobble, and can take it past 100.
func (t Tally) ResponseRate(invitations int64) (float64, bool) {
	if invitations <= 0 {
		return 0, false
	}
	return 100 * float64(t.responses) / float64(invitations), true
}

// Score returns q's standard score, and false when no one answered q —
// no answers is no value, never zero:
//
//   - NPS: % of answers 9–10 (promoters) − % of answers 0–6 (detractors),
//     from −100 to 100.
//   - CSAT: % of answers 4–5, from 0 to 100.
//   - CES: the mean answer, from 1 to 7.
//
// These are the scorecard's formulas; its nps, csat and ces KPIs read the
// same counts and give the same values.
func (t Tally) Score(q Question) (float64, bool) {
	num, den, ok := t.ratio(q)
	if !ok {
		return 0, false
	}
	return float64(num) / float64(den), true
}

// Rounded returns Score rounded to one decimal, halves away from zero, as
// pages and mails show it: a CES of 81/20 = 4.05 shows 4.1, an NPS of
// −1.25 shows −1.3. It rounds the exact fraction of the counts in
// integers, so the rule holds by construction rather than by the luck of
// binary fractions (4.05 is not a float64).
func (t Tally) Rounded(q Question) (float64, bool) {
	num, den, ok := t.ratio(q)
	if !ok {
		return 0, false
	}
	// tenths = round(10·num/den), halves away from zero, in integers.
	n, neg := 10*num, num < 0
	if neg {
		n = -n
	}
	tenths := (2*n + den) / (2 * den)
	if neg {
		tenths = -tenths
	}
	return float64(tenths) / 10, true
}

// ratio returns q's score as num ÷ den in integers, den > 0.
func (t Tally) ratio(q Question) (num, den int64, ok bool) {
	all := t.Answers(q)
	if all <= 0 {
		return 0, 0, false
	}
	switch q {
	case NPS:
		var promoters, detractors int64
		for s, c := range t.Counts(NPS) {
			switch {
			case s >= 9:
				promoters += c
			case s <= 6:
				detractors += c
			}
		}
		return 100 * (promoters - detractors), all, true
	case CSAT:
		return 100 * (t.Count(CSAT, 4) + t.Count(CSAT, 5)), all, true
	case CES:
		var sum int64
		for i, c := range t.Counts(CES) {
			sum += int64(i+1) * c
		}
		return sum, all, true
	}
	return 0, 0, false
}

// Result is what GET /surveys/results says of one question in one period.
type Result struct {
	Question Question
	// Counts holds the answers per score, lowest score first.
	Counts []int64
	// Answers counts the answers to the question; Responses every response
	// in the period, whatever it answered.
	Answers   int64
	Responses int64
	// Invitations is the invitations sent in the period.
	Invitations int64
	// ResponseRate and Score are nil when there is nothing to compute them
	// from: no invitation sent, no answer to the question.
	ResponseRate *float64
	Score        *float64
}

// Result returns q's result from the tally and the number of invitations
// sent in the same period. Score is rounded as Rounded does; the rate to
// one decimal.
func (t Tally) Result(q Question, invitations int64) Result {
	r := Result{Question: q, Counts: t.Counts(q), Answers: t.Answers(q), Responses: t.responses, Invitations: invitations}
	if v, ok := t.Rounded(q); ok {
		r.Score = &v
	}
	if v, ok := t.ResponseRate(invitations); ok {
		v = math.Round(v*10) / 10
		r.ResponseRate = &v
	}
	return r
}
