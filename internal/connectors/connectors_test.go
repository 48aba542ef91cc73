package connectors

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

const sampleYAML = `
allowedHosts: [api.example.com, "*.virustotal.com"]
connectors:
  - id: es-main
    name: Main cluster
    type: .elasticsearch
    config: { url: "https://${env:TEST_ES_HOST}:9200" }
    secrets: { apiKey: "${env:TEST_ES_KEY}" }
  - id: kb
    type: kibana
    default: true
    config: { url: https://kibana.example.com, space: soc }
    secrets: { username: "${env:TEST_KB_USER}", password: "${file:PASSWORD_FILE}" }
  - id: soc-slack
    name: SOC Slack
    type: .slack_api
    secrets: { token: "${env:TEST_SLACK_TOKEN}" }
  - id: dup-name
    name: SOC Slack
    type: .slack
    secrets: { webhookUrl: "${env:TEST_HOOK}" }
  - id: slack2
    type: .slack_api
    default: true
    secrets: { token: "${env:TEST_SLACK_TOKEN}" }
`

func loadSample(t *testing.T) *Store {
	t.Helper()
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("s3cret-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_ES_HOST", "es.internal")
	t.Setenv("TEST_ES_KEY", "es-key-value")
	t.Setenv("TEST_KB_USER", "svc-secflow")
	t.Setenv("TEST_SLACK_TOKEN", "xoxb-test-token")
	path := filepath.Join(dir, "connectors.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(sampleYAML, "PASSWORD_FILE", pw)), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func TestLoadResolves(t *testing.T) {
	s := loadSample(t)
	ctx := context.Background()
	tests := []struct {
		name, ref string
		types     []string
		wantID    string
		wantErr   string
	}{
		{name: "by id", ref: "es-main", wantID: "es-main"},
		{name: "by name", ref: "Main cluster", wantID: "es-main"},
		{name: "first match of a shared name", ref: "SOC Slack", wantID: "soc-slack"},
		{name: "default marked", types: []string{".slack_api"}, wantID: "slack2"},
		{name: "default first of type", types: []string{".elasticsearch"}, wantID: "es-main"},
		{name: "type without dot", types: []string{"kibana"}, wantID: "kb"},
		{name: "default of second type", types: []string{".gen-ai", ".kibana"}, wantID: "kb"},
		{name: "not found", ref: "nope", wantErr: "Connector nope not found"},
		{name: "id required", wantErr: "Connector ID is required"},
		{name: "no default", types: []string{".gen-ai"}, wantErr: "No default .gen-ai connector configured"},
		{name: "wrong type", ref: "es-main", types: []string{".slack"}, wantErr: "has type .elasticsearch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.Resolve(ctx, tt.ref, tt.types...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ID != tt.wantID {
				t.Fatalf("got %s, want %s", c.ID, tt.wantID)
			}
		})
	}
}

func TestSecretsResolvedOnlyOnResolve(t *testing.T) {
	s := loadSample(t)
	for _, d := range s.List() {
		for k, v := range d.Secrets {
			if !strings.HasPrefix(v, "${") {
				t.Fatalf("List exposes a resolved secret %s.%s", d.ID, k)
			}
		}
	}
	c, err := s.Resolve(context.Background(), "kb")
	if err != nil {
		t.Fatal(err)
	}
	if c.Secrets["username"] != "svc-secflow" || c.Secrets["password"] != "s3cret-from-file" {
		t.Fatalf("secrets = %v", c.Secrets)
	}
	if c.ConfigString("space") != "soc" {
		t.Fatalf("config = %v", c.Config)
	}
	es, _ := s.Resolve(context.Background(), "es-main")
	if es.ConfigString("url") != "https://es.internal:9200" {
		t.Fatalf("config references not expanded: %v", es.Config)
	}
	if got := s.AllowedHosts(); len(got) != 2 || got[0] != "api.example.com" {
		t.Fatalf("allowedHosts = %v", got)
	}
}

func TestMissingSecretErrorHasNoValue(t *testing.T) {
	s := loadSample(t)
	t.Setenv("TEST_HOOK", "")
	_, err := s.Resolve(context.Background(), "dup-name")
	if err == nil || !strings.Contains(err.Error(), "TEST_HOOK is not set") {
		t.Fatalf("err = %v", err)
	}
	if se := step.AsError(err); se.Type != "ConnectorSecretError" {
		t.Fatalf("type = %s", se.Type)
	}
}

func TestRejects(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"literal secret", "connectors:\n- {id: a, type: .slack_api, secrets: {token: xoxb-literal}}\n", "literal secrets are not allowed"},
		{"credential in config", "connectors:\n- {id: a, type: .gen-ai, config: {apiKey: sk-1}}\n", "config.apiKey is a credential"},
		{"missing type", "connectors:\n- {id: a}\n", "type is required"},
		{"missing id", "connectors:\n- {type: .slack}\n", "without an id"},
		{"duplicate id", "connectors:\n- {id: a, type: .slack}\n- {id: a, type: .jira}\n", "defined twice"},
		{"unknown key", "connectors:\n- {id: a, type: .slack, secret: {}}\n", "field secret not found"},
		{"credential header in config", "connectors:\n- {id: a, type: .webhook, config: {url: 'https://x', headers: {Authorization: Bearer sk-1}}}\n", "config.headers.Authorization is a credential"},
		{"nested api key", "connectors:\n- {id: a, type: .http, config: {auth: [{x-api-key: sk-1}]}}\n", "config.auth[0].x-api-key is a credential"},
		{"password in url", "connectors:\n- {id: a, type: .webhook, config: {url: 'https://u:sk-1@api.example.com/'}}\n", "config.url is a URL with an embedded password"},
		{"slack webhook in config", "connectors:\n- {id: a, type: .webhook, config: {url: 'https://hooks.slack.com/services/T0/B0/sk-1'}}\n", "config.url is a Slack webhook URL"},
		{"bad private network", "blockPrivateNetworks: true\nallowedPrivateNetworks: [10.0.0.0/8, intranet.local]\n", `allowedPrivateNetworks: "intranet.local" is not an IP address or CIDR network`},
		{"relative file ref", "connectors:\n- {id: a, type: .slack_api, secrets: {token: '${file:secrets/tok}'}}\n", "the path must be absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(fmtErr(err), "xoxb-literal") || strings.Contains(fmtErr(err), "sk-1") {
				t.Fatalf("error leaks the literal: %v", err)
			}
		})
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestEnvDefaults(t *testing.T) {
	t.Setenv("SECFLOW_ES_URL", "https://es:9200")
	t.Setenv("SECFLOW_ES_API_KEY", "k")
	t.Setenv("SECFLOW_KIBANA_URL", "https://kb:5601")
	t.Setenv("SECFLOW_KIBANA_USERNAME", "u")
	t.Setenv("SECFLOW_KIBANA_PASSWORD", "p")
	t.Setenv("SECFLOW_KIBANA_SPACE", "soc")
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	es, err := s.Resolve(context.Background(), "", ".elasticsearch")
	if err != nil || es.Secrets["apiKey"] != "k" || es.ConfigString("url") != "https://es:9200" {
		t.Fatalf("es = %+v, %v", es, err)
	}
	kb, err := s.Resolve(context.Background(), "", ".kibana")
	if err != nil || kb.Secrets["username"] != "u" || kb.Secrets["password"] != "p" || kb.ConfigString("space") != "soc" {
		t.Fatalf("kb = %+v, %v", kb, err)
	}
}

func TestForSandbox(t *testing.T) {
	s := ForSandbox(map[string]string{"elasticsearch": "http://127.0.0.1:1/", "kibana": "http://127.0.0.1:2",
		"openai": "http://127.0.0.1:3", "smtp": "smtp://127.0.0.1:2525"})
	rt := NewRuntime(s, nil, nil)
	ctx := context.Background()
	for typ, want := range map[string]string{".elasticsearch": "http://127.0.0.1:1", ".kibana": "http://127.0.0.1:2"} {
		c, err := rt.Connector(ctx, "", typ)
		if err != nil || c.ConfigString("url") != want || c.Secrets["apiKey"] == "" {
			t.Fatalf("%s: %+v %v", typ, c, err)
		}
	}
	ai, err := rt.Connector(ctx, "", ".gen-ai")
	if err != nil || ai.ConfigString("apiUrl") != "http://127.0.0.1:3/v1/chat/completions" {
		t.Fatalf("openai: %+v %v", ai, err)
	}
	mail, err := rt.Connector(ctx, "email")
	if err != nil || mail.ConfigString("host") != "127.0.0.1" || mail.Config["port"] != float64(2525) {
		t.Fatalf("email: %+v %v", mail, err)
	}
	if _, err := rt.Connector(ctx, "slack"); err == nil {
		t.Fatal("slack connector exists without a slack URL")
	}
	for _, d := range s.List() {
		if len(d.Secrets) != 0 {
			t.Fatalf("List exposes sandbox secrets of %s", d.ID)
		}
	}
}

func TestSecretFileHandling(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "token")
	if err := os.WriteFile(real, []byte("file-token-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, maxSecretFileBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path, want, wantErr string }{
		{"regular", real, "file-token-value", ""},
		{"symlink followed", link, "file-token-value", ""},
		{"directory", dir, "", "not a regular file"},
		{"too large", big, "", "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewStore(Def{ID: "a", Type: ".slack_api", Secrets: map[string]string{"token": "${file:" + tt.path + "}"}})
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.Resolve(context.Background(), "a")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || c.Secrets["token"] != tt.want {
				t.Fatalf("got %v %v", c, err)
			}
		})
	}
	// A relative path is refused even where a reference is resolved directly
	// (config references).
	if _, err := Parse([]byte("connectors:\n- {id: a, type: .http, config: {url: 'https://x/${file:rel}'}}\n")); err == nil ||
		!strings.Contains(err.Error(), "must be absolute") {
		t.Fatalf("config relative ref: %v", err)
	}
}

func TestPrivateNetworks(t *testing.T) {
	tests := []struct {
		name, yaml string
		block      bool
		allowed    string
	}{
		{"absent", "connectors: []\n", false, ""},
		{"on", "blockPrivateNetworks: true\n", true, ""},
		{"on with exemptions", "blockPrivateNetworks: true\nallowedPrivateNetworks: [10.20.0.0/16, 192.168.1.5, \"fd00::/8\"]\n", true,
			"10.20.0.0/16 192.168.1.5/32 fd00::/8"},
	}
	for _, tt := range tests {
		s, err := Parse([]byte(tt.yaml))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		rt := NewRuntime(s, nil, nil)
		block, nets := rt.(activitykit.NetworkPolicy).PrivateNetworks()
		got := make([]string, len(nets))
		for i, n := range nets {
			got[i] = n.String()
		}
		if block != tt.block || strings.Join(got, " ") != tt.allowed {
			t.Errorf("%s: PrivateNetworks() = %v %v", tt.name, block, got)
		}
	}
}

// TestRuntimeClientRefusesMetadata: the default client every integration
// uses refuses cloud-metadata addresses without any allowedHosts, checked
// on the dialled address (no network needed: refused before connecting).
func TestRuntimeClientRefusesMetadata(t *testing.T) {
	s, _ := NewStore()
	hc := NewRuntime(s, nil, nil).HTTPClient()
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://100.100.100.200/"} {
		_, err := hc.Get(u)
		if se := step.AsError(err); se == nil || se.Type != "ForbiddenAddress" {
			t.Errorf("%s: err = %v", u, err)
		}
	}
	// Integrations clone the transport for TLS settings; the guard stays.
	c := &step.Connector{ID: "x", Config: map[string]any{"verification_mode": "none"}}
	chc, err := activitykit.ClientFor(hc, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chc.Get("http://169.254.169.254/"); step.AsError(err) == nil || step.AsError(err).Type != "ForbiddenAddress" {
		t.Errorf("cloned client: err = %v", err)
	}
	// Private networks stay reachable for integrations even when
	// blockPrivateNetworks is set (it applies to the http step only).
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	if err := s.SetPrivateNetworks(true, nil); err != nil {
		t.Fatal(err)
	}
	res, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatalf("loopback from the integration client: %v", err)
	}
	res.Body.Close()
}
