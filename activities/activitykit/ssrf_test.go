package activitykit

import (
	"context"
	"net/http"
	"net/netip"
	"testing"

	"github.com/secflow/secflow/interpreter/step"
)

func TestMetadataAddr(t *testing.T) {
	tests := []struct {
		ip   string
		want bool
	}{
		{"169.254.169.254", true},
		{"::ffff:169.254.169.254", true},
		{"fe80::1", true},
		{"fd00:ec2::254", true},
		{"100.100.100.200", true},
		{"0.0.0.0", true},
		{"::", true},
		{"127.0.0.1", false},
		{"10.0.0.1", false},
		{"8.8.8.8", false},
	}
	for _, tt := range tests {
		if got := MetadataAddr(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("MetadataAddr(%s) = %v, want %v", tt.ip, got, tt.want)
		}
	}
}

func TestGuardMetadataRefusesDial(t *testing.T) {
	tr := &http.Transport{}
	GuardMetadata(tr, []string{"api.example.com"})
	_, err := tr.DialContext(context.Background(), "tcp", "169.254.169.254:80")
	if se := step.AsError(err); se == nil || se.Type != "ForbiddenAddress" || se.Retryable {
		t.Fatalf("err = %v", err)
	}
	tr2 := &http.Transport{}
	GuardMetadata(tr2, []string{"169.254.169.254"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = tr2.DialContext(ctx, "tcp", "169.254.169.254:80")
	if se := step.AsError(err); se != nil && se.Type == "ForbiddenAddress" {
		t.Fatalf("listed IP refused: %v", err)
	}
}
