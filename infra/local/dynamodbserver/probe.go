package dynamodbserver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// probeClient is used only for readiness probes, each bounded by a second.
var probeClient = &http.Client{Timeout: time.Second}

// listTables sends DynamoDB Local a ListTables request and reports whether
// it answered 200. DynamoDB Local wants an Authorization header naming an
// access key but does not check the signature, so a fixed one does; this
// keeps the probe free of the AWS SDK.
func listTables(ctx context.Context, endpoint string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", strings.NewReader("{}"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ListTables answered %s", resp.Status)
	}
	return nil
}
