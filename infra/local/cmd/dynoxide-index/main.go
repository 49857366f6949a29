// Command dynoxide-index gives a running dynoxide's database file the
// indexes that keep its writes from slowing down as history grows
// (dynamodbserver.IndexStreamRecords). infra/scripts/with-dynamodb.sh runs
// it for the tests; the local stack does the same itself.
//
//	dynoxide-index FILE
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/rapportcrm/rapport/infra/local/dynamodbserver"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dynoxide-index FILE")
		os.Exit(2)
	}
	if err := dynamodbserver.IndexStreamRecords(context.Background(), os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "dynoxide-index: %v\n", err)
		os.Exit(1)
	}
}
