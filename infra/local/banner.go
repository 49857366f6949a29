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

  Contact form   %[1]s/          (a plain HTML form posting to POST /leads)
  Staff token    make -s token ROLE=agent     (or manager, admin)
  Try it         curl -H "Authorization: Bearer $(make -s token ROLE=agent)" %[1]s/leads
  Data           %[2]s, table %[3]s
  Mail outbox    %[4]s/
  Stop           Ctrl-C

`, st.URL, db, st.Table, display(st.Outbox))
}
