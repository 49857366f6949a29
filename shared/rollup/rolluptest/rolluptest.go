// Package rolluptest gives tests the catalogue's sample events as
// envelopes, variants of them, random streams of them, and the oracle a
// rollup store must agree with: the contributions of a stream added up in
// memory, each event once.
package rolluptest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// testdata is events/testdata, found from this file so that any package's
// tests can read it.
func testdata() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "events", "testdata")
}

// Sample returns the catalogue's sample event of detailType as the
// envelope the relay publishes, its id the detail's event_id.
func Sample(t testing.TB, detailType string) events.Envelope {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata(), detailType+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", detailType, err)
	}
	var meta events.Metadata
	if err := json.Unmarshal(ev.Detail, &meta); err != nil {
		t.Fatalf("%s: %v", detailType, err)
	}
	return events.Envelope{ID: meta.EventID, Source: ev.Source, DetailType: ev.DetailType, Time: meta.OccurredAt, Detail: ev.Detail}
}

// Edit returns env with the detail fields named in changes set (a dotted
// name reaches into an object: "first_response.status"; a nil value
// removes the field), under event id id when it is not empty.
func Edit(t testing.TB, env events.Envelope, id string, changes map[string]any) events.Envelope {
	t.Helper()
	out, err := edit(env, id, changes)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func edit(env events.Envelope, id string, changes map[string]any) (events.Envelope, error) {
	var d map[string]any
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return env, err
	}
	if id != "" {
		changes["event_id"] = id
		env.ID = id
	}
	for name, v := range changes {
		obj, path := d, strings.Split(name, ".")
		for _, p := range path[:len(path)-1] {
			next, ok := obj[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				obj[p] = next
			}
			obj = next
		}
		if v == nil {
			delete(obj, path[len(path)-1])
		} else {
			obj[path[len(path)-1]] = v
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return env, err
	}
	env.Detail = b
	if at, ok := changes["occurred_at"].(time.Time); ok {
		env.Time = at
	}
	return env, nil
}

// Key names one scope's rollup of one day.
type Key = rollup.Key

// Oracle adds up what envs contribute, in order, the way the store must:
// each event id once (the first event under it that adds anything), and
// each Once key for its first event only — rollup.Fold, the definition the
// store's recomputation shares. It returns the rollup of each scope and
// day touched.
func Oracle(envs []events.Envelope, zone *time.Location) (map[Key]*scorecard.Rollup, error) {
	f, err := rollup.Fold(envs, zone, nil)
	if err != nil {
		return nil, err
	}
	return f.Rollups, nil
}

// Sum returns the merge of the oracle's rollups of scope on the days first
// to last.
func Sum(o map[Key]*scorecard.Rollup, scope rollup.Scope, first, last period.Period) (*scorecard.Rollup, error) {
	out := &scorecard.Rollup{}
	for d := first; d.ID() <= last.ID(); d = d.Next() {
		if err := out.Merge(o[Key{Scope: scope, Day: d.ID()}]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
