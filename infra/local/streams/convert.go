package streams

import (
	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Record converts a record from GetRecords into the record Lambda hands a
// function in a DynamoDBEvent, so the relay sees locally what it sees in
// AWS: eventSourceARN is the stream's ARN, as Lambda sets it.
func Record(streamARN, region string, r types.Record) lambdaevents.DynamoDBEventRecord {
	out := lambdaevents.DynamoDBEventRecord{
		AWSRegion:      aws.ToString(r.AwsRegion),
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    aws.ToString(r.EventSource),
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: streamARN,
	}
	if out.AWSRegion == "" {
		out.AWSRegion = region
	}
	if out.EventSource == "" {
		out.EventSource = "aws:dynamodb"
	}
	if r.UserIdentity != nil {
		out.UserIdentity = &lambdaevents.DynamoDBUserIdentity{
			Type:        aws.ToString(r.UserIdentity.Type),
			PrincipalID: aws.ToString(r.UserIdentity.PrincipalId),
		}
	}
	if d := r.Dynamodb; d != nil {
		out.Change = lambdaevents.DynamoDBStreamRecord{
			Keys:           Attributes(d.Keys),
			NewImage:       Attributes(d.NewImage),
			OldImage:       Attributes(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes:      aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		}
		if d.ApproximateCreationDateTime != nil {
			out.Change.ApproximateCreationDateTime = lambdaevents.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
		}
	}
	return out
}

// Attributes converts an item image from the SDK's form into Lambda's. A
// nil image stays nil, as Lambda leaves an absent image out.
func Attributes(m map[string]types.AttributeValue) map[string]lambdaevents.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]lambdaevents.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = Attribute(v)
	}
	return out
}

// Attribute converts one attribute value. A member the SDK does not know
// (types.UnknownUnionMember), which Lambda's events package could not carry
// either, becomes NULL.
func Attribute(v types.AttributeValue) lambdaevents.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return lambdaevents.NewStringAttribute(v.Value)
	case *types.AttributeValueMemberN:
		return lambdaevents.NewNumberAttribute(v.Value)
	case *types.AttributeValueMemberB:
		return lambdaevents.NewBinaryAttribute(v.Value)
	case *types.AttributeValueMemberBOOL:
		return lambdaevents.NewBooleanAttribute(v.Value)
	case *types.AttributeValueMemberNULL:
		return lambdaevents.NewNullAttribute()
	case *types.AttributeValueMemberSS:
		return lambdaevents.NewStringSetAttribute(v.Value)
	case *types.AttributeValueMemberNS:
		return lambdaevents.NewNumberSetAttribute(v.Value)
	case *types.AttributeValueMemberBS:
		return lambdaevents.NewBinarySetAttribute(v.Value)
	case *types.AttributeValueMemberL:
		l := make([]lambdaevents.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = Attribute(e)
		}
		return lambdaevents.NewListAttribute(l)
	case *types.AttributeValueMemberM:
		return lambdaevents.NewMapAttribute(Attributes(v.Value))
	}
	return lambdaevents.NewNullAttribute()
}
