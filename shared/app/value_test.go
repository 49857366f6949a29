package app

import (
	"testing"
	"time"
)

// The window is the 365 days that end with yesterday in the organisation's
// zone, whatever the UTC date of the run.
func TestValueWindow(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, tc := range []struct {
		at          time.Time
		first, last string
	}{
		// 00:30 on 10 March in Berlin is still 9 March in UTC.
		{time.Date(2026, 3, 9, 23, 30, 0, 0, time.UTC), "2025-03-10", "2026-03-09"},
		// A window over 29 February 2028 still holds 365 days.
		{time.Date(2028, 3, 1, 12, 0, 0, 0, berlin), "2027-03-02", "2028-02-29"},
		// Across the change to summer time.
		{time.Date(2026, 3, 30, 0, 30, 0, 0, berlin), "2025-03-30", "2026-03-29"},
	} {
		first, last := valueWindow(tc.at, berlin)
		if first.ID() != tc.first || last.ID() != tc.last {
			t.Errorf("at %s: %s..%s, want %s..%s", tc.at, first.ID(), last.ID(), tc.first, tc.last)
		}
		if days := len(first.Days()); days != 1 {
			t.Errorf("first is %d days", days)
		}
	}
}
