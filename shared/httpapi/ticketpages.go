package httpapi

import (
	"html/template"
	"time"

	"github.com/rapportcrm/rapport/shared/ticket"
)

// The customer's ticket pages: readable on a phone, usable with the
// keyboard and a screen reader, and complete without JavaScript. Only
// what the requester may read is given to the templates.

// customer-open begins every customer page: its language, its width on a
// phone, and that it is neither indexed nor a referrer; customer-head
// closes the head with the pages' common style.
var _ = template.Must(pages.New("customer-open").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow"><meta name="referrer" content="no-referrer">
<title>{{.}}</title>`))

var _ = template.Must(pages.New("customer-css").Parse(`
body{font:1.05rem/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2733;background:#f4f6f8}
main{max-width:40rem;margin:0 auto;padding:1.5rem 1rem 3rem}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 .75rem;overflow-wrap:anywhere}
h2{font-size:1.15rem;margin:2rem 0 .5rem}
h3{font-size:1rem;margin:0}
.meta{margin:.25rem 0;color:#3d4955}
.status{font-weight:700}
.notice{background:#e6f4ea;border:1px solid #1e7b3c;color:#14532d;padding:.75rem 1rem;border-radius:8px}
.thread{list-style:none;margin:0;padding:0}
.entry{background:#fff;border:1px solid #c8d0d9;border-radius:10px;padding:.8rem 1rem;margin:.75rem 0}
.entry.staff{border-left:5px solid #1d4ed8}
.entry time{color:#3d4955;font-size:.95rem}
.body{white-space:pre-wrap;overflow-wrap:anywhere;margin:.4rem 0 0}
label{display:block;font-weight:700;margin:1rem 0 .3rem}
.hint{margin:0 0 .4rem;color:#3d4955;font-size:.95rem}
.error{margin:0 0 .4rem;color:#b42318;font-weight:700}
textarea{display:block;width:100%;box-sizing:border-box;min-height:9rem;padding:.6rem .7rem;border:1px solid #5b6877;border-radius:8px;font:inherit;background:#fff;color:inherit}
textarea[aria-invalid=true]{border:2px solid #b42318}
button{margin-top:.9rem;padding:.75rem 1.5rem;border:0;border-radius:8px;background:#1d4ed8;color:#fff;font:inherit;font-weight:700;cursor:pointer}
button:hover{background:#1e40af}
a{color:#1d4ed8}
:focus-visible{outline:3px solid #b45309;outline-offset:2px}
.small{font-size:.95rem;color:#3d4955;margin-top:2rem}
`))

var _ = template.Must(pages.New("customer-head").Parse(`{{template "customer-open" .}}<style>{{template "customer-css"}}</style></head>`))

var _ = template.Must(pages.New("ticket").Parse(`{{template "customer-head" (print .Subject " — your request")}}
<body><main>
{{if .Notice}}<p class="notice" role="status">{{.Notice}}</p>{{end}}
<h1>{{.Subject}}</h1>
<p class="meta">Request number <strong>{{.Number}}</strong>{{if .Reference}} · Your reference <strong>{{.Reference}}</strong>{{end}}</p>
<p class="meta">Status: <span class="status">{{.Status}}</span>. {{.StatusHelp}}</p>
<h2 id="conversation">Conversation</h2>
<ol class="thread" aria-labelledby="conversation">
{{range .Thread}}<li class="entry{{if .Staff}} staff{{end}}"><h3>{{.Who}}</h3>
<time datetime="{{.ISO}}">{{.When}}</time>
<p class="body">{{.Body}}</p></li>
{{end}}</ol>
<h2>{{.Heading}}</h2>
<form method="post" accept-charset="utf-8">
<label for="message">Your message</label>
<p class="hint" id="message-hint">{{.Hint}} At most 5,000 characters.</p>
{{if .Problem}}<p class="error" id="message-error">{{.Problem}}</p>{{end}}
<textarea id="message" name="message" rows="8" maxlength="{{.MaxMessage}}" required
 aria-describedby="{{if .Problem}}message-error {{end}}message-hint"{{if .Problem}} aria-invalid="true" autofocus{{end}}>{{.Message}}</textarea>
<button type="submit">Send</button>
</form>
<p class="small">Keep this link to yourself: anyone who has it can read and answer this request.</p>
</main></body></html>
`))

var _ = template.Must(pages.New("ticket-gone").Parse(`{{template "customer-head" "This link does not work"}}
<body><main><h1>This link does not work</h1>
<p>The link may be incomplete. Copy the whole link from our latest email and try again.</p>
<p>If it still does not work, reply to that email and we will help.</p>
</main></body></html>
`))

var _ = template.Must(pages.New("ticket-expired").Parse(`{{template "customer-head" "This link has expired"}}
<body><main><h1>This link has expired</h1>
<p>For your security, the links in our emails work for a limited time.</p>
<p>Reply to our latest email, or contact us again, and we will send you a new link.</p>
</main></body></html>
`))

// ticketPageData is what the ticket page shows.
type ticketPageData struct {
	Subject, Number, Reference string
	Status, StatusHelp         string
	Thread                     []pageEntry
	Notice                     string
	Heading, Hint              string
	Message, Problem           string
	MaxMessage                 int
}

// pageEntry is one message of the public thread.
type pageEntry struct {
	Who, When, ISO, Body string
	Staff                bool
}

// statusWords says where a ticket stands, and what happens next, to its
// requester.
var statusWords = map[ticket.Status][2]string{
	ticket.StatusNew:     {"Received", "We have your request and will answer soon."},
	ticket.StatusOpen:    {"In progress", "We are working on it."},
	ticket.StatusPending: {"Waiting for your answer", "We need something from you: please answer below."},
	ticket.StatusOnHold:  {"On hold", "We are waiting on someone else and will write when we hear back."},
	ticket.StatusSolved:  {"Solved", "We think this is solved. If it is not, answer below and we will pick it up again."},
	ticket.StatusClosed:  {"Closed", "This request is closed. If you write to us below, we will open a new request for you."},
}

// pageData builds the page of t from its public thread: the requester's
// own messages as "You", staff replies as "Support team", never who on the
// staff wrote them.
func (h *Tickets) pageData(t ticket.Ticket, thread []ticket.Entry, st answerState) ticketPageData {
	words := statusWords[t.Status]
	d := ticketPageData{
		Subject: t.Subject, Number: t.ID, Reference: t.Reference, Status: words[0], StatusHelp: words[1],
		Heading: "Answer", Hint: "We will email you when we reply.",
		Message: st.message, Problem: st.problem, MaxMessage: ticket.MaxMessage,
	}
	if t.Status == ticket.StatusClosed {
		d.Heading = "Write to us again"
	}
	if st.answered {
		d.Notice = "Thank you: we have your message."
		if t.FollowsID != "" && len(thread) <= 1 {
			d.Notice = "Your earlier request was closed, so we have opened this new request with your message."
		}
	}
	zone := h.TimeZone
	if zone == nil {
		zone = time.UTC
	}
	for _, e := range thread {
		p := pageEntry{Who: "You", Body: e.Body, ISO: e.At.UTC().Format(time.RFC3339), When: e.At.In(zone).Format("2 January 2006, 15:04 MST")}
		if e.Kind == ticket.EntryReply {
			p.Who, p.Staff = "Support team", true
		}
		d.Thread = append(d.Thread, p)
	}
	return d
}
