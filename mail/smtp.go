// Package mail sends Rapport's email: an SMTP client that hands messages
// to the firm's mail server, the MIME message each becomes, and the
// wording of each kind of email, from message catalogues.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rapport-crm/rapport"
)

// Server is where and how to reach the mail server, as an SMTP URL says.
type Server struct {
	// Host and Port of the server.
	Host string
	Port string
	// ImplicitTLS is smtps://: TLS from the first byte. Otherwise the
	// connection is upgraded with STARTTLS whenever the server offers it.
	ImplicitTLS bool
	// Username and Password sign in, when Username is set.
	Username string
	Password string
}

// ParseURL reads an SMTP URL: smtp://user:pass@host:port (port 587 by
// default, STARTTLS where offered) or smtps://user:pass@host:port (465,
// TLS throughout). The user and password are optional, and may be
// percent-encoded.
func ParseURL(s string) (Server, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Server{}, fmt.Errorf("the SMTP URL cannot be read: %w", err)
	}
	var srv Server
	switch u.Scheme {
	case "smtp":
		srv.Port = "587"
	case "smtps":
		srv.Port, srv.ImplicitTLS = "465", true
	default:
		return Server{}, errors.New("the SMTP URL must start smtp:// or smtps://, as smtp://user:password@mail.example.com:587")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return Server{}, errors.New("the SMTP URL must name a host, as smtp://mail.example.com:587")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return Server{}, errors.New("the SMTP URL must be only a scheme, a user, a host and a port")
	}
	srv.Host = u.Hostname()
	if p := u.Port(); p != "" {
		srv.Port = p
	}
	if strings.ContainsAny(srv.Host, "\r\n") {
		return Server{}, errors.New("the SMTP URL's host is not valid")
	}
	if u.User != nil {
		srv.Username = u.User.Username()
		srv.Password, _ = u.User.Password()
		if srv.Username == "" {
			return Server{}, errors.New("the SMTP URL has a password but no user")
		}
	}
	return srv, nil
}

// Options tune a Mailer; a zero field takes the default named beside it.
type Options struct {
	// From is the sender's address, as "Rapport <rapport@example.com>".
	From string
	// TLS configures the connection's TLS (the system's roots, checking
	// the server's name, by default); tests bring their own roots.
	TLS *tls.Config
	// Timeout bounds connecting and each exchange with the server (30 s).
	Timeout time.Duration
	// Idle is how many connections are kept open between emails (4).
	Idle int
	// LocalName is the name given in EHLO ("localhost").
	LocalName string
}

// Mailer sends email through one SMTP server, keeping a few connections
// open between emails. It is a rapport.Mailer and safe for concurrent use.
type Mailer struct {
	srv  Server
	opts Options
	from *mail.Address

	mu   sync.Mutex
	idle []*smtp.Client
}

var _ rapport.Mailer = (*Mailer)(nil)

// New returns a Mailer for srv. From must be a valid address.
func New(srv Server, opts Options) (*Mailer, error) {
	from, err := mail.ParseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("the sender address %q is not valid: %w", opts.From, err)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Idle <= 0 {
		opts.Idle = 4
	}
	if opts.LocalName == "" {
		opts.LocalName = "localhost"
	}
	if opts.TLS == nil {
		opts.TLS = &tls.Config{}
	}
	return &Mailer{srv: srv, opts: opts, from: from}, nil
}

// Send delivers one email; see rapport.Mailer.
func (m *Mailer) Send(ctx context.Context, e rapport.Email) error {
	msg, err := Message(m.from, e, time.Now())
	if err != nil {
		return &rapport.PermanentError{Err: err}
	}
	c, err := m.client(ctx)
	if err != nil {
		return err
	}
	if err := m.transact(c, e.To, msg); err != nil {
		// After a refusal the connection is still good; after anything else
		// it is in an unknown state and is dropped.
		var perm *rapport.PermanentError
		if errors.As(err, &perm) && c.Reset() == nil {
			m.release(c)
		} else {
			c.Close()
		}
		return err
	}
	m.release(c)
	return nil
}

// transact sends one message on an open connection.
func (m *Mailer) transact(c *smtp.Client, to string, msg []byte) error {
	addr, err := mail.ParseAddress(to)
	if err != nil {
		return &rapport.PermanentError{Err: fmt.Errorf("the address %q is not valid", to)}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return smtpError("MAIL FROM", err)
	}
	if err := c.Rcpt(addr.Address); err != nil {
		return smtpError("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return smtpError("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		w.Close()
		return smtpError("DATA", err)
	}
	return smtpError("DATA", w.Close())
}

// smtpError marks a 5xx answer permanent; a 4xx answer or a broken
// connection may go better later.
func smtpError(step string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("%s: %w", step, err)
	var proto *textproto.Error
	if errors.As(err, &proto) && proto.Code >= 500 {
		return &rapport.PermanentError{Err: err}
	}
	return err
}

// client returns an open connection, an idle one when there is one.
func (m *Mailer) client(ctx context.Context) (*smtp.Client, error) {
	m.mu.Lock()
	if n := len(m.idle); n > 0 {
		c := m.idle[n-1]
		m.idle = m.idle[:n-1]
		m.mu.Unlock()
		return c, nil
	}
	m.mu.Unlock()
	return m.dial(ctx)
}

func (m *Mailer) release(c *smtp.Client) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.idle) < m.opts.Idle {
		m.idle = append(m.idle, c)
		return
	}
	c.Quit()
}

// Close closes the idle connections.
func (m *Mailer) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.idle {
		c.Quit()
	}
	m.idle = nil
	return nil
}

// dial connects, says hello, upgrades to TLS where it can and signs in.
func (m *Mailer) dial(ctx context.Context) (*smtp.Client, error) {
	addr := net.JoinHostPort(m.srv.Host, m.srv.Port)
	tlsConf := m.opts.TLS.Clone()
	if tlsConf.ServerName == "" {
		tlsConf.ServerName = m.srv.Host
	}
	d := &net.Dialer{Timeout: m.opts.Timeout}
	var conn net.Conn
	var err error
	if m.srv.ImplicitTLS {
		conn, err = (&tls.Dialer{NetDialer: d, Config: tlsConf}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to the mail server %s: %w", addr, err)
	}
	conn.SetDeadline(time.Now().Add(m.opts.Timeout))
	c, err := smtp.NewClient(conn, m.srv.Host)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("greeting from the mail server %s: %w", addr, err)
	}
	if err := m.prepare(c, tlsConf); err != nil {
		c.Close()
		return nil, fmt.Errorf("mail server %s: %w", addr, err)
	}
	// Exchanges after this one are bounded by the server's own timeouts and
	// the context of the sender; an idle connection is dropped by the
	// server, which the next send finds out and answers by retrying.
	conn.SetDeadline(time.Time{})
	return c, nil
}

func (m *Mailer) prepare(c *smtp.Client, tlsConf *tls.Config) error {
	if err := c.Hello(m.opts.LocalName); err != nil {
		return err
	}
	if !m.srv.ImplicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConf); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
		}
	}
	if m.srv.Username == "" {
		return nil
	}
	if ok, _ := c.Extension("AUTH"); !ok {
		return errors.New("the server offers no sign-in, but the SMTP URL has a user")
	}
	// PlainAuth refuses to send the password without TLS, except to this
	// machine itself.
	if err := c.Auth(smtp.PlainAuth("", m.srv.Username, m.srv.Password, m.srv.Host)); err != nil {
		return fmt.Errorf("sign-in: %w", err)
	}
	return nil
}
