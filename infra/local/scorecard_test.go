package local_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/local/auth"
	"github.com/rapportcrm/rapport/infra/manifest"
)

// reports reads the weekly reports in the outbox: file name → the mail.
func reports(t *testing.T, outbox string) map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "Subject: Scorecard for week") {
			out[filepath.Base(f)] = string(b)
		}
	}
	return out
}

// In Europe/Berlin, across the night summer time begins (Sunday 29 March
// 2026, 02:00 → 03:00): just after midnight the day's and the week's
// snapshots are stored; on Monday 08:00 local (06:00 UTC, no longer
// 07:00) each of the two managers gets one report of week 13 and the agent
// none; the rest of the week mails nobody again, and the next Monday
// brings one report of week 14 each.
func TestWeeklyReportOnceAtEightLocalAcrossDST(t *testing.T) {
	start := time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC) // Sunday 10:00 CEST
	reg := local.DefaultRegistry()
	st, _ := startStack(t, &chain{}, nil, map[string]string{local.ClockVar: start.Format(time.RFC3339), "ORG_TIME_ZONE": "Europe/Berlin"}, func(o *local.Options) {
		o.Registry, o.Rules, o.Schedules = &reg, manifest.Rules, manifest.Schedules
	})
	ctx := within(t, 4*time.Minute)
	token := func(role manifest.Role, user string) string { tok, _ := st.TokenFor(role, user); return tok }
	people := map[string]manifest.Role{"manager-1": manifest.Manager, "manager-2": manifest.Manager, "agent-1": manifest.Agent}
	for user, role := range people { // first use makes their profiles
		if code, _ := sendJSON(t, "GET", st.URL+"/me", token(role, user), nil, nil); code != 200 {
			t.Fatalf("GET /me for %s: %d", user, code)
		}
	}
	lead := "name=Ada+Lovelace&email=ada%40example.com&company=Analytical+Engines&source=website"
	if code, body := call(t, "POST", st.URL+"/leads", "", strings.NewReader(lead)); code != 201 {
		t.Fatalf("POST /leads: %d %s", code, body)
	}

	advanceTo(t, ctx, st, time.Date(2026, 3, 29, 22, 10, 0, 0, time.UTC)) // Monday 00:10 CEST
	manager := token(manifest.Manager, "manager-1")
	var list struct {
		Items []struct {
			Period        string    `json:"period"`
			TakenAt       time.Time `json:"taken_at"`
			ConfigVersion int64     `json:"config_version"`
		} `json:"items"`
	}
	for kind, want := range map[string]string{"day": "2026-03-29", "week": "2026-W13"} {
		sendJSON(t, "GET", st.URL+"/scorecard/snapshots?period="+kind, manager, nil, &list)
		if len(list.Items) == 0 || list.Items[0].Period != want || !list.Items[0].TakenAt.Equal(time.Date(2026, 3, 29, 22, 5, 0, 0, time.UTC)) {
			t.Errorf("%s snapshots after midnight: %+v, want %s taken at 00:05 local", kind, list.Items, want)
		}
	}
	var card struct {
		Period struct {
			ID string `json:"id"`
		} `json:"period"`
		Perspectives []json.RawMessage `json:"perspectives"`
	}
	sendJSON(t, "GET", st.URL+"/scorecard?period=day&at=2026-03-29&snapshot=true", manager, nil, &card)
	if card.Period.ID != "2026-03-29" || len(card.Perspectives) == 0 {
		t.Errorf("the stored day card: %+v", card)
	}
	if got := reports(t, st.Outbox); len(got) != 0 {
		t.Fatalf("reports before Monday 08:00: %v", slices.Collect(maps.Keys(got)))
	}

	advanceTo(t, ctx, st, time.Date(2026, 3, 30, 5, 59, 0, 0, time.UTC)) // 07:59 CEST
	if got := reports(t, st.Outbox); len(got) != 0 {
		t.Fatalf("reports before 08:00 local: %v", slices.Collect(maps.Keys(got)))
	}
	advanceTo(t, ctx, st, time.Date(2026, 3, 30, 6, 1, 0, 0, time.UTC)) // 08:01 CEST
	got := reports(t, st.Outbox)
	if len(got) != 2 {
		t.Fatalf("reports at 08:00 local: %d, want one per manager: %v", len(got), slices.Collect(maps.Keys(got)))
	}
	to := map[string]int{}
	for name, mail := range got {
		if !strings.HasPrefix(name, "20260330T0600") {
			t.Errorf("report %s is not dated Monday 06:00 UTC (08:00 CEST)", name)
		}
		for user := range people {
			if strings.Contains(mail, auth.Email(user)) {
				to[user]++
			}
		}
		for _, want := range []string{"Subject: Scorecard for week 2026-W13", "Overall:", "target", "text/html", "text/plain"} {
			if !strings.Contains(mail, want) {
				t.Errorf("report %s lacks %q", name, want)
			}
		}
	}
	if to["manager-1"] != 1 || to["manager-2"] != 1 || to["agent-1"] != 0 {
		t.Errorf("reports by recipient: %v, want one to each manager and none to the agent", to)
	}

	advanceTo(t, ctx, st, time.Date(2026, 4, 5, 12, 0, 0, 0, time.UTC)) // the following Sunday
	if n := len(reports(t, st.Outbox)); n != 2 {
		t.Errorf("reports by Sunday: %d, want still the two of Monday", n)
	}
	advanceTo(t, ctx, st, time.Date(2026, 4, 6, 6, 1, 0, 0, time.UTC)) // next Monday 08:01 CEST
	got = reports(t, st.Outbox)
	weeks := map[string]int{}
	for _, mail := range got {
		for _, w := range []string{"2026-W13", "2026-W14"} {
			if strings.Contains(mail, "Subject: Scorecard for week "+w) {
				weeks[w]++
			}
		}
	}
	if len(got) != 4 || weeks["2026-W13"] != 2 || weeks["2026-W14"] != 2 {
		t.Errorf("reports after two Mondays: %d, by week %v; want two of each week", len(got), weeks)
	}
}
