package gateway

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"

	lambdaevents "github.com/aws/aws-lambda-go/events"
)

// writeResponse writes a handler's payload 2.0 response: status, headers,
// multi-value headers, cookies as Set-Cookie, and the body, decoded when
// base64-encoded. Nothing is written when the response is malformed.
func writeResponse(w http.ResponseWriter, resp lambdaevents.APIGatewayV2HTTPResponse) error {
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("status code %d", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return fmt.Errorf("body marked base64 is not: %w", err)
		}
	}
	h := w.Header()
	for name, value := range resp.Headers {
		h.Set(name, value)
	}
	for name, values := range resp.MultiValueHeaders {
		for _, v := range values {
			h.Add(name, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" {
		// Send what the handler said and nothing more: no content sniffing.
		h["Content-Type"] = nil
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return nil
}

// writeMessage writes API Gateway's own error form, {"message":"…"}, as it
// does for 401, 500 and 503.
func writeMessage(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}

// writeProblem writes an RFC 9457 problem for the gateway's own refusals:
// no route, wrong method, body too large.
func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type":   "about:blank",
		"title":  title,
		"status": status,
		"detail": detail,
	})
}
