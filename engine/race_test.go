//go:build race

package engine_test

// raceEnabled: the race detector slows everything several times over, so
// tests that bound CPU time skip under it, and so do those that measure a
// process's memory (its shadow memory is not given back).
const raceEnabled = true
