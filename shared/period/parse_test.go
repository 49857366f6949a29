package period_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/period"
)

func TestParse(t *testing.T) {
	tests := []struct {
		id   string
		kind period.Kind
	}{
		{"2026-11-22", period.Day},
		{"2024-02-29", period.Day},
		{"0001-01-01", period.Day},
		{"2026-W47", period.Week},
		{"2026-W01", period.Week},
		{"2026-W53", period.Week},
		{"2020-W53", period.Week},
		{"2026-11", period.Month},
		{"2026-Q4", period.Quarter},
		{"9999-Q1", period.Quarter},
	}
	for _, tt := range tests {
		p, err := period.Parse(tt.id, time.UTC)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.id, err)
			continue
		}
		if p.Kind() != tt.kind || p.ID() != tt.id || p.String() != tt.id {
			t.Errorf("Parse(%q) = %s %s, want %s %s", tt.id, p.Kind(), p.ID(), tt.kind, tt.id)
		}
	}
}

// TestParseErrors checks that each refusal says what is wrong.
func TestParseErrors(t *testing.T) {
	tests := []struct{ in, reason string }{
		{"", "empty"},
		{"2026", "expected a day"},
		{"26-11-22", "expected a day"},
		{"2026/11/22", "expected a day"},
		{"20x6-11", "year must be four digits"},
		{"+026-11", "year must be four digits"},
		{"2026-13", "month 13 does not exist"},
		{"2026-00", "month 00 does not exist"},
		{"2026-1", "month must be two digits"},
		{"2026-1a", "month must be two digits"},
		{"2026-11-31", "day 31 does not exist: 2026-11 has 30 days"},
		{"2025-02-29", "day 29 does not exist: 2025-02 has 28 days"},
		{"2026-11-00", "day 00 does not exist"},
		{"2026-11-2", "day must be two digits"},
		{"2026-11-222", "day must be two digits"},
		{"2026-11-22T10:00", "day must be two digits"},
		{"2026-11x22", "expected a day"},
		{"2025-W53", "week 53 does not exist: 2025 has 52 ISO weeks"},
		{"2026-W54", "week 54 does not exist: 2026 has 53 ISO weeks"},
		{"2026-W00", "week 00 does not exist"},
		{"2026-W7", "week must be two digits"},
		{"2026-W007", "week must be two digits"},
		{"2026-W", "week must be two digits"},
		{"2026-w47", "capital W"},
		{"2026-Q5", "quarter must be Q1, Q2, Q3 or Q4"},
		{"2026-Q0", "quarter must be Q1, Q2, Q3 or Q4"},
		{"2026-Q", "quarter must be Q1, Q2, Q3 or Q4"},
		{"2026-Q12", "quarter must be Q1, Q2, Q3 or Q4"},
		{"2026-q4", "capital Q"},
		{" 2026-11", "expected a day"},
		{"2026 -11", "expected a day"},
		{"2026-11 ", "expected a day"},
	}
	for _, tt := range tests {
		_, err := period.Parse(tt.in, time.UTC)
		var pe *period.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, want a *ParseError", tt.in, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("Parse(%q) error %q does not say %q", tt.in, err, tt.reason)
		}
	}
}

// TestParseErrorIsShort checks that a hostile input is not echoed in full.
func TestParseErrorIsShort(t *testing.T) {
	_, err := period.Parse(strings.Repeat("9", 1<<20), time.UTC)
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("error for a 1 MiB input is %d bytes: %.80v", len(err.Error()), err)
	}
}

func TestParseKind(t *testing.T) {
	for _, k := range period.Kinds() {
		if got, err := period.ParseKind(string(k)); err != nil || got != k {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, err)
		}
	}
	for _, s := range []string{"", "Week", "year", "weeks"} {
		if _, err := period.ParseKind(s); err == nil || !strings.Contains(err.Error(), `"day", "week", "month" or "quarter"`) {
			t.Errorf("ParseKind(%q) error = %v", s, err)
		}
	}
}

// FuzzParse feeds arbitrary strings to the parser. Whatever it accepts must
// print back to the same string and be a well-formed period; whatever it
// refuses must come back as a short *ParseError.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"2026-11-22", "2026-W47", "2026-11", "2026-Q4", "2026-W53", "2020-W53", "2025-W53",
		"2024-02-29", "2025-02-29", "0000-01-01", "9999-12-31", "9999-W52", "0001-W01",
		"2026-13", "2026-w01", "2026-q1", "", "2026-", "2026-W", "2026-11-", "２０２６-11",
		"2026-11-22\x00", "\xff\xfe",
	} {
		f.Add(s)
	}
	berlin := load(f, "Europe/Berlin")
	f.Fuzz(func(t *testing.T, s string) {
		for _, loc := range []*time.Location{time.UTC, berlin} {
			p, err := period.Parse(s, loc)
			if err != nil {
				var pe *period.ParseError
				if !errors.As(err, &pe) || pe.Reason == "" || len(pe.Input) > 40 {
					t.Fatalf("Parse(%q) error %#v", s, err)
				}
				continue
			}
			if p.ID() != s {
				t.Fatalf("Parse(%q).ID() = %q", s, p.ID())
			}
			if !p.Kind().Valid() || !p.Start().Before(p.End()) {
				t.Fatalf("Parse(%q): %s [%s, %s)", s, p.Kind(), p.Start(), p.End())
			}
			if period.Containing(p.Start(), p.Kind(), loc) != p {
				t.Fatalf("Parse(%q) does not contain its own start", s)
			}
			if p.Next().Previous() != p {
				t.Fatalf("Parse(%q): Next().Previous() = %s", s, p.Next().Previous())
			}
		}
	})
}
