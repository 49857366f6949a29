// Command hello is the smallest Go Lambda: it answers every invocation
// with nothing. The cold-start benchmark builds it with the same flags as
// Rapport's functions and measures its start as the floor theirs are
// compared against.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context) error { return nil })
}
