package survey_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rapportcrm/rapport/shared/scorecard"
	"github.com/rapportcrm/rapport/shared/survey"
)

// answers returns a tally of one response per score given to q.
func answers(q survey.Question, scores ...int) survey.Tally {
	var t survey.Tally
	for _, s := range scores {
		t.Add(survey.Answer{Ratings: []survey.Rating{{Question: q, Score: s}}})
	}
	return t
}

// repeat returns score n times.
func repeat(score, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = score
	}
	return out
}

func join(parts ...[]int) []int {
	var out []int
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestScores checks the standard scores against values worked out by hand.
func TestScores(t *testing.T) {
	for _, tc := range []struct {
		name    string
		q       survey.Question
		scores  []int
		want    float64 // exact score
		rounded float64 // to one decimal
		none    bool
	}{
		{name: "NPS of an empty period", q: survey.NPS, none: true},
		{name: "NPS all detractors", q: survey.NPS, scores: []int{0, 3, 6, 6}, want: -100, rounded: -100},
		{name: "NPS all promoters", q: survey.NPS, scores: []int{9, 10, 10}, want: 100, rounded: 100},
		{name: "NPS all passives", q: survey.NPS, scores: []int{7, 8, 8}, want: 0, rounded: 0},
		{name: "NPS one promoter", q: survey.NPS, scores: []int{9}, want: 100, rounded: 100},
		{name: "NPS one detractor", q: survey.NPS, scores: []int{0}, want: -100, rounded: -100},
		{name: "NPS one passive", q: survey.NPS, scores: []int{7}, want: 0, rounded: 0},
		// 3 promoters, 2 detractors of 7: 100·1/7 = 14.2857…
		{name: "NPS mixed", q: survey.NPS, scores: []int{10, 10, 9, 8, 7, 6, 2}, want: 100.0 / 7, rounded: 14.3},
		// 1 promoter of 3: 33.33…
		{name: "NPS a third", q: survey.NPS, scores: []int{10, 7, 8}, want: 100.0 / 3, rounded: 33.3},
		// 2 detractors of 3: −66.66…
		{name: "NPS minus two thirds", q: survey.NPS, scores: []int{5, 6, 8}, want: -200.0 / 3, rounded: -66.7},
		// 1 promoter of 80: 1.25 exactly, a half in tenths: away from zero.
		{name: "NPS half rounds up", q: survey.NPS, scores: join([]int{9}, repeat(7, 79)), want: 1.25, rounded: 1.3},
		{name: "NPS negative half rounds down", q: survey.NPS, scores: join([]int{6}, repeat(8, 79)), want: -1.25, rounded: -1.3},
		// 1 promoter of 400: 0.25 → 0.3.
		{name: "NPS small", q: survey.NPS, scores: join([]int{10}, repeat(7, 399)), want: 0.25, rounded: 0.3},

		{name: "CSAT of an empty period", q: survey.CSAT, none: true},
		{name: "CSAT all dissatisfied", q: survey.CSAT, scores: []int{1, 2, 1}, want: 0, rounded: 0},
		{name: "CSAT all satisfied", q: survey.CSAT, scores: []int{4, 5}, want: 100, rounded: 100},
		{name: "CSAT one answer", q: survey.CSAT, scores: []int{3}, want: 0, rounded: 0},
		{name: "CSAT mixed", q: survey.CSAT, scores: []int{4, 5, 5, 3, 1}, want: 60, rounded: 60},
		{name: "CSAT two thirds", q: survey.CSAT, scores: []int{3, 4, 4}, want: 200.0 / 3, rounded: 66.7},
		// 1 of 8: 12.5 is already in tenths.
		{name: "CSAT an eighth", q: survey.CSAT, scores: join([]int{5}, repeat(3, 7)), want: 12.5, rounded: 12.5},

		{name: "CES of an empty period", q: survey.CES, none: true},
		{name: "CES one answer", q: survey.CES, scores: []int{1}, want: 1, rounded: 1},
		{name: "CES all easiest", q: survey.CES, scores: []int{7, 7}, want: 7, rounded: 7},
		{name: "CES whole scale", q: survey.CES, scores: []int{1, 2, 3, 4, 5, 6, 7}, want: 4, rounded: 4},
		{name: "CES a third", q: survey.CES, scores: []int{5, 4, 4}, want: 13.0 / 3, rounded: 4.3},
		// 81/20 = 4.05 exactly: a half in tenths, away from zero.
		{name: "CES half rounds up", q: survey.CES, scores: join(repeat(4, 19), []int{5}), want: 4.05, rounded: 4.1},
		{name: "CES 4.5", q: survey.CES, scores: []int{4, 5}, want: 4.5, rounded: 4.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tally := answers(tc.q, tc.scores...)
			got, ok := tally.Score(tc.q)
			r, rok := tally.Rounded(tc.q)
			if tc.none {
				if ok || rok {
					t.Fatalf("Score = %v, %v; want no value", got, ok)
				}
				return
			}
			if !ok || math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("Score = %v, %v; want %v", got, ok, tc.want)
			}
			if !rok || r != tc.rounded {
				t.Errorf("Rounded = %v, %v; want %v", r, rok, tc.rounded)
			}
			if n := tally.Answers(tc.q); n != int64(len(tc.scores)) {
				t.Errorf("Answers = %d, want %d", n, len(tc.scores))
			}
			for _, other := range survey.Questions {
				if _, ok := tally.Score(other); ok && other != tc.q {
					t.Errorf("%s has a value from answers to %s only", other, tc.q)
				}
			}
		})
	}
}

func TestResponsesAndRate(t *testing.T) {
	var tally survey.Tally
	// A CSAT invitation also asking CES: one response, two answers.
	tally.Add(survey.Answer{Ratings: []survey.Rating{{survey.CSAT, 5}, {survey.CES, 6}}})
	tally.Add(survey.Answer{Ratings: []survey.Rating{{survey.CSAT, 2}}})
	tally.Add(survey.Answer{Ratings: []survey.Rating{{survey.NPS, 10}}})
	if got := tally.Responses(); got != 3 {
		t.Errorf("Responses = %d, want 3", got)
	}
	if got := tally.Answers(survey.CSAT); got != 2 {
		t.Errorf("CSAT answers = %d, want 2", got)
	}
	if got := tally.Counts(survey.CSAT); len(got) != 5 || got[1] != 1 || got[4] != 1 {
		t.Errorf("CSAT counts = %v, want one 2 and one 5", got)
	}
	for _, tc := range []struct {
		invitations int64
		want        float64
		ok          bool
	}{
		{0, 0, false},
		{-1, 0, false},
		{12, 25, true},
		{3, 100, true},
		{2, 150, true}, // answers to last period's invitations
	} {
		got, ok := tally.ResponseRate(tc.invitations)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ResponseRate(%d) = %v, %v; want %v, %v", tc.invitations, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := (survey.Tally{}).ResponseRate(10); !ok {
		t.Error("no responses to 10 invitations has no rate; want 0%")
	}
}

func TestAddScoreRefusesOffScale(t *testing.T) {
	var tally survey.Tally
	for _, tc := range []struct {
		q     survey.Question
		score int
	}{{survey.NPS, 11}, {survey.NPS, -1}, {survey.CSAT, 0}, {survey.CES, 8}, {"effort", 3}} {
		if tally.AddScore(tc.q, tc.score, 5) {
			t.Errorf("AddScore(%s, %d) accepted", tc.q, tc.score)
		}
	}
	if tally != (survey.Tally{}) {
		t.Error("a refused score changed the tally")
	}
	if tally.Count("effort", 3) != 0 || tally.Counts("effort") != nil {
		t.Error("an unknown question has counts")
	}
}

// TestMergeIsExact checks that day tallies added up give the tally of all
// their answers, whatever the grouping, so a quarter's result is exact.
func TestMergeIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 21))
	for round := range 50 {
		var all survey.Tally
		days := make([]survey.Tally, 1+rng.IntN(92))
		for range rng.IntN(2000) {
			a := randomAnswer(rng)
			all.Add(a)
			days[rng.IntN(len(days))].Add(a)
		}
		if got := survey.Sum(days...); got != all {
			t.Fatalf("round %d: the sum of %d days differs from the tally of all answers", round, len(days))
		}
		// Weeks first, then the quarter: the same.
		var byWeek survey.Tally
		for i := 0; i < len(days); i += 7 {
			byWeek.Merge(survey.Sum(days[i:min(i+7, len(days))]...))
		}
		if byWeek != all {
			t.Fatalf("round %d: summing weeks differs from summing days", round)
		}
	}
}

func randomAnswer(rng *rand.Rand) survey.Answer {
	var a survey.Answer
	for _, q := range survey.Questions {
		if rng.IntN(2) == 0 {
			lo, hi := q.Scale()
			a.Ratings = append(a.Ratings, survey.Rating{Question: q, Score: lo + rng.IntN(hi-lo+1)})
		}
	}
	return a
}

// TestMatchesScorecard checks that the survey results and the scorecard's
// nps, csat and ces KPIs give the same value from the same answers, the
// scorecard reading them from its per-score counters.
func TestMatchesScorecard(t *testing.T) {
	kpis := map[survey.Question]scorecard.KPI{}
	for _, k := range scorecard.DefaultCatalogue().KPIs {
		switch k.ID {
		case scorecard.KPINPS:
			kpis[survey.NPS] = k
		case scorecard.KPICSAT:
			kpis[survey.CSAT] = k
		case scorecard.KPICES:
			kpis[survey.CES] = k
		}
	}
	rng := rand.New(rand.NewPCG(4, 7))
	for round := range 200 {
		var tally survey.Tally
		for range rng.IntN(40) {
			tally.Add(randomAnswer(rng))
		}
		var r scorecard.Rollup
		for _, q := range survey.Questions {
			for _, s := range q.Scores() {
				c, _ := scorecard.AnswerCounter(scorecard.SurveyQuestion(q), s)
				if err := r.Add(c, tally.Count(q, s)); err != nil {
					t.Fatal(err)
				}
			}
		}
		for q, k := range kpis {
			m, mok := k.Measure(&r)
			v, ok := tally.Score(q)
			if mok != ok || (ok && (m.Value != v || m.Samples != tally.Answers(q))) {
				t.Fatalf("round %d, %s: scorecard %v (%v), survey %v (%v) from %d answers", round, q, m, mok, v, ok, tally.Answers(q))
			}
		}
	}
	if len(kpis) != 3 {
		t.Fatalf("found %d survey KPIs in the catalogue, want 3", len(kpis))
	}
}

func TestResult(t *testing.T) {
	tally := answers(survey.NPS, 10, 9, 3)
	tally.AddResponses(0)
	r := tally.Result(survey.NPS, 9)
	if r.Score == nil || *r.Score != 33.3 {
		t.Errorf("score %v, want 33.3", r.Score)
	}
	if r.ResponseRate == nil || *r.ResponseRate != 33.3 {
		t.Errorf("rate %v, want 33.3", r.ResponseRate)
	}
	if r.Answers != 3 || r.Responses != 3 || r.Invitations != 9 || len(r.Counts) != 11 || r.Counts[10] != 1 || r.Counts[3] != 1 {
		t.Errorf("result %+v", r)
	}
	empty := (survey.Tally{}).Result(survey.CES, 0)
	if empty.Score != nil || empty.ResponseRate != nil || len(empty.Counts) != 7 || empty.Answers != 0 {
		t.Errorf("empty result %+v, want no score, no rate and seven zero counts", empty)
	}
	// Answers to CES only: CSAT has no score, though there are responses.
	ces := answers(survey.CES, 6).Result(survey.CSAT, 1)
	if ces.Score != nil || ces.Responses != 1 {
		t.Errorf("CSAT from CES answers: %+v", ces)
	}
}
