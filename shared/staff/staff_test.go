package staff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/staff"
)

// refusingStore fails the test on any use: invalid input must be turned
// away before the store is asked anything.
type refusingStore struct{ t *testing.T }

var _ staff.Store = refusingStore{}

func (s refusingStore) Profile(context.Context, string) (staff.Profile, error) {
	s.t.Error("Profile called")
	return staff.Profile{}, nil
}

func (s refusingStore) Put(context.Context, staff.Profile, int64, staff.TimerChange) error {
	s.t.Error("Put called")
	return nil
}

func (s refusingStore) List(context.Context, staff.Filter) (staff.Page, error) {
	s.t.Error("List called")
	return staff.Page{}, nil
}

func fields(err error) string {
	var e *crm.Error
	if !errors.As(err, &e) {
		return "not a crm.Error: " + err.Error()
	}
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Field)
	}
	return e.Code + ":" + strings.Join(names, ",")
}

func TestInvalidSettingsNameTheFieldAndReachNoStore(t *testing.T) {
	svc := &staff.Service{Store: refusingStore{t}, Now: time.Now}
	ok := staff.Settings{Name: "Ana", Email: "ana@example.com", TimeZone: "Europe/Berlin", Team: "sales", DigestEnabled: true, DigestHour: 8}
	cases := []struct {
		name   string
		change func(*staff.Settings)
		want   string
	}{
		{"unknown zone", func(s *staff.Settings) { s.TimeZone = "Mars/Olympus" }, "invalid:time_zone"},
		{"empty zone", func(s *staff.Settings) { s.TimeZone = " " }, "invalid:time_zone"},
		{"host zone", func(s *staff.Settings) { s.TimeZone = "Local" }, "invalid:time_zone"},
		{"zone path", func(s *staff.Settings) { s.TimeZone = "../../etc/passwd" }, "invalid:time_zone"},
		{"hour 24", func(s *staff.Settings) { s.DigestHour = 24 }, "invalid:digest.hour"},
		{"hour -1", func(s *staff.Settings) { s.DigestHour = -1 }, "invalid:digest.hour"},
		{"bad email", func(s *staff.Settings) { s.Email = "ana at example" }, "invalid:email"},
		{"display name email", func(s *staff.Settings) { s.Email = "Ana <ana@example.com>" }, "invalid:email"},
		{"email without domain dot", func(s *staff.Settings) { s.Email = "ana@localhost" }, "invalid:email"},
		{"long name", func(s *staff.Settings) { s.Name = strings.Repeat("x", 201) }, "invalid:name"},
		{"team with spaces", func(s *staff.Settings) { s.Team = "sales emea" }, "invalid:team"},
		{"long team", func(s *staff.Settings) { s.Team = strings.Repeat("t", 65) }, "invalid:team"},
		{"all at once", func(s *staff.Settings) { s.TimeZone, s.DigestHour, s.Email = "x", 99, "y" },
			"invalid:email,time_zone,digest.hour"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set := ok
			c.change(&set)
			_, err := svc.UpdateMe(context.Background(), staff.Identity{Subject: "sub-1", Role: "agent"}, set, 0)
			if got := fields(err); got != c.want {
				t.Fatalf("UpdateMe: %s, want %s", got, c.want)
			}
		})
	}
	t.Run("patch", func(t *testing.T) {
		hour, zone := 30, "Nowhere/Town"
		_, err := svc.Update(context.Background(), "sub-1", staff.Patch{DigestHour: &hour, TimeZone: &zone}, 1)
		if got := fields(err); got != "invalid:time_zone,digest.hour" {
			t.Fatalf("Update: %s", got)
		}
		if _, err := svc.Update(context.Background(), "sub-1", staff.Patch{}, 0); crm.ErrorCode(err) != crm.EPRECONDITIONREQUIRED {
			t.Fatalf("Update without If-Match: %v", err)
		}
	})
	t.Run("list", func(t *testing.T) {
		for f, want := range map[*staff.Filter]string{
			{Limit: 101}:         "invalid:limit",
			{Limit: -1}:          "invalid:limit",
			{Role: "owner"}:      "invalid:role",
			{Team: "no spaces!"}: "invalid:team",
		} {
			if _, err := svc.List(context.Background(), *f); fields(err) != want {
				t.Errorf("List(%+v): %s, want %s", *f, fields(err), want)
			}
		}
	})
	t.Run("subject", func(t *testing.T) {
		if _, err := svc.Me(context.Background(), staff.Identity{}); crm.ErrorCode(err) != crm.EUNAUTHORIZED {
			t.Fatalf("Me without a subject: %v", err)
		}
		if _, err := svc.Profile(context.Background(), "has space"); crm.ErrorCode(err) != crm.ENOTFOUND {
			t.Fatalf("Profile of a malformed subject: %v", err)
		}
	})
}

func TestValidSubject(t *testing.T) {
	for sub, want := range map[string]bool{
		"4f1c2b7e-9a3d-4e58-b6c1-0d2e3f4a5b6c": true,
		"auth0|5f7c8ec7c33c6c004bbafe82":       true,
		"local-agent":                          true,
		"":                                     false,
		"a b":                                  false,
		"tab\t":                                false,
		"ünïcode":                              false,
		strings.Repeat("x", 129):               false,
	} {
		if got := staff.ValidSubject(sub); got != want {
			t.Errorf("ValidSubject(%q) = %v", sub, got)
		}
	}
}

func TestDigestTimerIsDueAtTheHourInThePersonsZone(t *testing.T) {
	cases := []struct {
		zone string
		hour int
		now  time.Time
		want time.Time
	}{
		// Berlin is UTC+1 in winter: 08:00 there is 07:00Z.
		{"Europe/Berlin", 8, time.Date(2026, 1, 15, 6, 0, 0, 0, time.UTC), time.Date(2026, 1, 15, 7, 0, 0, 0, time.UTC)},
		// Already past today: tomorrow.
		{"Europe/Berlin", 8, time.Date(2026, 1, 15, 7, 0, 0, 0, time.UTC), time.Date(2026, 1, 16, 7, 0, 0, 0, time.UTC)},
		// Summer time: UTC+2, 06:00Z.
		{"Europe/Berlin", 8, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 6, 0, 0, 0, time.UTC)},
		// Clocks go forward at 02:00 on 29 March 2026: a 02:00 digest
		// comes at the jump, 01:00Z.
		{"Europe/Berlin", 2, time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)},
		// Tokyo's 08:00 is the previous UTC day's 23:00.
		{"Asia/Tokyo", 8, time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), time.Date(2026, 1, 15, 23, 0, 0, 0, time.UTC)},
		{"UTC", 0, time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), time.Date(2026, 1, 16, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		p := staff.Profile{Subject: "sub-1", TimeZone: c.zone, DigestEnabled: true, DigestHour: c.hour}
		tm, err := staff.DigestTimer(p, c.now)
		if err != nil {
			t.Fatal(err)
		}
		if !tm.Due.Equal(c.want) || tm.ID != "digest#sub-1" || tm.Daily == nil || tm.Daily.Zone.String() != c.zone || tm.Daily.Hour != c.hour {
			t.Errorf("%s %02d:00 from %s: due %s (%+v), want %s", c.zone, c.hour, c.now, tm.Due, tm.Daily, c.want)
		}
	}
}

// TestDigestEventMatchesItsSchema checks the event a digest timer
// publishes when it fires against the catalogue's schema.
func TestDigestEventMatchesItsSchema(t *testing.T) {
	p := staff.Profile{Subject: "sub-1", TimeZone: "Europe/Berlin", DigestEnabled: true, DigestHour: 8}
	tm, err := staff.DigestTimer(p, time.Date(2026, 1, 15, 6, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	env, err := tm.Envelope()
	if err != nil {
		t.Fatal(err)
	}
	if env.Source != events.SourceReminders || env.DetailType != events.StaffDigestDueType {
		t.Fatalf("envelope %+v", env)
	}
	raw, _ := events.Schema(events.StaffDigestDueType)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("staff.digest_due.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("staff.digest_due.json")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(env.Detail, &v); err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err != nil {
		t.Fatalf("fired detail %s: %v", env.Detail, err)
	}
}
