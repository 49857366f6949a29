package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/infra/local/dynamodbserver"
)

// dynamoDBServer is the DynamoDB server the stack started for itself.
type dynamoDBServer struct {
	*dynamodbserver.Server
	data string // where it keeps the data
	log  string // where its own output goes
	stop []func(context.Context) error
}

// startDynamoDB starts the server RAPPORT_DYNAMODB names (dynoxide by
// default, or ddblocal for DynamoDB Local) with its data under o.Dir and
// its output in a log file beside the data.
func startDynamoDB(ctx context.Context, o Options) (*dynamoDBServer, error) {
	kind, err := dynamodbserver.ParseKind(o.Getenv("RAPPORT_DYNAMODB"))
	if err != nil {
		return nil, err
	}
	s := &dynamoDBServer{data: dynamodbserver.DataPath(kind, o.Dir), log: filepath.Join(o.Dir, string(kind)+".log")}
	if other := dynamodbserver.DataPath(otherKind(kind), o.Dir); !exists(s.data) && exists(other) {
		o.Log.Warn("this data directory has data from the other DynamoDB server, which this start does not see",
			"data", display(other), "use it with", "RAPPORT_DYNAMODB="+string(otherKind(kind)))
	}
	logFile, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s's log: %w", kind, err)
	}
	opts := dynamodbserver.Options{Kind: kind, DBPath: s.data, Output: logFile}
	if kind == dynamodbserver.Dynoxide {
		opts.Binary = o.Dynoxide
	}
	s.Server, err = dynamodbserver.Start(ctx, opts)
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("%w (its log: %s)", err, display(s.log))
	}
	s.stop = []func(context.Context) error{func(context.Context) error { return logFile.Close() }, s.Stop}
	if s.StreamIndexErr != nil {
		o.Log.Warn("writes will slow down as data grows", "server", kind, "err", s.StreamIndexErr)
	}
	return s, nil
}

func otherKind(k dynamodbserver.Kind) dynamodbserver.Kind {
	if k == dynamodbserver.Dynoxide {
		return dynamodbserver.DynamoDBLocal
	}
	return dynamodbserver.Dynoxide
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// tableEmpty reports whether table holds no item. It reads one item at
// most, once, at start: no request path scans.
func tableEmpty(ctx context.Context, db *dynamodb.Client, table string) (bool, error) {
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), Limit: aws.Int32(1)})
	if err != nil {
		return false, fmt.Errorf("look into table %s: %w", table, err)
	}
	return len(out.Items) == 0, nil
}
