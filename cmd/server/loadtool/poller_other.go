//go:build !linux

package main

// pollers: without epoll, every session has a reader goroutine.
type pollers struct{}

func (*pollers) close() {}

func (d *dialer) takeOver(*wsConn, handler, func()) (conn, bool) { return nil, false }
