// Package email implements the `email` step type: a message sent through
// Kibana's .email connector (an SMTP server) with net/smtp, upgrading to TLS
// with STARTTLS whenever the server offers it.
//
// SMTP cannot tell a client whether a message was already delivered, so a
// retry after a lost answer to the end of DATA may deliver twice. Both
// copies then carry the same Message-ID (derived from the step's
// idempotency key), which mail clients use to collapse duplicates.
package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Field names under `with` (Kibana's .email params).
const (
	fTo          = "to"
	fCc          = "cc"
	fBcc         = "bcc"
	fSubject     = "subject"
	fMessage     = "message"
	fMessageHTML = "messageHTML"
)

var spec = &step.Spec{
	Type:     "email",
	Kind:     step.KindActivity,
	Category: "notify",
	Status:   step.StatusCore,
	Summary:  "Send an email through an .email (SMTP) connector.",
	Doc: "Sends one message through the connector's SMTP server (`config.host`, `config.port`, `config.from`, " +
		"`config.secure` for implicit TLS, `config.hasAuth`; `secrets.user`/`secrets.password`), like Kibana's " +
		"`.email` connector. The connection is upgraded with STARTTLS whenever the server offers it, and credentials " +
		"are never sent over an unencrypted connection to a remote host. `message` is sent as text/plain; with " +
		"`messageHTML` the message is multipart/alternative.\n\n" +
		"The output lists accepted and rejected recipients and the Message-ID, which is derived from the step's " +
		"idempotency key: SMTP has no way to ask whether a message was delivered, so a retry after a lost answer " +
		"may deliver a second copy with the same Message-ID. 4xx SMTP replies and network errors are retryable; " +
		"5xx replies (bad credentials, rejected recipients) are not.",
	With: []step.Field{
		{Name: fTo, Type: step.Any, Doc: "Recipients: a list or a comma-separated string of addresses.", Example: []any{"soc@example.com"}},
		{Name: fCc, Type: step.Any, Doc: "Cc recipients."},
		{Name: fBcc, Type: step.Any, Doc: "Bcc recipients (not shown in the headers)."},
		{Name: fSubject, Type: step.String, Required: true, Doc: "Subject line.", Example: "Alert {{ event.alerts[0].kibana.alert.rule.name }}"},
		{Name: fMessage, Type: step.String, Required: true, Doc: "Message body (plain text)."},
		{Name: fMessageHTML, Type: step.String, Doc: "Optional HTML body, sent as the alternative to message."},
	},
	NeedsConnector: true,
	Output: step.Output{
		Doc:     "What the SMTP server accepted.",
		Example: `{"accepted": ["soc@example.com"], "rejected": [], "envelope": {"from": "secflow@example.com", "to": ["soc@example.com"]}, "messageId": "<0123abcd@example.com>"}`,
	},
	Examples: []step.Example{{
		Title: "Mail the SOC",
		YAML: `- name: mail
  type: email
  connector-id: Elastic-Cloud-SMTP
  with:
    to: [soc@example.com]
    subject: "Alert {{ event.alerts[0].kibana.alert.rule.name }}"
    message: "{{ steps.summary.output.content }}"`,
	}},
	Activity:  Run,
	Timeout:   2 * time.Minute,
	Heartbeat: true,
	Source:    "activities/email/email.go",
}

func init() { step.Register(spec) }

// Mail is one message to send.
type Mail struct {
	From         string
	To, Cc, Bcc  []string
	Subject      string
	Text, HTML   string
	MessageID    string
	Date         time.Time
	boundarySeed string
}

// Run performs the `email` step.
func Run(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	conn, err := rt.Connector(ctx, in.ConnectorID, ".email")
	if err != nil {
		return nil, err
	}
	secrets := activitykit.SecretValues(conn)
	m, err := mailOf(conn, in)
	if err != nil {
		return nil, err
	}
	host := conn.ConfigString("host")
	if host == "" {
		return nil, step.Errorf("ConnectorConfigError", "Connector %s has no config.host", conn.ID)
	}
	secure, _ := activitykit.Bool(conn.Config["secure"])
	port := 25
	if secure {
		port = 465
	}
	if p, ok := activitykit.Int(conn.Config["port"]); ok && p > 0 {
		port = int(p)
	}
	hasAuth, set := activitykit.Bool(conn.Config["hasAuth"])
	if !set {
		hasAuth = conn.Secrets["user"] != ""
	}
	tlsCfg, err := tlsConfig(conn, host)
	if err != nil {
		return nil, step.Errorf("ConnectorConfigError", "%s", activitykit.Redact(err.Error(), secrets...))
	}
	s := &sender{addr: net.JoinHostPort(host, strconv.Itoa(port)), host: host, secure: secure, tls: tlsCfg,
		secrets: secrets}
	if hasAuth {
		s.user, s.password = conn.Secrets["user"], conn.Secrets["password"]
	}
	stop := activitykit.KeepAlive(ctx, 0)
	defer stop()
	accepted, rejected, err := s.send(ctx, m)
	if err != nil {
		return nil, err
	}
	acc, rej := make([]any, len(accepted)), make([]any, len(rejected))
	for i, a := range accepted {
		acc[i] = a
	}
	for i, r := range rejected {
		rej[i] = r
	}
	env := make([]any, 0, len(m.To)+len(m.Cc)+len(m.Bcc))
	for _, a := range recipients(m) {
		env = append(env, a)
	}
	return map[string]any{"accepted": acc, "rejected": rej, "messageId": m.MessageID,
		"envelope": map[string]any{"from": m.From, "to": env}}, nil
}

// mailOf validates the step's params into a Mail.
func mailOf(conn *step.Connector, in step.Input) (*Mail, error) {
	from := conn.ConfigString("from")
	if from == "" {
		return nil, step.Errorf("ConnectorConfigError", "Connector %s has no config.from", conn.ID)
	}
	fromAddr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, step.Errorf("ConnectorConfigError", "Connector %s: config.from is not an email address", conn.ID)
	}
	m := &Mail{From: fromAddr.Address, Subject: in.String(fSubject), Text: in.String(fMessage), HTML: in.String(fMessageHTML),
		Date: time.Now()}
	for _, f := range []struct {
		name string
		dst  *[]string
	}{{fTo, &m.To}, {fCc, &m.Cc}, {fBcc, &m.Bcc}} {
		for _, raw := range addresses(in.With[f.name]) {
			a, err := mail.ParseAddress(raw)
			if err != nil {
				return nil, step.Errorf("InputValidationError", "email: %s: %q is not a valid address", f.name, raw)
			}
			*f.dst = append(*f.dst, a.Address)
		}
	}
	switch {
	case len(m.To)+len(m.Cc)+len(m.Bcc) == 0:
		return nil, step.Errorf("InputValidationError", "email: no [to], [cc], or [bcc] entries")
	case strings.TrimSpace(m.Subject) == "":
		return nil, step.Errorf("InputValidationError", "email: subject is required")
	case m.Text == "" && m.HTML == "":
		return nil, step.Errorf("InputValidationError", "email: message is required")
	}
	domain := m.From[strings.LastIndexByte(m.From, '@')+1:]
	sum := sha256.Sum256([]byte(in.IdempotencyKey))
	m.MessageID = "<" + hex.EncodeToString(sum[:16]) + "@" + domain + ">"
	m.boundarySeed = hex.EncodeToString(sum[16:24])
	return m, nil
}

// addresses reads a list, or a comma-separated string, of addresses.
func addresses(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		list, err := mail.ParseAddressList(x)
		if err != nil {
			for _, s := range strings.Split(x, ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
			return out
		}
		for _, a := range list {
			out = append(out, a.String())
		}
	case []any:
		for _, e := range x {
			if s := strings.TrimSpace(activitykit.Stringify(e)); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func recipients(m *Mail) []string {
	all := append(append(append([]string(nil), m.To...), m.Cc...), m.Bcc...)
	seen := map[string]bool{}
	out := all[:0]
	for _, a := range all {
		if !seen[strings.ToLower(a)] {
			seen[strings.ToLower(a)] = true
			out = append(out, a)
		}
	}
	return out
}

// Bytes renders the message (RFC 5322, MIME, quoted-printable, CRLF).
func (m *Mail) Bytes() []byte {
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", m.From)
	if len(m.To) > 0 {
		h("To", strings.Join(m.To, ", "))
	}
	if len(m.Cc) > 0 {
		h("Cc", strings.Join(m.Cc, ", "))
	}
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", m.Date.Format(time.RFC1123Z))
	h("Message-ID", m.MessageID)
	h("MIME-Version", "1.0")
	part := func(ctype, body string) {
		b.WriteString("Content-Type: " + ctype + "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		w := quotedprintable.NewWriter(&b)
		_, _ = w.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")))
		_ = w.Close()
		b.WriteString("\r\n")
	}
	if m.HTML == "" {
		part("text/plain", m.Text)
		return b.Bytes()
	}
	boundary := "secflow-" + m.boundarySeed
	h("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	b.WriteString("--" + boundary + "\r\n")
	part("text/plain", m.Text)
	b.WriteString("--" + boundary + "\r\n")
	part("text/html", m.HTML)
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes()
}

// tlsConfig trusts the connector's CA (ca / ca_file) and honours
// verification_mode: none.
func tlsConfig(conn *step.Connector, host string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	pem, err := activitykit.CAPEM(conn)
	if err != nil {
		return nil, err
	}
	if pem != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("connector %s: CA bundle holds no PEM certificate", conn.ID)
		}
		cfg.RootCAs = pool
	}
	if conn.ConfigString(activitykit.ConfigVerificationMode) == "none" {
		cfg.InsecureSkipVerify = true //nolint:gosec // explicitly configured verification_mode: none
	}
	return cfg, nil
}

// sender is one SMTP delivery.
type sender struct {
	addr, host     string
	secure         bool
	tls            *tls.Config
	user, password string
	secrets        []string
}

// send delivers m and returns the accepted and rejected recipients.
func (s *sender) send(ctx context.Context, m *Mail) (accepted, rejected []string, err error) {
	origin := "smtp://" + s.addr
	d := &net.Dialer{Timeout: 30 * time.Second}
	var conn net.Conn
	if s.secure {
		conn, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return nil, nil, activitykit.NetworkError(ctx, err, origin, s.secrets...)
	}
	defer conn.Close()
	stopWatch := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stopWatch()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	fail := func(stage string, err error) error { return s.classify(ctx, stage, err, origin) }

	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return nil, nil, fail("greeting", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return nil, nil, fail("EHLO", err)
	}
	if !s.secure {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tls); err != nil {
				return nil, nil, fail("STARTTLS", err)
			}
		}
	}
	if s.user != "" {
		if err := c.Auth(smtp.PlainAuth("", s.user, s.password, s.host)); err != nil {
			return nil, nil, fail("AUTH", err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return nil, nil, fail("MAIL FROM", err)
	}
	for _, rcpt := range recipients(m) {
		activitykit.Heartbeat(ctx)
		if err := c.Rcpt(rcpt); err != nil {
			var te *textproto.Error
			if errors.As(err, &te) && te.Code >= 500 {
				rejected = append(rejected, rcpt)
				continue
			}
			return nil, nil, fail("RCPT TO", err)
		}
		accepted = append(accepted, rcpt)
	}
	if len(accepted) == 0 {
		_ = c.Reset()
		return nil, rejected, step.Errorf("ConnectorExecutionError", "error sending email: all recipients were rejected: %s",
			strings.Join(rejected, ", "))
	}
	w, err := c.Data()
	if err != nil {
		return nil, nil, fail("DATA", err)
	}
	if _, err := w.Write(m.Bytes()); err != nil {
		return nil, nil, fail("DATA", err)
	}
	if err := w.Close(); err != nil {
		return nil, nil, fail("end of DATA", err)
	}
	_ = c.Quit()
	if rejected == nil {
		rejected = []string{}
	}
	return accepted, rejected, nil
}

// classify turns an SMTP failure into a *step.Error: 4xx replies are
// retryable, 5xx replies are not, network failures follow activitykit.
func (s *sender) classify(ctx context.Context, stage string, err error, origin string) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		e := &step.Error{Type: "ConnectorExecutionError",
			Message:   fmt.Sprintf("error sending email: %s: %d %s", stage, te.Code, te.Msg),
			Details:   map[string]any{"code": float64(te.Code), "stage": stage},
			Retryable: te.Code >= 400 && te.Code < 500}
		return activitykit.RedactError(e, s.secrets...)
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &ne) || errors.As(err, &oe) || ctx.Err() != nil || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return activitykit.NetworkError(ctx, err, origin, s.secrets...)
	}
	var ce *tls.CertificateVerificationError
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	if errors.As(err, &ce) || errors.As(err, &ue) || errors.As(err, &he) {
		return step.Errorf("TLSError", "TLS handshake with %s failed: %s", origin, activitykit.Redact(err.Error(), s.secrets...))
	}
	// net/smtp's own refusals (credentials over plain text) and protocol errors.
	return activitykit.RedactError(&step.Error{Type: "ConnectorExecutionError",
		Message: fmt.Sprintf("error sending email: %s: %s", stage, err.Error())}, s.secrets...)
}
