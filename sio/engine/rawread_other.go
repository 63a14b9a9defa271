//go:build !unix && !js

package engine

import "net"

// newRawReader: plain reads where descriptors are not unix ones.
func newRawReader(net.Conn) rawReader { return nil }
