package sandbox

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"time"
)

func init() { register("smtp", func() Service { return NewSMTP() }) }

// SMTPMessage is one message the SMTP fake accepted.
type SMTPMessage struct {
	From      string    `json:"from"`
	To        []string  `json:"to"`
	Subject   string    `json:"subject"`
	MessageID string    `json:"messageId"`
	Data      string    `json:"data"`
	TLS       bool      `json:"tls"`
	AuthUser  string    `json:"authUser,omitempty"`
	At        time.Time `json:"at"`
}

// SMTPFault makes the SMTP fake answer the next occurrence of a command
// (MAIL, RCPT, DATA, AUTH, or "." for the end of the message data) with a
// given reply instead of serving it.
type SMTPFault struct {
	Command string
	Code    int
	Text    string
}

// SMTP is a small SMTP server (RFC 5321) that records the messages it
// accepts: EHLO/HELO, STARTTLS (after EnableSTARTTLS), AUTH PLAIN and LOGIN
// (SMTPUser/SMTPPassword, required before MAIL), MAIL, RCPT, DATA, RSET,
// NOOP, QUIT. Its HTTP handler lists the accepted messages as JSON.
type SMTP struct {
	mu       sync.Mutex
	messages []SMTPMessage
	tlsCfg   *tls.Config
	faults   []SMTPFault
	ln       net.Listener
	conns    map[net.Conn]bool
	closed   bool
}

// NewSMTP returns an SMTP fake without STARTTLS.
func NewSMTP() *SMTP { return &SMTP{conns: map[net.Conn]bool{}} }

// Name implements Service.
func (s *SMTP) Name() string { return "smtp" }

// Scheme implements StreamService.
func (s *SMTP) Scheme() string { return "smtp" }

// Handler implements Service: GET lists the accepted messages.
func (s *SMTP) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"messages": s.Messages()})
	})
}

// Messages returns every accepted message, oldest first.
func (s *SMTP) Messages() []SMTPMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMTPMessage(nil), s.messages...)
}

// Fail queues a fault.
func (s *SMTP) Fail(f SMTPFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// EnableSTARTTLS makes the server offer STARTTLS with a fresh self-signed
// certificate for 127.0.0.1 and localhost, and returns that certificate in
// PEM form (a CA bundle clients can trust).
func (s *SMTP) EnableSTARTTLS() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("smtp fake: key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "secflow sandbox smtp"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("smtp fake: certificate: %w", err)
	}
	s.mu.Lock()
	s.tlsCfg = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	s.mu.Unlock()
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// Serve accepts SMTP sessions on ln until Close; record receives one
// Request per accepted message (for the sandbox page).
func (s *SMTP) Serve(ln net.Listener, record func(Request)) error {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return net.ErrClosed
		}
		s.conns[c] = true
		s.mu.Unlock()
		go func() {
			defer func() {
				_ = c.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
			s.session(c, record)
		}()
	}
}

// Close stops the listener and every open session.
func (s *SMTP) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	if s.ln != nil {
		return s.ln.Close()
	}
	return nil
}

func (s *SMTP) fault(cmd string) (SMTPFault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if strings.EqualFold(f.Command, cmd) {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return f, true
		}
	}
	return SMTPFault{}, false
}

// smtpSession is the state of one connection.
type smtpSession struct {
	conn     net.Conn
	r        *bufio.Reader
	w        *bufio.Writer
	tls      bool
	helo     bool
	authUser string
	from     string
	to       []string
}

func (ss *smtpSession) reply(lines ...string) {
	for _, l := range lines {
		_, _ = ss.w.WriteString(l + "\r\n")
	}
	_ = ss.w.Flush()
}

func (ss *smtpSession) readLine() (string, error) {
	_ = ss.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	l, err := ss.r.ReadString('\n')
	return strings.TrimRight(l, "\r\n"), err
}

func (s *SMTP) session(c net.Conn, record func(Request)) {
	ss := &smtpSession{conn: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}
	ss.reply("220 sandbox.local ESMTP secflow-sandbox")
	for {
		line, err := ss.readLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		if f, ok := s.fault(verb); ok {
			ss.reply(fmt.Sprintf("%d %s", f.Code, f.Text))
			continue
		}
		switch verb {
		case "EHLO":
			s.mu.Lock()
			offerTLS := s.tlsCfg != nil && !ss.tls
			s.mu.Unlock()
			lines := []string{"250-sandbox.local greets " + arg, "250-PIPELINING", "250-SIZE 10485760", "250-8BITMIME"}
			if offerTLS {
				lines = append(lines, "250-STARTTLS")
			}
			lines = append(lines, "250-AUTH PLAIN LOGIN", "250 ENHANCEDSTATUSCODES")
			ss.helo = true
			ss.reply(lines...)
		case "HELO":
			ss.helo = true
			ss.reply("250 sandbox.local")
		case "STARTTLS":
			s.mu.Lock()
			cfg := s.tlsCfg
			s.mu.Unlock()
			if cfg == nil || ss.tls {
				ss.reply("502 5.5.1 STARTTLS not available")
				continue
			}
			ss.reply("220 2.0.0 Ready to start TLS")
			tc := tls.Server(c, cfg)
			if err := tc.Handshake(); err != nil {
				return
			}
			*ss = smtpSession{conn: tc, r: bufio.NewReader(tc), w: bufio.NewWriter(tc), tls: true}
		case "AUTH":
			ss.auth(arg)
		case "MAIL":
			switch {
			case !ss.helo:
				ss.reply("503 5.5.1 Error: send HELO/EHLO first")
			case ss.authUser == "":
				ss.reply("530 5.7.0 Authentication required")
			case !strings.HasPrefix(strings.ToUpper(arg), "FROM:"):
				ss.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
			default:
				ss.from, ss.to = smtpAngle(arg[5:]), nil
				ss.reply("250 2.1.0 Ok")
			}
		case "RCPT":
			switch {
			case ss.from == "":
				ss.reply("503 5.5.1 Error: need MAIL command")
			case !strings.HasPrefix(strings.ToUpper(arg), "TO:") || smtpAngle(arg[3:]) == "":
				ss.reply("501 5.5.4 Syntax: RCPT TO:<address>")
			default:
				ss.to = append(ss.to, smtpAngle(arg[3:]))
				ss.reply("250 2.1.5 Ok")
			}
		case "DATA":
			if len(ss.to) == 0 {
				ss.reply("503 5.5.1 Error: need RCPT command")
				continue
			}
			ss.reply("354 End data with <CR><LF>.<CR><LF>")
			var b strings.Builder
			for {
				l, err := ss.readLine()
				if err != nil {
					return
				}
				if l == "." {
					break
				}
				b.WriteString(strings.TrimPrefix(l, ".") + "\r\n")
			}
			if f, ok := s.fault("."); ok {
				ss.reply(fmt.Sprintf("%d %s", f.Code, f.Text))
				ss.from, ss.to = "", nil
				continue
			}
			msg := SMTPMessage{From: ss.from, To: ss.to, Data: b.String(), TLS: ss.tls, AuthUser: ss.authUser, At: time.Now().UTC()}
			if m, err := mail.ReadMessage(strings.NewReader(msg.Data)); err == nil {
				dec := new(mime.WordDecoder)
				msg.Subject, err = dec.DecodeHeader(m.Header.Get("Subject"))
				if err != nil {
					msg.Subject = m.Header.Get("Subject")
				}
				msg.MessageID = m.Header.Get("Message-ID")
			}
			s.mu.Lock()
			s.messages = append(s.messages, msg)
			n := len(s.messages)
			s.mu.Unlock()
			if record != nil {
				record(Request{Service: "smtp", Method: "DATA", Path: "MAIL FROM:<" + msg.From + ">",
					Query: "RCPT TO:" + strings.Join(msg.To, ","), Body: msg.Data, At: msg.At})
			}
			ss.from, ss.to = "", nil
			ss.reply(fmt.Sprintf("250 2.0.0 Ok: queued as SBX%06d", n))
		case "RSET":
			ss.from, ss.to = "", nil
			ss.reply("250 2.0.0 Ok")
		case "NOOP":
			ss.reply("250 2.0.0 Ok")
		case "QUIT":
			ss.reply("221 2.0.0 Bye")
			return
		default:
			ss.reply("502 5.5.2 Error: command not recognized")
		}
	}
}

// auth runs AUTH PLAIN or AUTH LOGIN.
func (ss *smtpSession) auth(arg string) {
	mech, initial, _ := strings.Cut(arg, " ")
	decode := func(s string) (string, bool) {
		b, err := base64.StdEncoding.DecodeString(s)
		return string(b), err == nil
	}
	var user, pass string
	switch strings.ToUpper(mech) {
	case "PLAIN":
		if initial == "" {
			ss.reply("334 ")
			l, err := ss.readLine()
			if err != nil {
				return
			}
			initial = l
		}
		raw, ok := decode(initial)
		parts := strings.Split(raw, "\x00")
		if !ok || len(parts) != 3 {
			ss.reply("501 5.5.2 Cannot decode response")
			return
		}
		user, pass = parts[1], parts[2]
	case "LOGIN":
		ss.reply("334 VXNlcm5hbWU6")
		l, err := ss.readLine()
		if err != nil {
			return
		}
		user, _ = decode(l)
		ss.reply("334 UGFzc3dvcmQ6")
		if l, err = ss.readLine(); err != nil {
			return
		}
		pass, _ = decode(l)
	default:
		ss.reply("504 5.5.4 Unrecognized authentication type")
		return
	}
	if user != SMTPUser || pass != SMTPPassword {
		ss.reply("535 5.7.8 Error: authentication failed")
		return
	}
	ss.authUser = user
	ss.reply("235 2.7.0 Authentication successful")
}

// angle extracts the address of "<addr> PARAMS".
func smtpAngle(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}
