package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
)

// Stage is a separate deployment of the whole system from the same app:
// its own stack, table, user pool, bus and alarms.
type Stage string

// Stages. Dev is for trying changes and may be destroyed with its data;
// prod keeps its table and user pool when the stack is deleted and refuses
// to delete them while it exists.
const (
	StageDev  Stage = "dev"
	StageProd Stage = "prod"
)

// ParseStage reads a stage name as `make deploy STAGE=...` gives it.
func ParseStage(s string) (Stage, error) {
	switch st := Stage(strings.TrimSpace(s)); st {
	case StageDev, StageProd:
		return st, nil
	}
	return "", fmt.Errorf("stage %q: must be %s or %s", s, StageDev, StageProd)
}

// StackName is the CloudFormation stack of a stage, e.g. "Rapport-dev".
func (st Stage) StackName() string { return "Rapport-" + string(st) }

// BusName is the EventBridge bus of a stage; bus names are unique per
// account and region, so each stage has its own.
func (st Stage) BusName() string { return "rapport-" + string(st) }

// retained reports whether the stage keeps its data beyond the stack.
func (st Stage) retained() bool { return st == StageProd }

// removalPolicy is what deleting the stack does to a resource holding data.
func (st Stage) removalPolicy() awscdk.RemovalPolicy {
	if st.retained() {
		return awscdk.RemovalPolicy_RETAIN
	}
	return awscdk.RemovalPolicy_DESTROY
}

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
	// Stage is the deployment; empty means StageProd, the one that keeps
	// its data, so a stack built without one errs on the side of keeping.
	Stage Stage
	// BusName names the event bus; empty means the stage's BusName.
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
	stage     Stage
	man       Manifest
	settings  Settings
	assetDir  string
	table     awsdynamodb.Table
	bus       awsevents.EventBus
	functions map[string]awslambda.Function
	// schedulerRoles are the roles EventBridge Scheduler invokes each
	// function with, by function name, made on first use.
	schedulerRoles map[string]awsiam.Role
	eventDLQ       awssqs.Queue             // created on first use: rule and schedule targets, async failures
	linkKeys       awssecretsmanager.Secret // created on first use: the customers' link keyring
	queues         []deadLetterQueue
	api            awsapigatewayv2.HttpApi
	alarms         alarmSet
}

// deadLetterQueue is a queue where failures wait for a person, with what
// fills it, for its alarm.
type deadLetterQueue struct {
	id    string
	queue awssqs.Queue
	what  string
}

// NewRapportStack builds the whole of Rapport: table, functions, HTTP API
// with its Cognito authorizer, event bus, rules, schedules, the stream
// relay and the keyring that signs customers' links. Every function, route,
// rule and schedule comes from the manifest and the table from
// schema.Rapport, so adding one there needs no change here.
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
	stage := props.Stage
	if stage == "" {
		stage = StageProd
	}
	if _, err := ParseStage(string(stage)); err != nil {
		panic(fmt.Sprintf("rapport: %v", err))
	}
	busName := props.BusName
	if busName == "" {
		busName = stage.BusName()
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
		stage:     stage,
		man:       man,
		settings:  settings,
		assetDir:  assetDir,
		functions: map[string]awslambda.Function{},

		schedulerRoles: map[string]awsiam.Role{},
	}
	s.table = newTable(stack, schema.Rapport, stage)
	s.bus = awsevents.NewEventBus(stack, jsii.String("Bus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(busName),
		Description:  jsii.String("Rapport's domain events, published by the relay from the table's outbox."),
	})

	for _, f := range man.Functions {
		s.functions[f.Name] = s.newFunction(f)
	}
	s.addStreamSources()
	api, pool, client := s.addHTTPAPI()
	s.api = api
	if s.settings.AppURL == "" {
		// Links in staff email point at the API unless the deployer names
		// an app of their own.
		for _, fn := range s.functions {
			fn.AddEnvironment(jsii.String("APP_URL"), api.ApiEndpoint(), nil)
		}
	}
	s.addRules()
	s.addSchedules()
	s.addAlarms()

	// The $default stage serves at the API's endpoint itself; no trailing
	// slash, so "$ApiUrl/leads" is the leads route.
	output(stack, "ApiUrl", api.ApiEndpoint(), "Base URL of the HTTP API")
	output(stack, "UserPoolId", pool.UserPoolId(), "Cognito user pool of the staff")
	output(stack, "UserPoolClientId", client.UserPoolClientId(), "Cognito app client: the JWT audience")
	output(stack, "TableName", s.table.TableName(), "DynamoDB table")
	output(stack, "EventBusName", s.bus.EventBusName(), "EventBridge bus")
	output(stack, "AlarmTopicArn", s.alarms.topic.TopicArn(), "SNS topic every alarm notifies; subscribe people to it")
	return stack
}

// newTable creates the table exactly as t describes it.
func newTable(scope constructs.Construct, t schema.Table, stage Stage) awsdynamodb.Table {
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
		// The table is the CRM's data: in prod, deleting the stack keeps it
		// and CloudFormation cannot delete it while protection is on.
		RemovalPolicy:      stage.removalPolicy(),
		DeletionProtection: jsii.Bool(stage.retained()),
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

// deadLetterQueue creates a dead-letter queue: kept for the longest SQS
// allows, so an operator back from a fortnight's leave still finds what
// failed. Every queue made here gets an alarm (addAlarms) that fires on its
// first message; what says what lands in it.
func (s *rapportStack) deadLetterQueue(id, what string) awssqs.Queue {
	q := awssqs.NewQueue(s.stack, jsii.String(id), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(q, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is itself a dead-letter queue: a message here waits for a person, " +
			"who is paged by the queue's alarm on the first one; a queue behind it would only hide it further."),
	}}, nil)
	s.queues = append(s.queues, deadLetterQueue{id: id, queue: q, what: what})
	return q
}

// eventDeadLetterQueue returns the queue that receives events no rule or
// schedule target could deliver and asynchronous invocations that failed
// every retry, creating it on first use so a stack without rules or
// schedules has no idle queue.
func (s *rapportStack) eventDeadLetterQueue() awssqs.Queue {
	if s.eventDLQ == nil {
		s.eventDLQ = s.deadLetterQueue("EventDeadLetterQueue", "events and scheduled invocations that failed every retry")
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
