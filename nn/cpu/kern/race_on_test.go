//go:build race

package kern

// raceEnabled: the race detector's sync.Pool drops items on purpose, so
// allocation counts are meaningless.
const raceEnabled = true
