//go:build race

package clusterenv

// raceEnabled: the test binary has the race detector, so Go nodes get it too.
const raceEnabled = true
