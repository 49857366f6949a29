package httpapi

import (
	"bytes"
	"mime/multipart"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/survey"
)

// surveyNow is the fuzz target's instant; fuzzInvitation, sent an hour
// before, asks NPS and then CES.
var surveyNow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func fuzzInvitation() survey.Invitation {
	sent, expires := surveyNow.Add(-time.Hour), surveyNow.Add(30*24*time.Hour)
	return survey.Invitation{ID: "01KA0000000000000000000001", Email: "ada@example.com", Questions: []survey.Question{survey.NPS, survey.CES},
		Reason: survey.Manual, Status: survey.StatusSent, SentAt: &sent, ExpiresAt: &expires, Version: 2}
}

func TestSurveyFormReadsBothEncodings(t *testing.T) {
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	for k, v := range map[string]string{"nps": "9", "ces": "", "comment": "Quick and kind", "send": ""} {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	for name, c := range map[string]struct {
		mediaType string
		params    map[string]string
		body      string
	}{
		"urlencoded": {"application/x-www-form-urlencoded", nil, "nps=9&ces=&comment=Quick+and+kind&send="},
		"multipart":  {"multipart/form-data", map[string]string{"boundary": w.Boundary()}, mp.String()},
	} {
		t.Run(name, func(t *testing.T) {
			in, err := surveyForm.parse(c.mediaType, c.params, []byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			a, err := survey.CheckAnswer(fuzzInvitation(), in.values(), surveyNow)
			if err != nil {
				t.Fatal(err)
			}
			if s, ok := a.Score(survey.NPS); !ok || s != 9 || len(a.Ratings) != 1 || a.Comment != "Quick and kind" {
				t.Errorf("answer = %+v", a)
			}
		})
	}
	// A radio group with nothing chosen sends no field: the first
	// question's is required, the others' may be left out.
	in, _ := surveyForm.parse("application/x-www-form-urlencoded", nil, []byte("ces=4"))
	_, err := survey.CheckAnswer(fuzzInvitation(), in.values(), surveyNow)
	if e, ok := err.(*crm.Error); !ok || e.Code != crm.EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != "nps" {
		t.Errorf("no NPS: %v", err)
	}
}

// FuzzParseSurveyForm feeds arbitrary bodies to the survey page's form
// parser and the answer check behind it: they must never panic or fail
// internally, and an answer they accept gives the first question a score
// on its scale, only the questions asked, each on its scale, and a
// comment of plain, valid text within its limit.
func FuzzParseSurveyForm(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "nps=9&comment=Great")
	f.Add("application/x-www-form-urlencoded", "nps=10&ces=7&comment=%3Cscript%3Ealert(1)%3C%2Fscript%3Eok")
	f.Add("application/x-www-form-urlencoded", "nps=09&ces=0&csat=5")
	f.Add("application/x-www-form-urlencoded", "nps=%2B9&nps=3&comment=%E2%82&comment=%zz")
	f.Add("application/x-www-form-urlencoded", "nps=+9&ces=&send=")
	f.Add("application/x-www-form-urlencoded", "nps=0&comment="+strings.Repeat("x", survey.MaxComment+1))
	f.Add("application/json", `{"nps":9,"ces":"3","comment":null}`)
	f.Add("multipart/form-data", "--B\r\nContent-Disposition: form-data; name=\"nps\"\r\n\r\n7\r\n--B--\r\n")
	f.Add("multipart/form-data", "--B\r\nContent-Disposition: form-data; name=\"comment\"; filename=\"x\"\r\n\r\nhi\r\n--B--")
	f.Fuzz(func(t *testing.T, mediaType, body string) {
		in, err := surveyForm.parse(mediaType, map[string]string{"boundary": "B"}, []byte(body))
		if err != nil {
			if crm.ErrorCode(err) == crm.EINTERNAL {
				t.Fatalf("parser failed internally: %v", err)
			}
			return
		}
		inv := fuzzInvitation()
		a, err := survey.CheckAnswer(inv, in.values(), surveyNow)
		if err != nil {
			if crm.ErrorCode(err) != crm.EINVALID {
				t.Fatalf("check failed with %v", err)
			}
			return
		}
		if s, ok := a.Score(survey.NPS); !ok || !survey.NPS.Allows(s) {
			t.Fatalf("accepted an answer without an NPS on its scale: %+v", a)
		}
		for _, r := range a.Ratings {
			if !inv.Asks(r.Question) || !r.Question.Allows(r.Score) {
				t.Fatalf("accepted %s %d", r.Question, r.Score)
			}
		}
		if strings.ContainsAny(a.Comment, "<>") || !utf8.ValidString(a.Comment) || utf8.RuneCountInString(a.Comment) > survey.MaxComment {
			t.Fatalf("accepted the comment %q", a.Comment)
		}
	})
}
