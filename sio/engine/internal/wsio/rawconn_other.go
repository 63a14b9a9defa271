//go:build !unix && !js

package wsio

import "net"

// newRawConn: plain reads and writes where descriptors are not unix ones.
func newRawConn(net.Conn) rawConn { return nil }

type rawStore struct{}

func initRawConn(*rawStore, net.Conn) rawConn { return nil }
