package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/scorecard"
	"github.com/rapportcrm/rapport/shared/scoring"
)

// The scorecard config, one item for the organisation: its overrides of
// the catalogue and their version. No item is version 0, the catalogue as
// it ships.
//
//	pk                 sk
//	SCORECARD#CONFIG   CONFIG
const (
	scorecardConfigPK   = "SCORECARD#CONFIG"
	scorecardConfigSK   = "CONFIG"
	typeScorecardConfig = "scorecard_config"
)

// scorecardConfigItem is the config as stored.
type scorecardConfigItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Type      string `dynamodbav:"type"`
	Version   int64  `dynamodbav:"version"`
	UpdatedAt string `dynamodbav:"updated_at"`
	UpdatedBy string `dynamodbav:"updated_by"`

	KPIs               map[string]kpiOverrideItem `dynamodbav:"kpis,omitempty"`
	PerspectiveWeights map[string]float64         `dynamodbav:"perspective_weights,omitempty"`
}

// kpiOverrideItem is one KPI's override as stored; absent attributes keep
// the catalogue's value.
type kpiOverrideItem struct {
	Target          *float64        `dynamodbav:"target,omitempty"`
	Baseline        *float64        `dynamodbav:"baseline,omitempty"`
	Thresholds      *thresholdsItem `dynamodbav:"thresholds,omitempty"`
	ClearThresholds bool            `dynamodbav:"clear_thresholds,omitempty"`
	Weight          *float64        `dynamodbav:"weight,omitempty"`
}

type thresholdsItem struct {
	Green float64 `dynamodbav:"green"`
	Amber float64 `dynamodbav:"amber"`
}

func toScorecardConfigItem(c scoring.Config) scorecardConfigItem {
	it := scorecardConfigItem{
		PK: scorecardConfigPK, SK: scorecardConfigSK, Type: typeScorecardConfig,
		Version: c.Version, UpdatedAt: formatTime(c.UpdatedAt), UpdatedBy: c.UpdatedBy,
	}
	if len(c.Overrides.KPIs) > 0 {
		it.KPIs = map[string]kpiOverrideItem{}
		for id, o := range c.Overrides.KPIs {
			ko := kpiOverrideItem{Target: o.Target, Baseline: o.Baseline, ClearThresholds: o.ClearThresholds, Weight: o.Weight}
			if o.Thresholds != nil {
				ko.Thresholds = &thresholdsItem{Green: o.Thresholds.Green, Amber: o.Thresholds.Amber}
			}
			it.KPIs[id] = ko
		}
	}
	if len(c.Overrides.PerspectiveWeights) > 0 {
		it.PerspectiveWeights = map[string]float64{}
		for id, w := range c.Overrides.PerspectiveWeights {
			it.PerspectiveWeights[string(id)] = w
		}
	}
	return it
}

func toScorecardConfig(it scorecardConfigItem) scoring.Config {
	c := scoring.Config{Version: it.Version, UpdatedAt: parseTime(it.UpdatedAt), UpdatedBy: it.UpdatedBy}
	if len(it.KPIs) > 0 {
		c.Overrides.KPIs = map[string]scorecard.KPIOverride{}
		for id, ko := range it.KPIs {
			o := scorecard.KPIOverride{Target: ko.Target, Baseline: ko.Baseline, ClearThresholds: ko.ClearThresholds, Weight: ko.Weight}
			if ko.Thresholds != nil {
				o.Thresholds = &scorecard.Thresholds{Green: ko.Thresholds.Green, Amber: ko.Thresholds.Amber}
			}
			c.Overrides.KPIs[id] = o
		}
	}
	if len(it.PerspectiveWeights) > 0 {
		c.Overrides.PerspectiveWeights = map[scorecard.PerspectiveID]float64{}
		for id, w := range it.PerspectiveWeights {
			c.Overrides.PerspectiveWeights[scorecard.PerspectiveID(id)] = w
		}
	}
	return c
}

// ScorecardConfigStore keeps the organisation's scorecard config in the
// single table.
type ScorecardConfigStore struct {
	Client API
	Table  string
}

var _ scoring.ConfigStore = (*ScorecardConfigStore)(nil)

// Config implements scoring.ConfigStore with one consistent GetItem.
func (s *ScorecardConfigStore) Config(ctx context.Context) (scoring.Config, error) {
	it, err := getItem[scorecardConfigItem](ctx, s.Client, s.Table, scorecardConfigPK, scorecardConfigSK, "scorecard config")
	return toScorecardConfig(it), err
}

// PutConfig implements scoring.ConfigStore with one conditional PutItem:
// the item must not exist when prev is 0, and must be at version prev
// otherwise. Either failure is EPRECONDITION, since no item is version 0:
// whoever read the config has read a version that is gone.
func (s *ScorecardConfigStore) PutConfig(ctx context.Context, c scoring.Config, prev int64) error {
	av, err := attributevalue.MarshalMap(toScorecardConfigItem(c))
	if err != nil {
		return internal("marshal scorecard config", err) // a NaN or an infinity the engine let through
	}
	in := &dynamodb.PutItemInput{
		TableName: aws.String(s.Table), Item: av,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}
	if prev != 0 {
		in.ConditionExpression = aws.String("version = :prev")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(prev)}
	}
	_, err = s.Client.PutItem(ctx, in)
	switch {
	case conditionFailed(err):
		return crm.Errorf(crm.EPRECONDITION, "the scorecard config has changed since version %d; read it again", prev)
	case err != nil:
		return internal("put scorecard config", err)
	}
	return nil
}
