package dynamo_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
)

// outbox returns the events stored in the outbox, oldest first. A scan is
// fine here: the test's table is small and no request path scans.
func outbox(t *testing.T, f fixture) []events.Envelope {
	t.Helper()
	out, err := f.calls.API.(*dynamodb.Client).Scan(context.Background(), &dynamodb.ScanInput{
		TableName:                 aws.String(f.store.Table),
		FilterExpression:          aws.String("begins_with(pk, :evt)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":evt": &types.AttributeValueMemberS{Value: "EVT#"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var envs []events.Envelope
	for _, it := range out.Items {
		s := func(k string) string { return it[k].(*types.AttributeValueMemberS).Value }
		when, _ := time.Parse(time.RFC3339, s("event_time"))
		envs = append(envs, events.Envelope{ID: strings.TrimPrefix(s("pk"), "EVT#"), Source: s("event_source"),
			DetailType: s("detail_type"), Time: when, Detail: json.RawMessage(s("detail"))})
	}
	sort.Slice(envs, func(i, j int) bool { return envs[i].ID < envs[j].ID })
	return envs
}

func detailTypes(envs []events.Envelope) string {
	var out []string
	for _, e := range envs {
		out = append(out, e.DetailType)
	}
	return strings.Join(out, ",")
}

// Each change that succeeds writes exactly its event in the same
// transaction; duplicates, replays and failed writes write none.
func TestEveryWriteStoresExactlyItsEvent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res, _ := f.svc.Capture(ctx, ada(), "k1")
	f.svc.Capture(ctx, ada(), "k1") // replay
	f.svc.Capture(ctx, ada(), "")   // duplicate
	if got := detailTypes(outbox(t, f)); got != "lead.captured" {
		t.Fatalf("after capture, replay and duplicate: %s", got)
	}
	var captured events.LeadCaptured
	if err := json.Unmarshal(outbox(t, f)[0].Detail, &captured); err != nil {
		t.Fatal(err)
	}
	if captured.LeadID != res.LeadID || captured.Attribution.Source != "newsletter" || !captured.HasEmail || captured.EventID == "" {
		t.Fatalf("lead.captured = %+v", captured)
	}
	if strings.Contains(string(outbox(t, f)[0].Detail), "ada@example.com") || strings.Contains(string(outbox(t, f)[0].Detail), "Lovelace") {
		t.Fatalf("the event carries personal data: %s", outbox(t, f)[0].Detail)
	}

	f.clock.Advance(time.Minute)
	f.svc.AddActivity(ctx, "agent", res.LeadID, crm.Activity{Kind: crm.ActivityCall})
	f.svc.UpdateLead(ctx, "agent", res.LeadID, 1, crm.LeadChange{Owner: ptr("stale")}) // stale: no event
	f.clock.Advance(time.Minute)
	f.svc.Convert(ctx, "agent", res.LeadID, crm.Conversion{Deal: crm.Money{Minor: 500, Currency: "EUR"}})
	if got := detailTypes(outbox(t, f)); got != "lead.captured,lead.updated,lead.converted" {
		t.Fatalf("outbox = %s", got)
	}
	var conv events.LeadConverted
	json.Unmarshal(outbox(t, f)[2].Detail, &conv)
	if conv.DealValue != (events.Money{Minor: 500, Currency: "EUR"}) || conv.RepeatCustomer || conv.CustomerID == "" {
		t.Fatalf("lead.converted = %+v", conv)
	}
	// The campaign rides along, so conversions are counted by campaign.
	if conv.UTMCampaign == "" || conv.UTMCampaign != captured.Attribution.UTMCampaign || conv.Source != captured.Attribution.Source {
		t.Fatalf("lead.converted names source %q campaign %q, the lead came from %q campaign %q",
			conv.Source, conv.UTMCampaign, captured.Attribution.Source, captured.Attribution.UTMCampaign)
	}
}
