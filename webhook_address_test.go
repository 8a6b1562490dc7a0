package rapport_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
)

func TestInternalAddress(t *testing.T) {
	for _, tt := range []struct {
		addr, want string // want is the range, or "" for an address webhooks may reach
	}{
		{"0.0.0.0", "0.0.0.0/8"},
		{"0.1.2.3", "0.0.0.0/8"},
		{"10.0.0.1", "10.0.0.0/8"},
		{"100.64.0.1", "100.64.0.0/10"},
		{"100.100.100.200", "100.64.0.0/10"},
		{"100.127.255.255", "100.64.0.0/10"},
		{"100.128.0.1", ""},
		{"127.0.0.1", "127.0.0.0/8"},
		{"127.255.255.254", "127.0.0.0/8"},
		{"169.254.169.254", "169.254.0.0/16"},
		{"172.16.0.1", "172.16.0.0/12"},
		{"172.32.0.1", ""},
		{"192.0.0.8", "192.0.0.0/24"},
		{"192.0.2.10", "192.0.2.0/24"},
		{"192.168.1.1", "192.168.0.0/16"},
		{"198.18.0.1", "198.18.0.0/15"},
		{"198.19.255.255", "198.18.0.0/15"},
		{"198.20.0.1", ""},
		{"224.0.0.251", "224.0.0.0/4"},
		{"240.0.0.1", "240.0.0.0/4"},
		{"255.255.255.255", "240.0.0.0/4"},
		{"93.184.215.14", ""},
		{"::", "::/96"},
		{"::1", "::/96"},
		{"::10.0.0.1", "::/96"},
		{"::ffff:100.64.0.1", "100.64.0.0/10"},
		{"::ffff:198.18.0.1", "198.18.0.0/15"},
		{"::ffff:0.0.0.0", "0.0.0.0/8"},
		{"::ffff:169.254.169.254", "169.254.0.0/16"},
		{"::ffff:240.0.0.1", "240.0.0.0/4"},
		{"::ffff:93.184.215.14", ""},
		{"64:ff9b::a9fe:a9fe", "169.254.0.0/16"},
		{"64:ff9b::6440:1", "100.64.0.0/10"},
		{"64:ff9b::5db8:d70e", ""},
		{"64:ff9b:1::1", "64:ff9b:1::/48"},
		{"2001::1", "2001::/23"},
		{"2001:db8::1", "2001:db8::/32"},
		{"2002:a9fe:a9fe::1", "2002::/16"},
		{"fc00::1", "fc00::/7"},
		{"fd00:ec2::254", "fc00::/7"},
		{"fe80::1", "fe80::/10"},
		{"fe80::1%eth0", "fe80::/10"},
		{"fec0::1", "fec0::/10"},
		{"ff02::1", "ff00::/8"},
		{"2606:4700::1111", ""},
	} {
		what, internal := rapport.InternalAddress(netip.MustParseAddr(tt.addr))
		if internal != (tt.want != "") || !strings.HasPrefix(what, tt.want) {
			t.Errorf("InternalAddress(%s) = %q, %v; want %q", tt.addr, what, internal, tt.want)
		}
	}
}

func TestCheckWebhookAddress(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want string // a part of the url field's message, or "" for accepted
	}{
		{"https://hooks.example.com/rapport", ""},
		{"https://93.184.215.14/rapport", ""},
		{"https://[2606:4700::1111]/rapport", ""},
		{"http://100.64.0.1/", "100.64.0.0/10"},
		{"http://198.18.0.1:8080/x", "198.18.0.0/15"},
		{"http://0.0.0.0:9000/", "0.0.0.0/8"},
		{"http://[::ffff:a9fe:a9fe]/", "169.254.0.0/16"},
		{"http://[fe80::1%25eth0]/", "fe80::/10"},
		{"http://LOCALHOST/", "localhost"},
		{"http://localhost./", "localhost"},
		{"http://admin.localhost:8080/", "localhost"},
		{"http://localhost.example.com/", ""},
	} {
		err := rapport.CheckWebhookAddress(tt.url)
		fields := rapport.ErrorFields(err)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckWebhookAddress(%q) = %v; want nil", tt.url, err)
		case tt.want != "" && (len(fields) != 1 || fields[0].Field != "url" || !strings.Contains(fields[0].Message, tt.want)):
			t.Errorf("CheckWebhookAddress(%q) = %v; want an error on url naming %s", tt.url, fields, tt.want)
		}
	}
}

func FuzzCheckWebhookAddress(f *testing.F) {
	for _, s := range []string{"http://100.64.0.1/", "http://[::ffff:10.0.0.1]/", "http://[fe80::1%25eth0]/", "https://example.com", "http://localhost/", "http://%zz/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := rapport.CheckWebhookAddress(s)
		if err != nil && rapport.ErrorCode(err) != rapport.EINVALID {
			t.Errorf("CheckWebhookAddress(%q) = %v; want nil or EINVALID", s, err)
		}
	})
}
