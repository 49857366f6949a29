// Package bench holds the benchmarks that need whole binaries: the cold
// start of each function against a hello-world Lambda built with the same
// flags, on a fake Lambda Runtime API. `make bench` runs them beside the
// per-operation benchmarks and prints one table (cmd/benchtable).
package bench
