//go:build !linux && !js

package wsio

// Without epoll, every WebSocket is read by a goroutine of its own.
type pollerSet struct{}

type poller struct{}

func (s *Stack) pollerFor(*OwnConn) *poller { return nil }
func (p *poller) start(*OwnConn) bool       { return false }
func (p *poller) remove(*OwnConn)           {}
