//go:build race

package assertion_test

const raceEnabled = true
