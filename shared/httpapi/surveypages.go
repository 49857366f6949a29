package httpapi

import (
	"html/template"
	"strconv"
	"strings"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/survey"
)

// The survey pages: readable on a phone, usable with the keyboard and a
// screen reader, and complete without JavaScript. Each question is a
// group of radio buttons under its legend, each choice a labelled touch
// target at least 44 pixels high; only the invitation's questions are
// given to the templates, never its person or its reason.

var _ = template.Must(pages.New("survey-css").Parse(`
fieldset{border:0;margin:1.75rem 0 0;padding:0;min-width:0}
legend{font-weight:700;font-size:1.1rem;line-height:1.35;padding:0;margin:0 0 .5rem}
.choices{display:flex;flex-wrap:wrap;gap:.5rem}
.list .choices{flex-direction:column}
label.choice{display:flex;align-items:center;gap:.65rem;box-sizing:border-box;min-height:2.75rem;margin:0;padding:.45rem .8rem;border:1px solid #5b6877;border-radius:8px;background:#fff;font-weight:400;cursor:pointer}
.grid .choices{display:grid;grid-template-columns:repeat(11,minmax(0,1fr));gap:.4rem}
@media (max-width:37rem){.grid .choices{grid-template-columns:repeat(6,minmax(0,1fr))}}
.grid label.choice{flex-direction:column;justify-content:center;gap:.2rem;min-height:3.5rem;padding:.4rem .1rem}
label.choice input{width:1.25rem;height:1.25rem;margin:0;flex:none;accent-color:#1d4ed8}
label.choice:has(input:checked){border:2px solid #1d4ed8;background:#eef2ff}
.invalid label.choice{border-color:#b42318}
.ends{display:flex;justify-content:space-between;gap:1rem;margin:.4rem 0 0;color:#3d4955;font-size:.95rem}
.sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.summary{border:2px solid #b42318;border-radius:8px;background:#fff;padding:.75rem 1rem;margin:1rem 0}
.summary h2{margin:0 0 .4rem;font-size:1.1rem}
.summary ul{margin:0;padding-left:1.2rem}
`))

var _ = template.Must(pages.New("survey-head").Parse(`{{template "customer-open" .}}<style>{{template "customer-css"}}{{template "survey-css"}}</style></head>`))

var _ = template.Must(pages.New("survey").Parse(`{{template "survey-head" "Your opinion"}}
<body><main>
<h1>{{.Heading}}</h1>
<p class="meta">{{.Intro}}</p>
{{if .Problems}}<div class="summary" role="alert" aria-labelledby="problems"><h2 id="problems">Please check your answer</h2><ul>
{{range .Problems}}<li><a href="#{{.Anchor}}">{{.Text}}</a></li>
{{end}}</ul></div>{{end}}
<form method="post" action="{{.Action}}" accept-charset="utf-8">
{{range .Questions}}<fieldset class="{{if .Grid}}grid{{else}}list{{end}}{{if .Problem}} invalid{{end}}" aria-describedby="{{if .Problem}}{{.ID}}-error {{end}}{{.ID}}-hint">
<legend>{{.Legend}}{{if not .Required}} <span class="hint">(optional)</span>{{end}}</legend>
<p class="hint" id="{{.ID}}-hint">{{.Hint}}</p>
{{if .Problem}}<p class="error" id="{{.ID}}-error">{{.Problem}}</p>{{end}}
<div class="choices">
{{range .Choices}}<label class="choice" for="{{.ID}}"><input type="radio" id="{{.ID}}" name="{{.Name}}" value="{{.Value}}"{{if .Checked}} checked{{end}}{{if .Required}} required{{end}}>{{if .Words}}{{if .Grid}}<span aria-hidden="true">{{.Number}}</span><span class="sr">{{.Words}}</span>{{else}}<span>{{.Words}}</span>{{end}}{{else}}<span>{{.Number}}</span>{{end}}</label>
{{end}}</div>
{{if .Grid}}<p class="ends" aria-hidden="true"><span>{{.Low}}</span><span>{{.High}}</span></p>{{end}}
</fieldset>
{{end}}
<label for="comment">{{.CommentPrompt}}</label>
<p class="hint" id="comment-hint">At most 2,000 characters.</p>
{{if .CommentProblem}}<p class="error" id="comment-error">{{.CommentProblem}}</p>{{end}}
<textarea id="comment" name="comment" rows="5" maxlength="{{.MaxComment}}"
 aria-describedby="{{if .CommentProblem}}comment-error {{end}}comment-hint"{{if .CommentProblem}} aria-invalid="true"{{end}}>{{.Comment}}</textarea>
<button type="submit">Send my answer</button>
</form>
<p class="small">Your answer is sent only when you press the button. <a href="{{.Unsubscribe}}">Unsubscribe from our surveys</a></p>
</main></body></html>
`))

var _ = template.Must(pages.New("survey-thanks").Parse(`{{template "survey-head" "Thank you"}}
<body><main>
<h1>Thank you, we have your answer</h1>
{{if .Again}}<p role="status">This survey takes one answer, and we already have yours: there is nothing more to do.</p>
{{else}}<p role="status">It helps us do better. You can close this page.</p>{{end}}
<p class="small"><a href="{{.Unsubscribe}}">Unsubscribe from our surveys</a></p>
</main></body></html>
`))

var _ = template.Must(pages.New("survey-gone").Parse(`{{template "survey-head" "This link does not work"}}
<body><main><h1>This link does not work</h1>
<p>The link may be incomplete. Copy the whole link from our email and try again.</p>
<p>If it still does not work, reply to that email and we will help.</p>
</main></body></html>
`))

var _ = template.Must(pages.New("survey-closed").Parse(`{{template "survey-head" "This survey has closed"}}
<body><main><h1>This survey has closed</h1>
<p>Thank you for wanting to answer. The links in our surveys work for a limited time, and this one has run out.</p>
<p>There is nothing you need to do.</p>
</main></body></html>
`))

var _ = template.Must(pages.New("survey-unsubscribe").Parse(`{{template "survey-head" "Unsubscribe from surveys"}}
<body><main><h1>Stop our survey emails?</h1>
<p>If you unsubscribe, we will send no more surveys to the address our email came to.</p>
<form method="post" action="{{.Unsubscribe}}" accept-charset="utf-8">
<button type="submit">Unsubscribe</button>
</form>
<p class="small">Changed your mind? Just close this page: nothing changes until you press the button.</p>
</main></body></html>
`))

var _ = template.Must(pages.New("survey-unsubscribed").Parse(`{{template "survey-head" "You are unsubscribed"}}
<body><main><h1>You will get no more surveys</h1>
<p role="status">We will not send surveys to your address again. Thank you for telling us.</p>
</main></body></html>
`))

// surveyThanks is what the thank-you and unsubscribe pages need: the
// links of the token they were reached by, and whether the person had
// answered before.
type surveyThanks struct {
	Token string
	Again bool
}

// Unsubscribe is the path of the unsubscribe page.
func (t surveyThanks) Unsubscribe() string { return surveyPagePath + t.Token + "/unsubscribe" }

// surveyPageData is what the survey page shows.
type surveyPageData struct {
	Heading, Intro string
	Action         string
	Unsubscribe    string
	Problems       []surveyProblem
	Questions      []surveyQuestion
	CommentPrompt  string
	Comment        string
	CommentProblem string
	MaxComment     int
}

// surveyProblem is one line of the summary of errors, linking to its
// field.
type surveyProblem struct{ Anchor, Text string }

// surveyQuestion is one question's group of choices.
type surveyQuestion struct {
	ID, Legend, Hint string
	Low, High        string
	Required         bool
	// Grid lays out a numeric scale (NPS, 0–10) in rows of numbers, with
	// its ends' words beneath; the others are a list of worded choices.
	Grid    bool
	Problem string
	Choices []surveyChoice
}

// surveyChoice is one radio button.
type surveyChoice struct {
	ID, Name, Value string
	// Number is the score; Words what it means (the choice's label for a
	// screen reader on the grid, and on the list for everyone), "" when
	// the number says it all.
	Number, Words     string
	Checked, Required bool
	Grid              bool
}

// pageData builds the page of inv: chosen holds what the person chose
// (from ?score or the form they sent), e the errors of what they sent.
func (h *Surveys) pageData(inv survey.Invitation, tok string, chosen surveyAnswerInput, e *crm.Error) surveyPageData {
	d := surveyPageData{
		Heading: "A quick question", Intro: "It takes a few seconds. Choose your answer, then press the button to send it.",
		Action: surveyPagePath + tok, Unsubscribe: surveyThanks{Token: tok}.Unsubscribe(),
		CommentPrompt: survey.CommentPrompt, Comment: chosen.Comment, MaxComment: survey.MaxComment,
	}
	if len(inv.Questions) > 1 {
		d.Heading, d.Intro = "A few quick questions", "They take a few seconds. Choose your answers, then press the button to send them."
	}
	problems := map[string]string{}
	if e != nil {
		for _, f := range e.Fields {
			problems[f.Field] = f.Reason
		}
	}
	for i, q := range inv.Questions {
		sq := h.choices(inv, q, i == 0, chosen.get(q))
		if reason, ok := problems[string(q)]; ok {
			sq.Problem = scoreProblem(reason)
			d.Problems = append(d.Problems, surveyProblem{Anchor: sq.Choices[0].ID, Text: sq.Legend + " " + sq.Problem})
			delete(problems, string(q))
		}
		d.Questions = append(d.Questions, sq)
	}
	if reason, ok := problems[survey.CommentField]; ok {
		d.CommentProblem = commentProblem(reason)
		d.Problems = append(d.Problems, surveyProblem{Anchor: "comment", Text: d.CommentProblem})
		delete(problems, survey.CommentField)
	}
	if len(problems) > 0 && len(d.Questions) > 0 {
		// A field the page does not show: a question not asked.
		d.Problems = append(d.Problems, surveyProblem{Anchor: d.Questions[0].Choices[0].ID,
			Text: "We could not read your answer: please choose again and send it."})
	}
	return d
}

// choices builds the choices of question q, the first asked when
// required, with chosen (a score as the form sends it) checked.
func (h *Surveys) choices(inv survey.Invitation, q survey.Question, required bool, chosen string) surveyQuestion {
	w := q.Wording(h.OrgName, inv.Reason)
	lo, hi := q.Scale()
	sq := surveyQuestion{ID: string(q), Legend: w.Question, Low: w.Low, High: w.High, Required: required, Grid: q == survey.NPS,
		Hint: "Choose from " + strconv.Itoa(lo) + " (" + strings.ToLower(w.Low) + ") to " + strconv.Itoa(hi) + " (" + strings.ToLower(w.High) + ")."}
	for i, s := range q.Scores() {
		n := strconv.Itoa(s)
		c := surveyChoice{ID: string(q) + "-" + n, Name: string(q), Value: n, Number: n,
			Checked: n == chosen, Required: required, Grid: sq.Grid}
		if i < len(w.Labels) && w.Labels[i] != n {
			c.Words = w.Labels[i]
			if !sq.Grid {
				c.Words = n + " – " + w.Labels[i]
			}
		}
		sq.Choices = append(sq.Choices, c)
	}
	return sq
}

// scoreProblem says in words what is wrong with a question's answer.
func scoreProblem(reason string) string {
	if strings.Contains(reason, "required") {
		return "Please choose an answer."
	}
	return "Please choose one of the answers shown."
}

// commentProblem says in words what is wrong with the comment.
func commentProblem(reason string) string {
	if strings.Contains(reason, "longer") {
		return "Your comment is too long: please shorten it to 2,000 characters or fewer."
	}
	return "We could not read your comment: please type it again."
}

// get returns the score given for q, as the form sent it.
func (a surveyAnswerInput) get(q survey.Question) string {
	switch q {
	case survey.NPS:
		return a.NPS
	case survey.CSAT:
		return a.CSAT
	case survey.CES:
		return a.CES
	}
	return ""
}

// set gives s as the score for q.
func (a *surveyAnswerInput) set(q survey.Question, s string) {
	switch q {
	case survey.NPS:
		a.NPS = s
	case survey.CSAT:
		a.CSAT = s
	case survey.CES:
		a.CES = s
	}
}
