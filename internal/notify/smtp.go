package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"net/url"
	"time"
)

// DefaultSendTimeout bounds one SMTP conversation, from dialling to QUIT.
const DefaultSendTimeout = 30 * time.Second

// SMTP sends e-mail through one SMTP server (net/smtp). It is safe for
// concurrent use: each Send has a connection of its own.
type SMTP struct {
	addr        string // host:port
	host        string
	implicitTLS bool
	user, pass  string
	// TLS configures TLS (smtps://, and STARTTLS on smtp:// when the server
	// offers it); nil: the system's roots, for the URL's host.
	TLS *tls.Config
	// Timeout bounds one Send; default DefaultSendTimeout.
	Timeout time.Duration
}

// ErrInvalidURL is ParseSMTP's error for a URL it cannot use.
var ErrInvalidURL = errors.New("notify: invalid SMTP URL")

// ParseSMTP reads an SMTP server's URL: smtp://[user:password@]host[:port]
// (port 587 by default; STARTTLS when the server offers it, and required
// for a password sent to a host other than the loopback), or smtps://…
// (implicit TLS, port 465 by default). User and password are
// percent-encoded.
func ParseSMTP(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	s := &SMTP{host: u.Hostname()}
	port := u.Port()
	switch u.Scheme {
	case "smtp":
		port = cmpOr(port, "587")
	case "smtps":
		port, s.implicitTLS = cmpOr(port, "465"), true
	default:
		return nil, fmt.Errorf("%w: scheme %q: want smtp:// or smtps://", ErrInvalidURL, u.Scheme)
	}
	if s.host == "" {
		return nil, fmt.Errorf("%w: no host", ErrInvalidURL)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: a path, query or fragment is not used; give smtp://user:password@host:port", ErrInvalidURL)
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	s.addr = net.JoinHostPort(s.host, port)
	return s, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// String describes the server without its password.
func (s *SMTP) String() string {
	scheme := "smtp"
	if s.implicitTLS {
		scheme = "smtps"
	}
	if s.user != "" {
		return scheme + "://" + url.User(s.user).String() + "@" + s.addr
	}
	return scheme + "://" + s.addr
}

// SendError is why a Send failed: the step of the conversation and the
// server's reply code when it gave one.
type SendError struct {
	Step string // connect, tls, hello, auth, mail, rcpt, data, quit
	Code int    // the server's reply code; 0 when it sent none
	Err  error
}

func (e *SendError) Error() string { return fmt.Sprintf("smtp %s: %v", e.Step, e.Err) }
func (e *SendError) Unwrap() error { return e.Err }

// Reason names the failure for metrics: the step, and the reply's class
// ("rcpt_5xx", "data_4xx", "connect").
func (e *SendError) Reason() string {
	if e.Code == 0 {
		return e.Step
	}
	return fmt.Sprintf("%s_%dxx", e.Step, e.Code/100)
}

// Permanent reports whether sending the same message again cannot succeed:
// the server refused the recipient or the message itself (5xx). Refusals
// of the sender or the login are not permanent: they are the shop's
// configuration, mended by people, and every message waits for them.
func (e *SendError) Permanent() bool {
	return e.Code >= 500 && (e.Step == "rcpt" || e.Step == "data")
}

func stepErr(step string, err error) error {
	if err == nil {
		return nil
	}
	e := &SendError{Step: step, Err: err}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		e.Code = tp.Code
	}
	return e
}

// Send sends m. It returns once the server has accepted the message (its
// reply to the end of DATA) or failed; when ctx ends first the connection
// is closed at once, and the server, which has not accepted the message,
// drops it.
func (s *SMTP) Send(ctx context.Context, m Message) (err error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSendTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return stepErr("connect", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // ends a conversation stuck on the server
	defer stop()
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
	}()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if s.implicitTLS {
		tc := tls.Client(conn, s.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return stepErr("tls", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return stepErr("hello", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return stepErr("hello", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !s.implicitTLS {
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return stepErr("tls", err)
		}
	}
	if s.user != "" {
		// PlainAuth refuses to send the password without TLS, except to
		// the loopback.
		if err := c.Auth(smtp.PlainAuth("", s.user, s.pass, s.host)); err != nil {
			return stepErr("auth", err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return stepErr("mail", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return stepErr("rcpt", err)
	}
	w, err := c.Data()
	if err != nil {
		return stepErr("data", err)
	}
	if _, err := w.Write(m.Data); err != nil {
		return stepErr("data", err)
	}
	if err := w.Close(); err != nil { // the server's reply: accepted, or not
		return stepErr("data", err)
	}
	// Accepted: a failed QUIT changes nothing for the message.
	_ = c.Quit()
	return nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	if s.TLS != nil {
		return s.TLS
	}
	return &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
}
