//go:build race

package engine_test

// raceEnabled: the race detector slows everything several times over, so
// tests that bound CPU time skip under it.
const raceEnabled = true
