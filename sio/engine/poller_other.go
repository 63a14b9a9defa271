//go:build !linux && !js

package engine

// Without epoll, every WebSocket is read by a goroutine of its own.
type pollerSet struct{ noPoller bool }

type poller struct{}

func (s *Server) pollerFor(*wsConn) *poller   { return nil }
func (p *poller) start(*Socket, *wsConn) bool { return false }
func (p *poller) remove(*wsConn)              {}
