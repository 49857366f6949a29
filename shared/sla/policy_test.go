package sla

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/calendar"
)

func TestDefaultPolicies(t *testing.T) {
	const h = time.Hour
	for _, tc := range []struct {
		cal  string
		want map[Priority]Policy
	}{
		{"berlin", map[Priority]Policy{Urgent: {h, 4 * h}, High: {4 * h, 8 * h}, Normal: {8 * h, 24 * h}, Low: {8 * h, 40 * h}}},
		// A business day of split hours is 7h.
		{"split", map[Priority]Policy{Urgent: {h, 4 * h}, High: {4 * h, 7 * h}, Normal: {8 * h, 21 * h}, Low: {7 * h, 35 * h}}},
	} {
		cal := example(t, tc.cal)
		ps := DefaultPolicies(cal)
		for p, want := range tc.want {
			if got, ok := ps.For(p); !ok || got != want {
				t.Errorf("%s: For(%s) = %v, %v, want %v", tc.cal, p, got, ok, want)
			}
		}
		parsed, err := ParsePolicies(DefaultPoliciesString, cal)
		if err != nil || parsed != ps {
			t.Errorf("%s: ParsePolicies(DefaultPoliciesString) = %v, %v, want %v", tc.cal, parsed, err, ps)
		}
	}
	if _, ok := DefaultPolicies(calendar.Calendar{}).For("critical"); ok {
		t.Error("For an unknown priority is ok")
	}
	if got := DefaultPolicies(calendar.Calendar{}).String(); got != "urgent=1h/4h,high=4h/1d,normal=1d/3d,low=1d/5d" {
		t.Errorf("String = %q", got)
	}
}

func TestParsePolicies(t *testing.T) {
	cal := example(t, "berlin") // 8h days
	const h, m = time.Hour, time.Minute
	for _, tc := range []struct {
		in       string
		p        Priority
		want     Policy
		priority string // of the error, if one is wanted
		reason   string // part of it
	}{
		{in: "urgent=30m/2h", p: Urgent, want: Policy{30 * m, 2 * h}},
		{in: "urgent=30m/2h", p: High, want: Policy{4 * h, 8 * h}}, // unlisted keeps its default
		{in: " High = 1.5h / 1d4h ,", p: High, want: Policy{90 * m, 12 * h}},
		{in: "low=0.5d/2.25d", p: Low, want: Policy{4 * h, 18 * h}},
		{in: "normal=1d/1d", p: Normal, want: Policy{8 * h, 8 * h}},
		{in: "", p: Normal, want: Policy{8 * h, 24 * h}},
		{in: "normal=250d/250d", p: Normal, want: Policy{2000 * h, 2000 * h}},

		{in: "critical=1h/2h", priority: "critical", reason: "not a priority"},
		{in: "high", priority: "high", reason: "not an entry"},
		{in: "=1h/2h", priority: "", reason: "not a priority"},
		{in: "high=4h", priority: "high", reason: "first-response/resolution"},
		{in: "high=4x/1d", priority: "high", reason: `first response "4x" is not a duration`},
		{in: "high=4h/", priority: "high", reason: `resolution "" is not a duration`},
		{in: "high=4/1d", priority: "high", reason: "not a duration"},
		{in: "high=h/1d", priority: "high", reason: "not a duration"},
		{in: "high=1..5h/1d", priority: "high", reason: "not a duration"},
		{in: "high=.5h/1d", priority: "high", reason: "not a duration"},
		{in: "high=-1h/1d", priority: "high", reason: "not a duration"},
		{in: "high=1e3m/1d", priority: "high", reason: "not a duration"},
		{in: "high=0m/1d", priority: "high", reason: "not positive"},
		{in: "high=30s/1d", priority: "high", reason: "not a duration"},
		{in: "high=1.01h/1d", priority: "high", reason: "whole number of minutes"},
		{in: "low=1d/251d", priority: "low", reason: "longer than 250 business days"},
		{in: "low=1d/99999999999d", priority: "low", reason: "longer than 250 business days"},
		{in: "low=1d/9999999999999d", priority: "low", reason: "not a duration"},
		{in: "high=2d/1d", priority: "high", reason: "longer than resolution"},
		{in: "high=4h/1d,urgent=1h/4h,HIGH=1h/1d", priority: "high", reason: "twice"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			ps, err := ParsePolicies(tc.in, cal)
			if tc.reason != "" {
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Priority != tc.priority || !strings.Contains(pe.Reason, tc.reason) {
					t.Fatalf("error %v, want priority %q and reason containing %q", err, tc.priority, tc.reason)
				}
				if ps != (Policies{}) {
					t.Errorf("policies returned with an error: %v", ps)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := ps.For(tc.p); got != tc.want {
				t.Errorf("For(%s) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

// FuzzParsePolicies: any setting either parses into positive, whole-minute,
// bounded targets whose canonical form parses back to the same policies,
// or fails with a ParseError. The seed corpus in testdata runs in go test.
func FuzzParsePolicies(f *testing.F) {
	f.Add(DefaultPoliciesString, "Mon-Fri 09:00-17:00")
	f.Add("high=1.5h/1d4h, low=0.5d/2.25d", "Mon-Thu 09:00-12:30,13:30-17:00; Fri 09:00-15:00")
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, setting, hours string) {
		cal, err := calendar.Parse(hours, "", loc)
		if err != nil {
			cal = calendar.Default(loc)
		}
		ps, err := ParsePolicies(setting, cal)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Reason == "" || !strings.Contains(err.Error(), pe.Priority) {
				t.Fatalf("error %v is not a ParseError naming its priority", err)
			}
			return
		}
		for _, p := range Priorities() {
			pol, ok := ps.For(p)
			if !ok {
				t.Fatalf("no policy for %s", p)
			}
			for _, d := range []time.Duration{pol.FirstResponse, pol.Resolution} {
				if d <= 0 || d%time.Minute != 0 || d > maxTargetDays*cal.DayLength() {
					t.Fatalf("%s: target %v", p, d)
				}
			}
			if pol.FirstResponse > pol.Resolution {
				t.Fatalf("%s: first response %v after resolution %v", p, pol.FirstResponse, pol.Resolution)
			}
		}
		again, err := ParsePolicies(ps.String(), cal)
		if err != nil || again != ps {
			t.Fatalf("canonical form %q does not parse back: %v, %v", ps.String(), again, err)
		}
	})
}
