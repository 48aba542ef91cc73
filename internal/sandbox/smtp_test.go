package sandbox

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/smtp"
	"strings"
	"sync"
	"testing"
)

// smtpRecorder collects the Requests the SMTP fake records.
type smtpRecorder struct {
	mu  sync.Mutex
	got []Request
}

func (r *smtpRecorder) add(req Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, req)
}

func (r *smtpRecorder) all() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.got...)
}

func startSMTP(t *testing.T) (*SMTP, string, *smtpRecorder) {
	t.Helper()
	fake := NewSMTP()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &smtpRecorder{}
	go func() { _ = fake.Serve(ln, rec.add) }()
	t.Cleanup(func() { _ = fake.Close() })
	return fake, ln.Addr().String(), rec
}

func TestSMTPSendWithAuthAndSTARTTLS(t *testing.T) {
	fake, addr, rec := startSMTP(t)
	caPEM, err := fake.EnableSTARTTLS()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("EnableSTARTTLS returned no PEM certificate")
	}
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not offered")
	}
	if err := c.StartTLS(&tls.Config{ServerName: "127.0.0.1", RootCAs: pool}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Fatal("STARTTLS offered again inside TLS")
	}
	if err := c.Mail("a@x"); err == nil || !strings.Contains(err.Error(), "530") {
		t.Fatalf("MAIL before AUTH: %v", err)
	}
	if err := c.Auth(smtp.PlainAuth("", SMTPUser, SMTPPassword, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("soc@secflow.local"); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"a@x.test", "b@x.test"} {
		if err := c.Rcpt(to); err != nil {
			t.Fatal(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("Subject: =?utf-8?q?Alert_=E2=9C=93?=\r\nMessage-ID: <m1@secflow>\r\n\r\n.leading dot\r\nbody\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_ = c.Quit()
	msgs := fake.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages = %+v", msgs)
	}
	m := msgs[0]
	if m.From != "soc@secflow.local" || len(m.To) != 2 || m.Subject != "Alert ✓" || m.MessageID != "<m1@secflow>" ||
		!m.TLS || m.AuthUser != SMTPUser || !strings.Contains(m.Data, "\r\n.leading dot\r\n") {
		t.Fatalf("message = %+v", m)
	}
	if got := rec.all(); len(got) != 1 || got[0].Service != "smtp" {
		t.Fatalf("recorded = %+v", got)
	}
}

func TestSMTPBadPassword(t *testing.T) {
	_, addr, _ := startSMTP(t)
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(smtp.PlainAuth("", SMTPUser, "wrong", "127.0.0.1")); err == nil || !strings.HasPrefix(err.Error(), "535") {
		t.Fatalf("bad password: %v", err)
	}
}

func TestSMTPFaults(t *testing.T) {
	fake, addr, _ := startSMTP(t)
	fake.Fail(SMTPFault{Command: "RCPT", Code: 450, Text: "4.2.1 Mailbox busy"})
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(smtp.PlainAuth("", SMTPUser, SMTPPassword, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("a@x"); err != nil {
		t.Fatal(err)
	}
	err = c.Rcpt("b@x")
	if err == nil || !strings.HasPrefix(err.Error(), "450") {
		t.Fatalf("RCPT fault: %v", err)
	}
	if len(fake.Messages()) != 0 {
		t.Fatal("no message expected")
	}
}

func TestSandboxServesSMTP(t *testing.T) {
	sb, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	addr := sb.Addr("smtp")
	if addr == "" || sb.URL("smtp") != "smtp://"+addr {
		t.Fatalf("SMTP address %q, URL %q", addr, sb.URL("smtp"))
	}
	err = smtp.SendMail(addr, smtp.PlainAuth("", SMTPUser, SMTPPassword, "127.0.0.1"), "a@x.test", []string{"b@x.test"},
		[]byte("Subject: hi\r\n\r\nbody\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := sb.ReceivedBy("smtp"); len(got) != 1 || !strings.Contains(got[0].Body, "body") {
		t.Fatalf("ReceivedBy(smtp) = %+v", got)
	}
	if n := len(sb.Service("smtp").(*SMTP).Messages()); n != 1 {
		t.Fatalf("messages = %d", n)
	}
}
