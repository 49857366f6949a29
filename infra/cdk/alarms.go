package main

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"

	"github.com/rapportcrm/rapport/infra/manifest"
)

// Alarm thresholds. A failure anywhere should reach a person within
// minutes, not wait in a queue or a log: one error, throttle, 5xx or
// dead-lettered message is enough.
const (
	alarmPeriod = 5 * time.Minute
	// iteratorAgeLimit is how far behind the table's stream a stream
	// function may fall, for iteratorAgeMinutes minutes in a row, before
	// events are late enough to matter (reminders, rollups).
	iteratorAgeLimit   = time.Minute
	iteratorAgeMinutes = 5
	// scheduleSilence is the shortest time a frequent schedule may go
	// without running its function before the alarm fires.
	scheduleSilence = 5 * time.Minute
	// maxSilenceWindow is the longest window a CloudWatch alarm period may
	// have; schedules rarer than this get no silence alarm.
	maxSilenceWindow = 24 * time.Hour
)

// alarmSet is the topic every alarm notifies.
type alarmSet struct {
	topic  awssns.Topic
	action awscloudwatchactions.SnsAction
}

// addAlarms creates the alarm topic and an alarm for every way the system
// can fail quietly: each function's errors and throttles, each dead-letter
// queue's first message, the API's 5xx answers, each stream function
// falling behind, and each frequent schedule not running. They are derived
// from the functions, queues and schedules the stack has, so a new one gets
// its alarms without a change here.
func (s *rapportStack) addAlarms() {
	// Not encrypted with a KMS key: the topic carries alarm notifications
	// only (names, metrics, thresholds), never customer data, and CloudWatch
	// cannot publish to a topic under the AWS-managed SNS key.
	s.alarms.topic = awssns.NewTopic(s.stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		TopicName:   jsii.String("rapport-" + string(s.stage) + "-alarms"),
		DisplayName: jsii.String("Rapport " + string(s.stage) + " alarms"),
		EnforceSSL:  jsii.Bool(true),
	})
	if s.settings.AlarmEmail != "" {
		// The address must confirm the subscription from the email SNS sends.
		s.alarms.topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(s.settings.AlarmEmail), nil))
	}
	s.alarms.action = awscloudwatchactions.NewSnsAction(s.alarms.topic)

	sum := func() *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Period: seconds(alarmPeriod), Statistic: jsii.String("Sum")}
	}
	for _, f := range s.man.Functions {
		fn, id := s.functions[f.Name], constructID(f.Name)
		s.alarm(id+"ErrorsAlarm", f.Name+"-errors", fn.MetricErrors(sum()),
			fmt.Sprintf("Function %s failed (an error, a panic or a timeout) at least once in %s. Its log group has the details.", f.Name, human(alarmPeriod)),
			1, 1, awscloudwatch.TreatMissingData_NOT_BREACHING)
		s.alarm(id+"ThrottlesAlarm", f.Name+"-throttles", fn.MetricThrottles(sum()),
			fmt.Sprintf("Invocations of %s were throttled in the last %s: the account's concurrency is exhausted.", f.Name, human(alarmPeriod)),
			1, 1, awscloudwatch.TreatMissingData_NOT_BREACHING)
		if f.Kind == manifest.Stream {
			age := fn.Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{
				Period: seconds(time.Minute), Statistic: jsii.String("Maximum"),
			})
			s.alarm(id+"IteratorAgeAlarm", f.Name+"-iterator-age", age,
				fmt.Sprintf("Function %s has been more than %s behind the table's stream for %d minutes: events are late.",
					f.Name, human(iteratorAgeLimit), iteratorAgeMinutes),
				float64(iteratorAgeLimit.Milliseconds()), iteratorAgeMinutes, awscloudwatch.TreatMissingData_NOT_BREACHING)
		}
	}
	for _, q := range s.queues {
		visible := q.queue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: seconds(alarmPeriod), Statistic: jsii.String("Maximum"),
		})
		s.alarm(q.id+"Alarm", kebab(q.id), visible,
			fmt.Sprintf("Dead-letter queue %s holds a message: %s. Read it, fix the cause, then redrive or delete it.", q.id, q.what),
			1, 1, awscloudwatch.TreatMissingData_NOT_BREACHING)
	}
	s.alarm("Api5xxAlarm", "api-5xx", s.api.MetricServerError(sum()),
		fmt.Sprintf("The HTTP API answered 5xx at least once in %s (a function failed, timed out or was throttled).", human(alarmPeriod)),
		1, 1, awscloudwatch.TreatMissingData_NOT_BREACHING)
	for _, sc := range s.man.Schedules {
		window, ok := silenceWindow(sc.Expression)
		if !ok {
			continue
		}
		// The function's invocations are the schedule's heartbeat: none in
		// the window means the schedule stopped (disabled, deleted, or the
		// scheduler's role lost its permission).
		runs := s.functions[sc.Function].MetricInvocations(&awscloudwatch.MetricOptions{
			Period: seconds(window), Statistic: jsii.String("Sum"),
		})
		s.alarm(constructID(sc.Name)+"NotRunningAlarm", sc.Name+"-not-running", runs,
			fmt.Sprintf("Schedule %s (%s) has not run function %s for %s.", sc.Name, sc.Expression, sc.Function, human(window)),
			1, 1, awscloudwatch.TreatMissingData_BREACHING, awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD)
	}
}

// alarm creates an alarm on metric that notifies the topic when it fires
// and when it clears. It fires when metric reaches threshold (or, given
// a comparison, compares so) in periods consecutive periods.
func (s *rapportStack) alarm(id, name string, metric awscloudwatch.Metric, description string, threshold float64, periods float64,
	missing awscloudwatch.TreatMissingData, comparison ...awscloudwatch.ComparisonOperator) awscloudwatch.Alarm {
	op := awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD
	if len(comparison) > 0 {
		op = comparison[0]
	}
	a := metric.CreateAlarm(s.stack, jsii.String(id), &awscloudwatch.CreateAlarmOptions{
		AlarmName:          jsii.String("rapport-" + string(s.stage) + "-" + name),
		AlarmDescription:   jsii.String(description),
		Threshold:          jsii.Number(threshold),
		EvaluationPeriods:  jsii.Number(periods),
		DatapointsToAlarm:  jsii.Number(periods),
		ComparisonOperator: op,
		TreatMissingData:   missing,
	})
	a.AddAlarmAction(s.alarms.action)
	a.AddOkAction(s.alarms.action)
	return a
}

// rateExpr is an EventBridge Scheduler rate expression.
var rateExpr = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

// silenceWindow returns how long the function of a schedule with
// expression may go without running before its alarm fires: twice the
// schedule's period, and at least scheduleSilence, so one late or retried
// run does not page anyone. Cron expressions and schedules rarer than a
// day have no window.
func silenceWindow(expression string) (time.Duration, bool) {
	m := rateExpr.FindStringSubmatch(expression)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 {
		return 0, false
	}
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[trimPlural(m[2])]
	window := max(2*time.Duration(n)*unit, scheduleSilence)
	if window > maxSilenceWindow {
		return 0, false
	}
	return window, true
}

func trimPlural(s string) string {
	if len(s) > 0 && s[len(s)-1] == 's' {
		return s[:len(s)-1]
	}
	return s
}

// kebab turns a construct id into an alarm name part:
// "RelayStreamDeadLetterQueue" becomes "relay-stream-dead-letter-queue".
func kebab(id string) string {
	var b []byte
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				b = append(b, '-')
			}
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

// human writes a whole number of minutes or hours as words: "5 minutes".
func human(d time.Duration) string {
	n, unit := int(d/time.Minute), "minute"
	if d >= time.Hour && d%time.Hour == 0 {
		n, unit = int(d/time.Hour), "hour"
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", n, unit)
}

func seconds(d time.Duration) awscdk.Duration {
	return awscdk.Duration_Seconds(jsii.Number(d.Seconds()))
}
