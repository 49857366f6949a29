package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsschedulertargets"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
)

// ScheduleSource is the EventBridge source of the events schedules deliver;
// the local stack's scheduler (infra/local/scheduler) sends the same.
const ScheduleSource = "aws.scheduler"

// addStreamSources connects every Stream function to the table's stream.
func (s *rapportStack) addStreamSources() {
	for _, f := range s.man.Functions {
		if f.Kind != manifest.Stream {
			continue
		}
		dlq := s.deadLetterQueue(constructID(f.Name)+"StreamDeadLetterQueue", "stream batches "+f.Name+" failed on every retry")
		output(s.stack, constructID(f.Name)+"StreamDeadLetterQueueUrl", dlq.QueueUrl(),
			"Stream batches "+f.Name+" failed on every retry (shard and sequence numbers; the outbox items stay in the table until their TTL)")
		s.functions[f.Name].AddEventSource(awslambdaeventsources.NewDynamoEventSource(s.table, &awslambdaeventsources.DynamoEventSourceProps{
			// TRIM_HORIZON, not LATEST: the relay must publish every outbox
			// item ever written. LATEST would skip whatever was written before
			// the mapping existed or while it was being replaced; the relay
			// drops redeliveries by event id, so starting early costs nothing.
			StartingPosition: awslambda.StartingPosition_TRIM_HORIZON,
			BatchSize:        jsii.Number(100),
			// Bounded retries, halving the batch each time, so one poison
			// record is isolated and set aside instead of blocking its shard
			// until the stream's 24 hours run out.
			RetryAttempts:           jsii.Number(10),
			MaxRecordAge:            awscdk.Duration_Hours(jsii.Number(12)),
			BisectBatchOnError:      jsii.Bool(true),
			ReportBatchItemFailures: jsii.Bool(true),
			OnFailure:               awslambdaeventsources.NewSqsDlq(dlq),
			// Only outbox inserts invoke the function: every other write to
			// the table (leads, timelines, TTL deletions) costs nothing here.
			Filters: &[]*map[string]any{awslambda.FilterCriteria_Filter(&map[string]any{
				"eventName": awslambda.FilterRule_IsEqual(jsii.String("INSERT")),
				"dynamodb": map[string]any{
					"NewImage": map[string]any{
						"pk": map[string]any{"S": awslambda.FilterRule_BeginsWith(jsii.String(schema.OutboxPrefix))},
					},
				},
			})},
		}))
	}
}

// addRules creates one bus rule per manifest rule. EventBridge retries a
// delivery it cannot make for up to a day and then dead-letters it; the
// function's own asynchronous retries handle its failures (newFunction).
func (s *rapportStack) addRules() {
	for _, r := range s.man.Rules {
		awsevents.NewRule(s.stack, jsii.String(constructID(r.Name)+"Rule"), &awsevents.RuleProps{
			EventBus:    s.bus,
			Description: jsii.String("Rapport: " + r.Name + " → " + r.Function),
			EventPattern: &awsevents.EventPattern{
				Source:     jsii.Strings(r.Source),
				DetailType: jsii.Strings(r.DetailTypes...),
			},
			Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(s.functions[r.Function], &awseventstargets.LambdaFunctionProps{
				DeadLetterQueue: s.eventDeadLetterQueue(),
				RetryAttempts:   jsii.Number(185),
				MaxEventAge:     awscdk.Duration_Hours(jsii.Number(24)),
			})},
		})
	}
}

// addSchedules creates one EventBridge Scheduler schedule per manifest
// schedule, in the organisation's time zone so that "every Monday at 06:00"
// means the company's Monday. The function receives an EventBridge-shaped
// event with the schedule's detail type, so one handler signature serves
// rules and schedules alike.
func (s *rapportStack) addSchedules() {
	tz := awscdk.TimeZone_Of(jsii.String(s.settings.OrgTimeZone))
	for _, sc := range s.man.Schedules {
		input := awsscheduler.ScheduleTargetInput_FromObject(map[string]any{
			"version":     "0",
			"id":          awsscheduler.ContextAttribute_ExecutionId(),
			"detail-type": sc.DetailType,
			"source":      ScheduleSource,
			"account":     s.stack.Account(),
			"time":        awsscheduler.ContextAttribute_ScheduledTime(),
			"region":      s.stack.Region(),
			"resources":   []any{awsscheduler.ContextAttribute_ScheduleArn()},
			"detail":      map[string]any{},
		})
		awsscheduler.NewSchedule(s.stack, jsii.String(constructID(sc.Name)+"Schedule"), &awsscheduler.ScheduleProps{
			Description: jsii.String("Rapport: " + sc.Name + " → " + sc.Function),
			Schedule:    awsscheduler.ScheduleExpression_Expression(jsii.String(sc.Expression), tz),
			Target: awsschedulertargets.NewLambdaInvoke(s.functions[sc.Function], &awsschedulertargets.ScheduleTargetBaseProps{
				Role:            s.schedulerRole(sc.Function),
				Input:           input,
				DeadLetterQueue: s.eventDeadLetterQueue(),
				RetryAttempts:   jsii.Number(3),
				MaxEventAge:     awscdk.Duration_Hours(jsii.Number(1)),
			}),
		})
		s.explainSchedulerRole(sc.Function)
	}
}

// schedulerRole returns the role EventBridge Scheduler assumes to invoke
// the function called name, one per function as CDK would make it, but
// made here so the reason for its one wildcard sits beside it.
func (s *rapportStack) schedulerRole(name string) awsiam.Role {
	if r, ok := s.schedulerRoles[name]; ok {
		return r
	}
	role := awsiam.NewRole(s.stack, jsii.String(constructID(name)+"SchedulerRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			// Only this account's schedules may use the role (confused deputy).
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": s.stack.Account()}},
		}),
		Description: jsii.String("EventBridge Scheduler invoking Rapport function " + name),
	})
	s.schedulerRoles[name] = role
	return role
}

// explainSchedulerRole records why the scheduler role of the function
// called name holds a wildcard. It runs after the schedule is made: the
// grant creates the role's policy, and a suppression reaches only the
// children a construct has when it is added.
func (s *rapportStack) explainSchedulerRole(name string) {
	cdknag.NagSuppressions_AddResourceSuppressions(s.schedulerRoles[name], &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("CDK's Lambda target grants lambda:InvokeFunction on the function and on its qualified ARNs " +
			"(\"<arn>:*\", its versions and aliases) together; the wildcard reaches no other function."),
		AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<` + constructID(name) + `Function[0-9A-F]{8}\.Arn>:\*$/`)}},
	}}, jsii.Bool(true))
}
