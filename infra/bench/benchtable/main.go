// Command benchtable reads the output of `make bench` — the benchmark
// lines of `go test -bench` and the lines of `make sizes` — and prints the
// one table the README shows: each figure beside the baseline measured in
// the same run, and their ratio.
//
//	go run ./infra/bench/benchtable FILE...
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// results holds each benchmark's metrics by unit, by benchmark name
// without its GOMAXPROCS suffix.
type results map[string]map[string]float64

var (
	benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)
	sizeLine  = regexp.MustCompile(`^(\S+)\s+(\d+) bytes binary\s+(\d+) bytes zipped`)
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtable FILE...")
		os.Exit(2)
	}
	r, sizes := results{}, map[string][2]int{}
	for _, name := range os.Args[1:] {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		read(f, r, sizes)
		f.Close()
	}
	print(os.Stdout, r, sizes)
}

func read(in io.Reader, r results, sizes map[string][2]int) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := sizeLine.FindStringSubmatch(line); m != nil {
			bin, _ := strconv.Atoi(m[2])
			zip, _ := strconv.Atoi(m[3])
			sizes[m[1]] = [2]int{bin, zip}
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		fields := strings.Fields(m[2])
		metrics := map[string]float64{}
		for i := 0; i+1 < len(fields); i += 2 {
			if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
				metrics[fields[i+1]] = v
			}
		}
		r[m[1]] = metrics
	}
}

// get returns a metric, and whether it was measured.
func (r results) get(bench, unit string) (float64, bool) {
	m, ok := r[bench]
	if !ok {
		return 0, false
	}
	v, ok := m[unit]
	return v, ok
}

// costRows are the per-operation rows: the label and the benchmark.
var costRows = []struct{ label, bench string }{
	{"baseline: PutItem of one lead-sized item", "BenchmarkCaptureCost/baseline=PutItem"},
	{"baseline: GetItem of that item", "BenchmarkOpCosts/baseline=GetItem"},
	{"new lead (web form)", "BenchmarkCaptureCost/new-lead"},
	{"duplicate lead", "BenchmarkCaptureCost/duplicate"},
	{"ticket opened (web form)", "BenchmarkOpCosts/ticket"},
	{"first public reply", "BenchmarkOpCosts/reply"},
	{"survey answer (CSAT + CES)", "BenchmarkOpCosts/survey-answer"},
	{"counted event (ticket.opened)", "BenchmarkOpCosts/counted-event"},
	{"idle sweep", "BenchmarkTimerCost/idle-sweep"},
}

func print(w io.Writer, r results, sizes map[string][2]int) {
	fmt.Fprintln(w, "Rapport — make bench (every figure from this run)")
	fmt.Fprintln(w)

	putWCU, _ := r.get("BenchmarkCaptureCost/baseline=PutItem", "WCU/op")
	getRCU, _ := r.get("BenchmarkOpCosts/baseline=GetItem", "RCU/op")
	fmt.Fprintln(w, "DynamoDB per operation                     requests     RCU     WCU   RCU÷GetItem  WCU÷PutItem")
	row := func(label, bench string) {
		req, ok := r.get(bench, "requests/op")
		if !ok {
			fmt.Fprintf(w, "%-42s  (not measured)\n", label)
			return
		}
		rcu, _ := r.get(bench, "RCU/op")
		wcu, _ := r.get(bench, "WCU/op")
		fmt.Fprintf(w, "%-42s %8.2f %7.2f %7.2f  %11s  %11s\n", label, req, rcu, wcu, ratio(rcu, getRCU), ratio(wcu, putWCU))
	}
	for _, c := range costRows {
		row(c.label, c.bench)
	}
	for _, p := range []string{"day", "week", "month", "quarter"} {
		for _, n := range []string{"1000", "100000"} {
			row(fmt.Sprintf("GET /scorecard %s, %s events", p, thousands(n)), "BenchmarkScorecardReadCost/"+p+"/events="+n)
		}
		small, ok1 := r.get("BenchmarkScorecardReadCost/"+p+"/events=1000", "RCU/op")
		large, ok2 := r.get("BenchmarkScorecardReadCost/"+p+"/events=100000", "RCU/op")
		sreq, _ := r.get("BenchmarkScorecardReadCost/"+p+"/events=1000", "requests/op")
		lreq, _ := r.get("BenchmarkScorecardReadCost/"+p+"/events=100000", "requests/op")
		if ok1 && ok2 {
			fmt.Fprintf(w, "  %s: 100,000 ÷ 1,000 events = %s requests, %s RCU\n", p, ratio(lreq, sreq), ratio(large, small))
		}
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "HTTP load on the local stack (50 clients posting the contact form)")
	lr, ok := r.get("BenchmarkFormLoad", "leads-req/s")
	if !ok {
		fmt.Fprintln(w, "  (not measured)")
	} else {
		br, _ := r.get("BenchmarkFormLoad", "bare-req/s")
		line := func(label, prefix string) {
			rps, _ := r.get("BenchmarkFormLoad", prefix+"req/s")
			p50, _ := r.get("BenchmarkFormLoad", prefix+"ms-p50")
			p99, _ := r.get("BenchmarkFormLoad", prefix+"ms-p99")
			errs, _ := r.get("BenchmarkFormLoad", prefix+"errors")
			fmt.Fprintf(w, "  %-34s %8.0f req/s  p50 %6.1f ms  p99 %7.1f ms  errors %.0f\n", label, rps, p50, p99, errs)
		}
		line("POST /leads (leads function)", "leads-")
		line("POST /bare (one PutItem handler)", "bare-")
		people, _ := r.get("BenchmarkFormLoad", "distinct-people")
		stored, _ := r.get("BenchmarkFormLoad", "leads-stored")
		fmt.Fprintf(w, "  leads ÷ bare throughput: %s; leads stored %.0f for %.0f distinct people\n", ratio(lr, br), stored, people)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "Cold start to the first Runtime API request (median)     ÷ hello-world Go Lambda")
	hello, ok := r.get("BenchmarkColdStart/hello", "ms-init-median")
	if !ok {
		fmt.Fprintln(w, "  (not measured)")
	} else {
		fmt.Fprintf(w, "  %-12s %7.1f ms\n", "hello", hello)
		for _, name := range sortedFunctions(r) {
			v, _ := r.get("BenchmarkColdStart/"+name, "ms-init-median")
			fmt.Fprintf(w, "  %-12s %7.1f ms   %s\n", name, v, ratio(v, hello))
		}
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "Zipped size of each function (linux/arm64, make sizes)")
	if len(sizes) == 0 {
		fmt.Fprintln(w, "  (not measured)")
	}
	var names []string
	for n := range sizes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %6.2f MB zipped (%6.2f MB binary)\n", n, float64(sizes[n][1])/1e6, float64(sizes[n][0])/1e6)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "New-lead latency as the table grows (leads handler in process, 4 clients)")
	first, ok := r.get("BenchmarkNewLeadLatency", "first-ms")
	if !ok {
		fmt.Fprintln(w, "  (not measured)")
	} else {
		last, _ := r.get("BenchmarkNewLeadLatency", "last-ms")
		fmt.Fprintf(w, "  median of the first tenth %.2f ms, of the last tenth (after ~20,000 leads) %.2f ms: ratio %s\n", first, last, ratio(last, first))
	}
	if fresh, ok := r.get("BenchmarkLeadToScorecard", "ms-median/op"); ok {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "Event → scorecard freshness on the local stack (lead posted → GET /scorecard counts it): median %.1f ms\n", fresh)
	}
}

func sortedFunctions(r results) []string {
	var out []string
	for k := range r {
		if n, ok := strings.CutPrefix(k, "BenchmarkColdStart/"); ok && n != "hello" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func ratio(v, base float64) string {
	if v == 0 {
		return "—"
	}
	if base == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", v/base)
}

func thousands(n string) string {
	if len(n) <= 3 {
		return n
	}
	return thousands(n[:len(n)-3]) + "," + n[len(n)-3:]
}
