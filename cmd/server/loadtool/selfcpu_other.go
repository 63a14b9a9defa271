//go:build !unix

package main

import "time"

// selfCPU is not measured where there is no getrusage: 0.
func selfCPU() time.Duration { return 0 }
