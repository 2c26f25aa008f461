//go:build race

package msgsig_test

const raceEnabled = true
