package survey_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/survey"
)

// sentInvitation returns an invitation asking qs, sent at t0 and so open
// until t0 + 30 days.
func sentInvitation(qs ...survey.Question) survey.Invitation {
	sent, expires := t0, t0.Add(30*day)
	return survey.Invitation{ID: "01KBDW2Z7E4N9Q3R6T8V1X5B0C", Email: "ada@example.com", CustomerID: "C1", TicketID: "T1",
		Reason: survey.AfterTicket, Questions: qs, Status: survey.StatusSent, DueAt: t0, SentAt: &sent, ExpiresAt: &expires, Version: 2}
}

func form(s string) map[string][]string {
	v, err := url.ParseQuery(s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestCheckAnswer(t *testing.T) {
	now := t0.Add(2 * time.Hour)
	csatCES := sentInvitation(survey.CSAT, survey.CES)
	nps := sentInvitation(survey.NPS)
	for _, tc := range []struct {
		name    string
		inv     survey.Invitation
		form    string
		ratings []survey.Rating
		comment string
		fields  []string
	}{
		{name: "both scores", inv: csatCES, form: "csat=4&ces=6", ratings: []survey.Rating{{survey.CSAT, 4}, {survey.CES, 6}}},
		{name: "the first only", inv: csatCES, form: "csat=1", ratings: []survey.Rating{{survey.CSAT, 1}}},
		{name: "the second left empty", inv: csatCES, form: "csat=5&ces=", ratings: []survey.Rating{{survey.CSAT, 5}}},
		{name: "fields in any order", inv: csatCES, form: "ces=1&comment=ok&csat=2", ratings: []survey.Rating{{survey.CSAT, 2}, {survey.CES, 1}}, comment: "ok"},
		{name: "NPS 0", inv: nps, form: "nps=0", ratings: []survey.Rating{{survey.NPS, 0}}},
		{name: "NPS 10 with a comment", inv: nps, form: "nps=10&comment=" + url.QueryEscape("  Great <b>service</b>,\r\nthanks!  "),
			ratings: []survey.Rating{{survey.NPS, 10}}, comment: "Great service ,\nthanks!"},
		{name: "other fields ignored", inv: nps, form: "nps=7&submit=Send&website=", ratings: []survey.Rating{{survey.NPS, 7}}},
		{name: "a comment of 2000 characters", inv: nps, form: "nps=8&comment=" + strings.Repeat("é", 2000),
			ratings: []survey.Rating{{survey.NPS, 8}}, comment: strings.Repeat("é", 2000)},

		{name: "missing score", inv: csatCES, form: "ces=5", fields: []string{"csat"}},
		{name: "empty first score", inv: nps, form: "nps=&comment=hi", fields: []string{"nps"}},
		{name: "nothing at all", inv: nps, form: "", fields: []string{"nps"}},
		{name: "NPS 11", inv: nps, form: "nps=11", fields: []string{"nps"}},
		{name: "CSAT 0", inv: csatCES, form: "csat=0", fields: []string{"csat"}},
		{name: "CSAT 6", inv: csatCES, form: "csat=6", fields: []string{"csat"}},
		{name: "CES 8", inv: csatCES, form: "csat=3&ces=8", fields: []string{"ces"}},
		{name: "not a number", inv: nps, form: "nps=ten", fields: []string{"nps"}},
		{name: "a fraction", inv: nps, form: "nps=9.5", fields: []string{"nps"}},
		{name: "negative", inv: nps, form: "nps=-1", fields: []string{"nps"}},
		{name: "a question not asked", inv: nps, form: "nps=9&csat=5", fields: []string{"csat"}},
		{name: "a question not asked, empty", inv: nps, form: "nps=9&ces=", fields: []string{"ces"}},
		{name: "a score twice", inv: nps, form: "nps=9&nps=0", fields: []string{"nps"}},
		{name: "a comment twice", inv: nps, form: "nps=9&comment=a&comment=b", fields: []string{"comment"}},
		{name: "a comment too long", inv: nps, form: "nps=9&comment=" + strings.Repeat("x", 2001), fields: []string{"comment"}},
		{name: "a comment not text", inv: nps, form: "nps=9&comment=%ff%fe", fields: []string{"comment"}},
		{name: "every fault named", inv: csatCES, form: "csat=9&ces=0&nps=5&comment=" + strings.Repeat("x", 2001), fields: []string{"csat", "ces", "nps", "comment"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := survey.CheckAnswer(tc.inv, form(tc.form), now)
			if tc.fields != nil {
				wantFields(t, err, crm.EINVALID, tc.fields...)
				if a.InvitationID != "" || a.Ratings != nil {
					t.Errorf("an invalid form gave answer %+v", a)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.InvitationID != tc.inv.ID || !a.AnsweredAt.Equal(now) || !slices.Equal(a.Ratings, tc.ratings) || a.Comment != tc.comment {
				t.Errorf("answer %+v, want ratings %v and comment %q", a, tc.ratings, tc.comment)
			}
		})
	}
}

func TestCheckAnswerState(t *testing.T) {
	inv := sentInvitation(survey.NPS)
	expires := *inv.ExpiresAt
	good := form("nps=9")

	if _, err := survey.CheckAnswer(inv, good, expires.Add(-time.Second)); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	for _, tc := range []struct {
		name string
		inv  func() survey.Invitation
		at   time.Time
		want error
		code string
	}{
		{"answered before", func() survey.Invitation { return inv.Record(survey.Answer{AnsweredAt: t0.Add(day)}) }, t0.Add(2 * day), survey.ErrAnswered, crm.ECONFLICT},
		{"answered, and expired since", func() survey.Invitation { return inv.Record(survey.Answer{AnsweredAt: t0.Add(day)}) }, expires.Add(day), survey.ErrAnswered, crm.ECONFLICT},
		{"expired", func() survey.Invitation { return inv }, expires, survey.ErrExpired, crm.ECONFLICT},
		{"long expired", func() survey.Invitation { return inv }, expires.Add(300 * day), survey.ErrExpired, crm.ECONFLICT},
		{"never sent", func() survey.Invitation {
			i := inv
			i.Status, i.SentAt, i.ExpiresAt = survey.StatusScheduled, nil, nil
			return i
		}, t0, survey.ErrNotSent, crm.ENOTFOUND},
		{"cancelled", func() survey.Invitation { i := inv; i.Status = survey.StatusCancelled; return i }, t0, survey.ErrNotSent, crm.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The state is checked before the form: even a bad form gets
			// the state's answer.
			for _, f := range []map[string][]string{good, form("nps=99")} {
				_, err := survey.CheckAnswer(tc.inv(), f, tc.at)
				if !errors.Is(err, tc.want) || crm.ErrorCode(err) != tc.code || !survey.IsClosed(err) {
					t.Errorf("error %v (code %s), want %v (code %s)", err, crm.ErrorCode(err), tc.want, tc.code)
				}
			}
		})
	}
	if msg := survey.ErrAnswered.Error(); msg != "already answered" {
		t.Errorf("ErrAnswered says %q", msg)
	}
	_, err := survey.CheckAnswer(inv, form("nps=x"), t0)
	if survey.IsClosed(err) || survey.IsClosed(nil) {
		t.Error("IsClosed reports a bad form, or no error, as a closed survey")
	}
}

// FuzzCheckAnswer feeds CheckAnswer hostile forms, as a URL-encoded body,
// for invitations asking different questions at different instants. It
// never panics, and what it accepts is what the rules allow: a score on its
// scale for each question answered, the first question always answered,
// only questions asked, and a comment of plain text within the limit.
// What it refuses is EINVALID naming only the form's fields, or the
// state's own error. Its seeds run with go test.
func FuzzCheckAnswer(f *testing.F) {
	for _, seed := range []struct {
		body  string
		which uint8
		hours int
	}{
		{"nps=9", 0, 1},
		{"nps=0&comment=Too+slow", 0, 1},
		{"csat=4&ces=6", 1, 1},
		{"csat=1&ces=&comment=%3Cscript%3Ealert(1)%3C%2Fscript%3E", 1, 1},
		{"nps=10&nps=10", 0, 1},
		{"nps=010", 0, 1},
		{"nps=%EF%BC%99", 0, 1}, // a fullwidth nine
		{"csat=5&nps=9&ces=7", 1, 1},
		{"ces=3", 2, 1},
		{"nps=9", 0, 24 * 30},
		{"comment=" + strings.Repeat("%3C", 700), 0, 1},
		{"=&&&=&nps", 0, 1},
		{"nps=5&comment=%00%01%1b[31m", 0, 1},
		{"nps=7", 3, 1},
		{"nps=7", 4, 1},
	} {
		f.Add(seed.body, seed.which, seed.hours)
	}
	invs := []survey.Invitation{
		sentInvitation(survey.NPS),
		sentInvitation(survey.CSAT, survey.CES),
		sentInvitation(survey.CES, survey.NPS, survey.CSAT),
		sentInvitation(survey.NPS).Record(survey.Answer{AnsweredAt: t0}),
		func() survey.Invitation { i := sentInvitation(survey.NPS); i.Status = survey.StatusCancelled; return i }(),
	}
	f.Fuzz(func(t *testing.T, body string, which uint8, hours int) {
		values, err := url.ParseQuery(body)
		if err != nil {
			return // the HTTP layer answers a body it cannot parse
		}
		inv := invs[int(which)%len(invs)]
		now := t0.Add(time.Duration(hours%(24*400)) * time.Hour)
		a, err := survey.CheckAnswer(inv, values, now)
		again, err2 := survey.CheckAnswer(inv, values, now)
		if (err == nil) != (err2 == nil) || !slices.Equal(a.Ratings, again.Ratings) || a.Comment != again.Comment {
			t.Fatalf("two checks of one form differ: %+v %v / %+v %v", a, err, again, err2)
		}
		if err != nil {
			if survey.IsClosed(err) {
				return
			}
			e, ok := asCRM(err)
			if !ok || e.Code != crm.EINVALID || len(e.Fields) == 0 {
				t.Fatalf("error %v is neither closed nor a field error", err)
			}
			for _, fe := range e.Fields {
				if _, given := values[fe.Field]; !given && fe.Field != string(inv.Questions[0]) {
					t.Fatalf("error names %q, which the form did not give", fe.Field)
				}
				for _, vs := range values {
					for _, v := range vs {
						if len(v) >= 8 && strings.Contains(fe.Reason, v) {
							t.Fatalf("a field error echoes what was typed: %q", fe.Reason)
						}
					}
				}
			}
			return
		}
		if inv.StatusAt(now) != survey.StatusSent {
			t.Fatalf("an answer accepted for a %s invitation", inv.StatusAt(now))
		}
		if len(a.Ratings) == 0 || a.Ratings[0].Question != inv.Questions[0] {
			t.Fatalf("accepted without the first question: %+v", a)
		}
		for i, r := range a.Ratings {
			if !inv.Asks(r.Question) || !r.Question.Allows(r.Score) {
				t.Fatalf("accepted %s = %d", r.Question, r.Score)
			}
			if i > 0 && slices.Index(inv.Questions, r.Question) <= slices.Index(inv.Questions, a.Ratings[i-1].Question) {
				t.Fatalf("ratings out of the invitation's order: %+v", a.Ratings)
			}
		}
		if !utf8.ValidString(a.Comment) || utf8.RuneCountInString(a.Comment) > survey.MaxComment || strings.ContainsAny(a.Comment, "<>\r\x00") {
			t.Fatalf("accepted comment %q", a.Comment)
		}
		if a.InvitationID != inv.ID || !a.AnsweredAt.Equal(now) {
			t.Fatalf("answer %+v is not the invitation's at %v", a, now)
		}
	})
}
