// Package calendar is the organisation's business calendar: working days,
// working hours (split days allowed) and holidays in its IANA time zone. It
// is pure Go — no AWS, no HTTP — and every "within 4 working hours", "next
// working morning" and SLA deadline in Rapport is computed on it.
package calendar

import "time"

// At returns the instant the wall clock in loc shows hour:minute on the
// given date. A wall time that does not exist (the hour skipped when clocks
// go forward) gives the next valid instant, the moment the clocks jump; a
// wall time that happens twice (clocks going back) gives the first.
//
// time.Date normalises a skipped wall time by adding the gap, so 02:30 on a
// day that jumps from 02:00 to 03:00 would become 03:30; a reminder set for
// 02:30 should fire at 03:00, not half an hour after the next valid instant.
//
// Out-of-range values are normalised as time.Date does (day 32, hour 24):
// callers step through days with At(loc, y, m, d+i, …).
func At(loc *time.Location, year int, month time.Month, day, hour, minute int) time.Time {
	// Normalise first, so that the gap search below compares wall clocks
	// against a real date: February 36 02:30 in New York must find the jump
	// on 8 March.
	want := time.Date(year, month, day, hour, minute, 0, 0, time.UTC)
	year, month, day = want.Date()
	hour, minute = want.Hour(), want.Minute()
	t := time.Date(year, month, day, hour, minute, 0, 0, loc)
	// Far from any clock change, as nearly every wall time is, it exists
	// and happens once: time.Date's answer is the answer. This is the
	// business calendar's hot path.
	if start, end := t.ZoneBounds(); (start.IsZero() || t.Sub(start) > maxShift) && (end.IsZero() || end.Sub(t) > maxShift) {
		return t
	}
	if sameWall(t, want) {
		// A valid wall time; when it happens twice, take the first.
		for _, back := range []time.Duration{2 * time.Hour, time.Hour, 30 * time.Minute} {
			if u := t.Add(-back); sameWall(u, t) {
				return u
			}
		}
		return t
	}
	// In a gap: time.Date picked some instant near it (which one is not
	// specified). The answer is the transition, where the wall clock jumps
	// over the wall time.
	// Search a window around it for the first instant whose wall clock
	// reads the wall time or later.
	lo, hi := t.Add(-maxShift), t.Add(maxShift)
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		if wallBefore(mid.In(loc), year, month, day, hour, minute) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi.Truncate(time.Second).In(loc)
}

// maxShift bounds how far any zone's clock jumps at a change.
const maxShift = 3 * time.Hour

// wallBefore reports whether t's wall clock reads earlier than the given
// date and time.
func wallBefore(t time.Time, year int, month time.Month, day, hour, minute int) bool {
	a, b := wallOf(t), [5]int{year, int(month), day, hour, minute}
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// sameWall reports whether a and b show the same wall-clock minute.
func sameWall(a, b time.Time) bool { return wallOf(a) == wallOf(b) }

// wallOf returns t's wall-clock date and minute, each read once.
func wallOf(t time.Time) [5]int {
	y, m, d := t.Date()
	h, mi, _ := t.Clock()
	return [5]int{y, int(m), d, h, mi}
}
