// Package app assembles each function's handler from its configuration and
// clients. A Lambda's main and the local stack both call it, so they run the
// very same handler code; only the clients differ (DynamoDB endpoint, the
// event bus).
package app

import (
	"context"
	"log/slog"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/email"
	"github.com/rapportcrm/rapport/shared/links"
	"github.com/rapportcrm/rapport/shared/relay"
)

// HTTPHandler handles an API Gateway HTTP API request, payload format 2.0.
type HTTPHandler = func(context.Context, lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error)

// StreamHandler handles a batch of DynamoDB stream records and names the
// records that failed.
type StreamHandler = func(context.Context, lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error)

// EventHandler handles one EventBridge event: a rule's match or a schedule.
type EventHandler = func(context.Context, lambdaevents.EventBridgeEvent) error

// Deps are the clients and settings every handler is built from.
type Deps struct {
	Config    config.Config
	DynamoDB  dynamo.API
	Publisher relay.Publisher // the relay's bus; nil for functions that do not publish
	Now       func() time.Time
	Log       *slog.Logger

	// Mail sends email from Config.MailFrom; nil for functions that do not
	// mail. A mailing Lambda's main sets it to
	// sesmail.New(sesv2.NewFromConfig(awsCfg), d.Config.MailFrom), so that
	// only the functions that mail carry the SES client; the local stack
	// sets its outbox.
	Mail email.Sender

	// Links signs and verifies the customers' signed links (/t/{token},
	// /s/{token}); nil for functions that have none. A Lambda's main reads
	// it from the secret Config.LinksSecretARN names; the local stack
	// generates one on the machine.
	Links *links.Keyring
}
