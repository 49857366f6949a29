package dynamo

import (
	"context"

	"github.com/rapportcrm/rapport/shared/survey"
)

// AddToTally adds n answers with these ratings, to invitation id, to
// day's tallies, as n answers through Answer would add them: the same
// items, at the same shard. The cost tests fill a period with 100,000
// answers this way without writing each one.
func (s *SurveyStore) AddToTally(ctx context.Context, invitationID, day string, ratings []survey.Rating, n int64) error {
	items, err := s.tallyWrites(invitationID, day, ratings, n)
	if err != nil {
		return err
	}
	return transact(ctx, s.Client, s.Table, items, nil)
}
