// Package smtptest runs a small SMTP server on loopback for tests: it
// speaks enough of RFC 5321 for net/smtp (EHLO, AUTH PLAIN, MAIL, RCPT,
// DATA, RSET, NOOP, QUIT), keeps the messages it accepts, and can refuse
// or stall them. It is for tests only.
package smtptest

import (
	"bytes"
	"encoding/base64"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is the SMTP server. Set its exported fields in Start's configure.
type Server struct {
	t  testing.TB
	ln net.Listener
	// User, when set, is offered AUTH PLAIN and required to log in with
	// the password "secret".
	User string
	// FailData is how many more times the end of DATA is answered 451.
	FailData int
	// HoldData holds the next end of DATA unanswered until the client hangs
	// up (DataStarted then receives), so the message is never accepted.
	HoldData bool
	// Reject lists recipients refused with 550.
	Reject map[string]bool

	mu       sync.Mutex
	accepted []Received

	arrived     chan Received
	dataStarted chan struct{}
}

// Received is a message the server accepted.
type Received struct {
	From, To string
	Msg      *mail.Message
	Body     []byte
}

// Start starts a server, set up by configure (which may be nil) before it
// takes connections; it stops when the test ends.
func Start(t testing.TB, configure func(*Server)) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, ln: ln, arrived: make(chan Received, 100), dataStarted: make(chan struct{}, 1), Reject: map[string]bool{}}
	if configure != nil {
		configure(s)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	})
	return s
}

// URL is the server's smtp:// URL, with the user and password when it
// requires a login.
func (s *Server) URL() string {
	if s.User != "" {
		return "smtp://" + s.User + ":secret@" + s.ln.Addr().String()
	}
	return "smtp://" + s.ln.Addr().String()
}

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	tp := textproto.NewConn(c)
	var from, to string
	authed := s.User == ""
	reply := func(format string, args ...any) { _ = tp.PrintfLine(format, args...) }
	reply("220 127.0.0.1 test ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			if s.User != "" {
				reply("250-127.0.0.1")
				reply("250 AUTH PLAIN")
			} else {
				reply("250 127.0.0.1")
			}
		case "AUTH":
			mech, b64, _ := strings.Cut(arg, " ")
			raw, _ := base64.StdEncoding.DecodeString(b64)
			if mech == "PLAIN" && bytes.Equal(raw, []byte("\x00"+s.User+"\x00secret")) {
				authed = true
				reply("235 2.7.0 accepted")
			} else {
				reply("535 5.7.8 bad credentials")
			}
		case "MAIL":
			if !authed {
				reply("530 5.7.0 authentication required")
				continue
			}
			from = strings.Trim(strings.TrimPrefix(strings.ToUpper(arg[:5])+arg[5:], "FROM:"), "<>")
			reply("250 2.1.0 ok")
		case "RCPT":
			to = strings.Trim(arg[len("TO:"):], "<>")
			s.mu.Lock()
			refused := s.Reject[to]
			s.mu.Unlock()
			if refused {
				reply("550 5.1.1 no such mailbox")
				continue
			}
			reply("250 2.1.5 ok")
		case "DATA":
			reply("354 go ahead")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			hold, fail := s.HoldData, s.FailData > 0
			s.HoldData = false
			if fail {
				s.FailData--
			}
			s.mu.Unlock()
			if hold {
				// Not accepted until answered: wait for the client to hang up.
				s.dataStarted <- struct{}{}
				_, _ = tp.ReadLine()
				return
			}
			if fail {
				reply("451 4.3.0 try again later")
				continue
			}
			m, err := mail.ReadMessage(bytes.NewReader(data))
			if err != nil {
				reply("554 5.6.0 bad message")
				continue
			}
			body, _ := readAll(m)
			r := Received{From: from, To: to, Msg: m, Body: body}
			s.mu.Lock()
			s.accepted = append(s.accepted, r)
			s.mu.Unlock()
			reply("250 2.0.0 queued")
			s.arrived <- r
		case "RSET", "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 5.5.2 not implemented")
		}
	}
}

func readAll(m *mail.Message) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(m.Body)
	return b.Bytes(), err
}

// Wait returns the next message accepted, failing the test after 20 s.
func (s *Server) Wait() Received {
	s.t.Helper()
	select {
	case r := <-s.arrived:
		return r
	case <-time.After(20 * time.Second):
		s.t.Fatal("no e-mail arrived within 20 s")
		return Received{}
	}
}

// Count is how many messages were accepted.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.accepted)
}

// DataStarted receives when a held DATA (HoldData) has arrived.
func (s *Server) DataStarted() <-chan struct{} { return s.dataStarted }
