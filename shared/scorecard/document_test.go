package scorecard_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the machine's zoneinfo

	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var computedAt = time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)

func berlin(t testing.TB, id string) period.Period {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	p, err := period.Parse(id, loc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// counterKPI is a test KPI whose value is counter c itself, and which has no
// data when c is absent.
func counterKPI(id string, p scorecard.PerspectiveID, weight float64, c scorecard.Counter) scorecard.KPI {
	return scorecard.KPI{
		ID: id, Name: id, Perspective: p, Unit: scorecard.UnitPoints, Direction: scorecard.HigherIsBetter,
		Baseline: 0, Target: 100, Weight: weight,
		Measure: func(r *scorecard.Rollup) (scorecard.Measurement, bool) {
			v, ok := r.Counters[c]
			return scorecard.Measurement{Value: float64(v), Samples: 1}, ok
		},
	}
}

func rollupOf(counts map[scorecard.Counter]int64) *scorecard.Rollup {
	return &scorecard.Rollup{Counters: counts}
}

// TestWeightedMeans checks no-data KPIs and perspectives, weights of zero
// and the renormalisation of the weights that remain.
func TestWeightedMeans(t *testing.T) {
	cat := &scorecard.Catalogue{
		Perspectives: []scorecard.Perspective{
			{ID: scorecard.Financial, Name: "Financial", Weight: 1},
			{ID: scorecard.Customer, Name: "Customer", Weight: 3},
			{ID: scorecard.InternalProcess, Name: "Internal process", Weight: 2},
			{ID: scorecard.LearningGrowth, Name: "Learning & growth", Weight: 0},
		},
		KPIs: []scorecard.KPI{
			counterKPI("a", scorecard.Financial, 1, "a"),
			counterKPI("b", scorecard.Financial, 3, "b"),
			counterKPI("c", scorecard.Financial, 2, "c"), // no data
			counterKPI("d", scorecard.Financial, 0, "d"), // shown, not counted
			counterKPI("e", scorecard.Customer, 1, "e"),
			counterKPI("f", scorecard.InternalProcess, 1, "f"), // no data: perspective has none
			counterKPI("g", scorecard.LearningGrowth, 1, "g"),  // perspective weight 0
		},
	}
	must(t, cat.Validate())
	doc := cat.Score(scorecard.Input{
		Period:     berlin(t, "2026-W47"),
		Current:    rollupOf(map[scorecard.Counter]int64{"a": 100, "b": 0, "d": 100, "e": 75, "g": 10}),
		ComputedAt: computedAt,
	})

	type want struct {
		score  *float64
		status scorecard.Status
	}
	perspectives := map[scorecard.PerspectiveID]want{
		// (100·1 + 0·3) / (1+3): c has no data, d weighs nothing.
		scorecard.Financial:       {f(25), scorecard.Red},
		scorecard.Customer:        {f(75), scorecard.Amber},
		scorecard.InternalProcess: {nil, scorecard.NoData},
		scorecard.LearningGrowth:  {f(10), scorecard.Red},
	}
	for _, p := range doc.Perspectives {
		w := perspectives[p.ID]
		if !sameScore(p.Score, w.score) || p.Status != w.status {
			t.Errorf("%s: score %v %q, want %v %q", p.ID, show(p.Score), p.Status, show(w.score), w.status)
		}
	}
	// (25·1 + 75·3) / (1+3): internal process has no data, learning &
	// growth weighs nothing.
	if !sameScore(doc.Score, f(62.5)) || doc.Status != scorecard.Amber {
		t.Errorf("overall %v %q, want 62.5 amber", show(doc.Score), doc.Status)
	}

	c := doc.Perspectives[0].KPIs[2]
	if c.ID != "c" || c.Value != nil || c.Score != nil || c.Status != scorecard.NoData || c.Samples != 0 {
		t.Errorf("KPI without data: %+v", c)
	}
	if d := doc.Perspectives[0].KPIs[3]; d.Score == nil || *d.Score != 100 || d.Weight != 0 {
		t.Errorf("KPI of weight 0 should still be scored and shown: %+v", d)
	}

	// With no data at all there is no score anywhere.
	empty := cat.Score(scorecard.Input{Period: berlin(t, "2026-W47"), ComputedAt: computedAt})
	if empty.Score != nil || empty.Status != scorecard.NoData {
		t.Errorf("empty card scored %v %q", show(empty.Score), empty.Status)
	}
	for _, p := range empty.Perspectives {
		if p.Score != nil || len(p.KPIs) == 0 {
			t.Errorf("empty card: %s scored %v with %d KPIs", p.ID, show(p.Score), len(p.KPIs))
		}
	}
}

// TestPreviousAndTrend checks previous values and trends, including a
// previous period with no data.
func TestPreviousAndTrend(t *testing.T) {
	cat := &scorecard.Catalogue{
		Perspectives: []scorecard.Perspective{{ID: scorecard.Customer, Name: "Customer", Weight: 1}},
		KPIs: []scorecard.KPI{
			counterKPI("up", scorecard.Customer, 1, "up"),
			counterKPI("down", scorecard.Customer, 1, "down"),
			counterKPI("same", scorecard.Customer, 1, "same"),
			counterKPI("new", scorecard.Customer, 1, "new"),
			counterKPI("gone", scorecard.Customer, 1, "gone"),
		},
	}
	doc := cat.Score(scorecard.Input{
		Period:     berlin(t, "2026-W47"),
		Current:    rollupOf(map[scorecard.Counter]int64{"up": 40, "down": 20, "same": 30, "new": 5}),
		Previous:   rollupOf(map[scorecard.Counter]int64{"up": 30, "down": 25, "same": 30, "gone": 7}),
		ComputedAt: computedAt,
	})
	tests := map[string]struct {
		previous *float64
		trend    scorecard.Trend
	}{
		"up":   {f(30), scorecard.Better},
		"down": {f(25), scorecard.Worse},
		"same": {f(30), scorecard.Flat},
		"new":  {nil, scorecard.NoTrend},
		"gone": {f(7), scorecard.NoTrend}, // no value now, so no trend
	}
	for _, k := range doc.Perspectives[0].KPIs {
		w := tests[k.ID]
		if !sameScore(k.Previous, w.previous) || k.Trend != w.trend {
			t.Errorf("%s: previous %v trend %q, want %v %q", k.ID, show(k.Previous), k.Trend, show(w.previous), w.trend)
		}
	}
}

// TestIssueExample reproduces the NPS line of the example in issue 3.
func TestIssueExample(t *testing.T) {
	current, previous := &scorecard.Rollup{}, &scorecard.Rollup{}
	// 25 promoters − 8 detractors of 50 answers = 34 points, up from
	// 20 − 5 of 50 = 30. (The example's 120 samples cannot give exactly 34.)
	answer(t, current, scorecard.NPS, 10, 25)
	answer(t, current, scorecard.NPS, 8, 17)
	answer(t, current, scorecard.NPS, 3, 8)
	answer(t, previous, scorecard.NPS, 9, 20)
	answer(t, previous, scorecard.NPS, 7, 25)
	answer(t, previous, scorecard.NPS, 0, 5)
	doc := scorecard.DefaultCatalogue().Score(scorecard.Input{
		Period: berlin(t, "2026-W47"), Current: current, Previous: previous, ComputedAt: computedAt,
	})
	for _, p := range doc.Perspectives {
		for _, k := range p.KPIs {
			if k.ID != scorecard.KPINPS {
				continue
			}
			got, _ := json.Marshal(k)
			want := `{"id":"nps","name":"Net Promoter Score","unit":"points","direction":"higher_is_better","value":34,"target":50,"baseline":0,"score":68,"status":"amber","weight":1,"samples":50,"previous":30,"trend":"better"}`
			if string(got) != want {
				t.Errorf("nps line:\n got %s\nwant %s", got, want)
			}
		}
	}
	if doc.Team != nil {
		t.Errorf("team = %q, want null for the whole organisation", *doc.Team)
	}
}

// TestGoldenDocuments pins the JSON GET /scorecard will serve. Run with
// -update after a deliberate change and read the diff.
func TestGoldenDocuments(t *testing.T) {
	previous := handWorked(t)
	must(t, previous.Add(scorecard.LeadsCaptured, 20))      // conversion falls to 5%
	must(t, previous.Add(scorecard.SLABreached, 4))         // SLA compliance falls to 75%
	must(t, previous.Add(scorecard.FollowUpsDoneOnTime, 2)) // follow-ups on time rise to 90%
	tests := []struct {
		file string
		in   scorecard.Input
	}{
		{"week.golden.json", scorecard.Input{
			Period: berlin(t, "2026-W47"), Current: handWorked(t), Previous: previous, ComputedAt: computedAt,
		}},
		{"team_no_data.golden.json", scorecard.Input{
			Period: berlin(t, "2026-W53"), Team: "north", ComputedAt: computedAt,
		}},
	}
	for _, tt := range tests {
		doc := scorecard.DefaultCatalogue().Score(tt.in)
		got, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", tt.file)
		if *update {
			must(t, os.WriteFile(path, got, 0o644))
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the document computed:\n%s", path, got)
		}
		var back scorecard.Document
		if err := json.Unmarshal(want, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, doc) {
			t.Errorf("%s does not read back into the same Document", path)
		}
	}
}

func sameScore(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return math.Abs(*a-*b) < 1e-9
}

func show(p *float64) any {
	if p == nil {
		return "null"
	}
	return *p
}
