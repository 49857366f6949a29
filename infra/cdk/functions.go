package main

import (
	"path/filepath"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
)

// sizing is the memory and timeout of a function of each kind. HTTP
// functions answer people and sit behind API Gateway's 29-second
// integration limit; stream and event functions work in batches.
// (Plain numbers: a package-level jsii call would start the CDK runtime
// before main or TestMain could configure it.)
var sizing = map[manifest.Kind]struct{ memoryMB, timeoutSeconds float64 }{
	manifest.HTTP:   {256, 10},
	manifest.Stream: {256, 60},
	manifest.Event:  {256, 120},
}

// newFunction creates the Lambda for f, with its log group, its settings
// and exactly the permissions the manifest says it needs.
func (s *rapportStack) newFunction(f manifest.Function) awslambda.Function {
	id := constructID(f.Name)
	size := sizing[f.Kind]

	logs := awslogs.NewLogGroup(s.stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: s.stage.removalPolicy(),
	})
	// The function's own role instead of the one CDK would make, which
	// carries the AWS-managed AWSLambdaBasicExecutionRole: that policy lets
	// a function write to every log group in the account; this role may
	// write to the function's own group only.
	role := awsiam.NewRole(s.stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Rapport function " + f.Name),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		// A log group's Arn attribute already ends in ":*", which covers
		// its streams (named by Lambda at run time) and nothing else.
		Resources: jsii.Strings(*logs.LogGroupArn()),
	}))
	env := map[string]*string{}
	for k, v := range s.settings.Environment(*s.table.TableName(), *s.bus.EventBusName()) {
		env[k] = jsii.String(v)
	}
	props := &awslambda.FunctionProps{
		Description:  jsii.String(f.Description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(s.assetDir, f.Name)), nil),
		MemorySize:   jsii.Number(size.memoryMB),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(size.timeoutSeconds)),
		Environment:  &env,
		LogGroup:     logs,
		Role:         role,
		// The functions log with slog's JSON handler; JSON format keeps those
		// records structured and lets Lambda drop DEBUG records by level.
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2: awslambda.ApplicationLogLevel_INFO,
	}
	if f.Kind == manifest.Event {
		// Rules and schedules invoke asynchronously; an invocation that fails
		// Lambda's own retries lands in the dead-letter queue, not nowhere.
		props.RetryAttempts = jsii.Number(2)
		props.MaxEventAge = awscdk.Duration_Hours(jsii.Number(6))
		props.OnFailure = awslambdadestinations.NewSqsDestination(s.eventDeadLetterQueue())
	}
	fn := awslambda.NewFunction(s.stack, jsii.String(id+"Function"), props)
	s.grant(fn, f)
	return fn
}

// Table actions by access level. They are CDK's grantReadData and
// grantReadWriteData less dynamodb:Scan (and the stream reads that those
// grant on the table's ARN, where they do nothing): no request path may scan
// the table (DESIGN.md), and IAM then refuses a scan slipped into a handler
// instead of letting its cost grow with the table. Transactions need no
// actions of their own: TransactWriteItems is authorized per Put, Update,
// Delete and ConditionCheck, TransactGetItems per Get.
var (
	tableReads  = []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"}
	tableWrites = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
)

// grant gives fn what f declares, and nothing else.
func (s *rapportStack) grant(fn awslambda.Function, f manifest.Function) {
	// The table and each index by name, rather than CDK's grant, which adds
	// "index/*": a function may query the indexes the schema has today.
	tableArns := []*string{s.table.TableArn()}
	for _, ix := range schema.Rapport.Indexes {
		tableArns = append(tableArns, jsii.String(*s.table.TableArn()+"/index/"+ix.Name))
	}
	tableGrant := func(actions []string) {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(actions...),
			Resources: &tableArns,
		}))
	}
	switch f.Table {
	case manifest.ReadTable:
		tableGrant(tableReads)
	case manifest.ReadWrite:
		tableGrant(slices.Concat(tableReads, tableWrites))
	}
	if f.PublishEvents {
		s.bus.GrantPutEventsTo(fn, nil)
	}
	if f.ReadsLinkKeys {
		s.grantLinkKeys(fn)
	}
	if f.SendEmail {
		// SES authorizes sending per verified identity; which identity the
		// functions send from is not known here, so the grant is limited to
		// identities (and configuration sets) of this account and region.
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("ses:SendEmail"),
			Resources: jsii.Strings(
				*s.stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ses"), Resource: jsii.String("identity"), ResourceName: jsii.String("*")}),
				*s.stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ses"), Resource: jsii.String("configuration-set"), ResourceName: jsii.String("*")}),
			),
		}))
		cdknag.NagSuppressions_AddResourceSuppressions(fn.Role(), &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("ses:SendEmail is authorized per sending identity, and which verified identity (domain or address) " +
				"the company sends from is chosen after deployment; the grant is limited to this account and region."),
			AppliesTo: &[]any{
				"Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*",
				"Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:configuration-set/*",
			},
		}}, jsii.Bool(true))
	}
	if f.Kind == manifest.Stream {
		cdknag.NagSuppressions_AddResourceSuppressions(fn.Role(), &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("dynamodb:ListStreams has no resource-level permissions, so it can only be granted on *; " +
				"the stream's event source mapping needs it. Reading the stream itself is granted on this table's stream only."),
			AppliesTo: &[]any{"Resource::*"},
		}}, jsii.Bool(true))
	}
}
