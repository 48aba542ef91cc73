package activitykit

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/secflow/secflow/interpreter/step"
)

// metadataAddrs are cloud instance-metadata endpoints outside the
// link-local ranges.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IMDS over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud metadata
}

// privatePrefixes are the internal-network ranges PrivateAddr reports.
var privatePrefixes = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),     // RFC 1918
	netip.MustParsePrefix("172.16.0.0/12"),  // RFC 1918
	netip.MustParsePrefix("192.168.0.0/16"), // RFC 1918
	netip.MustParsePrefix("127.0.0.0/8"),    // loopback
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("::1/128"),        // IPv6 loopback
	netip.MustParsePrefix("fc00::/7"),       // IPv6 unique local (RFC 4193)
}

// MetadataAddr reports whether ip is a link-local (169.254.0.0/16,
// fe80::/10: cloud instance-metadata services live there), unspecified
// (0.0.0.0, ::) or known cloud-metadata address.
func MetadataAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, m := range metadataAddrs {
		if ip == m {
			return true
		}
	}
	return false
}

// PrivateAddr reports whether ip belongs to an internal network: the RFC
// 1918 ranges 10/8, 172.16/12 and 192.168/16, loopback (127/8, ::1),
// carrier-grade NAT (100.64/10) and IPv6 unique-local addresses (fc00::/7).
// An IPv4-mapped IPv6 address is classified as its IPv4 address.
func PrivateAddr(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	for _, p := range privatePrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// AddrPolicy says which dialled addresses Guard refuses. A MetadataAddr is
// always refused unless listed in MetadataExempt; a PrivateAddr is refused
// when BlockPrivate is set, unless it lies in one of PrivateExempt. The
// zero value refuses metadata addresses only.
type AddrPolicy struct {
	// MetadataExempt lists the link-local / metadata IPs that may be
	// dialled (the IP literals of allowedHosts, see IPLiterals).
	MetadataExempt []netip.Addr
	// BlockPrivate also refuses PrivateAddr addresses.
	BlockPrivate bool
	// PrivateExempt lists the networks that stay reachable when
	// BlockPrivate is set. It never exempts a MetadataAddr.
	PrivateExempt []netip.Prefix
}

// Check returns nil when ip may be dialled, else a permanent *step.Error
// of type ForbiddenAddress naming ip and the setting that would allow it.
func (p AddrPolicy) Check(ip netip.Addr) error {
	ip = ip.Unmap().WithZone("")
	if MetadataAddr(ip) {
		for _, e := range p.MetadataExempt {
			if e.Unmap() == ip {
				return nil
			}
		}
		return step.Errorf("ForbiddenAddress",
			"connecting to %s is not allowed (link-local / cloud metadata address); list the IP in allowedHosts to permit it", ip)
	}
	if p.BlockPrivate && PrivateAddr(ip) {
		for _, e := range p.PrivateExempt {
			if e.Contains(ip) {
				return nil
			}
		}
		return step.Errorf("ForbiddenAddress",
			"connecting to %s is not allowed (private network address, blockPrivateNetworks is set); "+
				"add %s or its network to allowedPrivateNetworks in connectors.yaml to permit it", ip, ip)
	}
	return nil
}

// IPLiterals returns the entries of an allowedHosts list that are IP
// literals ("169.254.169.254", "[fe80::1]"); host names and patterns are
// skipped.
func IPLiterals(hosts []string) []netip.Addr {
	var out []netip.Addr
	for _, h := range hosts {
		if ip, err := netip.ParseAddr(strings.Trim(strings.TrimSpace(h), "[]")); err == nil {
			out = append(out, ip.Unmap())
		}
	}
	return out
}

// ParseNetworks parses a list of IP addresses ("10.1.2.3", "fd00::1") and
// CIDR prefixes ("192.168.10.0/24") into prefixes, a single address
// becoming a /32 or /128. The error names the first invalid entry.
func ParseNetworks(entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	for _, e := range entries {
		s := strings.Trim(strings.TrimSpace(e), "[]")
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("%q is not an IP address or CIDR network", e)
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR network", e)
		}
		ip = ip.Unmap()
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}

// Guard makes tr check every address it connects to against policy
// (called on each dial, so a policy that changes is honoured). The check
// runs in the dialer's Control hook on the address actually dialled, after
// DNS resolution and before the connection is opened, so a host name that
// resolves, or is re-bound, to a refused address is refused too, and so is
// every redirect target. The refusal is AddrPolicy.Check's permanent
// ForbiddenAddress *step.Error.
//
// Guard replaces tr.DialContext (any custom dialer on tr is dropped) with a
// net.Dialer (30 s connect timeout). With a proxy configured on tr the
// dialled address is the proxy's.
func Guard(tr *http.Transport, policy func() AddrPolicy) {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("unparseable dial address %q", address)
			}
			return policy().Check(ap.Addr())
		}}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
}

// NetworkPolicy is implemented by runtimes that let the operator block
// private networks for the http step (connectors.yaml
// blockPrivateNetworks / allowedPrivateNetworks). connectors.NewRuntime
// implements it.
type NetworkPolicy interface {
	// PrivateNetworks reports whether PrivateAddr addresses are refused and
	// which networks stay reachable nonetheless.
	PrivateNetworks() (block bool, allowed []netip.Prefix)
}

// StepAddrPolicy is the dial policy of a workflow-authored request under
// rt: metadata addresses are refused unless listed as IP literals in rt's
// HostPolicy, private networks as rt's NetworkPolicy says (not refused
// when rt implements none).
func StepAddrPolicy(rt any) AddrPolicy {
	var p AddrPolicy
	if hp, ok := rt.(HostPolicy); ok {
		p.MetadataExempt = IPLiterals(hp.AllowedHosts())
	}
	if np, ok := rt.(NetworkPolicy); ok {
		p.BlockPrivate, p.PrivateExempt = np.PrivateNetworks()
	}
	return p
}

// GuardMetadata makes tr refuse to connect to a MetadataAddr unless that IP
// literal is listed in allowed (an allowedHosts list). It is Guard with
// the zero AddrPolicy plus those exemptions.
func GuardMetadata(tr *http.Transport, allowed []string) {
	p := AddrPolicy{MetadataExempt: IPLiterals(allowed)}
	Guard(tr, func() AddrPolicy { return p })
}
