package worker

import "go.temporal.io/sdk/client"

// namespaceOf returns the namespace a client was created for. The SDK does
// not expose it, so clients that know it may implement Namespace().
func namespaceOf(c client.Client) string {
	if n, ok := c.(interface{ Namespace() string }); ok && n.Namespace() != "" {
		return n.Namespace()
	}
	return client.DefaultNamespace
}
