package activitykit

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"testing"

	"github.com/secflow/secflow/interpreter/step"
)

func TestAddressClassification(t *testing.T) {
	tests := []struct {
		ip       string
		metadata bool
		private  bool
	}{
		{"169.254.169.254", true, false},
		{"::ffff:169.254.169.254", true, false},
		{"fe80::1", true, false},
		{"fe80::1%eth0", true, false},
		{"fd00:ec2::254", true, true},
		{"100.100.100.200", true, true},
		{"0.0.0.0", true, false},
		{"::", true, false},
		{"127.0.0.1", false, true},
		{"127.255.255.254", false, true},
		{"::ffff:127.0.0.1", false, true},
		{"::1", false, true},
		{"10.0.0.1", false, true},
		{"10.255.255.255", false, true},
		{"172.16.0.1", false, true},
		{"172.31.255.255", false, true},
		{"172.32.0.1", false, false},
		{"172.15.255.255", false, false},
		{"192.168.1.1", false, true},
		{"192.169.0.1", false, false},
		{"100.64.0.1", false, true},
		{"100.127.255.255", false, true},
		{"100.128.0.1", false, false},
		{"fc00::1", false, true},
		{"fd12:3456::1", false, true},
		{"fd12:3456::1%eth0", false, true},
		{"fe00::1", false, false},
		{"8.8.8.8", false, false},
		{"2001:4860:4860::8888", false, false},
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.ip)
		if got := MetadataAddr(ip); got != tt.metadata {
			t.Errorf("MetadataAddr(%s) = %v, want %v", tt.ip, got, tt.metadata)
		}
		if got := PrivateAddr(ip); got != tt.private {
			t.Errorf("PrivateAddr(%s) = %v, want %v", tt.ip, got, tt.private)
		}
	}
}

// mustNets parses networks and IPs with ParseNetworks, failing the test on error.
func mustNets(t *testing.T, s ...string) []netip.Prefix {
	t.Helper()
	p, err := ParseNetworks(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAddrPolicyCheck(t *testing.T) {
	tests := []struct {
		name   string
		policy AddrPolicy
		ip     string
		want   string // "" allowed, else a substring of the refusal
	}{
		{"metadata refused by default", AddrPolicy{}, "169.254.169.254", "list the IP in allowedHosts"},
		{"metadata exempted by literal", AddrPolicy{MetadataExempt: IPLiterals([]string{"api.example.com", "169.254.169.254"})}, "169.254.169.254", ""},
		{"mapped metadata exempted by literal", AddrPolicy{MetadataExempt: IPLiterals([]string{"169.254.169.254"})}, "::ffff:169.254.169.254", ""},
		{"other metadata IP not exempted", AddrPolicy{MetadataExempt: IPLiterals([]string{"169.254.169.254"})}, "169.254.169.253", "169.254.169.253"},
		{"bracketed IPv6 literal", AddrPolicy{MetadataExempt: IPLiterals([]string{"[fe80::1]"})}, "fe80::1", ""},
		{"private allowed by default", AddrPolicy{}, "10.1.2.3", ""},
		{"loopback allowed by default", AddrPolicy{}, "127.0.0.1", ""},
		{"private blocked", AddrPolicy{BlockPrivate: true}, "10.1.2.3", "add 10.1.2.3 or its network to allowedPrivateNetworks"},
		{"ULA blocked", AddrPolicy{BlockPrivate: true}, "fd12::1", "fd12::1"},
		{"CGNAT blocked", AddrPolicy{BlockPrivate: true}, "100.64.1.1", "100.64.1.1"},
		{"mapped loopback blocked", AddrPolicy{BlockPrivate: true}, "::ffff:127.0.0.1", "127.0.0.1"},
		{"public not blocked", AddrPolicy{BlockPrivate: true}, "8.8.8.8", ""},
		{"exempt network", AddrPolicy{BlockPrivate: true, PrivateExempt: mustNets(t, "10.20.0.0/16")}, "10.20.3.4", ""},
		{"outside exempt network", AddrPolicy{BlockPrivate: true, PrivateExempt: mustNets(t, "10.20.0.0/16")}, "10.21.3.4", "10.21.3.4"},
		{"exempt single IP", AddrPolicy{BlockPrivate: true, PrivateExempt: mustNets(t, "192.168.1.5")}, "192.168.1.5", ""},
		{"exempt IP is exact", AddrPolicy{BlockPrivate: true, PrivateExempt: mustNets(t, "192.168.1.5")}, "192.168.1.6", "192.168.1.6"},
		{"private exemption never exempts metadata", AddrPolicy{BlockPrivate: true, PrivateExempt: mustNets(t, "fc00::/7", "100.64.0.0/10")}, "fd00:ec2::254", "cloud metadata"},
		{"private exemption never exempts Alibaba metadata", AddrPolicy{BlockPrivate: true, PrivateExempt: mustNets(t, "100.64.0.0/10")}, "100.100.100.200", "cloud metadata"},
	}
	for _, tt := range tests {
		err := tt.policy.Check(netip.MustParseAddr(tt.ip))
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %s refused: %v", tt.name, tt.ip, err)
			}
			continue
		}
		se := step.AsError(err)
		if se == nil || se.Type != "ForbiddenAddress" || se.Retryable || !strings.Contains(se.Message, tt.want) {
			t.Errorf("%s: %s: err = %v, want permanent ForbiddenAddress containing %q", tt.name, tt.ip, err, tt.want)
		}
	}
}

func TestParseNetworks(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantErr string
	}{
		{nil, []string{}, ""},
		{[]string{"10.0.0.0/8", " 192.168.1.5 ", "[fd00::1]", "fd00::/8"}, []string{"10.0.0.0/8", "192.168.1.5/32", "fd00::1/128", "fd00::/8"}, ""},
		{[]string{"10.1.2.3/8"}, []string{"10.0.0.0/8"}, ""},
		{[]string{"::ffff:10.0.0.0/104"}, []string{"10.0.0.0/8"}, ""},
		{[]string{"10.0.0.0/8", "internal.example.com"}, nil, `"internal.example.com"`},
		{[]string{"10.0.0.0/33"}, nil, `"10.0.0.0/33"`},
	}
	for _, tt := range tests {
		got, err := ParseNetworks(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseNetworks(%q) err = %v, want %s", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseNetworks(%q): %v", tt.in, err)
			continue
		}
		s := make([]string, len(got))
		for i, p := range got {
			s[i] = p.String()
		}
		if strings.Join(s, ",") != strings.Join(tt.want, ",") {
			t.Errorf("ParseNetworks(%q) = %v, want %v", tt.in, s, tt.want)
		}
	}
}

// TestGuardRefusesMetadataWithoutAllowList: with the zero policy (no
// allowedHosts) a dial to the metadata endpoint is refused by the Control
// hook before any connection is attempted, so no network is needed.
func TestGuardRefusesMetadataWithoutAllowList(t *testing.T) {
	for _, addr := range []string{"169.254.169.254:80", "[fd00:ec2::254]:80", "100.100.100.200:80"} {
		tr := &http.Transport{}
		Guard(tr, func() AddrPolicy { return AddrPolicy{} })
		_, err := tr.DialContext(context.Background(), "tcp", addr)
		if se := step.AsError(err); se == nil || se.Type != "ForbiddenAddress" || se.Retryable {
			t.Errorf("%s: err = %v", addr, err)
		}
	}
	tr := &http.Transport{}
	GuardMetadata(tr, nil)
	if _, err := tr.DialContext(context.Background(), "tcp", "169.254.169.254:80"); step.AsError(err) == nil ||
		step.AsError(err).Type != "ForbiddenAddress" {
		t.Errorf("GuardMetadata(nil): err = %v", err)
	}
}

// TestGuardRealDial connects to an httptest server on 127.0.0.1 through a
// guarded transport: refused with private blocking on, served when the
// address is exempted or blocking is off.
func TestGuardRealDial(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	tests := []struct {
		name    string
		policy  AddrPolicy
		refused bool
	}{
		{"blocking off", AddrPolicy{}, false},
		{"blocking on", AddrPolicy{BlockPrivate: true}, true},
		{"exempt IP", AddrPolicy{BlockPrivate: true, PrivateExempt: mustNets(t, "127.0.0.1")}, false},
		{"exempt network", AddrPolicy{BlockPrivate: true, PrivateExempt: mustNets(t, "127.0.0.0/8")}, false},
		{"other network exempt", AddrPolicy{BlockPrivate: true, PrivateExempt: mustNets(t, "10.0.0.0/8")}, true},
	}
	for _, tt := range tests {
		tr := &http.Transport{}
		Guard(tr, func() AddrPolicy { return tt.policy })
		hc := &http.Client{Transport: tr}
		res, err := Do(context.Background(), hc, Request{URL: srv.URL})
		tr.CloseIdleConnections()
		if tt.refused {
			se := step.AsError(err)
			if se == nil || se.Type != "ForbiddenAddress" || !strings.Contains(se.Message, "127.0.0.1") {
				t.Errorf("%s: err = %v, want ForbiddenAddress naming 127.0.0.1", tt.name, err)
			}
			continue
		}
		if err != nil || string(res.Body) != "ok" {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
}

// TestGuardMetadataExemptRealDial: 0.0.0.0 is refused like a metadata
// address; listing it connects (Linux routes 0.0.0.0 to the local host).
func TestGuardMetadataExemptRealDial(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("dialling 0.0.0.0 reaches the local host on Linux only")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	addr := net.JoinHostPort("0.0.0.0", port)
	tr := &http.Transport{}
	GuardMetadata(tr, []string{"*"})
	if _, err := tr.DialContext(context.Background(), "tcp", addr); step.AsError(err) == nil ||
		step.AsError(err).Type != "ForbiddenAddress" {
		t.Fatalf("unlisted 0.0.0.0: err = %v", err)
	}
	tr = &http.Transport{}
	GuardMetadata(tr, []string{"*", "0.0.0.0"})
	c, err := tr.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatalf("listed 0.0.0.0: %v", err)
	}
	c.Close()
}
