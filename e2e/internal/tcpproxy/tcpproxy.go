// Package tcpproxy is a TCP proxy for tests: it forwards the connections
// it accepts to a target that can be changed, and it can cut every
// connection and stop listening for a while (connections are refused, as
// by a host that is down). Tests put it between
// clients and nodes (a load balancer sending a reconnecting client to
// another node) or between a node and Redis (a node cut from Redis).
package tcpproxy

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy is a running proxy.
type Proxy struct {
	addr string

	mu     sync.Mutex
	ln     net.Listener // nil while cut
	target string       // "" while cut: new connections are closed at once
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
	closed bool
}

// Start listens on a free port of 127.0.0.1 and forwards to target. The
// proxy is closed when the test ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tcpproxy: %v", err)
	}
	p := &Proxy{addr: ln.Addr().String(), ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.accept(ln)
	t.Cleanup(p.Close)
	return p
}

// Addr returns the proxy's address, 127.0.0.1:PORT.
func (p *Proxy) Addr() string { return p.addr }

func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		if target == "" || p.closed {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go p.forward(c, target)
	}
}

func (p *Proxy) forward(c net.Conn, target string) {
	defer p.wg.Done()
	defer p.forget(c)
	u, err := net.Dial("tcp", target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if _, ok := p.conns[c]; !ok { // cut meanwhile
		p.mu.Unlock()
		_ = u.Close()
		_ = c.Close()
		return
	}
	p.conns[u] = struct{}{}
	p.mu.Unlock()
	defer p.forget(u)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// One direction ended: the whole connection goes.
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go pipe(u, c)
	go pipe(c, u)
	<-done
	<-done
}

func (p *Proxy) forget(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

// Cut closes every connection and stops listening until Resume: new
// connections are refused.
func (p *Proxy) Cut() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	p.SetTarget("")
}

// SetTarget sends the new connections to target and closes the current
// ones ("" refuses new connections).
func (p *Proxy) SetTarget(target string) {
	p.mu.Lock()
	p.target = target
	conns := p.conns
	p.conns = make(map[net.Conn]struct{})
	p.mu.Unlock()
	for c := range conns {
		_ = c.Close()
	}
}

// Resume listens again if cut, and sends new connections to target,
// leaving the current ones alone.
func (p *Proxy) Resume(t testing.TB, target string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
	if p.ln != nil || p.closed {
		return
	}
	var err error
	for range 100 { // the port is ours, but its closing may not be done yet
		var ln net.Listener
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.ln = ln
			p.wg.Add(1)
			go p.accept(ln)
			return
		}
		time.Sleep(10 * time.Millisecond) // waiting for the port
	}
	t.Fatalf("tcpproxy: listening again on %s: %v", p.addr, err)
}

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	ln := p.ln
	p.ln = nil
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	p.SetTarget("")
	p.wg.Wait()
}
