//go:build race

package nn_test

// raceEnabled: the race detector adds allocations of its own.
const raceEnabled = true
