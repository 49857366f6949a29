package dynamodbserver

import "golang.org/x/sys/unix"

// pinThreadToOneCPU restricts the calling OS thread to one CPU, the last it
// may run on, so that a child process it starts inherits that one CPU, and
// returns what puts the thread's CPUs back. On a single CPU, or when the
// kernel refuses, it changes nothing. The caller has locked its goroutine
// to the thread.
//
// dynoxide answers one request at a time through its one SQLite
// connection, but its runtime spreads that work over threads on every CPU,
// and the allocator of its static binary maps and unmaps memory for most
// requests: each unmapping then interrupts the other CPUs to flush their
// TLBs. On one CPU that costs nothing. During the demo seed, about 140,000
// requests, dynoxide used about a fifth less CPU pinned (README.md here).
func pinThreadToOneCPU() (restore func()) {
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil || all.Count() < 2 {
		return func() {}
	}
	last := -1
	for cpu := range len(all) * 64 {
		if all.IsSet(cpu) {
			last = cpu
		}
	}
	var one unix.CPUSet
	one.Set(last)
	if unix.SchedSetaffinity(0, &one) != nil {
		return func() {}
	}
	return func() { _ = unix.SchedSetaffinity(0, &all) }
}
