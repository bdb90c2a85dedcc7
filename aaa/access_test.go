package aaa

import (
	"net/netip"
	"reflect"
	"testing"
)

func TestRoutes(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Reply
		want []Route
		bad  int
	}{
		{"none", Reply{}, nil, 0},
		{"framed-route", Reply{FramedRoutes: []string{"192.168.1.0/24 0.0.0.0 5", "10.9.9.9"}},
			[]Route{{Dst: netip.MustParsePrefix("192.168.1.0/24"), Metric: 5}, {Dst: netip.MustParsePrefix("10.9.9.9/32")}}, 0},
		{"unmasked bits", Reply{FramedRoutes: []string{"192.168.1.7/24"}}, []Route{{Dst: netip.MustParsePrefix("192.168.1.0/24")}}, 0},
		{"malformed", Reply{FramedRoutes: []string{"", "nonsense 1 2", "::1/128"}}, nil, 3},
		{"netmask", Reply{FramedIP: netip.MustParseAddr("10.0.0.77"), FramedNetmask: netip.MustParseAddr("255.255.255.248")},
			[]Route{{Dst: netip.MustParsePrefix("10.0.0.72/29")}}, 0},
		{"host netmask", Reply{FramedIP: netip.MustParseAddr("10.0.0.77"), FramedNetmask: netip.MustParseAddr("255.255.255.255")}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, bad := tc.in.Routes()
			if !reflect.DeepEqual(got, tc.want) || len(bad) != tc.bad {
				t.Errorf("Routes() = %v, bad %q; want %v, %d bad", got, bad, tc.want, tc.bad)
			}
		})
	}
}
