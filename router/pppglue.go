package router

import (
	"context"
	"encoding/binary"

	"rosh/ppp"
	"rosh/pppoe"
)

// runPPP runs a PPP session over a PPPoE session until either ends: PPP
// packets received on the PPPoE session go to the PPP session, PPP's
// packets go out as session frames (RFC 2516 §7: the PPP Protocol field
// first, no address/control, no FCS). A PADT takes the PPP session down at
// once; a PPP session that ends closes the PPPoE session with a PADT.
// started, if set, is called with the PPP session before it runs, so the
// owner can Close it.
func runPPP(ctx context.Context, ps *pppoe.Session, cfg ppp.Config, started func(*ppp.Session)) error {
	// The Sender runs only on the PPP session's goroutine, so one scratch
	// buffer serves every packet.
	scratch := make([]byte, 0, 2+ps.MaxMRU()+64)
	send := ppp.SenderFunc(func(proto ppp.Protocol, b []byte) error {
		scratch = binary.BigEndian.AppendUint16(scratch[:0], uint16(proto))
		scratch = append(scratch, b...)
		return ps.WritePPP(scratch)
	})
	s, err := ppp.New(cfg, send)
	if err != nil {
		ps.Close()
		return err
	}
	if started != nil {
		started(s)
	}
	pumpDone := make(chan struct{})
	go func() {
		defer close(pumpDone)
		for {
			select {
			case b := <-ps.Recv():
				if len(b) >= 2 {
					s.Input(ppp.Protocol(binary.BigEndian.Uint16(b)), b[2:])
				}
				ps.Recycle(b)
			case <-ps.Done():
				s.LowerDown(errString(ps.Err()))
				return
			case <-s.Done():
				return
			}
		}
	}()
	err = s.Run(ctx)
	ps.Close()
	<-pumpDone
	return err
}

func errString(err error) string {
	if err == nil {
		return "session ended"
	}
	return err.Error()
}
