package activity_test

import (
	"testing"

	"github.com/rapportcrm/rapport/infra/local/internal/activity"
)

func TestTrackerCountsAndSignals(t *testing.T) {
	var tr activity.Tracker
	n, gen0, changed := tr.State()
	if n != 0 {
		t.Fatalf("in flight %d at first", n)
	}
	tr.Start()
	select {
	case <-changed:
	default:
		t.Fatal("Start did not signal")
	}
	n, gen1, changed := tr.State()
	if n != 1 || gen1 == gen0 {
		t.Errorf("after Start: %d in flight, generation %d → %d", n, gen0, gen1)
	}
	tr.Done()
	select {
	case <-changed:
	default:
		t.Fatal("Done did not signal")
	}
	// Back to none in flight, but not to the same generation: something
	// started and ended in between.
	if n, gen2, _ := tr.State(); n != 0 || gen2 == gen1 || gen2 == gen0 {
		t.Errorf("after Done: %d in flight, generation %d", n, gen2)
	}
	var none *activity.Tracker
	none.Start() // a nil tracker counts nothing and does not panic
	none.Done()
}
