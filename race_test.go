//go:build race

package approov_test

const raceEnabled = true
