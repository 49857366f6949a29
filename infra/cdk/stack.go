package main

import (
	"fmt"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
)

// DefaultBusName is the EventBridge bus the relay publishes to.
const DefaultBusName = "rapport"

// RapportStackProps configures the stack. Only StackProps is needed for a
// real deployment; the rest exists so that tests can synthesize without a
// build and with sample rules and schedules.
type RapportStackProps struct {
	awscdk.StackProps
	// Manifest is what to deploy. Nil means the real one, DefaultManifest().
	Manifest *Manifest
	// AssetDir holds NAME/bootstrap for every function (what `make build`
	// writes). Empty means dist at the repository root, seen from infra/cdk.
	AssetDir string
	// BusName names the event bus; empty means DefaultBusName.
	BusName string
}

// Manifest is the part of package manifest the stack is built from.
type Manifest struct {
	Functions []manifest.Function
	Routes    []manifest.Route
	Rules     []manifest.Rule
	Schedules []manifest.Schedule
	Roles     []manifest.Role
}

// DefaultManifest returns the application's real manifest.
func DefaultManifest() Manifest {
	return Manifest{
		Functions: manifest.Functions,
		Routes:    manifest.Routes,
		Rules:     manifest.Rules,
		Schedules: manifest.Schedules,
		Roles:     manifest.Roles,
	}
}

// DefaultAssetDir is where `make build` puts the binaries, relative to
// infra/cdk (the directory `go run .` and `go test` run in).
var DefaultAssetDir = filepath.Join("..", "..", "dist")

// rapportStack carries what the parts of the stack share while it is built.
type rapportStack struct {
	stack     awscdk.Stack
	man       Manifest
	settings  Settings
	assetDir  string
	table     awsdynamodb.Table
	bus       awsevents.EventBus
	functions map[string]awslambda.Function
	eventDLQ  awssqs.Queue // created on first use: rule and schedule targets, async failures
}

// NewRapportStack builds the whole of Rapport: table, functions, HTTP API
// with its Cognito authorizer, event bus, rules, schedules and the stream
// relay. Every function, route, rule and schedule comes from the manifest
// and the table from schema.Rapport, so adding one there needs no change here.
// It panics on a manifest or setting that cannot be deployed, as CDK does.
func NewRapportStack(scope constructs.Construct, id string, props *RapportStackProps) awscdk.Stack {
	if props == nil {
		props = &RapportStackProps{}
	}
	man := DefaultManifest()
	if props.Manifest != nil {
		man = *props.Manifest
	}
	if err := man.Validate(); err != nil {
		panic(fmt.Sprintf("rapport: manifest: %v", err))
	}
	assetDir := props.AssetDir
	if assetDir == "" {
		assetDir = DefaultAssetDir
	}
	busName := props.BusName
	if busName == "" {
		busName = DefaultBusName
	}

	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	settings, err := SettingsFromContext(stack.Node())
	if err == nil {
		err = settings.checkSender(man.Functions)
	}
	if err != nil {
		panic(fmt.Sprintf("rapport: context: %v", err))
	}

	s := &rapportStack{
		stack:     stack,
		man:       man,
		settings:  settings,
		assetDir:  assetDir,
		functions: map[string]awslambda.Function{},
	}
	s.table = newTable(stack, schema.Rapport)
	s.bus = awsevents.NewEventBus(stack, jsii.String("Bus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(busName),
		Description:  jsii.String("Rapport's domain events, published by the relay from the table's outbox."),
	})

	for _, f := range man.Functions {
		s.functions[f.Name] = s.newFunction(f)
	}
	s.addStreamSources()
	api, pool, client := s.addHTTPAPI()
	if s.settings.AppURL == "" {
		// Links in staff email point at the API unless the deployer names
		// an app of their own.
		for _, fn := range s.functions {
			fn.AddEnvironment(jsii.String("APP_URL"), api.ApiEndpoint(), nil)
		}
	}
	s.addRules()
	s.addSchedules()

	// The $default stage serves at the API's endpoint itself; no trailing
	// slash, so "$ApiUrl/leads" is the leads route.
	output(stack, "ApiUrl", api.ApiEndpoint(), "Base URL of the HTTP API")
	output(stack, "UserPoolId", pool.UserPoolId(), "Cognito user pool of the staff")
	output(stack, "UserPoolClientId", client.UserPoolClientId(), "Cognito app client: the JWT audience")
	output(stack, "TableName", s.table.TableName(), "DynamoDB table")
	output(stack, "EventBusName", s.bus.EventBusName(), "EventBridge bus")
	return stack
}

// newTable creates the table exactly as t describes it.
func newTable(scope constructs.Construct, t schema.Table) awsdynamodb.Table {
	str := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	table := awsdynamodb.NewTable(scope, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: str(t.PartitionKey),
		SortKey:      str(t.SortKey),
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		TimeToLiveAttribute: jsii.String(t.TTLAttribute),
		Stream:              awsdynamodb.StreamViewType(t.Stream),
		// The table is the CRM's data: deleting the stack must not delete it.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	for _, ix := range t.Indexes {
		table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(ix.Name),
			PartitionKey:   str(ix.PartitionKey),
			SortKey:        str(ix.SortKey),
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	return table
}

// queue creates a dead-letter queue: kept for the longest SQS allows, so an
// operator back from a fortnight's leave still finds what failed.
func queue(scope constructs.Construct, id string) awssqs.Queue {
	return awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
	})
}

// eventDeadLetterQueue returns the queue that receives events no rule or
// schedule target could deliver and asynchronous invocations that failed
// every retry, creating it on first use so a stack without rules or
// schedules has no idle queue.
func (s *rapportStack) eventDeadLetterQueue() awssqs.Queue {
	if s.eventDLQ == nil {
		s.eventDLQ = queue(s.stack, "EventDeadLetterQueue")
		output(s.stack, "EventDeadLetterQueueUrl", s.eventDLQ.QueueUrl(),
			"Events and scheduled invocations that failed every retry")
	}
	return s.eventDLQ
}

func output(scope constructs.Construct, id string, value *string, description string) {
	awscdk.NewCfnOutput(scope, jsii.String(id), &awscdk.CfnOutputProps{
		Value:       value,
		Description: jsii.String(description),
	})
}
