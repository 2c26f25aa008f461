//go:build !race

package assertion_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
