//go:build !race

package clusterenv

const raceEnabled = false
