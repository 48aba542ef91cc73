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

// GuardMetadata makes tr refuse to connect to a MetadataAddr unless that IP
// literal is listed in allowed. The check runs on the address actually
// dialled (after DNS resolution), so a host name that resolves, or is
// re-bound, to 169.254.169.254 is refused too. The refusal is a permanent
// *step.Error of type ForbiddenAddress.
func GuardMetadata(tr *http.Transport, allowed []string) {
	exempt := map[netip.Addr]bool{}
	for _, a := range allowed {
		if ip, err := netip.ParseAddr(strings.Trim(strings.TrimSpace(a), "[]")); err == nil {
			exempt[ip.Unmap()] = true
		}
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("unparseable dial address %q", address)
			}
			if ip := ap.Addr().Unmap(); MetadataAddr(ip) && !exempt[ip] {
				return step.Errorf("ForbiddenAddress",
					"connecting to %s is not allowed (link-local / cloud metadata address); list the IP in allowedHosts to permit it", ip)
			}
			return nil
		}}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
}
