//go:build !race

package msgsig_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
