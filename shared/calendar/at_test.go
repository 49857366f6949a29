package calendar

import (
	"testing"
	"time"
)

func TestAtGap(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	got := At(ny, 2026, 3, 8, 2, 30)
	if got.UTC().Format(time.RFC3339) != "2026-03-08T07:00:00Z" {
		t.Fatal(got.UTC())
	}
	be, _ := time.LoadLocation("Europe/Berlin")
	got = At(be, 2026, 10, 26, 9, 0)
	if got.UTC().Format(time.RFC3339) != "2026-10-26T08:00:00Z" {
		t.Fatal(got.UTC())
	}
	got = At(be, 2026, 10, 25, 2, 30)
	if got.UTC().Format(time.RFC3339) != "2026-10-25T00:30:00Z" {
		t.Fatal(got.UTC())
	}
	got = At(be, 2026, 3, 29, 2, 30)
	if got.UTC().Format(time.RFC3339) != "2026-03-29T01:00:00Z" {
		t.Fatal(got.UTC())
	}
}
