package timer

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Sweeper fires what is due. A scheduled invocation calls Sweep once a
// minute; overlapping and retried sweeps are safe because Store.Fire fires
// each armed timer once.
type Sweeper struct {
	Store Store
	Now   func() time.Time
	// Batch is how many due timers one read takes (default 200).
	Batch int
	// Parallel is how many transactions of timers fire at once (default 4).
	Parallel int
	// Budget bounds one sweep's work (default 50 s, well inside the
	// function's timeout): a backlog left over is the next sweep's.
	Budget time.Duration
}

// Report says what one sweep did.
type Report struct {
	Fired   int  // timers this sweep fired
	Skipped int  // due timers another sweep fired, or their owner moved or cancelled, first
	Batches int  // reads of due timers
	More    bool // the budget ran out with more due; the next sweep goes on
}

// Sweep fires every timer due by now, oldest first, batch after batch,
// until none is due or the budget is spent.
func (s Sweeper) Sweep(ctx context.Context) (Report, error) {
	batch, parallel, budget := s.Batch, s.Parallel, s.Budget
	if batch <= 0 {
		batch = 200
	}
	if parallel <= 0 {
		parallel = 4
	}
	if budget <= 0 {
		budget = 50 * time.Second
	}
	start := time.Now() // the budget is wall time, whatever clock Now reads
	var rep Report
	for {
		now := s.Now()
		due, more, err := s.Store.Due(ctx, now, batch)
		rep.Batches++
		if err != nil {
			return rep, err
		}
		fired, skipped, err := s.fire(ctx, due, now, parallel)
		rep.Fired += fired
		rep.Skipped += skipped
		if err != nil {
			return rep, err
		}
		if !more {
			return rep, nil
		}
		if time.Since(start) > budget || ctx.Err() != nil {
			rep.More = true
			return rep, nil
		}
	}
}

// fire fires timers in transactions of MaxFire, parallel at a time.
// Batches are taken oldest first; within a batch, fired in parallel anyway,
// the order is shuffled so that overlapping sweeps mostly work on
// different timers instead of racing for the same ones.
func (s Sweeper) fire(ctx context.Context, timers []Timer, now time.Time, parallel int) (fired, skipped int, err error) {
	if parallel > 1 {
		timers = slices.Clone(timers)
		rand.Shuffle(len(timers), func(i, j int) { timers[i], timers[j] = timers[j], timers[i] })
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, parallel)
	)
	for chunk := range slices.Chunk(timers, MaxFire) {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			done, err := s.Store.Fire(ctx, chunk, now)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			for _, ok := range done {
				if ok {
					fired++
				} else if err == nil {
					skipped++
				}
			}
		})
	}
	wg.Wait()
	return fired, skipped, errors.Join(errs...)
}
