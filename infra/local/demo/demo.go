// Package demo fills an empty local stack with a small company's last
// months — leads, customers, purchases, tickets, survey answers and
// follow-ups — through the stack's real HTTP API, on its movable clock, so
// that every event, rollup, timer and mail happens as it would have. The
// script is fixed (one math/rand seed): two runs of one Plan send the same
// requests.
//
// `make dev` runs Full on first start with an empty table (local.Options's
// Seed); the tests run a shrunk Plan.
package demo

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rapportcrm/rapport/infra/local"
)

// Plan sizes the demo. The history spans the stack's SeedSpan (the clock
// starts that long ago); Leads and Tickets are spread over its days.
type Plan struct {
	Leads, Tickets int
	// Seed is the script's random seed.
	Seed uint64
	// Workers send a slot's requests in parallel.
	Workers int
	// SweepEvery is the least simulated time between two runs of the timer
	// sweep while the clock moves (local.Stack.SetClockEvery).
	SweepEvery time.Duration
}

// Full is `make dev`'s demo: about 2,000 leads and 600 tickets over 90
// days.
var Full = Plan{Leads: 2000, Tickets: 600, Seed: 11, Workers: 6, SweepEvery: 3 * time.Hour}

// Counts says what the demo did, as the API answered it.
type Counts struct {
	Leads, Duplicates, Spam            int64 // new leads, re-submissions merged, honeypot posts refused
	Contacted, Converted, Lost         int64
	Purchases                          int64
	Tickets, Replies, Solved           int64
	Invitations, Answers               int64 // survey invitations found in the outbox, answers given
	Followups, FollowupsLate, Unopened int64 // follow-ups made, done after they fell due, never done
	Staff                              int64
}

func (c *Counts) String() string {
	return fmt.Sprintf("%d leads (+%d duplicates merged, %d spam refused), %d contacted, %d converted, %d lost, "+
		"%d purchases, %d tickets (%d replies, %d solved), %d survey invitations, %d answers, "+
		"%d follow-ups (%d done late, %d left open), %d staff",
		c.Leads, c.Duplicates, c.Spam, c.Contacted, c.Converted, c.Lost, c.Purchases,
		c.Tickets, c.Replies, c.Solved, c.Invitations, c.Answers, c.Followups, c.FollowupsLate, c.Unopened, c.Staff)
}

// Seed returns the local.Options.Seed hook running p and writing one line
// of what it did to report.
func Seed(p Plan, report io.Writer) func(context.Context, *local.Stack) error {
	return func(ctx context.Context, st *local.Stack) error {
		began := time.Now()
		c, err := run(ctx, st, p, report)
		if err != nil {
			return err
		}
		if report != nil {
			fmt.Fprintf(report, "  Demo data      %s, in %.1f s\n", c.String(), time.Since(began).Seconds())
		}
		return nil
	}
}

// slotHours are the hours (UTC) of a day at which the script acts: the
// morning in Berlin, midday, the morning in New York, its afternoon.
var slotHours = []int{8, 11, 14, 18}

// Run lives through the stack's time from its frozen clock's instant to
// the real now, slot by slot, sending what Plan p says happens in each,
// then leaves the clock at now (the caller lets it run: RunClock).
func Run(ctx context.Context, st *local.Stack, p Plan) (*Counts, error) { return run(ctx, st, p, nil) }

// run is Run writing a line of progress to progress (if not nil) every
// progressDays days of the history.
func run(ctx context.Context, st *local.Stack, p Plan, progress io.Writer) (*Counts, error) {
	if !st.Frozen() {
		return nil, local.ErrClockReal
	}
	if p.Workers < 1 {
		p.Workers = 1
	}
	end := time.Now().UTC()
	start := st.Now()
	day0 := start.Truncate(24 * time.Hour)
	var slots []time.Time
	for d := day0; d.Before(end); d = d.Add(24 * time.Hour) {
		for _, h := range slotHours {
			if at := d.Add(time.Duration(h) * time.Hour); at.After(start) && at.Before(end) {
				slots = append(slots, at)
			}
		}
	}
	s := &script{
		p: p, rng: rand.New(rand.NewPCG(p.Seed, p.Seed^0x5eed)), c: newClient(st, p.Workers),
		st: st, slots: slots, agenda: map[int][]action{}, seen: map[string]bool{}, progress: progress, began: time.Now(),
	}
	if err := s.run(ctx); err != nil {
		return &s.n, err
	}
	if _, err := st.SetClockEvery(ctx, time.Now().UTC(), p.SweepEvery); err != nil {
		return &s.n, err
	}
	return &s.n, nil
}

// action is one request (or a few) of one slot. It may put actions in
// later slots; its random choices were made when it was planned, so the
// order in which a slot's actions run changes nothing.
type action func(ctx context.Context, s *script, slot int) error

type script struct {
	p     Plan
	rng   *rand.Rand // planning only, never inside an action
	c     *client
	st    *local.Stack
	slots []time.Time
	n     Counts

	mu     sync.Mutex
	agenda map[int][]action
	seen   map[string]bool // outbox files read
	people []customer      // everyone who wrote in so far, for tickets and duplicates

	progress io.Writer // nil: quiet
	began    time.Time
}

// progressDays is how many days of the history pass between two lines of
// progress.
const progressDays = 15

// later puts a in slot (dropped past the end of the history).
func (s *script) later(slot int, a action) {
	if slot >= len(s.slots) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.agenda[slot] = append(s.agenda[slot], a)
}

func (s *script) run(ctx context.Context) error {
	if err := s.staff(ctx); err != nil {
		return err
	}
	perDayLeads, perDayTickets := s.volumes()
	for i, at := range s.slots {
		if _, err := s.st.SetClockEvery(ctx, at, s.p.SweepEvery); err != nil {
			return fmt.Errorf("move the clock to %s: %w", at.Format(time.RFC3339), err)
		}
		s.c.renewTokens()
		day := int(at.Sub(s.slots[0].Truncate(24*time.Hour)) / (24 * time.Hour))
		k := slotIndex(at)
		// Plan the slot's arrivals, in order, from the one random source.
		for range share(perDayLeads[day], k) {
			s.planLead(i)
		}
		for range share(perDayTickets[day], k) {
			s.planTicket(i)
		}
		if k == 0 {
			if err := s.answerSurveys(i); err != nil {
				return err
			}
		}
		if err := s.runSlot(ctx, i); err != nil {
			return fmt.Errorf("at %s: %w", at.Format(time.RFC3339), err)
		}
		if last := i == len(s.slots)-1 || slotIndex(s.slots[i+1]) == 0; last && (day+1)%progressDays == 0 {
			s.report(day+1, len(perDayLeads), at)
		}
	}
	return nil
}

// report writes a line of progress: day of days lived, at at.
func (s *script) report(day, days int, at time.Time) {
	if s.progress == nil {
		return
	}
	fmt.Fprintf(s.progress, "  Demo data      day %d of %d (%s): %d leads, %d tickets, %d survey answers so far, %.0f s\n",
		day, days, at.Format(time.DateOnly), atomic.LoadInt64(&s.n.Leads), atomic.LoadInt64(&s.n.Tickets),
		atomic.LoadInt64(&s.n.Answers), time.Since(s.began).Seconds())
}

// runSlot runs slot i's actions on p.Workers workers.
func (s *script) runSlot(ctx context.Context, i int) error {
	s.mu.Lock()
	todo := s.agenda[i]
	delete(s.agenda, i)
	s.mu.Unlock()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(s.p.Workers, len(todo)) {
		wg.Go(func() {
			for {
				j := int(next.Add(1)) - 1
				if j >= len(todo) || ctx.Err() != nil {
					return
				}
				if err := todo[j](ctx, s, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// volumes spreads the leads and tickets over the days: weekdays busy,
// weekends quiet, a slow rise over the months.
func (s *script) volumes() (leads, tickets []int) {
	days := int(s.slots[len(s.slots)-1].Sub(s.slots[0].Truncate(24*time.Hour))/(24*time.Hour)) + 1
	w := make([]float64, days)
	sum := 0.0
	for d := range days {
		w[d] = 1 + 0.5*float64(d)/float64(days)
		if wd := s.slots[0].Add(time.Duration(d) * 24 * time.Hour).Weekday(); wd == time.Saturday || wd == time.Sunday {
			w[d] *= 0.35
		}
		sum += w[d]
	}
	spread := func(total int) []int {
		out := make([]int, days)
		carry := 0.0
		for d := range days {
			x := float64(total)*w[d]/sum + carry
			out[d] = int(x)
			carry = x - float64(out[d])
		}
		return out
	}
	return spread(s.p.Leads), spread(s.p.Tickets)
}

// share is slot k's part of a day's n arrivals (most in the first three).
func share(n, k int) int {
	parts := []float64{0.3, 0.3, 0.25, 0.15}
	lo := int(math.Round(float64(n) * cum(parts, k)))
	hi := int(math.Round(float64(n) * cum(parts, k+1)))
	return hi - lo
}

func cum(p []float64, k int) float64 {
	t := 0.0
	for i := range min(k, len(p)) {
		t += p[i]
	}
	return t
}

func slotIndex(at time.Time) int {
	for k, h := range slotHours {
		if at.Hour() == h {
			return k
		}
	}
	return 0
}

// pick returns one of xs with the given weights.
func pick[T any](r *rand.Rand, xs []T, weights ...float64) T {
	t := 0.0
	for _, w := range weights {
		t += w
	}
	x := r.Float64() * t
	for i, w := range weights {
		if x < w {
			return xs[i]
		}
		x -= w
	}
	return xs[len(xs)-1]
}

// pareto draws from a Pareto distribution with scale xm and shape alpha
// (1.16 puts about 80% of the total on the top 20%).
func pareto(r *rand.Rand, xm, alpha float64) float64 {
	return xm / math.Pow(1-r.Float64(), 1/alpha)
}
