package rapport

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// internalRanges are the addresses a webhook may not reach unless the
// server allows it: this machine, the firm's own networks and the ranges
// set aside for special use (RFC 6890 and IANA's special-purpose
// registries), where a cloud's metadata service or an internal resolver
// may answer.
var internalRanges = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\""},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private network"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space, where some clouds keep their metadata service"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local, where clouds keep their metadata service"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private network"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved for protocol assignments"},
	{netip.MustParsePrefix("192.0.2.0/24"), "reserved for documentation"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private network"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved for benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "reserved for documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "reserved for documentation"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved, with the broadcast address"},
	{netip.MustParsePrefix("::/96"), "loopback, unspecified or IPv4-compatible"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local NAT64"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	{netip.MustParsePrefix("2001::/23"), "reserved for protocol assignments"},
	{netip.MustParsePrefix("2001:db8::/32"), "reserved for documentation"},
	{netip.MustParsePrefix("2002::/16"), "6to4, which may lead to any IPv4 address"},
	{netip.MustParsePrefix("3fff::/20"), "reserved for documentation"},
	{netip.MustParsePrefix("fc00::/7"), "a unique local (private) network"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "site-local"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// nat64 is the well-known NAT64 prefix: its addresses lead to the IPv4
// address in their last four bytes.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// InternalAddress reports whether ip is one a webhook may reach only when
// the server allows internal addresses, and if so what it is, such as
// "100.64.0.0/10 (shared address space, …)". IPv4 addresses written as
// IPv6 (::ffff:10.0.0.1, or through NAT64) are judged as the IPv4 address.
func InternalAddress(ip netip.Addr) (what string, internal bool) {
	ip = ip.WithZone("").Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	for _, r := range internalRanges {
		if r.prefix.Contains(ip) {
			return fmt.Sprintf("%s (%s)", r.prefix, r.what), true
		}
	}
	return "", false
}

// CheckWebhookAddress refuses, as an EINVALID error on the field "url", a
// webhook URL whose host is written as an internal address or is localhost,
// for a server that does not allow webhooks to reach internal addresses.
// Names are resolved, and checked again, only when a delivery is sent, as
// what they resolve to may change.
func CheckWebhookAddress(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil // Webhook.Validate says what is wrong with it
	}
	v := validation{index: -1}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		if what, internal := InternalAddress(ip); internal {
			v.add("url", "is an internal address, in %s; webhooks reach internal addresses only when the server allows it (rapport serve --webhooks-private)", what)
		}
	} else if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		v.add("url", "is this machine (localhost); webhooks reach internal addresses only when the server allows it (rapport serve --webhooks-private)")
	}
	return v.err("webhook")
}
