package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/local/dynamodbserver"
)

// reset deletes the local stack's data — the DynamoDB data of either
// server and the mail outbox — so that the next start finds an empty
// table and seeds the demo again (`make demo`). The signing key, the link
// keyring and the built binary stay. It refuses while a stack answers at
// -url: it stops nothing it did not start.
func reset(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rapport-local reset", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", local.DefaultDir(), "the local stack's data directory")
	url := fs.String("url", defaultURL(), "where a running stack would answer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if _, ok := stackNow(*url); ok {
		fmt.Fprintf(stderr, "rapport-local reset: a local stack is running at %s: stop it (Ctrl-C in its terminal) and run make demo again\n", *url)
		return 1
	}
	paths := []string{
		dynamodbserver.DataPath(dynamodbserver.Dynoxide, *dir),
		dynamodbserver.DataPath(dynamodbserver.DynamoDBLocal, *dir),
		dynamodbserver.DataPath(dynamodbserver.Dynoxide, *dir) + "-wal",
		dynamodbserver.DataPath(dynamodbserver.Dynoxide, *dir) + "-shm",
		filepath.Join(*dir, "outbox"),
		filepath.Join(*dir, local.StreamsDirName), // how far the old table's stream was read
	}
	for _, p := range paths {
		if err := os.RemoveAll(p); err != nil {
			fmt.Fprintf(stderr, "rapport-local reset: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "rapport-local: reset the local data in %s (DynamoDB data and outbox)\n", *dir)
	return 0
}
