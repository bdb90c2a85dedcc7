package dataplane_test

import (
	"encoding/binary"
	"log"
	"net/netip"

	"rosh/dataplane"
)

// A dial-on-demand client: the interface and its default route exist
// before the session; the first packet asks for a dial; the session's
// PPP send path is attached once IPCP is up, and what it receives is
// delivered. (Needs root; not run as a test.)
func Example() {
	dial := make(chan struct{}, 1)
	local, peer := dataplane.Placeholder(0)
	ifc, err := dataplane.Open(dataplane.Config{
		Name: "pppoe-out1", MTU: 1480, Local: local, Peer: peer,
		ClampMSS: true, Headroom: 2, Offload: true,
		OnFirstPacket: func() {
			select {
			case dial <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ifc.Close()
	if err := ifc.AddRoute(dataplane.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Metric: 1}); err != nil {
		log.Fatal(err)
	}

	<-dial
	// … discovery, LCP, authentication, IPCP: 10.0.0.2 ↔ 10.0.0.1 …
	writePPP := func(frame []byte) error { return nil } // pppoe.Session.WritePPP
	err = ifc.Attach(func(frame []byte) error {
		binary.BigEndian.PutUint16(frame, 0x0021) // PPP Protocol: IPv4 (RFC 1332)
		return writePPP(frame)
	}, netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.1"), 1480)
	if err != nil {
		log.Fatal(err)
	}

	// For each IPv4 packet the session receives:
	var received []byte
	_ = ifc.Deliver(received)

	// The session ended; the interface waits for the next dial.
	ifc.Detach()
	_ = ifc.SetAddrs(dataplane.Placeholder(0))
}
