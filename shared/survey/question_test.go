package survey_test

import (
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/shared/scorecard"
	"github.com/rapportcrm/rapport/shared/survey"
)

func TestScales(t *testing.T) {
	for _, tc := range []struct {
		q      survey.Question
		lo, hi int
	}{
		{survey.NPS, 0, 10},
		{survey.CSAT, 1, 5},
		{survey.CES, 1, 7},
	} {
		lo, hi := tc.q.Scale()
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("%s scale %d–%d, want %d–%d", tc.q, lo, hi, tc.lo, tc.hi)
		}
		if tc.q.Allows(tc.lo-1) || !tc.q.Allows(tc.lo) || !tc.q.Allows(tc.hi) || tc.q.Allows(tc.hi+1) {
			t.Errorf("%s allows the wrong ends", tc.q)
		}
		if got := tc.q.Scores(); len(got) != tc.hi-tc.lo+1 || got[0] != tc.lo || got[len(got)-1] != tc.hi {
			t.Errorf("%s scores %v", tc.q, got)
		}
	}
	if survey.Question("effort").Allows(1) || survey.Question("effort").Scores() != nil {
		t.Error("an unknown question allows scores")
	}
}

// TestScalesMatchScorecard keeps the domain's questions and the
// scorecard's counters in step: a score the domain accepts is one the
// scorecard has a counter for, and no other.
func TestScalesMatchScorecard(t *testing.T) {
	for _, q := range survey.Questions {
		sq := scorecard.SurveyQuestion(q)
		lo, hi, ok := sq.Scale()
		if !ok {
			t.Fatalf("the scorecard does not know %s", q)
		}
		if l, h := q.Scale(); l != lo || h != hi {
			t.Errorf("%s: domain scale %d–%d, scorecard %d–%d", q, l, h, lo, hi)
		}
		for s := -1; s <= 11; s++ {
			_, counted := scorecard.AnswerCounter(sq, s)
			if counted != q.Allows(s) {
				t.Errorf("%s %d: scorecard counter %v, domain allows %v", q, s, counted, q.Allows(s))
			}
		}
	}
}

func TestParseQuestion(t *testing.T) {
	for _, s := range []string{"nps", "csat", "ces"} {
		if q, ok := survey.ParseQuestion(s); !ok || string(q) != s {
			t.Errorf("ParseQuestion(%q) = %q, %v", s, q, ok)
		}
	}
	for _, s := range []string{"", "NPS", " nps", "effort", "comment"} {
		if _, ok := survey.ParseQuestion(s); ok {
			t.Errorf("ParseQuestion(%q) accepted", s)
		}
	}
}

func TestParseScore(t *testing.T) {
	for _, tc := range []struct {
		q    survey.Question
		in   string
		want int
		ok   bool
	}{
		{survey.NPS, "0", 0, true},
		{survey.NPS, "9", 9, true},
		{survey.NPS, "10", 10, true},
		{survey.NPS, "11", 0, false},
		{survey.NPS, "-1", 0, false},
		{survey.NPS, "+9", 0, false},
		{survey.NPS, "09", 0, false},
		{survey.NPS, "9.0", 0, false},
		{survey.NPS, " 9", 0, false},
		{survey.NPS, "", 0, false},
		{survey.NPS, "100", 0, false},
		{survey.NPS, "٩", 0, false}, // an Arabic-Indic nine
		{survey.CSAT, "0", 0, false},
		{survey.CSAT, "1", 1, true},
		{survey.CSAT, "5", 5, true},
		{survey.CSAT, "6", 0, false},
		{survey.CES, "7", 7, true},
		{survey.CES, "8", 0, false},
		{survey.Question("x"), "1", 0, false},
	} {
		got, ok := survey.ParseScore(tc.q, tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseScore(%s, %q) = %d, %v; want %d, %v", tc.q, tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestWording(t *testing.T) {
	for _, q := range survey.Questions {
		for _, r := range survey.Reasons {
			w := q.Wording("Acme", r)
			if w.Question == "" || w.Email == "" || w.Low == "" || w.High == "" {
				t.Errorf("%s/%s: wording has an empty part: %+v", q, r, w)
			}
			if len(w.Labels) != len(q.Scores()) {
				t.Errorf("%s/%s: %d labels for %d scores", q, r, len(w.Labels), len(q.Scores()))
			}
			if q != survey.CSAT || r != survey.AfterTicket {
				if !strings.Contains(w.Question, "Acme") {
					t.Errorf("%s/%s does not name the organisation: %q", q, r, w.Question)
				}
			}
		}
	}
	if got := survey.NPS.Wording("", survey.Relationship).Question; got != "How likely are you to recommend us to a friend or colleague?" {
		t.Errorf("NPS without an organisation name: %q", got)
	}
	if got := survey.CES.Wording("  ", survey.AfterTicket).Question; got != "The company made it easy for me to handle my issue." {
		t.Errorf("CES without an organisation name: %q", got)
	}
	if got := survey.CSAT.Wording("Acme", survey.AfterTicket).Question; got != "How satisfied are you with how we handled your request?" {
		t.Errorf("CSAT after a ticket: %q", got)
	}
	if got := survey.NPS.Wording("Acme", survey.Manual).Labels; got[0] != "0 – not at all likely" || got[5] != "5" || got[10] != "10 – extremely likely" {
		t.Errorf("NPS labels %v", got)
	}
	if w := survey.Question("x").Wording("Acme", survey.Manual); w.Question != "" || w.Labels != nil {
		t.Error("an unknown question has wording")
	}
}
