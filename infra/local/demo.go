package local

import (
	"fmt"
	"net/http"

	"github.com/rapportcrm/rapport/infra/manifest"
)

// demoHead is the head and style the demo pages share.
const demoHead = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s — Rapport demo</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; background: #f4f6f8; color: #1d2733; margin: 0; }
  main { max-width: 30rem; margin: 3rem auto; background: #fff; padding: 2rem 2.25rem; border-radius: 12px; box-shadow: 0 2px 12px rgba(0,0,0,.08); }
  h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
  p.lead { margin: 0 0 1.5rem; color: #5b6877; }
  label { display: block; margin: .9rem 0 .3rem; font-weight: 600; font-size: .95rem; }
  input, textarea, select { width: 100%%; box-sizing: border-box; padding: .6rem .7rem; border: 1px solid #c8d0d9; border-radius: 8px; font: inherit; }
  textarea { min-height: 6rem; resize: vertical; }
  .consent { display: flex; gap: .6rem; align-items: flex-start; margin-top: 1.1rem; font-weight: normal; }
  .consent input { width: auto; margin-top: .3rem; }
  .hp { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
  button { margin-top: 1.5rem; width: 100%%; padding: .75rem; border: 0; border-radius: 8px; background: #2563eb; color: #fff; font: inherit; font-weight: 600; cursor: pointer; }
  button:hover { background: #1d4ed8; }
  small { display: block; margin-top: 1.25rem; color: #7a8694; text-align: center; }
</style>
</head>
<body>
<main>
`

// demoHoneypot is the "website" field: hidden from people, filled by bots.
const demoHoneypot = `    <div class="hp" aria-hidden="true">
      <label for="website">Leave this field empty</label>
      <input id="website" name="website" tabindex="-1" autocomplete="off">
    </div>
`

// demoForm is a company's "Contact us" page as a newcomer would write it:
// plain HTML, no JavaScript, posting a urlencoded form to POST /leads.
var demoForm = fmt.Sprintf(demoHead, "Contact us") + `  <h1>Contact us</h1>
  <p class="lead">Tell us what you need and we will get back to you within one business day.</p>
  <form method="post" action="/leads" accept-charset="utf-8">
    <input type="hidden" name="source" value="demo-form">
    <label for="name">Name</label>
    <input id="name" name="name" autocomplete="name" required>
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="email">
    <label for="phone">Phone</label>
    <input id="phone" name="phone" type="tel" autocomplete="tel">
    <label for="company">Company</label>
    <input id="company" name="company" autocomplete="organization">
    <label for="message">Message</label>
    <textarea id="message" name="message"></textarea>
` + demoHoneypot + `    <label class="consent"><input type="checkbox" name="consent" value="true"> You may contact me about my enquiry.</label>
    <button type="submit">Send</button>
  </form>
  <small>Rapport local demo — this page posts to POST /leads like any company's web form.</small>
</main>
</body>
</html>
`

// demoSupportForm is a company's "Contact support" page: plain HTML
// posting to POST /tickets, where requests and complaints become tickets.
var demoSupportForm = fmt.Sprintf(demoHead, "Contact support") + `  <h1>Contact support</h1>
  <p class="lead">Ask a question, report a problem or make a complaint: we answer by email.</p>
  <form method="post" action="/tickets" accept-charset="utf-8">
    <label for="name">Name</label>
    <input id="name" name="name" autocomplete="name">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="email" required>
    <label for="kind">What is it about?</label>
    <select id="kind" name="kind">
      <option value="request">A request</option>
      <option value="question">A question</option>
      <option value="complaint">A complaint</option>
      <option value="incident">Something is broken</option>
    </select>
    <label for="reference">Order or reference number (if any)</label>
    <input id="reference" name="reference">
    <label for="subject">Subject</label>
    <input id="subject" name="subject">
    <label for="message">Message</label>
    <textarea id="message" name="message" required></textarea>
` + demoHoneypot + `    <button type="submit">Send</button>
  </form>
  <small>Rapport local demo — this page posts to POST /tickets like any company's support form.</small>
</main>
</body>
</html>
`

// serveDemoForm serves the demo contact page; it exists only locally.
func serveDemoForm(w http.ResponseWriter, _ *http.Request) { serveDemoPage(w, demoForm) }

// serveDemoSupportForm serves the demo support page; it exists only
// locally.
func serveDemoSupportForm(w http.ResponseWriter, _ *http.Request) { serveDemoPage(w, demoSupportForm) }

func serveDemoPage(w http.ResponseWriter, page string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, _ = w.Write([]byte(page))
}

// ScorecardPagePath shows the scorecard page to a browser on this machine,
// which cannot send the bearer token GET /scorecard needs: it passes the
// request on to the gateway — authorizer and all — with a manager's token
// of the stack's own and Accept: text/html, keeping the query (period, at,
// team). Local only, like `make -s token ROLE=manager`, which gives anyone
// on this machine the same.
const ScorecardPagePath = "/_local/scorecard"

func (s *Stack) serveScorecardPage(gw http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, err := s.Token(manifest.Manager)
		if err != nil {
			http.Error(w, "cannot mint a manager token", http.StatusInternalServerError)
			return
		}
		fwd := r.Clone(r.Context())
		fwd.URL.Path, fwd.URL.RawPath, fwd.RequestURI = "/scorecard", "", ""
		fwd.Header.Set("Authorization", "Bearer "+tok)
		fwd.Header.Set("Accept", "text/html")
		gw.ServeHTTP(w, fwd)
	}
}
