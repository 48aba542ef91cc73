// Package connectors loads connectors.yaml — the list of outside systems a
// secflow worker may call, in the shape Kibana gives its connectors (id,
// name, type, config, secrets) — and resolves them for activities.
//
// Secrets are written as references, `${env:NAME}` or `${file:/path}`, and
// resolved only when an activity asks for the connector
// (step.Runtime.Connector). Literal secrets are rejected at load time, so a
// credential never sits in a definition, a workflow input or Temporal
// history. Resolution by id or name follows Kibana (§6.9): the first
// connector whose id or name equals the reference wins.
//
// Three top-level keys shape outgoing traffic (docs/security.md):
// allowedHosts (the hosts the http step and webhook-style connectors may
// call, like Kibana's xpack.actions.allowedHosts; an IP literal there also
// exempts a link-local / cloud-metadata address from the dial guard, which
// otherwise always refuses it), blockPrivateNetworks (the http step also
// refuses private, loopback, CGNAT and unique-local addresses) and
// allowedPrivateNetworks (IPs / CIDR networks exempted from that).
//
//	allowedHosts: [api.example.com, "*.virustotal.com"]
//	blockPrivateNetworks: true
//	allowedPrivateNetworks: [10.20.0.0/16, 192.168.1.5]
//	connectors:
//	  - id: es
//	    type: .elasticsearch
//	    config: { url: https://es.example.com:9200, ca_file: /etc/secflow/ca.pem }
//	    secrets: { apiKey: "${env:ES_API_KEY}" }
//	  - id: soc-slack
//	    name: SOC Slack
//	    type: .slack_api
//	    secrets: { token: "${file:/run/secrets/slack-token}" }
package connectors

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// EnvPath is the environment variable naming the connectors file.
const EnvPath = "SECFLOW_CONNECTORS"

// Connector types with a built-in meaning.
const (
	TypeElasticsearch = ".elasticsearch"
	TypeKibana        = ".kibana"
	TypeGenAI         = ".gen-ai"
	TypeInference     = ".inference"
	TypeSlack         = ".slack"
	TypeSlackAPI      = ".slack_api"
	TypePagerDuty     = ".pagerduty"
	TypeJira          = ".jira"
	TypeEmail         = ".email"
	TypeWebhook       = ".webhook"
	TypeHTTP          = ".http"
)

// Def is one connector as written in connectors.yaml. Secrets holds
// references, never values.
type Def struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Type is the Kibana connector type id, with its leading dot (".slack_api").
	Type string `yaml:"type" json:"type"`
	// Default marks the connector used when a step names none (per type).
	Default bool           `yaml:"default,omitempty" json:"default,omitempty"`
	Config  map[string]any `yaml:"config,omitempty" json:"config,omitempty"`
	// Secrets maps a secret name to a reference: ${env:NAME} or ${file:/path}.
	Secrets map[string]string `yaml:"secrets,omitempty" json:"secrets,omitempty"`

	// literal holds in-memory secret values; only ForSandbox sets it.
	literal map[string]string
}

// file is the document shape of connectors.yaml.
type file struct {
	// AllowedHosts restricts the hosts the http step may call (Kibana's
	// xpack.actions.allowedHosts); absent or ["*"] allows every host.
	AllowedHosts []string `yaml:"allowedHosts"`
	// BlockPrivateNetworks makes the http step refuse to connect to
	// private, loopback, CGNAT and unique-local addresses
	// (activitykit.PrivateAddr), except those in AllowedPrivateNetworks.
	BlockPrivateNetworks bool `yaml:"blockPrivateNetworks"`
	// AllowedPrivateNetworks lists IP addresses and CIDR networks the http
	// step may still reach with BlockPrivateNetworks set.
	AllowedPrivateNetworks []string `yaml:"allowedPrivateNetworks"`
	Connectors             []Def    `yaml:"connectors"`
}

// Store is a loaded, validated set of connectors. It is safe for concurrent use.
type Store struct {
	mu           sync.RWMutex
	defs         []Def
	allowedHosts []string
	// blockPrivate and privateAllowed are blockPrivateNetworks and the
	// parsed allowedPrivateNetworks.
	blockPrivate   bool
	privateAllowed []netip.Prefix
	// getenv and readFile resolve references; tests replace them.
	getenv   func(string) string
	readFile func(string) ([]byte, error)
}

// NewStore returns a store holding defs, validated as Load validates them.
func NewStore(defs ...Def) (*Store, error) {
	s := &Store{getenv: os.Getenv, readFile: readSecretFile}
	for _, d := range defs {
		if err := s.Add(d); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Load reads a connectors.yaml file. An empty path yields an empty store
// (plus the environment defaults, see Parse). References in config values
// are expanded at load time; references in secrets only when an activity
// resolves the connector.
func Load(path string) (*Store, error) {
	if path == "" {
		return Parse(nil)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading connectors file: %w", err)
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Parse decodes a connectors.yaml document. When it defines no
// .elasticsearch (or .kibana) connector and SECFLOW_ES_URL (or
// SECFLOW_KIBANA_URL) is set, a default one is added whose credentials are
// the references ${env:SECFLOW_ES_API_KEY} / ${env:SECFLOW_ES_USERNAME} /
// ${env:SECFLOW_ES_PASSWORD} (SECFLOW_KIBANA_… likewise).
func Parse(data []byte) (*Store, error) {
	var f file
	if len(strings.TrimSpace(string(data))) > 0 {
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("parsing connectors: %w", err)
		}
	}
	s, err := NewStore()
	if err != nil {
		return nil, err
	}
	s.allowedHosts = f.AllowedHosts
	nets, err := activitykit.ParseNetworks(f.AllowedPrivateNetworks)
	if err != nil {
		return nil, fmt.Errorf("allowedPrivateNetworks: %w", err)
	}
	s.blockPrivate, s.privateAllowed = f.BlockPrivateNetworks, nets
	for i, d := range f.Connectors {
		cfg, err := s.expandConfig(d.Config)
		if err != nil {
			return nil, fmt.Errorf("connector %d (%s): %w", i+1, d.ID, err)
		}
		d.Config = cfg
		if err := s.Add(d); err != nil {
			return nil, fmt.Errorf("connector %d: %w", i+1, err)
		}
	}
	s.addEnvDefault(TypeElasticsearch, "elasticsearch", "SECFLOW_ES")
	s.addEnvDefault(TypeKibana, "kibana", "SECFLOW_KIBANA")
	return s, nil
}

// addEnvDefault adds a default connector of typ from <prefix>_URL when the
// store has none of that type.
func (s *Store) addEnvDefault(typ, id, prefix string) {
	u := s.getenv(prefix + "_URL")
	if u == "" || len(s.ofType(typ)) > 0 {
		return
	}
	d := Def{ID: id, Name: id, Type: typ, Default: true, Config: map[string]any{"url": u}, Secrets: map[string]string{}}
	if s.getenv(prefix+"_API_KEY") != "" {
		d.Secrets["apiKey"] = "${env:" + prefix + "_API_KEY}"
	} else if s.getenv(prefix+"_USERNAME") != "" {
		d.Secrets["username"] = "${env:" + prefix + "_USERNAME}"
		d.Secrets["password"] = "${env:" + prefix + "_PASSWORD}"
	}
	if ca := s.getenv(prefix + "_CA_FILE"); ca != "" {
		d.Config["ca_file"] = ca
	}
	if typ == TypeKibana {
		if sp := s.getenv(prefix + "_SPACE"); sp != "" {
			d.Config["space"] = sp
		}
	}
	_ = s.Add(d) // cannot fail: id, type and references are well-formed
}

// refPattern matches a whole secret reference.
var refPattern = regexp.MustCompile(`^\$\{(env|file):([^}]+)\}$`)

// inlineRef matches references embedded in config strings.
var inlineRef = regexp.MustCompile(`\$\{(env|file):([^}]+)\}`)

// credentialKeys are config keys that hold credentials in Kibana connector
// types; they belong under secrets.
var credentialKeys = map[string]bool{
	"apikey": true, "api_key": true, "password": true, "token": true, "apitoken": true,
	"secret": true, "webhookurl": true, "routingkey": true, "routing_key": true,
	"accesstoken": true, "access_token": true, "clientsecret": true, "client_secret": true,
	// header names (config.headers of .webhook / .http connectors)
	"authorization": true, "proxy-authorization": true, "x-api-key": true, "api-key": true,
	"cookie": true, "private-token": true,
}

// maxSecretFileBytes caps a ${file:} secret (a token or key, never large).
const maxSecretFileBytes = 64 << 10

// checkConfig rejects credentials written into config, which is not
// secret (it may be logged, listed and recorded): credential-named keys at
// any depth (config.headers.Authorization included) and URLs carrying a
// password or a Slack incoming-webhook path. Messages name the key only.
func checkConfig(id, path string, v any) error {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := path + "." + k
			if credentialKeys[strings.ToLower(k)] {
				return fmt.Errorf("connector %q: %s is a credential; move it to secrets as ${env:NAME} or ${file:/path}", id, p)
			}
			if err := checkConfig(id, p, e); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := checkConfig(id, fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
	case string:
		if u, err := url.Parse(strings.TrimSpace(x)); err == nil && u.Host != "" {
			if _, hasPw := u.User.Password(); hasPw {
				return fmt.Errorf("connector %q: %s is a URL with an embedded password; put the credential in secrets", id, path)
			}
			if strings.EqualFold(u.Hostname(), "hooks.slack.com") {
				return fmt.Errorf("connector %q: %s is a Slack webhook URL, which is a secret; use secrets.webhookUrl", id, path)
			}
		}
	}
	return nil
}

// checkRef validates a ${env:}/${file:} reference: ${file:} paths must be
// absolute (a relative path would depend on the worker's directory).
func checkRef(ref string) error {
	m := refPattern.FindStringSubmatch(ref)
	if m == nil {
		return fmt.Errorf("not a reference")
	}
	if m[1] == "file" && !filepath.IsAbs(m[2]) {
		return fmt.Errorf("${file:%s}: the path must be absolute", m[2])
	}
	return nil
}

// readSecretFile reads a ${file:} secret. Symbolic links are followed (a
// Kubernetes secret volume is made of them); the target must be a regular
// file of at most maxSecretFileBytes, so a FIFO or device cannot stall or
// flood the worker.
func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSecretFileBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxSecretFileBytes)
	}
	return b, nil
}

// Add validates d and appends it.
func (s *Store) Add(d Def) error {
	if d.ID == "" {
		return fmt.Errorf("connector without an id")
	}
	if d.Type == "" {
		return fmt.Errorf("connector %q: type is required (e.g. .slack_api, .elasticsearch)", d.ID)
	}
	d.Type = NormalizeType(d.Type)
	if err := checkConfig(d.ID, "config", d.Config); err != nil {
		return err
	}
	for k, ref := range d.Secrets {
		if !refPattern.MatchString(ref) {
			return fmt.Errorf("connector %q: secrets.%s must be a reference ${env:NAME} or ${file:/path}; literal secrets are not allowed", d.ID, k)
		}
		if err := checkRef(ref); err != nil {
			return fmt.Errorf("connector %q: secrets.%s: %w", d.ID, k, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.defs {
		if o.ID == d.ID {
			return fmt.Errorf("connector %q defined twice", d.ID)
		}
	}
	s.defs = append(s.defs, d)
	return nil
}

// AllowedHosts returns the host allow-list (nil: no restriction).
func (s *Store) AllowedHosts() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]string(nil), s.allowedHosts...)
}

// SetAllowedHosts replaces the host allow-list (nil: no restriction).
func (s *Store) SetAllowedHosts(hosts []string) {
	s.mu.Lock()
	s.allowedHosts = append([]string(nil), hosts...)
	s.mu.Unlock()
}

// PrivateNetworks reports whether the http step refuses private network
// addresses (blockPrivateNetworks) and the networks exempted from that
// (allowedPrivateNetworks).
func (s *Store) PrivateNetworks() (block bool, allowed []netip.Prefix) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.blockPrivate, append([]netip.Prefix(nil), s.privateAllowed...)
}

// SetPrivateNetworks replaces blockPrivateNetworks and
// allowedPrivateNetworks (IP addresses or CIDR networks).
func (s *Store) SetPrivateNetworks(block bool, allowed []string) error {
	nets, err := activitykit.ParseNetworks(allowed)
	if err != nil {
		return fmt.Errorf("allowedPrivateNetworks: %w", err)
	}
	s.mu.Lock()
	s.blockPrivate, s.privateAllowed = block, nets
	s.mu.Unlock()
	return nil
}

// NormalizeType adds the leading dot Kibana connector type ids carry.
func NormalizeType(t string) string {
	if t != "" && !strings.HasPrefix(t, ".") {
		return "." + t
	}
	return t
}

// List returns the connectors in file order. Secrets hold references only.
func (s *Store) List() []Def {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Def, len(s.defs))
	for i, d := range s.defs {
		d.literal = nil
		out[i] = d
	}
	return out
}

func (s *Store) ofType(typ string) []Def {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Def
	for _, d := range s.defs {
		if d.Type == typ {
			out = append(out, d)
		}
	}
	return out
}

// NotFound is the error for an unknown connector reference (§6.9).
func NotFound(ref string) *step.Error {
	return step.Errorf("Error", "Connector %s not found", ref)
}

// Lookup finds a connector without resolving its secrets. With a non-empty
// idOrName it returns the first connector whose id or name equals it, and
// fails when that connector's type is not one of types (if any are given).
// With an empty idOrName it returns the default connector of the first of
// types that has one (the one marked default, else the first of that type).
func (s *Store) Lookup(idOrName string, types ...string) (Def, error) {
	norm := make([]string, len(types))
	for i, t := range types {
		norm[i] = NormalizeType(t)
	}
	if idOrName == "" {
		if len(norm) == 0 {
			return Def{}, step.Errorf("Error", "Connector ID is required")
		}
		for _, t := range norm {
			if d, ok := s.defaultOf(t); ok {
				return d, nil
			}
		}
		return Def{}, step.Errorf("Error", "No default %s connector configured", strings.Join(norm, " or "))
	}
	s.mu.RLock()
	var found *Def
	for i := range s.defs {
		if s.defs[i].Name == idOrName || s.defs[i].ID == idOrName {
			d := s.defs[i]
			found = &d
			break
		}
	}
	s.mu.RUnlock()
	if found == nil {
		return Def{}, NotFound(idOrName)
	}
	if len(norm) > 0 && !contains(norm, found.Type) {
		return Def{}, step.Errorf("Error", "Connector %s has type %s, expected %s", idOrName, found.Type, strings.Join(norm, " or "))
	}
	return *found, nil
}

func (s *Store) defaultOf(typ string) (Def, bool) {
	all := s.ofType(typ)
	for _, d := range all {
		if d.Default {
			return d, true
		}
	}
	if len(all) > 0 {
		return all[0], true
	}
	return Def{}, false
}

func contains(list []string, v string) bool {
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

// Resolve looks a connector up (see Lookup) and resolves its secret
// references. Errors name the connector and the secret, never a value.
func (s *Store) Resolve(_ context.Context, idOrName string, types ...string) (*step.Connector, error) {
	d, err := s.Lookup(idOrName, types...)
	if err != nil {
		return nil, err
	}
	secrets := make(map[string]string, len(d.Secrets)+len(d.literal))
	for k, v := range d.literal {
		secrets[k] = v
	}
	keys := make([]string, 0, len(d.Secrets))
	for k := range d.Secrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := s.resolveRef(d.Secrets[k])
		if err != nil {
			return nil, step.Errorf("ConnectorSecretError", "connector %s: secret %s: %v", d.ID, k, err)
		}
		secrets[k] = v
	}
	return &step.Connector{ID: d.ID, Name: d.Name, Type: d.Type, Config: cloneMap(d.Config), Secrets: secrets}, nil
}

// resolveRef resolves one ${env:NAME} / ${file:/path} reference. Errors
// never include the value.
func (s *Store) resolveRef(ref string) (string, error) {
	if err := checkRef(ref); err != nil {
		return "", err
	}
	m := refPattern.FindStringSubmatch(ref)
	switch m[1] {
	case "env":
		v, ok := lookupEnv(s.getenv, m[2])
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", m[2])
		}
		return v, nil
	default:
		b, err := s.readFile(m[2])
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", m[2], unwrapPathError(err))
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
}

func lookupEnv(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// unwrapPathError keeps only the cause of an *os.PathError (the path is
// already in the message).
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// expandConfig expands references inside config strings (URLs from the
// environment, ...). Config is not secret: it may be logged and shown.
func (s *Store) expandConfig(cfg map[string]any) (map[string]any, error) {
	var firstErr error
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			return inlineRef.ReplaceAllStringFunc(x, func(ref string) string {
				val, err := s.resolveRef(ref)
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("config reference %s: %w", ref, err)
				}
				return val
			})
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, e := range x {
				out[k] = walk(e)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = walk(e)
			}
			return out
		}
		return v
	}
	if cfg == nil {
		return nil, nil
	}
	out := walk(cfg).(map[string]any)
	return out, firstErr
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
