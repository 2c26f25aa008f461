//go:build !race

package approov_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
