package streams_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/infra/local/streams"
)

// handled syncs p and returns the partition keys its handler got so far.
func handled(t *testing.T, p *streams.Poller, rec *recorder) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := p.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		select {
		case b := <-rec.batches:
			got = append(got, pks(b)...)
		default:
			return got
		}
	}
}

// TestARestartReadsOnFromTheCheckpoint: a poller started again with the
// checkpoints of the one before hands the handler only what that one had
// not — including what was written while none ran — as an event source
// mapping does, instead of the whole stream again.
func TestARestartReadsOnFromTheCheckpoint(t *testing.T) {
	f := newFixture(t)
	cps := streams.NewFileCheckpoints(filepath.Join(t.TempDir(), "relay.json"))

	first := newRecorder(nil)
	p, stop := f.run(t, first.handle, streams.Options{Checkpoints: cps})
	f.put(t, "ITEM#1", nil)
	f.put(t, "ITEM#2", nil)
	if got := handled(t, p, first); !slices.Equal(got, []string{"ITEM#1", "ITEM#2"}) {
		t.Fatalf("the first poller handled %v", got)
	}
	stop()

	f.put(t, "ITEM#3", nil) // while no poller runs

	again := newRecorder(nil)
	p, _ = f.run(t, again.handle, streams.Options{Checkpoints: cps})
	f.put(t, "ITEM#4", nil)
	if got := handled(t, p, again); !slices.Equal(got, []string{"ITEM#3", "ITEM#4"}) {
		t.Errorf("after the restart the handler got %v, want ITEM#3 and ITEM#4 only", got)
	}

	// Without checkpoints, a poller reads the whole stream.
	all := newRecorder(nil)
	p, _ = f.run(t, all.handle, streams.Options{})
	if got := handled(t, p, all); len(got) != 4 {
		t.Errorf("a poller without checkpoints handled %v, want all four", got)
	}
}

// TestAFailedBatchIsNotCheckpointed: a batch the handler fails is read
// again after a restart.
func TestAFailedBatchIsNotCheckpointed(t *testing.T) {
	f := newFixture(t)
	cps := streams.NewFileCheckpoints(filepath.Join(t.TempDir(), "relay.json"))
	failing := newRecorder(func(int, []lambdaevents.DynamoDBEventRecord) (lambdaevents.DynamoDBEventResponse, error) {
		return lambdaevents.DynamoDBEventResponse{}, context.DeadlineExceeded
	})
	_, stop := f.run(t, failing.handle, streams.Options{Checkpoints: cps})
	f.put(t, "ITEM#1", nil)
	failing.next(t) // handled, and failed
	stop()

	again := newRecorder(nil)
	p, _ := f.run(t, again.handle, streams.Options{Checkpoints: cps})
	if got := handled(t, p, again); !slices.Equal(got, []string{"ITEM#1"}) {
		t.Errorf("after the restart the handler got %v, want the failed ITEM#1 again", got)
	}
}

func TestFileCheckpointsHoldOneStream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.json")
	cps := streams.NewFileCheckpoints(path)
	if got, err := cps.Load("stream-1"); err != nil || len(got) != 0 {
		t.Fatalf("no file: %v, %v", got, err)
	}
	for _, s := range [][2]string{{"shard-a", "10"}, {"shard-b", "7"}, {"shard-a", "12"}} {
		if err := cps.Save("stream-1", s[0], s[1]); err != nil {
			t.Fatal(err)
		}
	}
	reopened := streams.NewFileCheckpoints(path)
	got, err := reopened.Load("stream-1")
	if err != nil || got["shard-a"] != "12" || got["shard-b"] != "7" || len(got) != 2 {
		t.Errorf("Load after a restart: %v, %v", got, err)
	}
	// A table made anew has a new stream: the old one's checkpoints do
	// not apply, and the first Save for the new one forgets them.
	if got, err := reopened.Load("stream-2"); err != nil || len(got) != 0 {
		t.Errorf("another stream: %v, %v", got, err)
	}
	if err := reopened.Save("stream-2", "shard-c", "1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := streams.NewFileCheckpoints(path).Load("stream-1"); len(got) != 0 {
		t.Errorf("the old stream's checkpoints are still there: %v", got)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := streams.NewFileCheckpoints(path).Load("stream-2"); err == nil {
		t.Error("a file that does not parse loads without an error")
	}
}
