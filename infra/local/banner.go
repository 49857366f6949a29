package local

import (
	"fmt"
	"io"
)

// printBanner tells a newcomer where everything is.
func printBanner(w io.Writer, st *Stack) {
	db := display(st.DynamoDBData) + " (" + st.DynamoDBServer + " at " + st.DynamoDBEndpoint + ")"
	if st.DynamoDBPID == 0 {
		db = st.DynamoDBEndpoint + " (AWS_ENDPOINT_URL_DYNAMODB)"
	}
	fmt.Fprintf(w, `
  Rapport is running at %[1]s

  Look first     %[1]s%[6]s   (the scorecard page, as a manager; ?period=month)
                 %[4]s/   (the mail the stack sent: acknowledgements, reminders, surveys, digests)
                 make -s token ROLE=manager   (a bearer token for the API: /leads, /tickets, /scorecard, …)
  Contact form   %[1]s/          (a plain HTML form posting to POST /leads)
  Support form   %[1]s/support   (posts to POST /tickets; the reply mail links to the customer page)
  Staff token    make -s token ROLE=agent     (or manager, admin)
  Try it         curl -H "Authorization: Bearer $(make -s token ROLE=agent)" %[1]s/leads
  Data           %[2]s, table %[3]s
  Mail outbox    %[4]s/
  Clock          %[5]s
  Stop           Ctrl-C

`, st.URL, db, st.Table, display(st.Outbox), clockLine(st), ScorecardPagePath)
}

// clockLine says whether the clock is real or frozen, and how to move it.
func clockLine(st *Stack) string {
	if st.seeding.Load() {
		return "moving from " + stamp(st.Now()) + " to now while the demo data is seeded (a few minutes; the lines below tell\n" +
			"                 how far it is): open the scorecard page and watch the history fill in. A token from make token\n" +
			"                 runs out within " + fmt.Sprintf("%.0f hours", DefaultTokenTTL.Hours()) + " of the demo's time, so mint one once it says Ready"
	}
	if !st.Frozen() {
		return "real time (" + ClockVar + "=2026-03-02T08:00:00Z make dev starts it frozen, to move by hand)"
	}
	return "frozen at " + stamp(st.Now()) + "; move it with make -s clock ADVANCE=90m (or SET=…)"
}
