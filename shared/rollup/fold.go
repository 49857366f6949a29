package rollup

import (
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// Key names one scope's rollup of one day.
type Key struct {
	Scope Scope
	Day   string // "2026-12-03"
}

// Folded is what a sequence of events adds up to.
type Folded struct {
	// Rollups holds the rollup of each scope and day touched.
	Rollups map[Key]*scorecard.Rollup
	// Counted lists, in order, the ids of the events that added something.
	Counted []string
	// Held maps each Once key met to the event that holds it.
	Held map[string]string
}

// Fold adds up what envs contribute, in their order, with days reckoned in
// zone — the one definition of "each event once" that the store, the
// recomputation and the tests' oracle share: an event id counts once (the
// first event under it that adds anything), and a Once key counts for one
// event only: the one held names, when held (the key → event id the store
// recorded) has the key, else the first event carrying it. held is not
// changed; nil holds nothing. An event whose contributions are an error
// is an error.
func Fold(envs []events.Envelope, zone *time.Location, held map[string]string) (*Folded, error) {
	f := &Folded{Rollups: map[Key]*scorecard.Rollup{}, Held: map[string]string{}}
	for k, id := range held {
		f.Held[k] = id
	}
	seen := map[string]bool{}
	for _, env := range envs {
		if seen[env.ID] {
			continue
		}
		cs, err := Contributions(env, zone)
		if err != nil {
			return nil, err
		}
		// An event that adds nothing leaves no mark.
		seen[env.ID] = len(cs) > 0
		if len(cs) == 0 {
			continue
		}
		if key := cs[0].Once; key != "" {
			if holder, ok := f.Held[key]; ok && holder != env.ID {
				continue
			}
			f.Held[key] = env.ID
		}
		f.Counted = append(f.Counted, env.ID)
		for _, c := range cs {
			k := Key{c.Scope, c.Day.ID()}
			if f.Rollups[k] == nil {
				f.Rollups[k] = &scorecard.Rollup{}
			}
			if err := f.Rollups[k].Merge(&c.Adds); err != nil {
				return nil, fmt.Errorf("%s: %w", env.ID, err)
			}
		}
	}
	return f, nil
}
