package email

import (
	"context"
	"net"
	"net/mail"
	"strings"
	"testing"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/interpreter/step"
)

// startFake serves an SMTP fake and returns it with a runtime whose default
// email connector points at it.
func startFake(t *testing.T) (*sandbox.SMTP, string, step.Runtime) {
	t.Helper()
	fake := sandbox.NewSMTP()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = fake.Serve(ln, nil) }()
	t.Cleanup(func() { _ = fake.Close() })
	addr := ln.Addr().String()
	return fake, addr, connectors.NewRuntime(connectors.ForSandbox(map[string]string{"smtp": "smtp://" + addr}), nil, nil)
}

// customRuntime builds a runtime with one .email connector named "mail".
func customRuntime(t *testing.T, addr string, cfg map[string]any, password string) step.Runtime {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	base := map[string]any{"host": host, "port": port, "from": "SOC <secflow@sandbox.local>", "hasAuth": true}
	for k, v := range cfg {
		base[k] = v
	}
	t.Setenv("MAIL_TEST_USER", sandbox.SMTPUser)
	t.Setenv("MAIL_TEST_PASSWORD", password)
	store, err := connectors.NewStore(connectors.Def{ID: "mail", Type: ".email", Config: base,
		Secrets: map[string]string{"user": "${env:MAIL_TEST_USER}", "password": "${env:MAIL_TEST_PASSWORD}"}})
	if err != nil {
		t.Fatal(err)
	}
	return connectors.NewRuntime(store, nil, nil)
}

var bg = context.Background()

func input(connectorID string, with map[string]any) step.Input {
	return step.Input{Type: "email", Name: "mail", Path: "mail", IdempotencyKey: "wf-1/mail", ConnectorID: connectorID, With: with}
}

func TestSendsMessage(t *testing.T) {
	fake, _, rt := startFake(t)
	out, err := Run(bg, rt, input("email", map[string]any{
		"to": []any{"soc@example.com", "Lead <lead@example.com>"}, "cc": "cc@example.com", "bcc": []any{"audit@example.com"},
		"subject": "Alert: Malware ✓", "message": "Host host-1 isolated.\nCase c-1.",
	}))
	if err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages = %d", len(msgs))
	}
	m := msgs[0]
	if m.From != "secflow@sandbox.local" || strings.Join(m.To, ",") != "soc@example.com,lead@example.com,cc@example.com,audit@example.com" ||
		m.Subject != "Alert: Malware ✓" || m.AuthUser != sandbox.SMTPUser {
		t.Fatalf("message = %+v", m)
	}
	parsed, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Header.Get("Bcc") != "" || parsed.Header.Get("Cc") != "cc@example.com" || parsed.Header.Get("To") != "soc@example.com, lead@example.com" ||
		!strings.HasSuffix(parsed.Header.Get("Message-ID"), "@sandbox.local>") || parsed.Header.Get("Date") == "" {
		t.Fatalf("headers = %v", parsed.Header)
	}
	if !strings.Contains(m.Data, "Host host-1 isolated.\r\nCase c-1.") {
		t.Fatalf("body = %q", m.Data)
	}
	o := out.(map[string]any)
	if len(o["accepted"].([]any)) != 4 || len(o["rejected"].([]any)) != 0 || o["messageId"] != m.MessageID ||
		o["envelope"].(map[string]any)["from"] != "secflow@sandbox.local" {
		t.Fatalf("output = %v", out)
	}
	activitytest.NoSecrets(t, out, sandbox.SMTPPassword)
}

func TestSTARTTLSAndHTML(t *testing.T) {
	fake, addr, _ := startFake(t)
	ca, err := fake.EnableSTARTTLS()
	if err != nil {
		t.Fatal(err)
	}
	rt := customRuntime(t, addr, map[string]any{"ca": string(ca)}, sandbox.SMTPPassword)
	if _, err := Run(bg, rt, input("mail", map[string]any{"to": "a@example.com", "subject": "s", "message": "text", "messageHTML": "<b>html</b>"})); err != nil {
		t.Fatal(err)
	}
	m := fake.Messages()[0]
	if !m.TLS {
		t.Fatal("STARTTLS was offered but not used")
	}
	if !strings.Contains(m.Data, "multipart/alternative") || !strings.Contains(m.Data, "<b>html</b>") || !strings.Contains(m.Data, "text/plain") {
		t.Fatalf("body = %s", m.Data)
	}
	// Without the CA the certificate is not trusted.
	rt = customRuntime(t, addr, nil, sandbox.SMTPPassword)
	_, err = Run(bg, rt, input("mail", map[string]any{"to": "a@example.com", "subject": "s", "message": "m"}))
	if se := activitytest.StepError(t, err); se.Type != "TLSError" || se.Retryable {
		t.Fatalf("untrusted certificate: %+v", se)
	}
}

func TestRetryKeepsMessageID(t *testing.T) {
	fake, _, rt := startFake(t)
	in := input("email", map[string]any{"to": "a@example.com", "subject": "s", "message": "m"})
	for i := 0; i < 2; i++ {
		if _, err := Run(bg, rt, in); err != nil {
			t.Fatal(err)
		}
	}
	msgs := fake.Messages()
	if len(msgs) != 2 || msgs[0].MessageID == "" || msgs[0].MessageID != msgs[1].MessageID {
		t.Fatalf("a retried step must reuse its Message-ID: %+v", msgs)
	}
	in.IdempotencyKey = "wf-2/mail"
	if _, err := Run(bg, rt, in); err != nil {
		t.Fatal(err)
	}
	if m := fake.Messages(); m[2].MessageID == m[0].MessageID {
		t.Fatal("another step must get another Message-ID")
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name      string
		fault     *sandbox.SMTPFault
		password  string
		with      map[string]any
		typ, msg  string
		retryable bool
	}{
		{"bad password", nil, "not-the-password", map[string]any{"to": "a@example.com", "subject": "s", "message": "m"},
			"ConnectorExecutionError", "error sending email: AUTH: 535 5.7.8 Error: authentication failed", false},
		{"mailbox busy", &sandbox.SMTPFault{Command: "RCPT", Code: 450, Text: "4.2.1 Mailbox busy"}, sandbox.SMTPPassword,
			map[string]any{"to": "a@example.com", "subject": "s", "message": "m"}, "ConnectorExecutionError", "error sending email: RCPT TO: 450 4.2.1 Mailbox busy", true},
		{"all rejected", &sandbox.SMTPFault{Command: "RCPT", Code: 550, Text: "5.1.1 No such user"}, sandbox.SMTPPassword,
			map[string]any{"to": "a@example.com", "subject": "s", "message": "m"}, "ConnectorExecutionError", "error sending email: all recipients were rejected: a@example.com", false},
		{"queue full at end of data", &sandbox.SMTPFault{Command: ".", Code: 452, Text: "4.3.1 Insufficient system storage"}, sandbox.SMTPPassword,
			map[string]any{"to": "a@example.com", "subject": "s", "message": "m"}, "ConnectorExecutionError", "", true},
		{"no recipients", nil, sandbox.SMTPPassword, map[string]any{"subject": "s", "message": "m"}, "InputValidationError", "email: no [to], [cc], or [bcc] entries", false},
		{"bad address", nil, sandbox.SMTPPassword, map[string]any{"to": []any{"not an address"}, "subject": "s", "message": "m"}, "InputValidationError", "", false},
		{"no subject", nil, sandbox.SMTPPassword, map[string]any{"to": "a@example.com", "message": "m"}, "InputValidationError", "email: subject is required", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake, addr, _ := startFake(t)
			if c.fault != nil {
				fake.Fail(*c.fault)
			}
			rt := customRuntime(t, addr, nil, c.password)
			_, err := Run(bg, rt, input("mail", c.with))
			se := activitytest.StepError(t, err)
			if se.Type != c.typ || (c.msg != "" && se.Message != c.msg) || se.Retryable != c.retryable {
				t.Fatalf("error = %+v retryable=%v", se, se.Retryable)
			}
			activitytest.NoSecrets(t, err, c.password, sandbox.SMTPPassword)
			if len(fake.Messages()) != 0 {
				t.Fatal("no message expected")
			}
		})
	}
}

func TestRefusedAndPlaintextAuthToRemoteHost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Run(bg, customRuntime(t, addr, nil, "pw-123456"), input("mail", map[string]any{"to": "a@example.com", "subject": "s", "message": "m"}))
	if se := activitytest.StepError(t, err); se.Type != "ConnectionRefused" || !se.Retryable {
		t.Fatalf("refused: %+v", se)
	}
	// A server that is not localhost and offers no TLS never gets the password.
	fake, addr, _ := startFake(t)
	m := &Mail{From: "a@b.c", To: []string{"x@y.z"}, Subject: "s", Text: "t", MessageID: "<1@b.c>"}
	s := &sender{addr: addr, host: "mail.example.com", tls: nil, user: sandbox.SMTPUser, password: sandbox.SMTPPassword,
		secrets: []string{sandbox.SMTPPassword}}
	_, _, err = s.send(bg, m)
	se := activitytest.StepError(t, err)
	if se.Retryable || !strings.Contains(se.Message, "AUTH") {
		t.Fatalf("plaintext auth: %+v", se)
	}
	activitytest.NoSecrets(t, err, sandbox.SMTPPassword)
	if len(fake.Messages()) != 0 {
		t.Fatal("no message expected")
	}
}
