package calendar

import (
	"testing"
	"time"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestAt(t *testing.T) {
	for _, tc := range []struct {
		name      string
		zone      string
		y         int
		m         time.Month
		d, h, min int
		want      string // UTC
	}{
		{"an ordinary wall time", "Europe/Berlin", 2026, 10, 26, 9, 0, "2026-10-26T08:00:00Z"},
		{"no daylight saving", "Asia/Kolkata", 2026, 6, 1, 9, 0, "2026-06-01T03:30:00Z"},
		{"UTC", "UTC", 2026, 12, 31, 23, 59, "2026-12-31T23:59:00Z"},
		// Skipped wall times are the instant of the jump.
		{"New York's skipped hour", "America/New_York", 2026, 3, 8, 2, 30, "2026-03-08T07:00:00Z"},
		{"Berlin's skipped hour", "Europe/Berlin", 2026, 3, 29, 2, 30, "2026-03-29T01:00:00Z"},
		{"Lord Howe's skipped half hour", "Australia/Lord_Howe", 2026, 10, 4, 2, 15, "2026-10-03T15:30:00Z"},
		// Repeated wall times are their first occurrence.
		{"Berlin's repeated hour", "Europe/Berlin", 2026, 10, 25, 2, 30, "2026-10-25T00:30:00Z"},
		{"New York's repeated hour", "America/New_York", 2026, 11, 1, 1, 30, "2026-11-01T05:30:00Z"},
		{"Lord Howe's repeated half hour", "Australia/Lord_Howe", 2026, 4, 5, 1, 45, "2026-04-04T14:45:00Z"},
		// Out-of-range values are normalised before the gap is looked for.
		{"February 36 is 8 March", "America/New_York", 2026, 2, 36, 2, 30, "2026-03-08T07:00:00Z"},
		{"31 September is 1 October", "Australia/Lord_Howe", 2028, 9, 31, 2, 15, "2028-09-30T15:30:00Z"},
		{"hour 24 is the next midnight", "Europe/Berlin", 2026, 12, 31, 24, 0, "2026-12-31T23:00:00Z"},
		{"minutes past 60 carry", "Europe/Berlin", 2026, 3, 29, 0, 150, "2026-03-29T01:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc := zone(t, tc.zone)
			got := At(loc, tc.y, tc.m, tc.d, tc.h, tc.min)
			if s := got.UTC().Format(time.RFC3339); s != tc.want {
				t.Errorf("At = %s, want %s", s, tc.want)
			}
			if got.Location() != loc {
				t.Errorf("At is in %v, want %v", got.Location(), loc)
			}
		})
	}
}
