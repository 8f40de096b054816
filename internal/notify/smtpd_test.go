package notify_test

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

// smtpd is a small SMTP server on loopback for the tests: it speaks enough
// of RFC 5321 for net/smtp (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP,
// QUIT), keeps the messages it accepts, and can refuse or stall them.
type smtpd struct {
	t    *testing.T
	ln   net.Listener
	user string // with a user, AUTH PLAIN is offered and required

	mu       sync.Mutex
	accepted []received
	failData int  // answer 451 to the end of DATA this many more times
	holdData bool // hold the next end of DATA unanswered until the client hangs up
	reject   map[string]bool

	arrived     chan received // each message accepted
	dataStarted chan struct{} // a held DATA has arrived
}

type received struct {
	From, To string
	Msg      *mail.Message
	Body     []byte
}

// startSMTPD starts a server, set up by configure (which may be nil)
// before it takes connections.
func startSMTPD(t *testing.T, configure func(*smtpd)) *smtpd {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpd{t: t, ln: ln, arrived: make(chan received, 100), dataStarted: make(chan struct{}, 1), reject: map[string]bool{}}
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

func (s *smtpd) url() string {
	if s.user != "" {
		return "smtp://" + s.user + ":secret@" + s.ln.Addr().String()
	}
	return "smtp://" + s.ln.Addr().String()
}

func (s *smtpd) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	tp := textproto.NewConn(c)
	var from, to string
	authed := s.user == ""
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
			if s.user != "" {
				reply("250-127.0.0.1")
				reply("250 AUTH PLAIN")
			} else {
				reply("250 127.0.0.1")
			}
		case "AUTH":
			mech, b64, _ := strings.Cut(arg, " ")
			raw, _ := base64.StdEncoding.DecodeString(b64)
			if mech == "PLAIN" && bytes.Equal(raw, []byte("\x00"+s.user+"\x00secret")) {
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
			refused := s.reject[to]
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
			hold, fail := s.holdData, s.failData > 0
			s.holdData = false
			if fail {
				s.failData--
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
			r := received{From: from, To: to, Msg: m, Body: body}
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

// wait returns the next message accepted, failing the test after a while.
func (s *smtpd) wait() received {
	s.t.Helper()
	select {
	case r := <-s.arrived:
		return r
	case <-time.After(20 * time.Second):
		s.t.Fatal("no e-mail arrived within 20 s")
		return received{}
	}
}

// count is how many messages were accepted.
func (s *smtpd) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.accepted)
}
