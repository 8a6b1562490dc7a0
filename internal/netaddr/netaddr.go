// Package netaddr says where a request came from.
package netaddr

import (
	"net"
	"net/http"
)

// Client is the address a request came from, as the connection says:
// headers a client sets itself (X-Forwarded-For) are not believed, so no
// client can pass for another to the rate limits that use it.
func Client(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
