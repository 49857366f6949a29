package httpapi_test

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/shared/links"
	"github.com/rapportcrm/rapport/shared/survey"
)

// The survey page an invitation's links open: what it shows, that a GET
// never records, that an answer is taken once, and that a link that fails
// says nothing of the invitation.

func TestTheSurveyPageAsksTheInvitationsQuestions(t *testing.T) {
	a := newSurveysAPI(t)
	_, tok := a.invite("Ada@Example.com", survey.CSAT, survey.CES)
	resp := a.surveyPage(tok, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Headers["Content-Type"], "text/html") {
		t.Fatalf("GET /s/{token}: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	checkPrivate(t, resp)
	page := resp.Body
	for _, want := range []string{
		`<html lang="en">`, `name="viewport"`, `<form method="post" action="/s/` + tok + `"`,
		"<legend>Overall, how satisfied are you with Acme?</legend>",
		"<legend>Acme makes it easy for me to get what I need. <span class=\"hint\">(optional)</span></legend>",
		`<label class="choice" for="csat-1"><input type="radio" id="csat-1" name="csat" value="1" required><span>1 – Very dissatisfied</span></label>`,
		`<label class="choice" for="csat-5"><input type="radio" id="csat-5" name="csat" value="5" required>`,
		`<label class="choice" for="ces-7"><input type="radio" id="ces-7" name="ces" value="7"><span>7 – Strongly agree</span></label>`,
		`<label for="comment">`, `<textarea id="comment" name="comment" rows="5" maxlength="2000"`,
		`<button type="submit">Send my answer</button>`, `href="/s/` + tok + `/unsubscribe"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, never := range []string{"ada@example.com", "Ada@Example.com", "<script", "nps-"} {
		if strings.Contains(page, never) {
			t.Errorf("the page shows %q", never)
		}
	}
	if scoreOf(page, survey.CSAT)+scoreOf(page, survey.CES) != "" {
		t.Errorf("a score is chosen before the person chose one")
	}
	if strings.Count(page, "<fieldset") != 2 || strings.Count(page, `<label class="choice"`) != 12 {
		t.Errorf("want 2 groups of 5 and 7 labelled choices: %s", page)
	}

	_, nps := a.invite("bo@example.com", survey.NPS)
	page = a.surveyPage(nps, nil).Body
	for _, want := range []string{
		"<legend>How likely are you to recommend Acme to a friend or colleague?</legend>",
		`<label class="choice" for="nps-0"><input type="radio" id="nps-0" name="nps" value="0" required><span aria-hidden="true">0</span><span class="sr">0 – not at all likely</span></label>`,
		`<label class="choice" for="nps-7"><input type="radio" id="nps-7" name="nps" value="7" required><span>7</span></label>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the NPS page lacks %q", want)
		}
	}
}

func TestAOneClickLinkChoosesTheScoreAndRecordsNothing(t *testing.T) {
	a := newSurveysAPI(t)
	id, tok := a.invite("ada@example.com", survey.NPS)
	a.calls.Reset()
	for _, c := range []struct{ score, chosen string }{
		{"9", "9"}, {"0", "0"}, {"10", "10"}, {"11", ""}, {"09", ""}, {"-1", ""}, {"nine", ""}, {"", ""},
	} {
		resp := a.surveyPage(tok, map[string]string{"score": c.score})
		if resp.StatusCode != 200 || scoreOf(resp.Body, survey.NPS) != c.chosen {
			t.Errorf("?score=%s: %d, chosen %q, want %q", c.score, resp.StatusCode, scoreOf(resp.Body, survey.NPS), c.chosen)
		}
		if strings.Contains(resp.Body, "we have your answer") {
			t.Errorf("?score=%s thanks for an answer", c.score)
		}
	}
	if n := a.writes(); n != 0 {
		t.Errorf("opening the one-click links made %d writes", n)
	}
	if inv := a.invitation(id); inv.Status != survey.StatusSent || inv.AnsweredAt != nil {
		t.Errorf("the invitation after the links were opened: %s", inv.Status)
	}
	if r := a.results(map[string]string{"question": "nps"}); r["responses"] != float64(0) {
		t.Errorf("results after the links were opened: %v", r)
	}
}

func TestAnAnswerIsRecordedOnceAndThanked(t *testing.T) {
	a := newSurveysAPI(t)
	id, tok := a.invite("ada@example.com", survey.CSAT, survey.CES)
	resp := a.postAnswer(tok, url.Values{"csat": {"2"}, "ces": {"3"}, "comment": {"The <b>wait</b> was long."}, "send": {""}})
	if resp.StatusCode != 303 || resp.Headers["Location"] != "/s/"+tok+"?answered=1" {
		t.Fatalf("answer: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	checkPrivate(t, resp)
	page := a.surveyPage(tok, map[string]string{"answered": "1"})
	if page.StatusCode != 200 || !strings.Contains(page.Body, "Thank you, we have your answer") || strings.Contains(page.Body, "already") ||
		strings.Contains(page.Body, "<fieldset") {
		t.Fatalf("the page after answering: %d %s", page.StatusCode, page.Body)
	}
	checkPrivate(t, page)
	if again := a.surveyPage(tok, map[string]string{"score": "5"}); again.StatusCode != 200 || !strings.Contains(again.Body, "we already have yours") {
		t.Errorf("the link opened again: %d %s", again.StatusCode, again.Body)
	}
	a.calls.Reset()
	second := a.postAnswer(tok, url.Values{"csat": {"5"}})
	if second.StatusCode != 200 || !strings.Contains(second.Body, "Thank you, we have your answer") || !strings.Contains(second.Body, "we already have yours") {
		t.Fatalf("a second answer: %d %s", second.StatusCode, second.Body)
	}
	if n := a.writes(); n != 0 {
		t.Errorf("a second answer made %d writes", n)
	}
	if inv := a.invitation(id); inv.Status != survey.StatusAnswered {
		t.Errorf("the invitation is %s", inv.Status)
	}
	items, _ := a.responses(nil)
	if len(items) != 1 || items[0]["comment"] != "The wait was long." || items[0]["scores"].(map[string]any)["csat"] != float64(2) ||
		items[0]["scores"].(map[string]any)["ces"] != float64(3) {
		t.Fatalf("the answers: %v", items)
	}
	r := a.results(map[string]string{"question": "csat"})
	if r["responses"] != float64(1) || r["counts"].(map[string]any)["2"] != float64(1) || r["score"] != float64(0) {
		t.Errorf("results: %v", r)
	}
}

func TestTwentyAnswersAtOnceAreOne(t *testing.T) {
	a := newSurveysAPI(t)
	_, tok := a.invite("ada@example.com", survey.NPS)
	const n = 20
	statuses := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp := a.postAnswer(tok, url.Values{"nps": {[]string{"9", "3"}[i%2]}})
			statuses[i], bodies[i] = resp.StatusCode, resp.Body
		})
	}
	wg.Wait()
	taken := 0
	for i, s := range statuses {
		switch {
		case s == 303:
			taken++
		case s != 200 || !strings.Contains(bodies[i], "we already have yours"):
			t.Errorf("answer %d: %d %s", i, s, bodies[i])
		}
	}
	if taken != 1 {
		t.Fatalf("%d of %d concurrent answers were taken, want 1", taken, n)
	}
	items, _ := a.responses(nil)
	r := a.results(map[string]string{"question": "nps"})
	counts := r["counts"].(map[string]any)
	if len(items) != 1 || r["responses"] != float64(1) || r["answers"] != float64(1) || counts["9"].(float64)+counts["3"].(float64) != 1 {
		t.Errorf("after %d concurrent answers: %d listed, results %v", n, len(items), r)
	}
}

func TestABadAnswerShowsThePageAgainAndWritesNothing(t *testing.T) {
	a := newSurveysAPI(t)
	id, tok := a.invite("ada@example.com", survey.NPS, survey.CES)
	for name, c := range map[string]struct {
		values   url.Values
		body     string
		status   int
		field    string
		says     string
		keptNPS  string
		keptText string
	}{
		"no score":         {values: url.Values{"ces": {"6"}, "comment": {"Fine"}}, status: 422, field: "nps", says: "Please choose an answer.", keptText: "Fine"},
		"off the scale":    {values: url.Values{"nps": {"11"}}, status: 422, field: "nps", says: "Please choose one of the answers shown."},
		"not a number":     {values: url.Values{"nps": {"ten"}, "ces": {"9"}}, status: 422, field: "nps", says: "Please choose one of the answers shown."},
		"comment too long": {values: url.Values{"nps": {"4"}, "comment": {strings.Repeat("x", survey.MaxComment+1)}}, status: 422, field: "comment", says: "too long", keptNPS: "4"},
		"not asked":        {values: url.Values{"nps": {"4"}, "csat": {"5"}}, status: 422, says: "We could not read your answer", keptNPS: "4"},
		"too large":        {body: "nps=4&comment=" + strings.Repeat("%C3%A9", 6000), status: 413, field: "comment", says: "too long"},
	} {
		t.Run(name, func(t *testing.T) {
			a.calls.Reset()
			body := c.body
			if body == "" {
				body = c.values.Encode()
			}
			resp := a.do(req{route: "POST /s/{token}", path: map[string]string{"token": tok}, headers: answerBrowser, body: body})
			if resp.StatusCode != c.status || !strings.HasPrefix(resp.Headers["Content-Type"], "text/html") {
				t.Fatalf("%d %v %s", resp.StatusCode, resp.Headers, resp.Body)
			}
			checkPrivate(t, resp)
			page := resp.Body
			if !strings.Contains(page, `<div class="summary" role="alert"`) || !strings.Contains(page, c.says) {
				t.Errorf("the page does not say what is wrong: %s", page)
			}
			if c.field != "" && !strings.Contains(page, `<p class="error" id="`+c.field+`-error">`) {
				t.Errorf("no error beside %s: %s", c.field, page)
			}
			if c.field == "nps" && !strings.Contains(page, `aria-describedby="nps-error nps-hint"`) {
				t.Errorf("the question's group does not point to its error")
			}
			if c.field == "comment" && !strings.Contains(page, `aria-invalid="true"`) {
				t.Errorf("the comment is not marked invalid")
			}
			if got := scoreOf(page, survey.NPS); got != c.keptNPS {
				t.Errorf("the NPS chosen is %q, want %q kept", got, c.keptNPS)
			}
			if c.keptText != "" && !strings.Contains(page, ">"+c.keptText+"</textarea>") {
				t.Errorf("the comment %q is not kept", c.keptText)
			}
			if n := a.writes(); n != 0 {
				t.Errorf("%d writes", n)
			}
		})
	}
	if inv := a.invitation(id); inv.Status != survey.StatusSent {
		t.Errorf("after bad answers the invitation is %s", inv.Status)
	}
	a.answered(tok, url.Values{"nps": {"10"}})
}

func TestSurveyLinksThatFailShowNothingOfTheInvitation(t *testing.T) {
	a := newSurveysAPI(t)
	id, tok := a.invite("ada@example.com", survey.NPS)
	swap := "A"
	if tok[len(tok)-1:] == "A" {
		swap = "B"
	}
	other, _ := links.GenerateKey("k1")
	foreign, _ := links.NewKeyring(other)
	foreignTok, _ := foreign.Sign(links.Survey, id, a.now.Add(time.Hour))
	ticketTok, _ := a.links.Sign(links.Ticket, id, a.now.Add(time.Hour))
	nobody, _ := a.links.Sign(links.Survey, "01JZZZZZZZZZZZZZZZZZZZZZZZ", a.now.Add(time.Hour))
	for name, bad := range map[string]string{
		"tampered":          tok[:len(tok)-1] + swap,
		"truncated":         tok[:len(tok)-4],
		"another key":       foreignTok,
		"a ticket's link":   ticketTok,
		"garbage":           "not-a-token",
		"no such survey":    nobody,
		"an id as a token":  id,
		"longer than a key": tok + tok,
	} {
		t.Run(name, func(t *testing.T) {
			a.calls.Reset()
			for _, resp := range []lambdaevents.APIGatewayV2HTTPResponse{
				a.surveyPage(bad, map[string]string{"score": "9"}), a.postAnswer(bad, url.Values{"nps": {"9"}}),
				a.unsubscribePage(bad), a.unsubscribe(bad),
			} {
				if resp.StatusCode != 404 || !strings.Contains(resp.Body, "This link does not work") {
					t.Fatalf("%d %s", resp.StatusCode, resp.Body)
				}
				checkPrivate(t, resp)
				for _, never := range []string{"ada", id, "recommend", "<form"} {
					if strings.Contains(resp.Body, never) {
						t.Errorf("the page shows %q", never)
					}
				}
			}
			if n := a.writes(); n != 0 {
				t.Errorf("%d writes", n)
			}
		})
	}
	if inv := a.invitation(id); inv.Status != survey.StatusSent {
		t.Fatalf("the invitation is %s", inv.Status)
	}

	a.advance(survey.DefaultSettings().LinkLifetime)
	a.calls.Reset()
	for _, resp := range []lambdaevents.APIGatewayV2HTTPResponse{a.surveyPage(tok, map[string]string{"score": "9"}), a.postAnswer(tok, url.Values{"nps": {"9"}})} {
		if resp.StatusCode != 410 || !strings.Contains(resp.Body, "This survey has closed") || strings.Contains(resp.Body, "recommend") {
			t.Fatalf("an expired link: %d %s", resp.StatusCode, resp.Body)
		}
		checkPrivate(t, resp)
	}
	if n := a.calls.Requests(); n != 0 {
		t.Errorf("an expired link made %d requests", n)
	}
	// A link signed to outlive its invitation still closes with it.
	late, _ := a.links.Sign(links.Survey, id, a.now.Add(time.Hour))
	a.calls.Reset()
	for _, resp := range []lambdaevents.APIGatewayV2HTTPResponse{a.surveyPage(late, nil), a.postAnswer(late, url.Values{"nps": {"9"}})} {
		if resp.StatusCode != 410 || !strings.Contains(resp.Body, "This survey has closed") {
			t.Fatalf("an expired invitation: %d %s", resp.StatusCode, resp.Body)
		}
	}
	if n := a.writes(); n != 0 {
		t.Errorf("an expired invitation took %d writes", n)
	}
}

func TestUnsubscribingAsksFirstThenOptsOut(t *testing.T) {
	a := newSurveysAPI(t)
	_, tok := a.invite("ada@example.com", survey.NPS)
	a.calls.Reset()
	resp := a.unsubscribePage(tok)
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `<form method="post" action="/s/`+tok+`/unsubscribe"`) ||
		!strings.Contains(resp.Body, `<button type="submit">Unsubscribe</button>`) {
		t.Fatalf("the unsubscribe page: %d %s", resp.StatusCode, resp.Body)
	}
	checkPrivate(t, resp)
	if n := a.writes(); n != 0 {
		t.Errorf("opening the unsubscribe link made %d writes", n)
	}
	if got := a.do(req{route: "POST /surveys/invitations", role: "manager", headers: jsonClient,
		body: `{"email":"carl@example.com"}`}); got.StatusCode != 201 {
		t.Fatalf("another person is invited: %d %s", got.StatusCode, got.Body)
	}

	for range 2 { // twice: a double click, or a mail client's one-click unsubscribe and then the page
		resp = a.unsubscribe(tok)
		if resp.StatusCode != 200 || !strings.Contains(resp.Body, "You will get no more surveys") {
			t.Fatalf("unsubscribe: %d %s", resp.StatusCode, resp.Body)
		}
		checkPrivate(t, resp)
	}
	a.advance(survey.DefaultSettings().QuietPeriod + time.Hour)
	got := a.do(req{route: "POST /surveys/invitations", role: "manager", headers: jsonClient, body: `{"email":"ADA@example.com","questions":["csat"]}`})
	if got.StatusCode != 409 || problemField(t, got.Body) != "email" || problemReason(t, got.Body) != survey.OptedOut {
		t.Errorf("inviting a person who opted out: %d %s", got.StatusCode, got.Body)
	}
	// The link has expired by now; unsubscribing with it still works.
	if resp := a.unsubscribePage(tok); resp.StatusCode != 200 || !strings.Contains(resp.Body, "Stop our survey emails?") {
		t.Errorf("an expired link's unsubscribe page: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := a.unsubscribe(tok); resp.StatusCode != 200 {
		t.Errorf("unsubscribing with an expired link: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestAnExpiredLinkStillUnsubscribes(t *testing.T) {
	a := newSurveysAPI(t)
	_, tok := a.invite("ada@example.com", survey.NPS)
	a.advance(survey.DefaultSettings().LinkLifetime + 24*time.Hour)
	if resp := a.surveyPage(tok, nil); resp.StatusCode != 410 {
		t.Fatalf("the expired survey: %d", resp.StatusCode)
	}
	if resp := a.unsubscribe(tok); resp.StatusCode != 200 || !strings.Contains(resp.Body, "You will get no more surveys") {
		t.Fatalf("unsubscribe by an expired link: %d %s", resp.StatusCode, resp.Body)
	}
	got := a.do(req{route: "POST /surveys/invitations", role: "manager", headers: jsonClient, body: `{"email":"ada@example.com"}`})
	if got.StatusCode != 409 || problemReason(t, got.Body) != survey.OptedOut {
		t.Errorf("inviting them again: %d %s", got.StatusCode, got.Body)
	}
}

// problemReason returns the reason of the first field a problem names.
func problemReason(t *testing.T, body string) string {
	t.Helper()
	errs, _ := decodeString(t, body)["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	return errs[0].(map[string]any)["reason"].(string)
}

// A script may answer with JSON: 201 once, 200 "already_answered" after,
// problem+json naming the field for a bad score and for a forged link.
func TestAScriptAnswersWithJSON(t *testing.T) {
	a := newSurveysAPI(t)
	_, tok := a.invite("ada@example.com", survey.NPS)
	post := func(token, body string) lambdaevents.APIGatewayV2HTTPResponse {
		return a.do(req{route: "POST /s/{token}", path: map[string]string{"token": token},
			headers: map[string]string{"Content-Type": "application/json", "Accept": "application/json"}, body: body})
	}
	if bad := post(tok, `{"nps":11}`); bad.StatusCode != 422 || problemField(t, bad.Body) != "nps" {
		t.Fatalf("a score off the scale: %d %s", bad.StatusCode, bad.Body)
	}
	if resp := post(tok, `{"nps":9,"comment":"Great"}`); resp.StatusCode != 201 || !strings.Contains(resp.Body, `"answered"`) {
		t.Fatalf("the answer: %d %s", resp.StatusCode, resp.Body)
	}
	if again := post(tok, `{"nps":3}`); again.StatusCode != 200 || !strings.Contains(again.Body, `"already_answered"`) {
		t.Fatalf("the answer again: %d %s", again.StatusCode, again.Body)
	}
	forged := tok[:len(tok)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(tok, "A")]
	if resp := post(forged, `{"nps":9}`); resp.StatusCode != 404 || resp.Headers["Content-Type"] != "application/problem+json" {
		t.Fatalf("a forged link: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	if r := a.results(map[string]string{"question": "nps"}); r["responses"] != float64(1) || r["score"] != float64(100) {
		t.Errorf("results: %v", r)
	}
}
